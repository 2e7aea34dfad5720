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

/// <summary>
/// A label selector in either form the API uses: the query string (<c>a=b,c!=d,e in (f,g),!h</c>) or a
/// <c>matchLabels</c>/<c>matchExpressions</c> object. An empty selector matches everything.
/// </summary>
public sealed record LabelSelector(IReadOnlyList<LabelRequirement> Requirements)
{
    public static LabelSelector Everything { get; } = new([]);

    public static LabelSelector Parse(string text)
    {
        var requirements = new List<LabelRequirement>();
        foreach (var part in SplitTopLevel(text))
        {
            var match = System.Text.RegularExpressions.Regex.Match(part, @"^\s*(\S+)\s+(in|notin)\s*\(([^)]*)\)\s*$");
            if (match.Success)
            {
                var values = match.Groups[3].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                requirements.Add(new LabelRequirement(match.Groups[1].Value, match.Groups[2].Value == "in" ? "In" : "NotIn", values));
            }
            else if (part.Contains("!=", StringComparison.Ordinal))
            {
                var pieces = part.Split("!=", 2);
                requirements.Add(new LabelRequirement(pieces[0].Trim(), "NotEquals", [pieces[1].Trim()]));
            }
            else if (part.Contains('='))
            {
                var pieces = part.Replace("==", "=", StringComparison.Ordinal).Split('=', 2);
                requirements.Add(new LabelRequirement(pieces[0].Trim(), "Equals", [pieces[1].Trim()]));
            }
            else if (part.StartsWith('!'))
            {
                requirements.Add(new LabelRequirement(part[1..].Trim(), "DoesNotExist", []));
            }
            else
            {
                requirements.Add(new LabelRequirement(part.Trim(), "Exists", []));
            }
        }

        return new LabelSelector(requirements);
    }

    /// <summary>A <c>metav1.LabelSelector</c> object (null: matches everything, as most callers read a missing one).</summary>
    public static LabelSelector FromObject(JsonNode? selector)
    {
        var requirements = new List<LabelRequirement>();
        if (selector?["matchLabels"] is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                requirements.Add(new LabelRequirement(key, "Equals", [value?.GetValue<string>() ?? string.Empty]));
            }
        }

        if (selector?["matchExpressions"] is JsonArray expressions)
        {
            foreach (var expression in expressions)
            {
                var values = (expression?["values"] as JsonArray)?.Select(v => v!.GetValue<string>()).ToArray() ?? [];
                requirements.Add(new LabelRequirement(expression!["key"]!.GetValue<string>(), expression["operator"]!.GetValue<string>(), values));
            }
        }

        return new LabelSelector(requirements);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels) => Requirements.All(r => r.Matches(labels));

    public override string ToString() => string.Join(",", Requirements);

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            depth += text[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (text[i] == ',' && depth == 0)
            {
                if (text[start..i].Trim() is { Length: > 0 } part)
                {
                    yield return part;
                }

                start = i + 1;
            }
        }

        if (text[start..].Trim() is { Length: > 0 } last)
        {
            yield return last;
        }
    }
}

/// <summary>One requirement of a label selector; operators as <c>matchExpressions</c> spell them, plus Equals/NotEquals.</summary>
public sealed record LabelRequirement(string Key, string Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels) => Operator switch
    {
        "Exists" => labels.ContainsKey(Key),
        "DoesNotExist" => !labels.ContainsKey(Key),
        "Equals" => labels.TryGetValue(Key, out var value) && value == Values[0],
        "NotEquals" => !labels.TryGetValue(Key, out var value) || value != Values[0],
        "In" => labels.TryGetValue(Key, out var value) && Values.Contains(value),
        "NotIn" => !labels.TryGetValue(Key, out var value) || !Values.Contains(value),
        _ => throw new InvalidOperationException($"unknown label selector operator {Operator}"),
    };

    public override string ToString() => Operator switch
    {
        "Exists" => Key,
        "DoesNotExist" => "!" + Key,
        "Equals" => $"{Key}={Values[0]}",
        "NotEquals" => $"{Key}!={Values[0]}",
        "In" => $"{Key} in ({string.Join(",", Values)})",
        _ => $"{Key} notin ({string.Join(",", Values)})",
    };
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
