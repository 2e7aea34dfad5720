using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>Applies the RFC 6902 "add", "remove", "replace" and "test" operations the way the API server does, to check patches by their effect.</summary>
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
                parent = (parent is JsonArray array ? array[Index(array, segment, operation)] : parent[segment])
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
                case "remove" when parent is JsonArray items:
                    items.RemoveAt(Index(items, last, operation));
                    break;
                case "replace" when parent is JsonArray items:
                    items[Index(items, last, operation)] = operation["value"]?.DeepClone();
                    break;
                case "replace" when parent is JsonObject obj:
                    if (!obj.ContainsKey(last))
                    {
                        throw new InvalidOperationException($"path {operation["path"]} does not exist");
                    }

                    obj[last] = operation["value"]?.DeepClone();
                    break;
                case "test":
                    var actual = parent is JsonArray array ? array[Index(array, last, operation)]
                        : ((JsonObject)parent).TryGetPropertyValue(last, out var member) ? member
                        : throw new JsonPatchTestFailedException($"path {operation["path"]} does not exist");
                    if (!JsonNode.DeepEquals(actual, operation["value"]))
                    {
                        throw new JsonPatchTestFailedException($"test of {operation["path"]} failed: it is {actual?.ToJsonString() ?? "null"}");
                    }

                    break;
                default:
                    throw new NotSupportedException($"op {op} on {parent.GetType().Name}");
            }
        }

        return result;
    }

    private static int Index(JsonArray array, string segment, JsonNode operation)
    {
        var index = int.Parse(segment, System.Globalization.CultureInfo.InvariantCulture);
        return index >= 0 && index < array.Count ? index : throw new InvalidOperationException($"path {operation["path"]} is out of range");
    }
}

/// <summary>A JSON Patch "test" operation did not hold; the API server answers 422 Unprocessable Entity.</summary>
public sealed class JsonPatchTestFailedException(string message) : InvalidOperationException(message);
