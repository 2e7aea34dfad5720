using System.Text.RegularExpressions;

namespace Gatekeeper.Core.Migrations;

/// <summary>
/// Flyway's SQL naming: <c>V&lt;version&gt;__&lt;description&gt;.sql</c> (version parts separated by <c>_</c> or
/// <c>.</c>), <c>U&lt;version&gt;__…</c> undo scripts (kept as the down section), <c>R__&lt;description&gt;.sql</c>
/// repeatables, and per-script <c>&lt;file&gt;.conf</c> with <c>executeInTransaction=false</c>.
/// </summary>
internal static partial class FlywayLayout
{
    [GeneratedRegex(@"^(?<prefix>[VU])(?<version>\d+(?:[._]\d+)*)__(?<description>.*)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionedName();

    [GeneratedRegex(@"^R__(?<description>.*)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex RepeatableName();

    [GeneratedRegex(@"^[VU]\d+(?:[._]\d+)*_[^_]", RegexOptions.CultureInvariant)]
    private static partial Regex SingleUnderscore();

    /// <summary>A name only Flyway gives (a leading V alone is not enough: <c>V0001.init.up.sql</c> is no Flyway name).</summary>
    public static bool HasVersionedOrRepeatableName(string name) => VersionedName().IsMatch(name) || RepeatableName().IsMatch(name);

    public static IEnumerable<Migration> Read(IReadOnlyList<MigrationFileText> files, IReadOnlyList<MigrationFile> allFiles, List<SourceProblem> problems)
    {
        var migrations = new List<Migration>();
        var undo = new List<(MigrationFileText File, MigrationVersion Version)>();
        foreach (var file in files)
        {
            if (VersionedName().Match(file.Name) is { Success: true } versioned)
            {
                // Flyway stores the version with dots whatever separator the file name used: V1_10 → "1.10".
                var version = MigrationVersion.Parse(versioned.Groups["version"].Value.Replace('_', '.'));
                if (versioned.Groups["prefix"].Value == "U")
                {
                    undo.Add((file, version));
                    continue;
                }

                migrations.Add(WithFlywaysTransaction(file, allFiles, problems, transactional => MigrationDirectoryReader.Create(
                    file, version.Text, version, Describe(versioned), MigrationKind.Versioned, file.Text, 1, null, transactional)));
            }
            else if (RepeatableName().Match(file.Name) is { Success: true } repeatable)
            {
                // Flyway keys a repeatable on its description (version is NULL in flyway_schema_history).
                var description = Describe(repeatable);
                migrations.Add(WithFlywaysTransaction(file, allFiles, problems, transactional => MigrationDirectoryReader.Create(
                    file, description, MigrationVersion.Parse("0"), description, MigrationKind.Repeatable, file.Text, 1, null, transactional)));
            }
            else
            {
                // Flyway skips a file that does not match its naming (unless validateMigrationNaming is on).
                // Gatekeeper refuses instead: a migration that silently never runs is how a schema and its
                // application drift apart unnoticed, and the fix (rename or move the file) is one command.
                var why = SingleUnderscore().IsMatch(file.Name)
                    ? "has a single underscore after the version where Flyway needs two"
                    : "does not follow Flyway's naming";
                problems.Add(new SourceProblem(
                    file.Name,
                    $"{why} (V<version>__<description>.sql, U<version>__…, or R__<description>.sql); Flyway would skip it silently, so rename it, move it out of the migration directory, {MigrationDirectoryReader.IgnoreHint}."));
            }
        }

        foreach (var (file, version) in undo)
        {
            var index = migrations.FindIndex(m => m.Kind == MigrationKind.Versioned && m.Version.Equals(version));
            if (index < 0)
            {
                problems.Add(new SourceProblem(file.Name, $"is an undo script for version {version} but there is no V{version}__ migration."));
                continue;
            }

            migrations[index] = migrations[index] with { DownSql = file.Text };
        }

        return migrations;
    }

    /// <summary>
    /// The script's transaction as Flyway decides it: its <c>.conf</c> file's <c>executeInTransaction</c> when it says,
    /// otherwise Flyway's own detection of statements that cannot run in a transaction (<see cref="FlywayTransactions"/>).
    /// </summary>
    private static Migration WithFlywaysTransaction(MigrationFileText file, IReadOnlyList<MigrationFile> allFiles, List<SourceProblem> problems, Func<bool, Migration> create)
    {
        if (ConfiguredTransaction(file.Name, allFiles, problems) is { } configured)
        {
            return create(configured);
        }

        var (transactional, from) = FlywayTransactions.Decide(file.Text, file.Name);
        return create(transactional) with { TransactionalFromPostgres = from };
    }

    private static string Describe(Match match) => match.Groups["description"].Value.Replace('_', ' ');

    /// <summary>Reads Flyway's per-script configuration file (<c>V1__x.sql.conf</c>): its <c>executeInTransaction</c>, null when it does not say.</summary>
    private static bool? ConfiguredTransaction(string name, IReadOnlyList<MigrationFile> allFiles, List<SourceProblem> problems)
    {
        var conf = allFiles.FirstOrDefault(f => string.Equals(f.Name, name + ".conf", StringComparison.Ordinal));
        if (conf is null)
        {
            return null;
        }

        var text = MigrationFileText.Decode(conf, problems);
        if (text is null)
        {
            return null;
        }

        foreach (var line in text.Lines())
        {
            var content = text.LineText(line).Trim();
            var equals = content.IndexOf('=');
            if (equals < 0 || content.StartsWith('#'))
            {
                continue;
            }

            if (content[..equals].Trim().Equals("executeInTransaction", StringComparison.Ordinal))
            {
                var value = content[(equals + 1)..].Trim();
                if (value.Equals("false", StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }

                if (value.Equals("true", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }

                problems.Add(new SourceProblem($"{conf.Name}:{line.Number}", $"executeInTransaction must be true or false, not '{value.ToString()}'."));
            }
        }

        return null;
    }
}
