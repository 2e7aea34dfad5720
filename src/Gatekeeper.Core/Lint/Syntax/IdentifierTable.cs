namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>
/// The unquoted identifiers read lately on this thread, lowered: the same table and column names come back statement
/// after statement, so each is one string rather than one per mention. Names the plan keeps (every column of every
/// table it creates) are then shared too, which leaves the garbage collector fewer objects to copy as they age.
/// </summary>
/// <remarks>
/// Direct-mapped and per thread (the linter cuts and parses on a second thread while it judges on the first), so a
/// lookup takes no lock; a name whose slot another name took is simply made again. At most 512 strings of up to 32
/// characters stay referenced per thread that ever linted.
/// </remarks>
internal static class IdentifierTable
{
    private const int Slots = 512;
    private const int MaxLength = 32;

    [ThreadStatic]
    private static string?[]? slots;

    /// <summary>
    /// The <paramref name="length"/> characters of <paramref name="source"/> from <paramref name="start"/>, lowered
    /// (invariant), as a string shared with earlier reads of the same name.
    /// </summary>
    public static string Lowered(string source, int start, int length)
    {
        if (length > MaxLength)
        {
            // One string, lowered as it is made (ToString then ToLowerInvariant made two for a name with capitals).
            return string.Create(length, (source, start), static (lowered, at) => at.source.AsSpan(at.start, lowered.Length).ToLowerInvariant(lowered));
        }

        // ASCII (nearly every name) is lowered and hashed in one pass; the span ToLowerInvariant of invariant-globalization
        // mode goes char by char through its full casing table, a few percent of linting a 10 MB file on its own.
        Span<char> buffer = stackalloc char[MaxLength];
        var lowered = buffer[..length];
        var text = source.AsSpan(start, length);
        var hash = FnvOffset;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c >= 0x80)
            {
                text.ToLowerInvariant(lowered);
                return Shared(lowered, Hash(lowered));
            }

            if ((uint)(c - 'A') <= 'Z' - 'A')
            {
                c = (char)(c | 0x20);
            }

            lowered[i] = c;
            hash = (hash ^ c) * FnvPrime;
        }

        return Shared(lowered, hash);
    }

    /// <summary><paramref name="name"/> as a string shared with earlier reads of the same name (a quoted name, kept as written).</summary>
    public static string Exact(ReadOnlySpan<char> name) => name.Length > MaxLength ? name.ToString() : Shared(name, Hash(name));

    private const uint FnvOffset = 2166136261;
    private const uint FnvPrime = 16777619;

    private static uint Hash(ReadOnlySpan<char> name)
    {
        var hash = FnvOffset;
        foreach (var c in name)
        {
            hash = (hash ^ c) * FnvPrime;
        }

        return hash;
    }

    private static string Shared(ReadOnlySpan<char> name, uint hash)
    {
        var table = slots ??= new string?[Slots];
        ref var slot = ref table[(int)(hash & (Slots - 1))];
        if (slot is { } known && known.AsSpan().SequenceEqual(name))
        {
            return known;
        }

        return slot = name.ToString();
    }
}
