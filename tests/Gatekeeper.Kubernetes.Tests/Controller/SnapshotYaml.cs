using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using k8s;

namespace Gatekeeper.Kubernetes.Tests.Controller;

/// <summary>
/// A Kubernetes object as block YAML for approved snapshots, in the order and shape <c>kubectl get -o yaml</c> users
/// read: the object's JSON (KubernetesClient's own serializer, so field names and order are the API's), each string
/// that YAML would read as something else (a number, a boolean, null) quoted. KubernetesClient.Aot keeps its YAML
/// serializer internal, hence this small writer.
/// </summary>
internal static partial class SnapshotYaml
{
    public static string Serialize(object value)
    {
        using var document = JsonDocument.Parse(KubernetesJson.Serialize(value));
        var yaml = new StringBuilder();
        WriteMapping(yaml, document.RootElement, 0);
        return yaml.ToString().TrimEnd('\n');
    }

    private static void WriteMapping(StringBuilder yaml, JsonElement mapping, int indent, bool firstLineStarted = false)
    {
        // apiVersion and kind lead every mapping (object references too), as in KubernetesClient's YAML.
        var properties = mapping.EnumerateObject().OrderBy(p => p.Name switch { "apiVersion" => 0, "kind" => 1, _ => 2 });
        foreach (var property in properties)
        {
            if (!firstLineStarted)
            {
                yaml.Append(' ', indent);
            }

            firstLineStarted = false;
            yaml.Append(Scalar(property.Name)).Append(':');
            WriteValue(yaml, property.Value, indent);
        }
    }

    private static void WriteValue(StringBuilder yaml, JsonElement value, int indent)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when value.EnumerateObject().Any():
                yaml.Append('\n');
                WriteMapping(yaml, value, indent + 2);
                break;
            case JsonValueKind.Object:
                yaml.Append(" {}\n");
                break;
            case JsonValueKind.Array when value.GetArrayLength() > 0:
                yaml.Append('\n');
                foreach (var item in value.EnumerateArray())
                {
                    // Sequences under a key start at the key's column, as kubectl writes them.
                    yaml.Append(' ', indent).Append('-');
                    if (item.ValueKind == JsonValueKind.Object && item.EnumerateObject().Any())
                    {
                        yaml.Append(' ');
                        WriteMapping(yaml, item, indent + 2, firstLineStarted: true);
                    }
                    else
                    {
                        WriteValue(yaml, item, indent + 2);
                    }
                }

                break;
            case JsonValueKind.Array:
                yaml.Append(" []\n");
                break;
            case JsonValueKind.String:
                yaml.Append(' ').Append(Scalar(value.GetString()!)).Append('\n');
                break;
            default:
                yaml.Append(' ').Append(value.GetRawText()).Append('\n');
                break;
        }
    }

    private static string Scalar(string text) =>
        NeedsQuotes(text) ? JsonSerializer.Serialize(text, SnapshotJson.Default.String) : text;

    private static bool NeedsQuotes(string text) =>
        text.Length == 0
        || ReadAsNonString().IsMatch(text)
        || text.Contains(": ", StringComparison.Ordinal) || text.Contains(" #", StringComparison.Ordinal)
        || text.EndsWith(':') || text.Any(char.IsControl)
        || char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1])
        || "-?:,[]{}#&*!|>'\"%@`".Contains(text[0], StringComparison.Ordinal) && !(text[0] == '-' && text.Length > 1 && text[1] != ' ' && !char.IsDigit(text[1]) && text[1] != '.');

    [GeneratedRegex(@"^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][-+]?\d+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|0x[0-9a-fA-F]+|0o[0-7]+)$", RegexOptions.IgnoreCase)]
    private static partial Regex ReadAsNonString();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class SnapshotJson : System.Text.Json.Serialization.JsonSerializerContext;
