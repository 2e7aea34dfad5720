using System.Text.RegularExpressions;

namespace Gatekeeper.Core.Migrations;

/// <summary>
/// sql-migrate's layout: any <c>.sql</c> file with a <c>-- +migrate Up</c> section (option <c>notransaction</c>)
/// and an optional <c>-- +migrate Down</c> section; <c>StatementBegin</c>/<c>StatementEnd</c> stay in the SQL
/// for the splitter. The migration id is the whole file name.
/// </summary>
internal static partial class SqlMigrateLayout
{
    private const string CommandPrefix = "-- +migrate ";

    [GeneratedRegex(@"^(?<number>\d+)[-_.]?(?<description>.*)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex FileName();

    public static bool HasMarkers(MigrationFileText file) => file.Lines().Any(line => Direction(file.LineText(line)) is not null);

    public static IEnumerable<Migration> Read(IReadOnlyList<MigrationFileText> files, List<SourceProblem> problems)
    {
        var migrations = new List<Migration>(files.Count);
        foreach (var file in files)
        {
            var name = FileName().Match(file.Name);
            if (!name.Success)
            {
                // sql-migrate sorts names without a leading number after all numbered ones; Gatekeeper versions
                // are numeric, and such a file is almost always a mistake, so it is reported rather than guessed.
                problems.Add(new SourceProblem(file.Name, $"has no leading number (such as a timestamp), so its place in the migration order is unclear; prefix the name with one {MigrationDirectoryReader.IgnoreHint}."));
                continue;
            }

            if (ReadSections(file, problems) is not { } sections)
            {
                continue;
            }

            // sql-migrate orders by the numeric prefix and then by the whole name, and keys its history
            // (gorp_migrations.id) on the whole name, so files sharing a timestamp are distinct migrations.
            migrations.Add(MigrationDirectoryReader.Create(
                file, file.Name, MigrationVersion.Parse(name.Groups["number"].Value, file.Name), name.Groups["description"].Value,
                MigrationKind.Versioned, sections.Up, sections.UpStartLine, sections.Down, sections.Transactional));
        }

        return migrations;
    }

    /// <summary>Returns ("Up" or "Down", options) for a direction marker line, null otherwise.</summary>
    private static (string Direction, string[] Options)? Direction(ReadOnlySpan<char> line)
    {
        if (!line.StartsWith(CommandPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var fields = line[CommandPrefix.Length..].ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 0 && fields[0] is "Up" or "Down" ? (fields[0], fields[1..]) : null;
    }

    /// <summary>
    /// Reads a file as sql-migrate's <c>sqlparse.ParseMigration</c> does: every line before the first direction marker
    /// is skipped (a licence header, in line or block comments); each <c>-- +migrate Up</c> or <c>Down</c> marker
    /// switches the direction, so a file may hold several sections of each, and the Up sections are applied in file
    /// order as one migration; <c>notransaction</c> on any Up marker takes the whole file out of a transaction.
    /// Where Gatekeeper is stricter, it says so: SQL (not comments) before the first marker, which sql-migrate skips
    /// silently, and unknown options, which it ignores.
    /// </summary>
    private static (string Up, int UpStartLine, string? Down, bool Transactional)? ReadSections(MigrationFileText file, List<SourceProblem> problems)
    {
        var markers = new List<(TextLine Line, string Direction, string[] Options)>();
        foreach (var line in file.Lines())
        {
            if (Direction(file.LineText(line)) is { } marker)
            {
                markers.Add((line, marker.Direction, marker.Options));
            }
        }

        var failed = false;
        var preambleEnd = markers.Count > 0 ? markers[0].Line.Start : file.Text.Length;
        if (FirstSqlOutsideComments(file.Text, preambleEnd) is { } sqlLine)
        {
            problems.Add(new SourceProblem($"{file.Name}:{sqlLine}",
                "has SQL before the first '-- +migrate Up' or '-- +migrate Down' marker, which sql-migrate skips without a word; move it into a section, or delete it if it was never meant to run."));
            failed = true;
        }

        var ups = Enumerable.Range(0, markers.Count).Where(i => markers[i].Direction == "Up").ToList();
        if (ups.Count == 0)
        {
            if (!failed)
            {
                problems.Add(new SourceProblem(file.Name, "has no '-- +migrate Up' marker, so sql-migrate would not know what to apply."));
            }

            return null;
        }

        var transactional = true;
        foreach (var up in ups)
        {
            foreach (var option in markers[up].Options)
            {
                if (option == "notransaction")
                {
                    transactional = false;
                }
                else
                {
                    problems.Add(new SourceProblem($"{file.Name}:{markers[up].Line.Number}", $"has the unknown sql-migrate option '{option}' (known: notransaction)."));
                    failed = true;
                }
            }
        }

        // sql-migrate refuses to switch direction with a statement still open (no ';' at the end of its last line):
        // joined to the next section, it would become another statement.
        for (var i = 0; i + 1 < markers.Count; i++)
        {
            if (UnterminatedLineBefore(file, markers[i].Line, markers[i + 1].Line) is { } open)
            {
                var what = open.InBlock ? "opens a '-- +migrate StatementBegin' block that has no StatementEnd" : "ends without a semicolon";
                problems.Add(new SourceProblem($"{file.Name}:{open.Line}",
                    $"{what} before the '-- +migrate {markers[i + 1].Direction}' marker at line {markers[i + 1].Line.Number}; sql-migrate refuses a section whose last statement is not ended, so end it with ';' (or StatementEnd)."));
                failed = true;
            }
        }

        if (failed)
        {
            return null;
        }

        var downs = Enumerable.Range(0, markers.Count).Where(i => markers[i].Direction == "Down").ToList();
        return (Join(file, markers, ups), markers[ups[0]].Line.Number + 1, downs.Count > 0 ? Join(file, markers, downs) : null, transactional);
    }

    /// <summary>
    /// The sections of one direction in file order, as one text whose lines keep their numbers: what lies between two
    /// sections (markers, the other direction's sections) becomes empty lines, so locations point into the real file.
    /// </summary>
    private static string Join(MigrationFileText file, List<(TextLine Line, string Direction, string[] Options)> markers, List<int> sections)
    {
        string Section(int index) => file.Slice(markers[index].Line.NextStart, index + 1 < markers.Count ? markers[index + 1].Line.Start : file.Text.Length);

        if (sections.Count == 1)
        {
            return Section(sections[0]);
        }

        var text = new System.Text.StringBuilder();
        for (var k = 0; k < sections.Count; k++)
        {
            if (k > 0)
            {
                // From the marker that ended the previous section through this section's own marker line.
                var previousEnd = markers[sections[k - 1] + 1].Line.Number;
                text.Append('\n', markers[sections[k]].Line.Number - previousEnd + 1);
            }

            var section = Section(sections[k]);
            text.Append(section);
            if (k + 1 < sections.Count && section.Length > 0 && section[^1] != '\n')
            {
                text.Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// sql-migrate's end-of-statement test on the last line of a section that has SQL: the last word before a
    /// <c>--</c> comment ends with ';', or the section ends with <c>StatementEnd</c>. Returns the open line's number.
    /// </summary>
    private static (int Line, bool InBlock)? UnterminatedLineBefore(MigrationFileText file, TextLine marker, TextLine next)
    {
        int? last = null;
        var blockStart = 0;
        var lastText = string.Empty;
        var inBlock = false;
        foreach (var line in file.Lines())
        {
            if (line.Number <= marker.Number)
            {
                continue;
            }

            if (line.Number >= next.Number)
            {
                break;
            }

            var text = file.LineText(line).ToString();
            if (text.StartsWith(CommandPrefix, StringComparison.Ordinal))
            {
                var command = text[CommandPrefix.Length..].Trim();
                if (command.StartsWith("StatementBegin", StringComparison.Ordinal))
                {
                    inBlock = true;
                    blockStart = line.Number;
                }
                else if (command.StartsWith("StatementEnd", StringComparison.Ordinal))
                {
                    // StatementEnd ends the statement, whatever its last line looks like.
                    inBlock = false;
                    last = null;
                }

                continue;
            }

            // sql-migrate drops "-- " comment lines, and blank lines add nothing to the statement.
            if (text.StartsWith("-- ", StringComparison.Ordinal) || string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            last = line.Number;
            lastText = text;
        }

        if (inBlock)
        {
            return (blockStart, true);
        }

        if (last is null)
        {
            return null;
        }

        var previous = string.Empty;
        foreach (var word in lastText.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (word.StartsWith("--", StringComparison.Ordinal))
            {
                break;
            }

            previous = word;
        }

        return previous.EndsWith(';') ? null : (last.Value, false);
    }

    /// <summary>The line of the first text before <paramref name="end"/> that is not whitespace or a comment (<c>--</c>, <c>#</c>, <c>/* … */</c>).</summary>
    private static int? FirstSqlOutsideComments(string text, int end)
    {
        var line = 1;
        for (var i = 0; i < end; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
            }
            else if (c == '-' && i + 1 < end && text[i + 1] == '-' || c == '#')
            {
                while (i + 1 < end && text[i + 1] != '\n')
                {
                    i++;
                }
            }
            else if (c == '/' && i + 1 < end && text[i + 1] == '*')
            {
                var close = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                var stop = close < 0 || close + 2 > end ? end : close + 2;
                line += text.AsSpan(i, stop - i).Count('\n');
                i = stop - 1;
            }
            else if (!char.IsWhiteSpace(c))
            {
                return line;
            }
        }

        return null;
    }
}
