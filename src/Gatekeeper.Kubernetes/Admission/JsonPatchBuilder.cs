using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Gatekeeper.Kubernetes.Admission;

/// <summary>
/// Builds an RFC 6902 JSON Patch. Paths are RFC 6901 pointers built from segments, so an annotation key such
/// as <c>gatekeeper.dev/plan</c> is escaped (<c>gatekeeper.dev~1plan</c>) rather than read as two levels.
/// </summary>
public sealed class JsonPatchBuilder
{
    private readonly ArrayBufferWriter<byte> buffer = new(256);
    private readonly Utf8JsonWriter writer;
    private int count;

    public JsonPatchBuilder()
    {
        writer = new Utf8JsonWriter(buffer);
        writer.WriteStartArray();
    }

    public int Count => count;

    /// <summary>Adds (or, for an existing object member, replaces) a string value.</summary>
    public JsonPatchBuilder Add(string value, params ReadOnlySpan<string> path) =>
        Operation("add", path, w => w.WriteStringValue(value));

    /// <summary>Adds an object of string members (an annotations map that does not exist yet).</summary>
    public JsonPatchBuilder AddObject(IReadOnlyDictionary<string, string> members, params ReadOnlySpan<string> path) =>
        Operation("add", path, w =>
        {
            w.WriteStartObject();
            foreach (var (key, value) in members)
            {
                w.WriteString(key, value);
            }

            w.WriteEndObject();
        });

    /// <summary>Adds any JSON value written by <paramref name="value"/>.</summary>
    public JsonPatchBuilder AddValue(Action<Utf8JsonWriter> value, params ReadOnlySpan<string> path) => Operation("add", path, value);

    public JsonPatchBuilder Remove(params ReadOnlySpan<string> path) => Operation("remove", path, null);

    /// <summary>The patch as UTF-8 JSON bytes; the builder cannot be used afterwards.</summary>
    public ReadOnlyMemory<byte> Build()
    {
        writer.WriteEndArray();
        writer.Flush();
        writer.Dispose();
        return buffer.WrittenMemory;
    }

    /// <summary>Escapes one RFC 6901 reference token: '~' becomes ~0 and '/' becomes ~1.</summary>
    public static string EscapeSegment(string segment) =>
        segment.Contains('~') || segment.Contains('/') ? segment.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal) : segment;

    public static string Pointer(params ReadOnlySpan<string> path)
    {
        var text = new StringBuilder();
        foreach (var segment in path)
        {
            text.Append('/').Append(EscapeSegment(segment));
        }

        return text.ToString();
    }

    private JsonPatchBuilder Operation(string op, ReadOnlySpan<string> path, Action<Utf8JsonWriter>? value)
    {
        writer.WriteStartObject();
        writer.WriteString("op", op);
        writer.WriteString("path", Pointer(path));
        if (value is not null)
        {
            writer.WritePropertyName("value");
            value(writer);
        }

        writer.WriteEndObject();
        count++;
        return this;
    }
}
