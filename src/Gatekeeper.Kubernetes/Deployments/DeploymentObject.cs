using System.Text.Json;

namespace Gatekeeper.Kubernetes.Deployments;

/// <summary>Reads the few fields Gatekeeper needs from a Deployment as the API server sent it, without a full model.</summary>
public static class DeploymentObject
{
    /// <summary>metadata.annotations as a map (empty when absent); non-string values are skipped.</summary>
    public static IReadOnlyDictionary<string, string> Annotations(JsonElement deployment) =>
        StringMap(deployment, "metadata", "annotations");

    /// <summary>spec.template.metadata.annotations as a map (empty when absent).</summary>
    public static IReadOnlyDictionary<string, string> TemplateAnnotations(JsonElement deployment) =>
        StringMap(deployment, "spec", "template", "metadata", "annotations");

    public static string? Name(JsonElement deployment) =>
        Descend(deployment, "metadata", "name") is { ValueKind: JsonValueKind.String } name ? name.GetString() : null;

    public static string? Uid(JsonElement deployment) =>
        Descend(deployment, "metadata", "uid") is { ValueKind: JsonValueKind.String } uid ? uid.GetString() : null;

    /// <summary>spec.selector.matchLabels as a label selector (<c>a=b,c=d</c>), or null when it has none.</summary>
    public static string? SelectorMatchLabels(JsonElement deployment)
    {
        var labels = StringMap(deployment, "spec", "selector", "matchLabels");
        return labels.Count == 0 ? null : string.Join(",", labels.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key}={pair.Value}"));
    }

    public static string? GenerateName(JsonElement deployment) =>
        Descend(deployment, "metadata", "generateName") is { ValueKind: JsonValueKind.String } name ? name.GetString() : null;

    public static JsonElement? Descend(JsonElement element, params ReadOnlySpan<string> path)
    {
        var current = element;
        foreach (var segment in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current))
            {
                return null;
            }
        }

        return current;
    }

    private static Dictionary<string, string> StringMap(JsonElement element, params ReadOnlySpan<string> path)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Descend(element, path) is { ValueKind: JsonValueKind.Object } found)
        {
            foreach (var property in found.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String)
                {
                    map[property.Name] = property.Value.GetString()!;
                }
            }
        }

        return map;
    }
}
