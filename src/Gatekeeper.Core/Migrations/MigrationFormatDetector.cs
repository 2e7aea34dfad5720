namespace Gatekeeper.Core.Migrations;

/// <summary>
/// Recognises a directory's tool from each file: markers inside a file are the strongest evidence (sql-migrate's
/// <c>-- +migrate</c>, dbmate's <c>-- migrate:up</c>), then names (<c>.up.sql</c>/<c>.down.sql</c> pairs are
/// golang-migrate even when Atlas hashed them; <c>V…__</c>/<c>R__</c> are Flyway; numbered names are Atlas).
/// Every file must point to the same tool.
/// </summary>
internal static class MigrationFormatDetector
{
    private const int NamesListed = 5;

    public static MigrationFormat? Detect(IReadOnlyList<MigrationFileText> files, List<SourceProblem> problems)
    {
        var byFormat = new SortedDictionary<MigrationFormat, List<string>>();
        var unmatched = new List<string>();
        foreach (var file in files)
        {
            if (Classify(file) is { } format)
            {
                if (!byFormat.TryGetValue(format, out var names))
                {
                    byFormat[format] = names = [];
                }

                names.Add(file.Name);
            }
            else
            {
                unmatched.Add(file.Name);
            }
        }

        if (unmatched.Count > 0)
        {
            problems.Add(new SourceProblem(null, $"{List(unmatched)} match{(unmatched.Count == 1 ? "es" : string.Empty)} no known migration format (Flyway, golang-migrate, dbmate, sql-migrate, Atlas); rename or remove {(unmatched.Count == 1 ? "it" : "them")}, or pass the format explicitly."));
        }

        if (byFormat.Count > 1)
        {
            var parts = byFormat.Select(pair => $"{MigrationFormatNames.Name(pair.Key)}: {List(pair.Value)}");
            problems.Add(new SourceProblem(null, $"the directory mixes migration formats ({string.Join("; ", parts)}); keep one tool's files per directory."));
        }

        if (problems.Count > 0 || byFormat.Count == 0)
        {
            return null;
        }

        return byFormat.Keys.Single();
    }

    private static MigrationFormat? Classify(MigrationFileText file)
    {
        if (SqlMigrateLayout.HasMarkers(file))
        {
            return MigrationFormat.SqlMigrate;
        }

        if (DbmateLayout.HasMarkers(file))
        {
            return MigrationFormat.Dbmate;
        }

        if (GolangMigrateLayout.LooksLike(file.Name))
        {
            return MigrationFormat.GolangMigrate;
        }

        if (FlywayLayout.LooksLike(file.Name))
        {
            return MigrationFormat.Flyway;
        }

        if (AtlasLayout.LooksLike(file.Name) || AtlasLayout.HasDirectives(file))
        {
            return MigrationFormat.Atlas;
        }

        return null;
    }

    private static string List(List<string> names) =>
        names.Count <= NamesListed
            ? string.Join(", ", names)
            : $"{string.Join(", ", names.Take(NamesListed))} and {names.Count - NamesListed} more";
}
