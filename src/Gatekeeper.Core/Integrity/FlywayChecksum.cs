using System.Text;

namespace Gatekeeper.Core.Integrity;

/// <summary>
/// The checksum Flyway stores in <c>flyway_schema_history.checksum</c> for a SQL migration, so an adopted
/// Flyway history can be checked for drift: CRC-32 (IEEE) over the UTF-8 bytes of each line with its line
/// terminator (<c>\n</c>, <c>\r\n</c> or <c>\r</c>) left out and a BOM removed from the first line, returned
/// as Java's signed <c>int</c>. Line endings therefore do not change it; any other byte does.
/// </summary>
public static class FlywayChecksum
{
    public static int Compute(ReadOnlySpan<byte> content)
    {
        // Flyway decodes with a replacing UTF-8 reader and re-encodes each line, so invalid bytes count as U+FFFD.
        var text = Encoding.UTF8.GetString(content);
        var body = text.StartsWith('\uFEFF') ? text.AsSpan(1) : text.AsSpan();
        var crc = Crc32.Initial;
        Span<byte> buffer = stackalloc byte[1024];
        while (!body.IsEmpty)
        {
            var terminator = body.IndexOfAny('\r', '\n');
            var line = terminator < 0 ? body : body[..terminator];
            while (!line.IsEmpty)
            {
                // Chunk on whole characters; a surrogate pair is never split (both halves or none fit).
                var take = Math.Min(line.Length, buffer.Length / 3);
                if (take < line.Length && char.IsHighSurrogate(line[take - 1]))
                {
                    take--;
                }

                var written = Encoding.UTF8.GetBytes(line[..take], buffer);
                crc = Crc32.Append(crc, buffer[..written]);
                line = line[take..];
            }

            body = terminator < 0 ? [] : body[(terminator + 1)..];
        }

        return unchecked((int)Crc32.Finish(crc));
    }
}
