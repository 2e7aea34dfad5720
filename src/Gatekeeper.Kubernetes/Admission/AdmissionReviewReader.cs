using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Gatekeeper.Kubernetes.Admission;

/// <summary>Either the request or one sentence saying what is wrong with the body (answered with 400).</summary>
public sealed record AdmissionReadResult(AdmissionRequest? Request, string? Error)
{
    /// <summary>True when the body was an AdmissionReview request, false when <see cref="Error"/> says what is wrong; an outcome holds exactly one of <see cref="Request"/> and <see cref="Error"/>.</summary>
    [MemberNotNullWhen(true, nameof(Request))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Succeeded => Request is not null;

    public static AdmissionReadResult Invalid(string error) => new(null, error);
}

/// <summary>
/// Reads an <c>AdmissionReview</c> strictly: the API server always sends apiVersion admission.k8s.io/v1, kind
/// AdmissionReview and a request with a uid, kind, resource, operation and userInfo, so anything else did not
/// come from it and is refused with 400 instead of being guessed at.
/// </summary>
public static class AdmissionReviewReader
{
    public const string ApiVersion = "admission.k8s.io/v1";
    public const string Kind = "AdmissionReview";

    /// <summary>A namespace is a DNS-1123 label; pod and Deployment names are DNS-1123 subdomains.</summary>
    internal const int MaxNamespaceLength = 63;

    internal const int MaxNameLength = 253;

    /// <summary>The API server nests objects a few levels deep; anything deeper than this is not one of its bodies.</summary>
    public static JsonDocumentOptions DocumentOptions { get; } = new() { MaxDepth = 128 };

    /// <summary>Parses <paramref name="body"/>; the returned document owns pooled memory and must be disposed.</summary>
    public static AdmissionReadResult Read(ReadOnlyMemory<byte> body, out JsonDocument? document) =>
        Read(new ReadOnlySequence<byte>(body), out document);

    /// <summary>
    /// Parses <paramref name="body"/> (a single segment is read in place, so it must outlive the document); the
    /// returned document owns pooled memory and must be disposed.
    /// </summary>
    public static AdmissionReadResult Read(ReadOnlySequence<byte> body, out JsonDocument? document)
    {
        document = null;

        // JsonDocument does not check the bytes inside strings, and reading such a string later throws, so a body with
        // invalid UTF-8 is refused here, once, instead of failing whichever code reads that string first.
        if (!IsValidUtf8(body))
        {
            return AdmissionReadResult.Invalid("the request body is not valid UTF-8.");
        }

        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException e)
        {
            return AdmissionReadResult.Invalid($"the request body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}).");
        }

        // JSON also allows a \uD800-style escape that is half a surrogate pair, and reading that string throws too; such
        // escapes are rare enough that a cheap byte scan decides whether the strings need checking at all.
        if (MayHoldSurrogateEscape(body) && !StringsAreReadable(document.RootElement))
        {
            document.Dispose();
            document = null;
            return AdmissionReadResult.Invalid("the request body holds a \\u escape that is half a surrogate pair, not a character.");
        }

        return Read(document.RootElement);
    }

    public static AdmissionReadResult Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return AdmissionReadResult.Invalid("the request body is not a JSON object; expected an AdmissionReview.");
        }

        var apiVersion = OptionalString(root, "apiVersion");
        if (apiVersion != ApiVersion)
        {
            return AdmissionReadResult.Invalid($"apiVersion is {Quote(apiVersion)}, expected \"{ApiVersion}\" (configure the webhook with admissionReviewVersions: [v1]).");
        }

        var kind = OptionalString(root, "kind");
        if (kind != Kind)
        {
            return AdmissionReadResult.Invalid($"kind is {Quote(kind)}, expected \"{Kind}\".");
        }

        if (!root.TryGetProperty("request", out var request) || request.ValueKind != JsonValueKind.Object)
        {
            return AdmissionReadResult.Invalid("the AdmissionReview has no request object.");
        }

        var uid = OptionalString(request, "uid");
        if (string.IsNullOrEmpty(uid))
        {
            return AdmissionReadResult.Invalid("request.uid is missing or empty; the API server always sends one.");
        }

        if (!TryReadGroupVersion(request, "kind", "kind", out var gvk, out var kindError))
        {
            return AdmissionReadResult.Invalid(kindError);
        }

        if (!TryReadGroupVersion(request, "resource", "resource", out var gvr, out var resourceError))
        {
            return AdmissionReadResult.Invalid(resourceError);
        }

        var operationText = OptionalString(request, "operation");
        AdmissionOperation operation;
        switch (operationText)
        {
            case "CREATE": operation = AdmissionOperation.Create; break;
            case "UPDATE": operation = AdmissionOperation.Update; break;
            case "DELETE": operation = AdmissionOperation.Delete; break;
            case "CONNECT": operation = AdmissionOperation.Connect; break;
            default:
                return AdmissionReadResult.Invalid($"request.operation is {Quote(operationText)}, expected CREATE, UPDATE, DELETE or CONNECT.");
        }

        if (!TryReadUserInfo(request, out var userInfo, out var userError))
        {
            return AdmissionReadResult.Invalid(userError);
        }

        if (!TryReadObject(request, "object", out var obj, out var objectError)
            || !TryReadObject(request, "oldObject", out var oldObj, out objectError)
            || !TryReadObject(request, "options", out var options, out objectError))
        {
            return AdmissionReadResult.Invalid(objectError!);
        }

        var dryRun = false;
        if (request.TryGetProperty("dryRun", out var dryRunElement))
        {
            switch (dryRunElement.ValueKind)
            {
                case JsonValueKind.True: dryRun = true; break;
                case JsonValueKind.False or JsonValueKind.Null: break;
                default: return AdmissionReadResult.Invalid("request.dryRun is not a boolean.");
            }
        }

        foreach (var name in (ReadOnlySpan<string>)["name", "namespace", "subResource"])
        {
            if (request.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                return AdmissionReadResult.Invalid($"request.{name} is not a string.");
            }
        }

        // The API server validated these names before asking; any other would only come back from it as a 400 or 414
        // when the handler reads the namespace's ConfigMaps and Secrets.
        if (OptionalString(request, "namespace") is { } ns && !IsDns1123(ns, MaxNamespaceLength, allowDots: false))
        {
            return AdmissionReadResult.Invalid($"request.namespace {Quote(ns)} is not a namespace name (lower-case letters, digits and '-', at most {MaxNamespaceLength}).");
        }

        if (OptionalString(request, "name") is { Length: > 0 } objectName && !IsDns1123(objectName, MaxNameLength, allowDots: true))
        {
            return AdmissionReadResult.Invalid($"request.name {Quote(objectName)} is not an object name (lower-case letters, digits, '-' and '.', at most {MaxNameLength}).");
        }

        return new AdmissionReadResult(
            new AdmissionRequest(
                uid,
                gvk!.Value.ToKind(),
                gvr!.Value.ToResource(),
                OptionalString(request, "subResource"),
                OptionalString(request, "name"),
                OptionalString(request, "namespace"),
                operation,
                userInfo!,
                obj,
                oldObj,
                options,
                dryRun),
            null);
    }

    private readonly record struct GroupVersionText(string Group, string Version, string Name)
    {
        public GroupVersionKind ToKind() => new(Group, Version, Name);

        public GroupVersionResource ToResource() => new(Group, Version, Name);
    }

    private static bool TryReadGroupVersion(JsonElement request, string property, string nameProperty, out GroupVersionText? value, out string error)
    {
        value = null;
        error = string.Empty;
        if (!request.TryGetProperty(property, out var element) || element.ValueKind != JsonValueKind.Object)
        {
            error = $"request.{property} is missing or not an object.";
            return false;
        }

        var name = KnownString(element, nameProperty);
        var version = KnownString(element, "version");
        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(version))
        {
            error = $"request.{property} needs a {nameProperty} and a version.";
            return false;
        }

        // The core group is the empty string, sent as "" or left out.
        value = new GroupVersionText(KnownString(element, "group") ?? string.Empty, version, name);
        return true;
    }

    private static bool TryReadUserInfo(JsonElement request, out AdmissionUserInfo? userInfo, out string error)
    {
        userInfo = null;
        error = string.Empty;
        if (!request.TryGetProperty("userInfo", out var element) || element.ValueKind != JsonValueKind.Object)
        {
            error = "request.userInfo is missing or not an object.";
            return false;
        }

        var groups = new List<string>();
        if (element.TryGetProperty("groups", out var groupsElement) && groupsElement.ValueKind != JsonValueKind.Null)
        {
            if (groupsElement.ValueKind != JsonValueKind.Array)
            {
                error = "request.userInfo.groups is not an array.";
                return false;
            }

            foreach (var group in groupsElement.EnumerateArray())
            {
                if (group.ValueKind != JsonValueKind.String)
                {
                    error = "request.userInfo.groups holds a value that is not a string.";
                    return false;
                }

                groups.Add(group.GetString()!);
            }
        }

        userInfo = new AdmissionUserInfo(OptionalString(element, "username"), OptionalString(element, "uid"), groups);
        return true;
    }

    private static bool TryReadObject(JsonElement request, string property, out JsonElement? value, out string? error)
    {
        value = null;
        error = null;
        if (!request.TryGetProperty(property, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            error = $"request.{property} is not an object.";
            return false;
        }

        value = element;
        return true;
    }

    // The values every pod and Deployment request repeats: returned as shared instances instead of new strings.
    private static readonly string[] KnownValues = ["", "v1", "apps", "Pod", "pods", "Deployment", "deployments"];

    private static string? KnownString(JsonElement element, string property)
    {
        if (!element.TryGetProperty(property, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        foreach (var known in KnownValues)
        {
            if (value.ValueEquals(known))
            {
                return known;
            }
        }

        return value.GetString();
    }

    private static string? OptionalString(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // A loop, not a LINQ lambda: this runs on the pod path for every pod's namespace and name.
    internal static bool IsDns1123(ReadOnlySpan<char> value, int maxLength, bool allowDots)
    {
        if (value.Length is 0 || value.Length > maxLength || !char.IsAsciiLetterOrDigit(value[0]) || !char.IsAsciiLetterOrDigit(value[^1]))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-' || (allowDots && c == '.')))
            {
                return false;
            }
        }

        return true;
    }

    internal static bool IsValidUtf8(ReadOnlySequence<byte> body)
    {
        if (body.IsSingleSegment)
        {
            return Utf8.IsValid(body.FirstSpan);
        }

        // Kestrel cuts a body wherever its buffers end, also inside a character: each segment is checked but for an
        // unfinished character at its end, which is finished with the next segment's first bytes. (A decoder's
        // GetCharCount, used here before, carries no state from one call to the next: a character cut in two was refused,
        // and an invalid byte at a segment's end passed.)
        Span<byte> character = stackalloc byte[4];
        var carried = 0;
        foreach (var segment in body)
        {
            var span = segment.Span;
            if (carried > 0)
            {
                var take = Math.Min(span.Length, character.Length - carried);
                span[..take].CopyTo(character[carried..]);
                switch (Rune.DecodeFromUtf8(character[..(carried + take)], out _, out var consumed))
                {
                    case OperationStatus.Done:
                        span = span[(consumed - carried)..];
                        carried = 0;
                        break;
                    case OperationStatus.NeedMoreData when take == span.Length:
                        carried += take;
                        continue;
                    default:
                        return false;
                }
            }

            var unfinished = UnfinishedCharacterLength(span);
            if (!Utf8.IsValid(span[..^unfinished]))
            {
                return false;
            }

            span[^unfinished..].CopyTo(character);
            carried = unfinished;
        }

        return carried == 0;
    }

    /// <summary>How many bytes at the end of <paramref name="span"/> begin a character that needs more bytes than are left.</summary>
    private static int UnfinishedCharacterLength(ReadOnlySpan<byte> span)
    {
        for (var back = 1; back <= Math.Min(3, span.Length); back++)
        {
            var b = span[^back];
            if ((b & 0b1100_0000) == 0b1000_0000)
            {
                // A continuation byte: the character starts further back.
                continue;
            }

            var length = b switch
            {
                >= 0xC2 and <= 0xDF => 2,
                >= 0xE0 and <= 0xEF => 3,
                >= 0xF0 and <= 0xF4 => 4,
                _ => 0,
            };
            return length > back ? back : 0;
        }

        return 0;
    }

    internal static bool MayHoldSurrogateEscape(ReadOnlySequence<byte> body)
    {
        if (body.IsSingleSegment)
        {
            return MayHoldSurrogateEscape(body.FirstSpan);
        }

        // Bodies of a few KB arrive in two or more segments, and the pod webhook sees every pod: scan each segment and
        // each seam (an escape is 4 bytes, so 3 on each side) instead of walking every string of the document.
        Span<byte> seam = stackalloc byte[6];
        ReadOnlySpan<byte> previous = default;
        foreach (var segment in body)
        {
            var span = segment.Span;
            if (span.Length < 3 || MayHoldSurrogateEscape(span))
            {
                return true;
            }

            if (!previous.IsEmpty)
            {
                previous[^3..].CopyTo(seam);
                span[..3].CopyTo(seam[3..]);
                if (MayHoldSurrogateEscape(seam))
                {
                    return true;
                }
            }

            previous = span;
        }

        return false;
    }

    private static bool MayHoldSurrogateEscape(ReadOnlySpan<byte> span)
    {
        for (var at = span.IndexOf("\\u"u8); at >= 0 && at + 3 < span.Length; at = span[(at + 2)..].IndexOf("\\u"u8) is var next and >= 0 ? at + 2 + next : -1)
        {
            if (span[at + 2] is (byte)'d' or (byte)'D' && span[at + 3] is (>= (byte)'8' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f') or (>= (byte)'A' and <= (byte)'F'))
            {
                return true;
            }
        }

        return false;
    }

    private static bool StringsAreReadable(JsonElement element)
    {
        try
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    _ = element.GetString();
                    return true;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        if (!StringsAreReadable(item))
                        {
                            return false;
                        }
                    }

                    return true;
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        if (!StringsAreReadable(property.Value))
                        {
                            return false;
                        }
                    }

                    return true;
                default:
                    return true;
            }
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>A value quoted in an error sentence: control characters escaped so it stays one line, cut at 60 characters.</summary>
    private static string Quote(string? value)
    {
        if (value is null)
        {
            return "missing";
        }

        var quoted = new StringBuilder("\"");
        foreach (var c in value)
        {
            if (quoted.Length > 60)
            {
                return quoted.Append("…\"").ToString();
            }

            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029')
            {
                quoted.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                quoted.Append(c);
            }
        }

        return quoted.Append('"').ToString();
    }
}
