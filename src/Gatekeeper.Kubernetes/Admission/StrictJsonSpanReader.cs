using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Gatekeeper.Kubernetes.Admission;

/// <summary>
/// A forward-only JSON reader over one span of valid UTF-8, for <see cref="PodReviewReader"/>: the members of
/// <see cref="Utf8JsonReader"/> that reader uses, with the same tokens and meaning, at a fraction of the cost (the pod
/// webhook reads every byte of a 4 KB body for every pod, and <see cref="Utf8JsonReader"/>'s general machinery — segments,
/// comments, rollback, positions — was a fifth of the request's CPU).
/// It accepts only strict RFC 8259 JSON nested at most <see cref="MaxDepth"/> deep, and throws <see cref="JsonException"/>
/// at the first byte that is not, and at a <c>\u</c> escape that is half a surrogate pair (such strings cannot be read as
/// text): everything it accepts <see cref="JsonDocument"/> accepts too, and what it refuses goes to the full reader.
/// </summary>
internal ref struct StrictJsonSpanReader
{
    /// <summary>Deeper than the API server nests (the full reader allows 128; deeper bodies are left to it).</summary>
    public const int MaxDepth = 64;

    private readonly ReadOnlySpan<byte> json;

    /// <summary>Bit i % 64 of word i / 64 is set when byte i is a quote, a backslash or a control character (see <see cref="MarkSpecials"/>).</summary>
    private readonly ReadOnlySpan<ulong> specials;

    private int position;
    private int valueStart;
    private int valueLength;
    private bool valueEscaped;
    private int depth;

    /// <summary>Bit d - 1 is set when the container at depth d is an object (clear: an array).</summary>
    private ulong objects;

    /// <param name="json">Valid UTF-8.</param>
    /// <param name="specials">At least <see cref="SpecialsLength"/> words, which the reader fills and then reads.</param>
    public StrictJsonSpanReader(ReadOnlySpan<byte> json, Span<ulong> specials)
    {
        if (specials.Length < SpecialsLength(json.Length))
        {
            throw new ArgumentException($"The reader needs {SpecialsLength(json.Length)} words for {json.Length} bytes.", nameof(specials));
        }

        this.json = json;
        IsAscii = MarkSpecials(json, specials);
        this.specials = specials;
    }

    /// <summary>
    /// Whether every byte of the input is ASCII (found by the bitmap's pass): such input is valid UTF-8, and a caller
    /// need not check it again.
    /// </summary>
    public bool IsAscii { get; }

    /// <summary>The words of the bitmap a reader of <paramref name="jsonLength"/> bytes needs: one per 64 bytes.</summary>
    public static int SpecialsLength(int jsonLength) => (jsonLength + 63) >> 6;

    public JsonTokenType TokenType { get; private set; }

    /// <summary>The length in bytes of the current string or property name as written (escapes not undone), as <see cref="Utf8JsonReader.ValueSpan"/>'s.</summary>
    public readonly int ValueLength => valueLength;

    /// <summary>Moves to the next token; false only after the root value, at the end of the input (white space aside).</summary>
    public bool Read()
    {
        var at = SkipWhiteSpace(json, position);
        switch (TokenType)
        {
            case JsonTokenType.None:
            case JsonTokenType.PropertyName:
                // The name's colon was read with it.
                ReadValue(at);
                return true;
            case JsonTokenType.StartObject:
                if (at < json.Length && json[at] == (byte)'}')
                {
                    End(at, JsonTokenType.EndObject);
                    return true;
                }

                ReadPropertyName(at);
                return true;
            case JsonTokenType.StartArray:
                if (at < json.Length && json[at] == (byte)']')
                {
                    End(at, JsonTokenType.EndArray);
                    return true;
                }

                ReadValue(at);
                return true;
            default:
                // After a value or a container's end.
                if (depth == 0)
                {
                    if (at == json.Length)
                    {
                        position = at;
                        return false;
                    }

                    throw Invalid(at);
                }

                if (at == json.Length)
                {
                    throw Invalid(at);
                }

                var inObject = ((objects >> (depth - 1)) & 1) != 0;
                var next = json[at];
                if (next == (byte)',')
                {
                    at = SkipWhiteSpace(json, at + 1);
                    if (inObject)
                    {
                        ReadPropertyName(at);
                    }
                    else
                    {
                        ReadValue(at);
                    }

                    return true;
                }

                if (next == (inObject ? (byte)'}' : (byte)']'))
                {
                    End(at, inObject ? JsonTokenType.EndObject : JsonTokenType.EndArray);
                    return true;
                }

                throw Invalid(at);
        }
    }

    /// <summary>
    /// As <see cref="Utf8JsonReader.Skip"/>: on a property name, reads its value; on the start of an object or array, reads
    /// to its end (checking everything in between); on anything else, does nothing.
    /// </summary>
    public void Skip()
    {
        if (TokenType == JsonTokenType.PropertyName)
        {
            // What Read does on a property name.
            ReadValue(SkipWhiteSpace(json, position));
        }

        if (TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            SkipContainer();
        }
    }

    /// <summary>
    /// Reads to the end of the object or array just started, checking every byte as <see cref="Read"/> does but without
    /// making tokens of them: most of a pod's bytes (managed fields, containers, volumes) are skipped here.
    /// </summary>
    private void SkipContainer()
    {
        var input = json;
        var marks = specials;
        var at = SkipWhiteSpace(input, position);
        var level = depth;
        var outer = depth - 1;
        var containers = objects;
        var inObject = ((containers >> (level - 1)) & 1) != 0;
        if ((uint)at < (uint)input.Length && input[at] == (inObject ? (byte)'}' : (byte)']'))
        {
            // Empty.
            End(at, inObject ? JsonTokenType.EndObject : JsonTokenType.EndArray);
            return;
        }

        while (true)
        {
            // A member of an object or a value of an array is next: an empty container was closed where it opened, a
            // comma was read before.
            if (inObject)
            {
                if ((uint)at >= (uint)input.Length || input[at] != (byte)'"')
                {
                    throw Invalid(at);
                }

                at = SkipWhiteSpace(input, ScanString(input, marks, at, out _) + 1);
                if ((uint)at >= (uint)input.Length || input[at] != (byte)':')
                {
                    throw Invalid(at);
                }

                at = SkipWhiteSpace(input, at + 1);
            }

            if ((uint)at >= (uint)input.Length)
            {
                throw Invalid(at);
            }

            var next = input[at];
            if (next == (byte)'"')
            {
                at = ScanString(input, marks, at, out _) + 1;
            }
            else if (next is (byte)'{' or (byte)'[')
            {
                if (level == MaxDepth)
                {
                    throw Invalid(at);
                }

                inObject = next == (byte)'{';
                containers = inObject ? containers | (1UL << level) : containers & ~(1UL << level);
                level++;
                at = SkipWhiteSpace(input, at + 1);
                if ((uint)at >= (uint)input.Length || input[at] != (inObject ? (byte)'}' : (byte)']'))
                {
                    continue;
                }

                // Empty: closed at once (never the container being skipped, which was not empty), and a value of its own.
                at++;
                level--;
                inObject = ((containers >> (level - 1)) & 1) != 0;
            }
            else
            {
                at = next switch
                {
                    (byte)'t' => Literal(input, at, "true"u8),
                    (byte)'f' => Literal(input, at, "false"u8),
                    (byte)'n' => Literal(input, at, "null"u8),
                    (byte)'-' or (>= (byte)'0' and <= (byte)'9') => ScanNumber(input, at),
                    _ => throw Invalid(at),
                };
            }

            // After a value: a comma, or the end of its container (and perhaps of the containers around it).
            while (true)
            {
                at = SkipWhiteSpace(input, at);
                if ((uint)at >= (uint)input.Length)
                {
                    throw Invalid(at);
                }

                next = input[at];
                if (next == (byte)',')
                {
                    at = SkipWhiteSpace(input, at + 1);
                    break;
                }

                if (next != (inObject ? (byte)'}' : (byte)']'))
                {
                    throw Invalid(at);
                }

                at++;
                level--;
                if (level == outer)
                {
                    TokenType = inObject ? JsonTokenType.EndObject : JsonTokenType.EndArray;
                    position = at;
                    depth = level;
                    return;
                }

                inObject = ((containers >> (level - 1)) & 1) != 0;
            }
        }
    }

    /// <summary>Whether the current string or property name, escapes undone, is <paramref name="utf8Text"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool ValueTextEquals(ReadOnlySpan<byte> utf8Text)
    {
        // The pod reader asks this of every member name against each name it knows: a name written without escapes, of
        // another length, is answered without a call.
        if (!valueEscaped && TokenType is JsonTokenType.String or JsonTokenType.PropertyName)
        {
            return valueLength == utf8Text.Length && json.Slice(valueStart, valueLength).SequenceEqual(utf8Text);
        }

        return EscapedTextEquals(utf8Text);
    }

    private readonly bool EscapedTextEquals(ReadOnlySpan<byte> utf8Text)
    {
        var raw = RawString();
        return valueEscaped ? EscapedEquals(raw, utf8Text) : raw.SequenceEqual(utf8Text);
    }

    /// <summary>Copies the current string or property name, escapes undone, into <paramref name="destination"/> as UTF-16; returns the characters written.</summary>
    public readonly int CopyString(Span<char> destination)
    {
        var raw = RawString();
        if (!valueEscaped)
        {
            return ToUtf16(raw, destination);
        }

        byte[]? rented = null;
        var bytes = raw.Length <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(raw.Length));
        try
        {
            return ToUtf16(bytes[..Unescape(raw, bytes)], destination);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private readonly ReadOnlySpan<byte> RawString() => TokenType is JsonTokenType.String or JsonTokenType.PropertyName
        ? json.Slice(valueStart, valueLength)
        : throw new InvalidOperationException($"The current token is {TokenType}, not a string.");

    private static int ToUtf16(ReadOnlySpan<byte> utf8, Span<char> destination) =>
        Utf8.ToUtf16(utf8, destination, out _, out var written, replaceInvalidSequences: false) == OperationStatus.Done
            ? written
            : throw new InvalidOperationException("The string does not fit the destination or is not valid UTF-8.");

    private void ReadValue(int at)
    {
        if (at >= json.Length)
        {
            throw Invalid(at);
        }

        switch (json[at])
        {
            case (byte)'{':
                Push(at, isObject: true);
                TokenType = JsonTokenType.StartObject;
                position = at + 1;
                return;
            case (byte)'[':
                Push(at, isObject: false);
                TokenType = JsonTokenType.StartArray;
                position = at + 1;
                return;
            case (byte)'"':
                position = ReadString(at) + 1;
                TokenType = JsonTokenType.String;
                return;
            case (byte)'t':
                ReadLiteral(at, "true"u8, JsonTokenType.True);
                return;
            case (byte)'f':
                ReadLiteral(at, "false"u8, JsonTokenType.False);
                return;
            case (byte)'n':
                ReadLiteral(at, "null"u8, JsonTokenType.Null);
                return;
            case (byte)'-':
            case >= (byte)'0' and <= (byte)'9':
                position = ScanNumber(json, at);
                TokenType = JsonTokenType.Number;
                return;
            default:
                throw Invalid(at);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReadPropertyName(int at)
    {
        if (at >= json.Length || json[at] != (byte)'"')
        {
            throw Invalid(at);
        }

        var colon = SkipWhiteSpace(json, ReadString(at) + 1);
        if (colon >= json.Length || json[colon] != (byte)':')
        {
            throw Invalid(colon);
        }

        position = colon + 1;
        TokenType = JsonTokenType.PropertyName;
    }

    private void ReadLiteral(int at, ReadOnlySpan<byte> literal, JsonTokenType type)
    {
        position = Literal(json, at, literal);
        TokenType = type;
    }

    /// <summary>Checks the literal at <paramref name="at"/>; returns where it ends.</summary>
    private static int Literal(ReadOnlySpan<byte> json, int at, ReadOnlySpan<byte> literal) =>
        // What follows (a comma, a bracket, white space) is checked next, as for any value.
        json[at..].StartsWith(literal) ? at + literal.Length : throw Invalid(at);

    private void Push(int at, bool isObject)
    {
        if (depth == MaxDepth)
        {
            throw Invalid(at);
        }

        objects = isObject ? objects | (1UL << depth) : objects & ~(1UL << depth);
        depth++;
    }

    private void End(int at, JsonTokenType type)
    {
        depth--;
        position = at + 1;
        TokenType = type;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipWhiteSpace(ReadOnlySpan<byte> json, int at)
    {
        // The API server writes compact JSON: test one byte before looping.
        if ((uint)at < (uint)json.Length && json[at] > (byte)' ')
        {
            return at;
        }

        while (at < json.Length && json[at] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
        {
            at++;
        }

        return at;
    }

    /// <summary>Reads the string whose opening quote is at <paramref name="quote"/> as the current value; returns where its closing quote is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ReadString(int quote)
    {
        var end = ScanString(json, specials, quote, out valueEscaped);
        valueStart = quote + 1;
        valueLength = end - valueStart;
        return end;
    }

    /// <summary>Checks the string whose opening quote is at <paramref name="quote"/>; returns where its closing quote is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ScanString(ReadOnlySpan<byte> json, ReadOnlySpan<ulong> specials, int quote, out bool escaped)
    {
        // Inlined for the usual string, which has no escape: its first special byte is its closing quote.
        var at = NextSpecial(specials, quote + 1, json.Length);
        if ((uint)at < (uint)json.Length && json[at] == (byte)'"')
        {
            escaped = false;
            return at;
        }

        return ScanEscapedString(json, specials, at, out escaped);
    }

    /// <summary>The rest of a string whose first special byte, at <paramref name="at"/>, is not its closing quote.</summary>
    private static int ScanEscapedString(ReadOnlySpan<byte> json, ReadOnlySpan<ulong> specials, int at, out bool escaped)
    {
        escaped = false;
        while (true)
        {
            if (at >= json.Length)
            {
                throw Invalid(at);
            }

            var special = json[at];
            if (special == (byte)'"')
            {
                return at;
            }

            if (special != (byte)'\\')
            {
                // A control character, which JSON allows only escaped.
                throw Invalid(at);
            }

            escaped = true;
            at = NextSpecial(specials, ScanEscape(json, at), json.Length);
        }
    }

    /// <summary>Checks the escape at <paramref name="backslash"/>; returns where what follows it starts.</summary>
    private static int ScanEscape(ReadOnlySpan<byte> json, int backslash)
    {
        if (backslash + 1 >= json.Length)
        {
            throw Invalid(backslash);
        }

        switch (json[backslash + 1])
        {
            case (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t':
                return backslash + 2;
            case (byte)'u':
                if (backslash + 6 > json.Length || HexValue(json.Slice(backslash + 2, 4)) is not (>= 0 and (< 0xD800 or > 0xDFFF)))
                {
                    // Not four hex digits, or half a surrogate pair: left to the full reader, which judges the pair.
                    throw Invalid(backslash);
                }

                return backslash + 6;
            default:
                throw Invalid(backslash);
        }
    }

    /// <summary>The value of four hex digits; -1 when they are not.</summary>
    private static int HexValue(ReadOnlySpan<byte> digits)
    {
        var value = 0;
        foreach (var digit in digits)
        {
            var nibble = digit switch
            {
                >= (byte)'0' and <= (byte)'9' => digit - '0',
                >= (byte)'a' and <= (byte)'f' => digit - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => digit - 'A' + 10,
                _ => -1,
            };
            if (nibble < 0)
            {
                return -1;
            }

            value = (value << 4) | nibble;
        }

        return value;
    }

    /// <summary>Where the next quote, backslash or control character is at or after <paramref name="at"/> (<paramref name="length"/> if none is).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NextSpecial(ReadOnlySpan<ulong> specials, int at, int length)
    {
        // Most strings here are names and short values, which end in the word they start in: one shift and one count, and a
        // branch that is nearly always taken the same way (a vector search per string cost a mispredicted branch on length).
        var word = at >> 6;
        if ((uint)word < (uint)specials.Length)
        {
            var bits = specials[word] >> (at & 63);
            if (bits != 0)
            {
                return at + BitOperations.TrailingZeroCount(bits);
            }

            while (++word < specials.Length)
            {
                if (specials[word] != 0)
                {
                    return (word << 6) + BitOperations.TrailingZeroCount(specials[word]);
                }
            }
        }

        return length;
    }

    /// <summary>
    /// Sets bit i % 64 of word i / 64 for every quote, backslash and control character at i, clears the others (bits past the
    /// end stay clear): one pass over the body, sixteen bytes at a time, instead of a search from every string's start.
    /// Returns whether every byte is ASCII, which the same pass finds for one OR a vector (a second pass to check the body's
    /// UTF-8 cost the pod webhook about 0.1 µs a request).
    /// </summary>
    private static bool MarkSpecials(ReadOnlySpan<byte> json, Span<ulong> specials)
    {
        var at = 0;
        var word = 0;
        var seen = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            ref var start = ref MemoryMarshal.GetReference(json);
            var ored = Vector128<byte>.Zero;
            for (; at + 64 <= json.Length; at += 64, word++)
            {
                specials[word] = Specials(ref start, at, ref ored) | (Specials(ref start, at + 16, ref ored) << 16)
                    | (Specials(ref start, at + 32, ref ored) << 32) | (Specials(ref start, at + 48, ref ored) << 48);
            }

            // A byte's high bit set is a byte that is not ASCII.
            seen = (int)ored.ExtractMostSignificantBits();
        }

        for (; at < json.Length; at += 64, word++)
        {
            var bits = 0UL;
            var end = Math.Min(at + 64, json.Length);
            for (var i = at; i < end; i++)
            {
                var b = json[i];
                seen |= b & 0x80;
                if (b is (byte)'"' or (byte)'\\' or < (byte)' ')
                {
                    bits |= 1UL << (i - at);
                }
            }

            specials[word] = bits;
        }

        return seen == 0;
    }

    /// <summary>The specials of the sixteen bytes at <paramref name="at"/>; ORs the bytes into <paramref name="ored"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Specials(ref byte start, int at, ref Vector128<byte> ored)
    {
        var bytes = Vector128.LoadUnsafe(ref start, (nuint)at);
        ored |= bytes;
        return (Vector128.Equals(bytes, Vector128.Create((byte)'"')) | Vector128.Equals(bytes, Vector128.Create((byte)'\\'))
            | Vector128.LessThan(bytes, Vector128.Create((byte)' '))).ExtractMostSignificantBits();
    }

    /// <summary>Reads the number at <paramref name="start"/> (RFC 8259's grammar); returns where it ends.</summary>
    private static int ScanNumber(ReadOnlySpan<byte> json, int start)
    {
        var at = start;
        if (json[at] == (byte)'-')
        {
            at++;
        }

        if (at < json.Length && json[at] == (byte)'0')
        {
            at++;
        }
        else
        {
            at = Digits(json, at);
        }

        if (at < json.Length && json[at] == (byte)'.')
        {
            at = Digits(json, at + 1);
        }

        if (at < json.Length && json[at] is (byte)'e' or (byte)'E')
        {
            at++;
            if (at < json.Length && json[at] is (byte)'+' or (byte)'-')
            {
                at++;
            }

            at = Digits(json, at);
        }

        return at;
    }

    /// <summary>One or more digits from <paramref name="at"/>; returns where they end.</summary>
    private static int Digits(ReadOnlySpan<byte> json, int at)
    {
        var start = at;
        while (at < json.Length && json[at] is >= (byte)'0' and <= (byte)'9')
        {
            at++;
        }

        return at > start ? at : throw Invalid(at);
    }

    /// <summary>Whether <paramref name="raw"/> (a string as written, with escapes) is <paramref name="text"/> once they are undone.</summary>
    private static bool EscapedEquals(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> text)
    {
        Span<byte> character = stackalloc byte[4];
        var matched = 0;
        for (var at = 0; at < raw.Length;)
        {
            var length = UnescapeOne(raw, ref at, character);
            if (!text[matched..].StartsWith(character[..length]))
            {
                return false;
            }

            matched += length;
        }

        return matched == text.Length;
    }

    private static int Unescape(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        var written = 0;
        for (var at = 0; at < raw.Length;)
        {
            written += UnescapeOne(raw, ref at, destination[written..]);
        }

        return written;
    }

    /// <summary>Writes the UTF-8 of the byte or escape at <paramref name="at"/> (checked when the string was read) and moves past it.</summary>
    private static int UnescapeOne(ReadOnlySpan<byte> raw, ref int at, Span<byte> destination)
    {
        var b = raw[at];
        if (b != (byte)'\\')
        {
            destination[0] = b;
            at++;
            return 1;
        }

        var kind = raw[at + 1];
        if (kind == (byte)'u')
        {
            // Never half a surrogate pair: ScanEscape refused those.
            var rune = new Rune(HexValue(raw.Slice(at + 2, 4)));
            at += 6;
            return rune.EncodeToUtf8(destination);
        }

        destination[0] = kind switch
        {
            (byte)'b' => (byte)'\b',
            (byte)'f' => (byte)'\f',
            (byte)'n' => (byte)'\n',
            (byte)'r' => (byte)'\r',
            (byte)'t' => (byte)'\t',
            _ => kind,
        };
        at += 2;
        return 1;
    }

    [DoesNotReturn]
    private static JsonException Invalid(int at) => throw new JsonException($"Not strict JSON at byte {at}.");
}
