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

    // The answer of an allowed request, cut from what Write writes (so the two cannot drift apart): the part before the
    // uid, the end without a patch, and, with a patch, the part between the uid and the base64 patch and the end after it.
    private static readonly AllowedPieces Allowed = AllowedPieces.Cut();

    /// <summary>
    /// Writes the answer allowing a request, with <paramref name="patch"/> when it is not empty, byte for byte as
    /// <see cref="Write(IBufferWriter{byte}, AdmissionResponse)"/> would, from prebuilt pieces. False (nothing written) when
    /// the uid holds a character the JSON writer escapes; the API server's uids are UUIDs.
    /// </summary>
    public static bool TryWriteAllowed(IBufferWriter<byte> output, ReadOnlySpan<char> uid, ReadOnlySpan<byte> patch)
    {
        ArgumentNullException.ThrowIfNull(output);
        foreach (var c in uid)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        var end = patch.IsEmpty ? Allowed.End : PatchedEnd(patch);
        var span = output.GetSpan(Allowed.Prefix.Length + uid.Length + end.Length);
        var at = Copy(Allowed.Prefix, span, 0);
        at += System.Text.Encoding.ASCII.GetBytes(uid, span[at..]);
        at = Copy(end, span, at);
        output.Advance(at);
        return true;
    }

    // The ends of patched answers written lately: the pod webhook sends one of two constant patches, whose base64 text was
    // encoded for every gated pod. Replaced whole (never changed in place), so readers on other threads see a complete array.
    private static PatchedAnswerEnd[] patchedEnds = [];

    private sealed record PatchedAnswerEnd(byte[] Patch, byte[] End);

    /// <summary>What follows the uid in an answer allowing a request with <paramref name="patch"/>: the patch in base64 and the ends of the objects.</summary>
    private static byte[] PatchedEnd(ReadOnlySpan<byte> patch)
    {
        var known = Volatile.Read(ref patchedEnds);
        foreach (var entry in known)
        {
            if (patch.SequenceEqual(entry.Patch))
            {
                return entry.End;
            }
        }

        var end = new byte[Allowed.BeforePatch.Length + System.Buffers.Text.Base64.GetMaxEncodedToUtf8Length(patch.Length) + Allowed.AfterPatch.Length];
        var at = Copy(Allowed.BeforePatch, end, 0);
        System.Buffers.Text.Base64.EncodeToUtf8(patch, end.AsSpan(at), out _, out var written);
        Copy(Allowed.AfterPatch, end, at + written);
        if (known.Length < MaxPatchedEnds)
        {
            // A lost race only drops an entry, which is encoded again next time.
            Volatile.Write(ref patchedEnds, [.. known, new PatchedAnswerEnd(patch.ToArray(), end)]);
        }

        return end;
    }

    /// <summary>Patches other than the pod webhook's two (none today) are encoded each time once this many are kept.</summary>
    private const int MaxPatchedEnds = 4;

    private static int Copy(byte[] piece, Span<byte> span, int at)
    {
        piece.CopyTo(span[at..]);
        return at + piece.Length;
    }

    private sealed record AllowedPieces(byte[] Prefix, byte[] End, byte[] BeforePatch, byte[] AfterPatch)
    {
        public static AllowedPieces Cut()
        {
            const string uid = "UID";
            byte[] patch = [1, 2, 3];
            var plain = Written(AdmissionResponse.Allow(uid));
            var patched = Written(AdmissionResponse.Allow(uid, patch: patch));
            var uidAt = plain.AsSpan().IndexOf("\"UID\""u8) + 1;
            var patchText = System.Text.Encoding.ASCII.GetBytes(Convert.ToBase64String(patch));
            var patchAt = patched.AsSpan().IndexOf(patchText);
            return new AllowedPieces(
                plain[..uidAt],
                plain[(uidAt + uid.Length)..],
                patched[(uidAt + uid.Length)..patchAt],
                patched[(patchAt + patchText.Length)..]);
        }

        private static byte[] Written(AdmissionResponse response)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using var writer = new Utf8JsonWriter(buffer);
            Write(writer, response);
            return buffer.WrittenSpan.ToArray();
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
