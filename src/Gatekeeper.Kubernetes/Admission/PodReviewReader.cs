using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Gatekeeper.Kubernetes.Pods;

namespace Gatekeeper.Kubernetes.Admission;

/// <summary>
/// What the pod webhook needs from one AdmissionReview, read by <see cref="PodReviewReader"/>: the spans point into the
/// caller's scratch buffer.
/// </summary>
public ref struct PodReview
{
    public ReadOnlySpan<char> Uid { get; set; }

    /// <summary>The request's namespace; empty when it is missing or null (a pod being created may not carry it yet).</summary>
    public ReadOnlySpan<char> Namespace { get; set; }

    public bool IsCreate { get; set; }

    /// <summary>False when the request has no object (or a null one): such a request is allowed as it is.</summary>
    public bool HasObject { get; set; }

    public PodFacts Pod { get; set; }
}

/// <summary>
/// The members of a pod that <see cref="PodGate"/> decides on, as <see cref="PodGate.Decide(bool, string, JsonElement, AppliedPlans)"/>
/// finds them in a parsed pod.
/// </summary>
public ref struct PodFacts
{
    /// <summary>metadata and metadata.annotations are objects and the plan annotation is a string.</summary>
    public bool HasPlan { get; set; }

    public ReadOnlySpan<char> Plan { get; set; }

    /// <summary>metadata.ownerReferences holds an object with controller true, kind "ReplicaSet" and a string name; the first one's name.</summary>
    public bool HasOwner { get; set; }

    public ReadOnlySpan<char> Owner { get; set; }

    /// <summary>metadata.labels is an object whose pod-template-hash is a string.</summary>
    public bool HasTemplateHash { get; set; }

    public ReadOnlySpan<char> TemplateHash { get; set; }

    /// <summary>spec is an object and spec.schedulingGates an array.</summary>
    public bool HasGateList { get; set; }

    /// <summary>That array holds an object whose name is Gatekeeper's gate.</summary>
    public bool AlreadyGated { get; set; }
}

/// <summary>
/// Reads a pod webhook's AdmissionReview in one forward pass over the request body (a <see cref="StrictJsonSpanReader"/>,
/// which checks every byte as it goes), without building a <see cref="JsonDocument"/>: every pod created in the cluster passes here.
/// It vouches only for bodies <see cref="AdmissionReviewReader"/> accepts and reads them as it does; for anything else
/// — a body that reader refuses, and odd but valid ones this one leaves to it (a member it reads given twice, a value
/// longer than its buffers, a possible half-surrogate escape) — it answers false, and the caller asks
/// <see cref="AdmissionReviewReader"/>, whose answer (or one-sentence refusal) is then the webhook's.
/// </summary>
public static class PodReviewReader
{
    /// <summary>Longest value kept (uid, namespace, name, plan, owner, hash); object names are at most 253 characters.</summary>
    private const int Field = 256;

    /// <summary>Bodies up to 16 KB have the reader's bitmap in the scratch (one 64-bit word per 64 bytes); larger ones rent it.</summary>
    private const int SpecialsWords = 256;

    private const int CharsPerWord = sizeof(ulong) / sizeof(char);

    /// <summary>The scratch a caller passes (5 KB: it fits on the stack): six values and the reader's bitmap.</summary>
    public const int ScratchLength = (6 * Field) + (SpecialsWords * CharsPerWord);

    /// <summary>Bodies in segments up to this size are copied into one span before reading; larger ones are left to the full reader.</summary>
    private const int MaxCopied = 1 << 20;

    /// <param name="body">The whole request body.</param>
    /// <param name="scratch">At least <see cref="ScratchLength"/> characters; the review's spans point into it.</param>
    /// <returns>False when the body needs <see cref="AdmissionReviewReader"/> (see the class summary).</returns>
    public static bool TryRead(ReadOnlySequence<byte> body, Span<char> scratch, out PodReview review)
    {
        if (scratch.Length < ScratchLength)
        {
            throw new ArgumentException($"The scratch needs {ScratchLength} characters.", nameof(scratch));
        }

        review = default;
        if (body.IsSingleSegment)
        {
            return TryRead(body.FirstSpan, scratch, out review);
        }

        if (body.Length > MaxCopied)
        {
            return false;
        }

        // Kestrel hands a body of a few KB over in two or more segments: read a contiguous copy.
        var length = (int)body.Length;
        var copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(copy);
            return TryRead(copy.AsSpan(0, length), scratch, out review);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private static bool TryRead(ReadOnlySpan<byte> body, Span<char> scratch, out PodReview review)
    {
        review = default;

        // The reader's bitmap of quotes, backslashes and control characters (512 bytes for a 4 KB pod) in the scratch's last part.
        var words = StrictJsonSpanReader.SpecialsLength(body.Length);
        ulong[]? rented = null;
        // Exactly the body's words: the caller need not clear its scratch (the reader writes each word before it reads it).
        var specials = words <= SpecialsWords
            ? MemoryMarshal.Cast<char, ulong>(scratch.Slice(6 * Field, SpecialsWords * CharsPerWord))[..words]
            : (rented = ArrayPool<ulong>.Shared.Rent(words)).AsSpan(0, words);
        var buffers = new Buffers(scratch);
        var read = new PodReview();
        bool vouched;
        try
        {
            // The full reader refuses invalid UTF-8 before parsing; the reader assumes valid UTF-8 (its bitmap's pass, which
            // reads nothing as JSON, finds an all-ASCII body, which is), and declines the other case the full reader checks
            // after parsing (a \u escape that is half a surrogate pair).
            var reader = new StrictJsonSpanReader(body, specials);
            vouched = (reader.IsAscii || System.Text.Unicode.Utf8.IsValid(body)) && ReadRoot(ref reader, buffers, ref read);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not strict JSON, nested deeper than the reader goes, half a surrogate pair, or a string that cannot be read.
            vouched = false;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ulong>.Shared.Return(rented);
            }
        }

        review = vouched ? read : default;
        return vouched;
    }

    private readonly ref struct Buffers(Span<char> scratch)
    {
        public Span<char> Uid { get; } = scratch.Slice(0 * Field, Field);

        public Span<char> Namespace { get; } = scratch.Slice(1 * Field, Field);

        public Span<char> Name { get; } = scratch.Slice(2 * Field, Field);

        public Span<char> Plan { get; } = scratch.Slice(3 * Field, Field);

        public Span<char> Owner { get; } = scratch.Slice(4 * Field, Field);

        public Span<char> TemplateHash { get; } = scratch.Slice(5 * Field, Field);
    }

    private static bool ReadRoot(scoped ref StrictJsonSpanReader reader, Buffers buffers, scoped ref PodReview review)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        bool sawApiVersion = false, sawKind = false, sawRequest = false, apiVersionMatches = false, kindMatches = false;
        while (NextMember(ref reader))
        {
            if (reader.ValueTextEquals("apiVersion"u8))
            {
                if (!First(ref sawApiVersion))
                {
                    return false;
                }

                reader.Read();
                apiVersionMatches = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(ApiVersion);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                if (!First(ref sawKind))
                {
                    return false;
                }

                reader.Read();
                kindMatches = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(ReviewKind);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("request"u8))
            {
                if (!First(ref sawRequest) || !reader.Read() || reader.TokenType != JsonTokenType.StartObject || !ReadRequest(ref reader, buffers, ref review))
                {
                    return false;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        // Anything after the AdmissionReview but white space makes Read throw; the end of the body makes it answer false.
        return !reader.Read() && apiVersionMatches && kindMatches && sawRequest;
    }

    private static bool ReadRequest(scoped ref StrictJsonSpanReader reader, Buffers buffers, scoped ref PodReview review)
    {
        bool sawUid = false, sawKind = false, sawResource = false, sawOperation = false, sawUserInfo = false, sawObject = false,
            sawOldObject = false, sawOptions = false, sawDryRun = false, sawName = false, sawNamespace = false, sawSubResource = false;
        bool kindValid = false, resourceValid = false, operationValid = false, userInfoValid = false;
        while (NextMember(ref reader))
        {
            if (reader.ValueTextEquals("uid"u8))
            {
                if (!First(ref sawUid) || !ReadString(ref reader, buffers.Uid, out var uid, out _) || uid.IsEmpty)
                {
                    return false;
                }

                review.Uid = uid;
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                if (!First(ref sawKind))
                {
                    return false;
                }

                kindValid = ReadGroupVersion(ref reader, "kind"u8);
            }
            else if (reader.ValueTextEquals("resource"u8))
            {
                if (!First(ref sawResource))
                {
                    return false;
                }

                resourceValid = ReadGroupVersion(ref reader, "resource"u8);
            }
            else if (reader.ValueTextEquals("operation"u8))
            {
                if (!First(ref sawOperation))
                {
                    return false;
                }

                reader.Read();
                review.IsCreate = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("CREATE"u8);
                operationValid = review.IsCreate || (reader.TokenType == JsonTokenType.String
                    && (reader.ValueTextEquals("UPDATE"u8) || reader.ValueTextEquals("DELETE"u8) || reader.ValueTextEquals("CONNECT"u8)));
                reader.Skip();
            }
            else if (reader.ValueTextEquals("userInfo"u8))
            {
                if (!First(ref sawUserInfo))
                {
                    return false;
                }

                userInfoValid = ReadUserInfo(ref reader);
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                if (!First(ref sawObject))
                {
                    return false;
                }

                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    review.HasObject = true;
                    var pod = default(PodFacts);
                    if (!ReadPod(ref reader, buffers, ref pod))
                    {
                        return false;
                    }

                    review.Pod = pod;
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("oldObject"u8))
            {
                if (!First(ref sawOldObject) || !SkipObjectOrNull(ref reader))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("options"u8))
            {
                if (!First(ref sawOptions) || !SkipObjectOrNull(ref reader))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("dryRun"u8))
            {
                if (!First(ref sawDryRun))
                {
                    return false;
                }

                reader.Read();
                if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("namespace"u8))
            {
                if (!First(ref sawNamespace) || !ReadString(ref reader, buffers.Namespace, out var ns, out var isNull)
                    || (!isNull && !AdmissionReviewReader.IsDns1123(ns, AdmissionReviewReader.MaxNamespaceLength, allowDots: false)))
                {
                    return false;
                }

                review.Namespace = ns;
            }
            else if (reader.ValueTextEquals("name"u8))
            {
                if (!First(ref sawName) || !ReadString(ref reader, buffers.Name, out var name, out _)
                    || (!name.IsEmpty && !AdmissionReviewReader.IsDns1123(name, AdmissionReviewReader.MaxNameLength, allowDots: true)))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("subResource"u8))
            {
                if (!First(ref sawSubResource))
                {
                    return false;
                }

                reader.Read();
                if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                {
                    return false;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return sawUid && kindValid && resourceValid && operationValid && userInfoValid;
    }

    /// <summary>request.kind or request.resource: an object with a non-empty string <paramref name="nameProperty"/> and version (a repeated one is not vouched for).</summary>
    private static bool ReadGroupVersion(scoped ref StrictJsonSpanReader reader, ReadOnlySpan<byte> nameProperty)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        bool sawName = false, sawVersion = false, once = true, hasName = false, hasVersion = false;
        while (NextMember(ref reader))
        {
            if (reader.ValueTextEquals(nameProperty))
            {
                once &= First(ref sawName);
                hasName = ReadNonEmptyString(ref reader);
            }
            else if (reader.ValueTextEquals("version"u8))
            {
                once &= First(ref sawVersion);
                hasVersion = ReadNonEmptyString(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }

        return once && hasName && hasVersion;
    }

    /// <summary>request.userInfo: an object whose groups, if given and not null, is an array of strings.</summary>
    private static bool ReadUserInfo(scoped ref StrictJsonSpanReader reader)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        bool sawGroups = false, valid = true;
        while (NextMember(ref reader))
        {
            if (!reader.ValueTextEquals("groups"u8))
            {
                reader.Skip();
                continue;
            }

            valid &= First(ref sawGroups);
            reader.Read();
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    valid &= reader.TokenType == JsonTokenType.String;
                    reader.Skip();
                }
            }
            else
            {
                valid &= reader.TokenType == JsonTokenType.Null;
                reader.Skip();
            }
        }

        return valid;
    }

    private static bool ReadPod(scoped ref StrictJsonSpanReader reader, Buffers buffers, scoped ref PodFacts pod)
    {
        bool sawMetadata = false, sawSpec = false;
        while (NextMember(ref reader))
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                if (!First(ref sawMetadata))
                {
                    return false;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                }
                else if (!ReadMetadata(ref reader, buffers, ref pod))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("spec"u8))
            {
                if (!First(ref sawSpec))
                {
                    return false;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                }
                else if (!ReadSpec(ref reader, ref pod))
                {
                    return false;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return true;
    }

    private static bool ReadMetadata(scoped ref StrictJsonSpanReader reader, Buffers buffers, scoped ref PodFacts pod)
    {
        bool sawAnnotations = false, sawLabels = false, sawOwners = false;
        while (NextMember(ref reader))
        {
            if (reader.ValueTextEquals("annotations"u8))
            {
                if (!First(ref sawAnnotations)
                    || !ReadStringMember(ref reader, PlanAnnotation, buffers.Plan, out var hasPlan, out var plan))
                {
                    return false;
                }

                pod.HasPlan = hasPlan;
                pod.Plan = plan;
            }
            else if (reader.ValueTextEquals("labels"u8))
            {
                if (!First(ref sawLabels)
                    || !ReadStringMember(ref reader, TemplateHashLabel, buffers.TemplateHash, out var hasHash, out var hash))
                {
                    return false;
                }

                pod.HasTemplateHash = hasHash;
                pod.TemplateHash = hash;
            }
            else if (reader.ValueTextEquals("ownerReferences"u8))
            {
                if (!First(ref sawOwners) || !ReadOwners(ref reader, buffers.Owner, ref pod))
                {
                    return false;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return true;
    }

    /// <summary>
    /// A member that should be an object holding <paramref name="key"/>: found when it is one and the key's value is a string.
    /// False (leave it to the full reader) when the key is given twice or its value is longer than the buffer.
    /// </summary>
    private static bool ReadStringMember(scoped ref StrictJsonSpanReader reader, ReadOnlySpan<byte> key, Span<char> buffer, out bool found, out ReadOnlySpan<char> value)
    {
        found = false;
        value = default;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return true;
        }

        var sawKey = false;
        while (NextMember(ref reader))
        {
            if (!reader.ValueTextEquals(key))
            {
                reader.Skip();
                continue;
            }

            if (!First(ref sawKey) || !ReadString(ref reader, buffer, out value, out var isNull))
            {
                return false;
            }

            found = !isNull;
        }

        return true;
    }

    /// <summary>The first owner reference with controller true, kind ReplicaSet and a string name; later ones are not read.</summary>
    private static bool ReadOwners(scoped ref StrictJsonSpanReader reader, Span<char> buffer, scoped ref PodFacts pod)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return true;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (pod.HasOwner || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            bool sawController = false, sawKind = false, sawName = false, controller = false, replicaSet = false, named = false;
            while (NextMember(ref reader))
            {
                if (reader.ValueTextEquals("controller"u8))
                {
                    if (!First(ref sawController))
                    {
                        return false;
                    }

                    reader.Read();
                    controller = reader.TokenType == JsonTokenType.True;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("kind"u8))
                {
                    if (!First(ref sawKind))
                    {
                        return false;
                    }

                    reader.Read();
                    replicaSet = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("ReplicaSet"u8);
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("name"u8))
                {
                    if (!First(ref sawName) || !ReadString(ref reader, buffer, out var name, out var isNull))
                    {
                        return false;
                    }

                    named = !isNull;
                    pod.Owner = name;
                }
                else
                {
                    reader.Skip();
                }
            }

            pod.HasOwner = controller && replicaSet && named;
        }

        if (!pod.HasOwner)
        {
            pod.Owner = default;
        }

        return true;
    }

    private static bool ReadSpec(scoped ref StrictJsonSpanReader reader, scoped ref PodFacts pod)
    {
        var sawGates = false;
        while (NextMember(ref reader))
        {
            if (!reader.ValueTextEquals("schedulingGates"u8))
            {
                reader.Skip();
                continue;
            }

            if (!First(ref sawGates))
            {
                return false;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
                continue;
            }

            pod.HasGateList = true;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                var sawName = false;
                while (NextMember(ref reader))
                {
                    if (!reader.ValueTextEquals("name"u8))
                    {
                        reader.Skip();
                        continue;
                    }

                    if (!First(ref sawName))
                    {
                        return false;
                    }

                    reader.Read();
                    pod.AlreadyGated = pod.AlreadyGated || (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(MigrationSchedulingGate));
                    reader.Skip();
                }
            }
        }

        return true;
    }

    private static readonly byte[] ApiVersion = System.Text.Encoding.UTF8.GetBytes(AdmissionReviewReader.ApiVersion);

    private static readonly byte[] ReviewKind = System.Text.Encoding.UTF8.GetBytes(AdmissionReviewReader.Kind);

    private static readonly byte[] MigrationSchedulingGate = System.Text.Encoding.UTF8.GetBytes(GatekeeperNames.MigrationSchedulingGate);

    private static readonly byte[] PlanAnnotation = System.Text.Encoding.UTF8.GetBytes(GatekeeperNames.Plan);

    private static readonly byte[] TemplateHashLabel = System.Text.Encoding.UTF8.GetBytes(PodOwner.TemplateHashLabel);

    /// <summary>Moves to the next member's name; false at the end of the object.</summary>
    private static bool NextMember(scoped ref StrictJsonSpanReader reader) => reader.Read() && reader.TokenType == JsonTokenType.PropertyName;

    /// <summary>Marks a member as seen; false when it was seen before (a repeated member is left to the full reader).</summary>
    private static bool First(ref bool seen)
    {
        if (seen)
        {
            return false;
        }

        seen = true;
        return true;
    }

    /// <summary>Whether the member's value is an object or null (skipped either way).</summary>
    private static bool SkipObjectOrNull(scoped ref StrictJsonSpanReader reader)
    {
        reader.Read();
        var valid = reader.TokenType is JsonTokenType.StartObject or JsonTokenType.Null;
        reader.Skip();
        return valid;
    }

    /// <summary>Whether the member's value is a non-empty string (any value is consumed).</summary>
    private static bool ReadNonEmptyString(scoped ref StrictJsonSpanReader reader)
    {
        reader.Read();
        var valid = reader.TokenType == JsonTokenType.String && reader.ValueLength > 0;
        reader.Skip();
        return valid;
    }

    /// <summary>
    /// Reads a string or null member value into <paramref name="buffer"/> (unescaped). False for any other value, and for a
    /// string longer than the buffer (left to the full reader).
    /// </summary>
    private static bool ReadString(scoped ref StrictJsonSpanReader reader, Span<char> buffer, out ReadOnlySpan<char> value, out bool isNull)
    {
        value = default;
        reader.Read();
        isNull = reader.TokenType == JsonTokenType.Null;
        if (isNull)
        {
            return true;
        }

        // Unescaped, a value has at most as many characters as it has bytes.
        if (reader.TokenType != JsonTokenType.String || reader.ValueLength > buffer.Length)
        {
            reader.Skip();
            return false;
        }

        value = buffer[..reader.CopyString(buffer)];
        return true;
    }
}
