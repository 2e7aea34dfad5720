using System.Buffers;
using System.Text.Json;

namespace Gatekeeper.Kubernetes.Admission;

/// <summary>Writes an <c>AdmissionReview</c> response straight into a buffer (the response body's pipe).</summary>
public static class AdmissionReviewWriter
{
    private static readonly JsonEncodedText ApiVersionName = JsonEncodedText.Encode("apiVersion");
    private static readonly JsonEncodedText ApiVersionValue = JsonEncodedText.Encode(AdmissionReviewReader.ApiVersion);
    private static readonly JsonEncodedText KindName = JsonEncodedText.Encode("kind");
    private static readonly JsonEncodedText KindValue = JsonEncodedText.Encode(AdmissionReviewReader.Kind);
    private static readonly JsonEncodedText ResponseName = JsonEncodedText.Encode("response");
    private static readonly JsonEncodedText UidName = JsonEncodedText.Encode("uid");
    private static readonly JsonEncodedText AllowedName = JsonEncodedText.Encode("allowed");
    private static readonly JsonEncodedText StatusName = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText CodeName = JsonEncodedText.Encode("code");
    private static readonly JsonEncodedText MessageName = JsonEncodedText.Encode("message");
    private static readonly JsonEncodedText WarningsName = JsonEncodedText.Encode("warnings");
    private static readonly JsonEncodedText PatchName = JsonEncodedText.Encode("patch");
    private static readonly JsonEncodedText PatchTypeName = JsonEncodedText.Encode("patchType");
    private static readonly JsonEncodedText JsonPatchValue = JsonEncodedText.Encode("JSONPatch");

    // One writer per thread, reset onto each response's buffer: the pod webhook writes a response per pod.
    [ThreadStatic]
    private static Utf8JsonWriter? cachedWriter;

    public static void Write(IBufferWriter<byte> output, AdmissionResponse response)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(response);
        var writer = cachedWriter ??= new Utf8JsonWriter(output);
        writer.Reset(output);
        try
        {
            Write(writer, response);
        }
        finally
        {
            // Drop the reference to the caller's buffer so it is not kept alive by this thread.
            writer.Reset(Stream.Null);
        }
    }

    public static void Write(Utf8JsonWriter writer, AdmissionResponse response)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(response);
        writer.WriteStartObject();
        writer.WriteString(ApiVersionName, ApiVersionValue);
        writer.WriteString(KindName, KindValue);
        writer.WriteStartObject(ResponseName);
        writer.WriteString(UidName, response.Uid);
        writer.WriteBoolean(AllowedName, response.Allowed);
        if (response.Status is { } status)
        {
            writer.WriteStartObject(StatusName);
            writer.WriteNumber(CodeName, status.Code);
            writer.WriteString(MessageName, status.Message);
            writer.WriteEndObject();
        }

        if (response.Warnings.Count > 0)
        {
            writer.WriteStartArray(WarningsName);
            foreach (var warning in response.Warnings)
            {
                writer.WriteStringValue(warning);
            }

            writer.WriteEndArray();
        }

        if (response.Patch is { } patch)
        {
            writer.WriteString(PatchTypeName, JsonPatchValue);
            writer.WriteBase64String(PatchName, patch.Span);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.Flush();
    }
}
