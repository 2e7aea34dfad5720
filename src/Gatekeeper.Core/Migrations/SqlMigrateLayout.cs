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
                problems.Add(new SourceProblem(file.Name, "has no leading number (such as a timestamp), so its place in the migration order is unclear; prefix the name with one."));
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

    private static (string Up, int UpStartLine, string? Down, bool Transactional)? ReadSections(MigrationFileText file, List<SourceProblem> problems)
    {
        var markers = new List<(TextLine Line, string Direction, string[] Options)>();
        var failed = false;
        foreach (var line in file.Lines())
        {
            var text = file.LineText(line);
            if (Direction(text) is { } marker)
            {
                markers.Add((line, marker.Direction, marker.Options));
            }
            else if (markers.Count == 0 && !failed && !MigrationFileText.IsBlankOrComment(text))
            {
                problems.Add(new SourceProblem($"{file.Name}:{line.Number}", "has SQL before the first '-- +migrate Up' or '-- +migrate Down' marker, which sql-migrate would never run; move it into a section."));
                failed = true;
            }
        }

        int up = -1, down = -1;
        for (var i = 0; i < markers.Count; i++)
        {
            var (line, direction, _) = markers[i];
            ref var seen = ref direction == "Up" ? ref up : ref down;
            if (seen >= 0)
            {
                problems.Add(new SourceProblem($"{file.Name}:{line.Number}", $"has a second '-- +migrate {direction}' marker; Gatekeeper expects one {direction.ToLowerInvariant()} section per file."));
                failed = true;
            }

            seen = i;
        }

        if (up < 0)
        {
            if (!failed)
            {
                problems.Add(new SourceProblem(file.Name, "has no '-- +migrate Up' marker, so sql-migrate would not know what to apply."));
            }

            return null;
        }

        var transactional = true;
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

        if (failed)
        {
            return null;
        }

        // A section runs from the line after its marker to the next direction marker (or the end of the file).
        string Section(int index) => file.Slice(markers[index].Line.NextStart, index + 1 < markers.Count ? markers[index + 1].Line.Start : file.Text.Length);

        return (Section(up), markers[up].Line.Number + 1, down >= 0 ? Section(down) : null, transactional);
    }
}
