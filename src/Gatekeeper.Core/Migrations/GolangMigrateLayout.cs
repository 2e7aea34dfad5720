using System.Numerics;
using System.Text.RegularExpressions;

namespace Gatekeeper.Core.Migrations;

/// <summary>golang-migrate's naming: <c>&lt;version&gt;_&lt;title&gt;.up.sql</c> with an optional matching <c>.down.sql</c>.</summary>
internal static partial class GolangMigrateLayout
{
    [GeneratedRegex(@"^(?<version>\d+)_(?<description>.*)\.(?<direction>up|down)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex FileName();

    public static bool LooksLike(string name) => FileName().IsMatch(name);

    public static IEnumerable<Migration> Read(IReadOnlyList<MigrationFileText> files, List<SourceProblem> problems)
    {
        var ups = new List<(MigrationFileText File, string Version, string Description)>();
        var downs = new Dictionary<BigInteger, MigrationFileText>();
        foreach (var file in files)
        {
            var match = FileName().Match(file.Name);
            if (!match.Success)
            {
                problems.Add(new SourceProblem(file.Name, $"does not follow golang-migrate's naming (<version>_<title>.up.sql or .down.sql); golang-migrate would skip it, so rename it {MigrationDirectoryReader.IgnoreHint}."));
                continue;
            }

            var version = match.Groups["version"].Value;
            if (match.Groups["direction"].Value == "up")
            {
                ups.Add((file, version, match.Groups["description"].Value));
                continue;
            }

            var number = BigInteger.Parse(version, System.Globalization.CultureInfo.InvariantCulture);
            if (downs.TryGetValue(number, out var other))
            {
                problems.Add(new SourceProblem(null, $"{other.Name} and {file.Name} are both down files for version {number}; versions must be unique, so renumber one of them."));
                continue;
            }

            downs[number] = file;
        }

        var upVersions = new HashSet<BigInteger>();
        var migrations = new List<Migration>(ups.Count);
        foreach (var (file, text, description) in ups)
        {
            // golang-migrate keeps the version as a number (schema_migrations.version bigint), so "0001" is stored as 1.
            var number = BigInteger.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            upVersions.Add(number);
            downs.TryGetValue(number, out var down);
            migrations.Add(MigrationDirectoryReader.Create(
                file, number.ToString(System.Globalization.CultureInfo.InvariantCulture), MigrationVersion.Parse(text), description,
                MigrationKind.Versioned, file.Text, 1, down?.Text, transactional: !FlywayTransactions.IsSingleStatementPostgresRefusesInTransaction(file.Text, file.Name)));
        }

        foreach (var (number, down) in downs)
        {
            if (!upVersions.Contains(number))
            {
                problems.Add(new SourceProblem(down.Name, $"is a down file without an up file for version {number}; add the .up.sql file or remove this one."));
            }
        }

        return migrations;
    }
}
