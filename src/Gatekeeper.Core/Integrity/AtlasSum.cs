using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Integrity;

/// <summary>One line of atlas.sum: a file and the running hash up to and including it (base64, without <c>h1:</c>).</summary>
public sealed record AtlasSumEntry(string File, string Hash);

/// <summary>
/// Atlas's directory integrity file. Atlas hashes the migration files in name order with one running SHA-256:
/// for each file it adds the name, then the content (unless the file's first line carries
/// <c>atlas:sum ignore</c>), and records the running digest for that file. The header <c>h1:</c> line is
/// SHA-256 over every recorded (name, digest) pair. Any edit, added, removed or renamed file changes the sums.
/// </summary>
/// <param name="Sum">The header sum, base64 without the <c>h1:</c> prefix.</param>
public sealed record AtlasSum(string Sum, IReadOnlyList<AtlasSumEntry> Entries)
{
    public const string FileName = "atlas.sum";

    private const string HashPrefix = "h1:";

    /// <summary>Computes what <c>atlas migrate hash</c> would write for these files (pass the ones Atlas hashes).</summary>
    public static AtlasSum Compute(IEnumerable<MigrationFile> files)
    {
        var ordered = files.OrderBy(f => f.Name, Utf8Ordinal.Instance).ToList();
        using var running = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var entries = new List<AtlasSumEntry>(ordered.Count);
        foreach (var file in ordered)
        {
            running.AppendData(Encoding.UTF8.GetBytes(file.Name));
            if (IgnoresSum(file.Content.Span))
            {
                continue;
            }

            running.AppendData(file.Content.Span);
            entries.Add(new AtlasSumEntry(file.Name, Convert.ToBase64String(running.GetCurrentHash())));
        }

        return new AtlasSum(HeaderOf(entries), entries);
    }

    /// <summary>Parses atlas.sum the way Atlas does; returns null and an error sentence when the format is invalid.</summary>
    public static AtlasSum? TryParse(ReadOnlySpan<byte> content, out string? error)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(content);
        }
        catch (DecoderFallbackException)
        {
            error = "is not valid UTF-8; run `atlas migrate hash` to rewrite it.";
            return null;
        }

        var lines = text.Split('\n');
        var count = lines.Length;
        if (count > 0 && lines[^1].Length == 0)
        {
            count--; // the final newline ends the last line, it does not start an empty one
        }

        if (count == 0 || !lines[0].TrimEnd('\r').StartsWith(HashPrefix, StringComparison.Ordinal))
        {
            error = "does not start with an h1: header line; run `atlas migrate hash` to rewrite it.";
            return null;
        }

        var entries = new List<AtlasSumEntry>(count - 1);
        for (var i = 1; i < count; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var at = line.IndexOf(HashPrefix, StringComparison.Ordinal);
            if (at < 0)
            {
                error = $"line {i + 1} is not '<file> h1:<hash>'; run `atlas migrate hash` to rewrite it.";
                return null;
            }

            entries.Add(new AtlasSumEntry(line[..at].Trim(), line[(at + HashPrefix.Length)..]));
        }

        error = null;
        return new AtlasSum(lines[0].TrimEnd('\r')[HashPrefix.Length..], entries);
    }

    /// <summary>
    /// Checks atlas.sum against the files it should cover; returns one problem per finding (none when it matches),
    /// each naming the file to look at.
    /// </summary>
    public static IReadOnlyList<SourceProblem> Verify(ReadOnlySpan<byte> sumContent, IEnumerable<MigrationFile> hashedFiles)
    {
        const string rehash = "run `atlas migrate hash` if the change is intended";
        if (TryParse(sumContent, out var error) is not { } recorded)
        {
            return [new SourceProblem(FileName, error!)];
        }

        if (!string.Equals(HeaderOf(recorded.Entries), recorded.Sum, StringComparison.Ordinal))
        {
            return [new SourceProblem(FileName, $"the h1: header does not match the file lines below it, so atlas.sum was edited by hand; {rehash}.")];
        }

        var actual = Compute(hashedFiles);
        var problems = new List<SourceProblem>();
        var recordedNames = recorded.Entries.Select(e => e.File).ToHashSet(StringComparer.Ordinal);
        var actualNames = actual.Entries.Select(e => e.File).ToHashSet(StringComparer.Ordinal);
        foreach (var added in actual.Entries.Where(e => !recordedNames.Contains(e.File)))
        {
            problems.Add(new SourceProblem(FileName, $"{added.File} is not listed; the file was added after atlas.sum was written — {rehash}."));
        }

        foreach (var removed in recorded.Entries.Where(e => !actualNames.Contains(e.File)))
        {
            problems.Add(new SourceProblem(FileName, $"lists {removed.File}, which is missing; the file was removed or renamed after atlas.sum was written — {rehash}."));
        }

        if (problems.Count > 0)
        {
            return problems;
        }

        // The hash is running, so every line from the first changed file on differs: that first file is the culprit.
        for (var i = 0; i < actual.Entries.Count; i++)
        {
            var expected = recorded.Entries[i];
            var found = actual.Entries[i];
            if (!string.Equals(expected.File, found.File, StringComparison.Ordinal))
            {
                return [new SourceProblem(FileName, $"lists {expected.File} where {found.File} belongs in name order; {rehash}.")];
            }

            if (!string.Equals(expected.Hash, found.Hash, StringComparison.Ordinal))
            {
                return [new SourceProblem(FileName, $"checksum of {found.File} does not match; the file changed after atlas.sum was written — {rehash}.")];
            }
        }

        return [];
    }

    /// <summary>The text <c>atlas migrate hash</c> writes.</summary>
    public string ToText()
    {
        var text = new StringBuilder().Append(HashPrefix).Append(Sum).Append('\n');
        foreach (var entry in Entries)
        {
            text.Append(entry.File).Append(' ').Append(HashPrefix).Append(entry.Hash).Append('\n');
        }

        return text.ToString();
    }

    private static string HeaderOf(IEnumerable<AtlasSumEntry> entries)
    {
        using var sum = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var entry in entries)
        {
            sum.AppendData(Encoding.UTF8.GetBytes(entry.File));
            sum.AppendData(Encoding.UTF8.GetBytes(entry.Hash));
        }

        return Convert.ToBase64String(sum.GetHashAndReset());
    }

    /// <summary>
    /// Atlas's <c>atlas:sum ignore</c> directive: its directive pattern is matched at the very start of the file, so
    /// it must sit on the first line (printable ASCII only), the mode being the rest of that line after the name.
    /// </summary>
    private static bool IgnoresSum(ReadOnlySpan<byte> content)
    {
        var printable = 0;
        while (printable < content.Length && content[printable] is >= 0x20 and <= 0x7E)
        {
            printable++;
        }

        var line = Encoding.ASCII.GetString(content[..printable]);

        // The pattern's leading [ -~]* is greedy, so the last "atlas:<word>" on the line is the directive.
        for (var at = line.LastIndexOf("atlas:", StringComparison.Ordinal); at >= 0; at = at == 0 ? -1 : line.LastIndexOf("atlas:", at - 1, StringComparison.Ordinal))
        {
            var nameStart = at + "atlas:".Length;
            var nameEnd = nameStart;
            while (nameEnd < line.Length && (char.IsAsciiLetterOrDigit(line[nameEnd]) || line[nameEnd] == '_'))
            {
                nameEnd++;
            }

            if (nameEnd == nameStart)
            {
                continue;
            }

            if (line[nameStart..nameEnd] != "sum")
            {
                return false;
            }

            var rest = line[nameEnd..];
            var mode = rest.TrimStart(' ');
            return mode.Length < rest.Length && mode == "ignore";
        }

        return false;
    }

    /// <summary>Go compares strings bytewise; UTF-16 ordinal order differs from UTF-8 byte order above the BMP.</summary>
    private sealed class Utf8Ordinal : IComparer<string>
    {
        public static readonly Utf8Ordinal Instance = new();

        public int Compare(string? x, string? y) =>
            Encoding.UTF8.GetBytes(x ?? string.Empty).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y ?? string.Empty));
    }
}
