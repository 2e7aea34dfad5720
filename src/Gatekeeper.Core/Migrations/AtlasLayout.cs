using System.Text.RegularExpressions;

namespace Gatekeeper.Core.Migrations;

/// <summary>
/// Atlas's layout: <c>&lt;version&gt;_&lt;name&gt;.sql</c> (the version is everything before the first <c>_</c>),
/// whole file applied, <c>-- atlas:txmode none</c> among the leading comment lines opting the file out of a
/// transaction, and an optional atlas.sum (verified by the reader).
/// </summary>
internal static partial class AtlasLayout
{
    [GeneratedRegex(@"^(?<version>[^_]+?)(?:_(?<description>.*))?\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex FileName();

    [GeneratedRegex(@"^(?<version>\d+)(?:_.*)?\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberedName();

    [GeneratedRegex(@"atlas:txmode(?:\s+(?<mode>\S*))?", RegexOptions.CultureInvariant)]
    private static partial Regex TxModeDirective();

    public static bool LooksLike(string name) => NumberedName().IsMatch(name);

    public static bool HasDirectives(MigrationFileText file) => TxMode(file) is not null;

    public static IEnumerable<Migration> Read(IReadOnlyList<MigrationFileText> files, List<SourceProblem> problems)
    {
        var migrations = new List<Migration>(files.Count);
        foreach (var file in files)
        {
            var name = FileName().Match(file.Name);
            var version = name.Success ? MigrationVersion.TryParse(name.Groups["version"].Value) : null;
            if (version is null)
            {
                problems.Add(new SourceProblem(file.Name, $"does not follow Atlas's naming (<version>_<name>.sql, the version being digits such as a timestamp); rename it {MigrationDirectoryReader.IgnoreHint}."));
                continue;
            }

            var transactional = true;
            if (TxMode(file) is { } directive)
            {
                switch (directive.Mode)
                {
                    case "none":
                        transactional = false;
                        break;
                    case "file" or "all":
                        break;
                    default:
                        problems.Add(new SourceProblem($"{file.Name}:{directive.Line}", $"has an unknown atlas:txmode '{directive.Mode}' (known: none, file, all)."));
                        continue;
                }
            }

            // Atlas writes the version text itself into atlas_schema_revisions.version.
            migrations.Add(MigrationDirectoryReader.Create(
                file, version.Text, version, name.Groups["description"].Value, MigrationKind.Versioned, file.Text, 1, null, transactional));
        }

        return migrations;
    }

    /// <summary>
    /// Atlas reads file directives from the comment lines at the top of the file. (Atlas also wants a blank line
    /// between them and the first statement; Gatekeeper honours the directive without it, since the intent is plain.)
    /// </summary>
    private static (string Mode, int Line)? TxMode(MigrationFileText file)
    {
        foreach (var line in file.Lines())
        {
            var text = file.LineText(line).Trim();
            if (!text.StartsWith("--", StringComparison.Ordinal) && !text.StartsWith('#'))
            {
                return null;
            }

            if (TxModeDirective().Match(text.ToString()) is { Success: true } match)
            {
                return (match.Groups["mode"].Value, line.Number);
            }
        }

        return null;
    }
}
