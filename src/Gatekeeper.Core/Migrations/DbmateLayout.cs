using System.Text.RegularExpressions;

namespace Gatekeeper.Core.Migrations;

/// <summary>
/// dbmate's layout: <c>&lt;version&gt;_&lt;name&gt;.sql</c>, one file per migration with a <c>-- migrate:up</c>
/// section (options on the marker line, e.g. <c>transaction:false</c>) and an optional <c>-- migrate:down</c> after it.
/// </summary>
internal static partial class DbmateLayout
{
    [GeneratedRegex(@"^--\s*migrate:(?<direction>up|down)(?:\s+(?<options>.*))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Marker();

    [GeneratedRegex(@"^(?<version>\d+)_?(?<description>.*)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex FileName();

    public static bool HasMarkers(MigrationFileText file) =>
        file.Lines().Any(line => file.LineText(line).StartsWith("--", StringComparison.Ordinal) && Marker().IsMatch(file.LineText(line).TrimEnd().ToString()));

    public static IEnumerable<Migration> Read(IReadOnlyList<MigrationFileText> files, List<SourceProblem> problems)
    {
        var migrations = new List<Migration>(files.Count);
        foreach (var file in files)
        {
            var name = FileName().Match(file.Name);
            if (!name.Success)
            {
                problems.Add(new SourceProblem(file.Name, $"does not follow dbmate's naming (<version>_<name>.sql, the version being digits); rename it {MigrationDirectoryReader.IgnoreHint}."));
                continue;
            }

            if (ReadSections(file, problems) is not { } sections)
            {
                continue;
            }

            var version = name.Groups["version"].Value;
            migrations.Add(MigrationDirectoryReader.Create(
                file, version, MigrationVersion.Parse(version), name.Groups["description"].Value, MigrationKind.Versioned,
                sections.Up, sections.UpStartLine, sections.Down, sections.Transactional));
        }

        return migrations;
    }

    private static (string Up, int UpStartLine, string? Down, bool Transactional)? ReadSections(MigrationFileText file, List<SourceProblem> problems)
    {
        TextLine? up = null;
        TextLine? down = null;
        var transactional = true;
        var failed = false;
        foreach (var line in file.Lines())
        {
            var text = file.LineText(line).TrimEnd();
            // The marker starts the line with "--": other lines need neither a string of their own nor the regex.
            var marker = text.StartsWith("--", StringComparison.Ordinal) ? Marker().Match(text.ToString()) : Match.Empty;
            if (!marker.Success)
            {
                if (up is null && down is null && !failed && !MigrationFileText.IsBlankOrComment(text))
                {
                    // dbmate refuses statements outside the up/down blocks; they would never run.
                    problems.Add(new SourceProblem($"{file.Name}:{line.Number}", "has SQL before the '-- migrate:up' marker, which dbmate would never run; move it below the marker."));
                    failed = true;
                }

                continue;
            }

            if (marker.Groups["direction"].Value == "up")
            {
                if (up is not null || down is not null)
                {
                    problems.Add(new SourceProblem($"{file.Name}:{line.Number}", down is not null
                        ? "has '-- migrate:up' after '-- migrate:down'; dbmate needs the up section first."
                        : "has a second '-- migrate:up' marker; a dbmate file has one up section."));
                    failed = true;
                    continue;
                }

                up = line;
                foreach (var option in marker.Groups["options"].Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                {
                    switch (option)
                    {
                        case "transaction:false":
                            transactional = false;
                            break;
                        case "transaction:true":
                            break;
                        default:
                            problems.Add(new SourceProblem($"{file.Name}:{line.Number}", $"has the unknown dbmate option '{option}' (known: transaction:false, transaction:true)."));
                            failed = true;
                            break;
                    }
                }
            }
            else if (up is null)
            {
                problems.Add(new SourceProblem($"{file.Name}:{line.Number}", "has '-- migrate:down' before '-- migrate:up'; dbmate needs the up section first."));
                failed = true;
            }
            else if (down is not null)
            {
                problems.Add(new SourceProblem($"{file.Name}:{line.Number}", "has a second '-- migrate:down' marker; a dbmate file has one down section."));
                failed = true;
            }
            else
            {
                down = line;
            }
        }

        if (up is null)
        {
            if (!failed)
            {
                problems.Add(new SourceProblem(file.Name, "has no '-- migrate:up' marker, so dbmate would not know what to apply."));
            }

            return null;
        }

        if (failed)
        {
            return null;
        }

        var upEnd = down?.Start ?? file.Text.Length;
        var downSql = down is { } d ? file.Slice(d.NextStart, file.Text.Length) : null;
        return (file.Slice(up.Value.NextStart, upEnd), up.Value.Number + 1, downSql, transactional);
    }
}
