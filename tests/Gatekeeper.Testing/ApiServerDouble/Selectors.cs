using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>Matching an object's JSON against a list or watch's label and field selectors.</summary>
public static class Selectors
{
    public static bool Matches(string json, LabelSelector labels, FieldSelector fields)
    {
        var node = JsonNode.Parse(json)!;
        return labels.Matches(Labels(node)) && fields.Matches(node);
    }

    public static Dictionary<string, string> Labels(JsonNode node)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node["metadata"]?["labels"] is JsonObject element)
        {
            foreach (var (key, value) in element)
            {
                labels[key] = value?.GetValue<string>() ?? string.Empty;
            }
        }

        return labels;
    }
}

/// <summary>The equality and existence forms of label selectors (what Gatekeeper sends).</summary>
public sealed record LabelSelector(IReadOnlyList<(string Key, string? Value, bool Negated)> Requirements)
{
    public static LabelSelector Parse(string text)
    {
        var requirements = new List<(string, string?, bool)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Contains("!=", StringComparison.Ordinal))
            {
                var pieces = part.Split("!=");
                requirements.Add((pieces[0].Trim(), pieces[1].Trim(), true));
            }
            else if (part.Contains('='))
            {
                var pieces = part.Split('=', StringSplitOptions.RemoveEmptyEntries);
                requirements.Add((pieces[0].Trim(), pieces[^1].Trim(), false));
            }
            else if (part.StartsWith('!'))
            {
                requirements.Add((part[1..], null, true));
            }
            else
            {
                requirements.Add((part, null, false));
            }
        }

        return new LabelSelector(requirements);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels) => Requirements.All(r => r switch
    {
        (var key, null, false) => labels.ContainsKey(key),
        (var key, null, true) => !labels.ContainsKey(key),
        (var key, var value, false) => labels.TryGetValue(key, out var actual) && actual == value,
        (var key, var value, true) => !labels.TryGetValue(key, out var actual) || actual != value,
    });
}

/// <summary>Field selectors as <c>a.b=value</c> and <c>a.b!=value</c>; a missing field reads as the empty string.</summary>
public sealed record FieldSelector(IReadOnlyList<(string[] Path, string Value, bool Negated)> Requirements)
{
    public static FieldSelector Parse(string text)
    {
        var requirements = new List<(string[], string, bool)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var negated = part.Contains("!=", StringComparison.Ordinal);
            var pieces = negated ? part.Split("!=") : part.Split('=', 2);
            requirements.Add((pieces[0].Trim().Split('.'), pieces.Length > 1 ? pieces[1].Trim() : string.Empty, negated));
        }

        return new FieldSelector(requirements);
    }

    public bool Matches(JsonNode node) => Requirements.All(r =>
    {
        JsonNode? current = node;
        foreach (var segment in r.Path)
        {
            current = current?[segment];
        }

        var actual = current is JsonValue value && value.TryGetValue<string>(out var text) ? text : current?.ToJsonString() ?? string.Empty;
        return (actual == r.Value) != r.Negated;
    });
}
