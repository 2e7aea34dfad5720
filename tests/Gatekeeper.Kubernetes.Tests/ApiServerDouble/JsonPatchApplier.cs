using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>Applies the RFC 6902 "add", "remove" and "test" operations the way the API server does, to check patches by their effect.</summary>
public static class JsonPatchApplier
{
    public static JsonNode Apply(JsonNode document, byte[] patchJson)
    {
        var result = document.DeepClone();
        foreach (var operation in JsonNode.Parse(patchJson)!.AsArray())
        {
            var op = operation!["op"]!.GetValue<string>();
            var segments = operation["path"]!.GetValue<string>().Split('/').Skip(1)
                .Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
            var parent = result;
            foreach (var segment in segments[..^1])
            {
                parent = parent is JsonArray array ? array[int.Parse(segment, System.Globalization.CultureInfo.InvariantCulture)]! : parent[segment]
                    ?? throw new InvalidOperationException($"path {operation["path"]} does not exist");
            }

            var last = segments[^1];
            switch (op)
            {
                case "add" when parent is JsonArray list:
                    var value = operation["value"]!.DeepClone();
                    if (last == "-")
                    {
                        list.Add(value);
                    }
                    else
                    {
                        list.Insert(int.Parse(last, System.Globalization.CultureInfo.InvariantCulture), value);
                    }

                    break;
                case "add":
                    ((JsonObject)parent)[last] = operation["value"]?.DeepClone();
                    break;
                case "remove" when parent is JsonObject obj:
                    if (!obj.Remove(last))
                    {
                        throw new InvalidOperationException($"path {operation["path"]} does not exist");
                    }

                    break;
                default:
                    throw new NotSupportedException($"op {op} on {parent.GetType().Name}");
            }
        }

        return result;
    }
}
