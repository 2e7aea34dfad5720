using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Gatekeeper.Core.Migrations;

/// <summary>One line of a migration file: offsets into <see cref="MigrationFileText.Text"/>, terminator excluded.</summary>
internal readonly record struct TextLine(int Number, int Start, int Length, int NextStart);

/// <summary>
/// A migration file decoded as strict UTF-8 with its BOM removed. Lines end at <c>\n</c> (a preceding
/// <c>\r</c> is left out of the line's text), matching how the SQL splitter counts lines.
/// </summary>
internal sealed class MigrationFileText
{
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private MigrationFileText(MigrationFile file, string text)
    {
        File = file;
        Text = text;
    }

    public MigrationFile File { get; }

    public string Name => File.Name;

    public string Text { get; }

    /// <summary>Decodes strictly: a file that is not UTF-8 would be applied as mojibake, so it is a problem, not a guess.</summary>
    public static MigrationFileText? Decode(MigrationFile file, List<SourceProblem> problems)
    {
        var bytes = file.Content.Span;
        var bomLength = bytes.StartsWith(Bom) ? Bom.Length : 0;
        var body = bytes[bomLength..];
        if (Utf8.IsValid(body))
        {
            // Straight into the string: a pooled buffer of a 50 MB file's size would stay in the pool for the process's life.
            return new MigrationFileText(file, Encoding.UTF8.GetString(body));
        }

        var chars = ArrayPool<char>.Shared.Rent(Math.Max(body.Length, 1));
        try
        {
            var status = Utf8.ToUtf16(body, chars, out var bytesRead, out var charsWritten, replaceInvalidSequences: false);
            if (status != OperationStatus.Done)
            {
                var offset = bomLength + bytesRead;
                var line = bytes[..offset].Count((byte)'\n') + 1;
                problems.Add(new SourceProblem(
                    file.Name,
                    $"is not valid UTF-8 at byte offset {offset} (line {line}); save the file as UTF-8."));
                return null;
            }

            return new MigrationFileText(file, new string(chars, 0, charsWritten));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    public IEnumerable<TextLine> Lines()
    {
        var number = 1;
        var start = 0;
        while (start <= Text.Length)
        {
            var newline = Text.IndexOf('\n', start);
            var end = newline < 0 ? Text.Length : newline;
            var length = end - start;
            if (length > 0 && Text[end - 1] == '\r')
            {
                length--;
            }

            yield return new TextLine(number, start, length, newline < 0 ? Text.Length + 1 : newline + 1);
            if (newline < 0)
            {
                yield break;
            }

            number++;
            start = newline + 1;
        }
    }

    public ReadOnlySpan<char> LineText(TextLine line) => Text.AsSpan(line.Start, line.Length);

    /// <summary>The text from the start of a line up to an offset (the start of a later line, or the end).</summary>
    public string Slice(int start, int end)
    {
        start = Math.Min(start, Text.Length);
        end = Math.Min(end, Text.Length);
        return end <= start ? string.Empty : Text[start..end];
    }

    public static bool IsBlankOrComment(ReadOnlySpan<char> line)
    {
        var trimmed = line.Trim();
        return trimmed.IsEmpty || trimmed.StartsWith("--", StringComparison.Ordinal);
    }
}
