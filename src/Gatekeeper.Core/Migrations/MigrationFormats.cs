using Gatekeeper.Core.History;

namespace Gatekeeper.Core.Migrations;

/// <summary>
/// One migration tool's directories as Gatekeeper reads them: the name users write (<c>--format</c>, the
/// <c>gatekeeper.dev/format</c> annotation), how a file is recognised as the tool's, how a directory is read, and
/// the history table the tool keeps. Every place that differs by format asks its entry in <see cref="MigrationFormats"/>.
/// </summary>
public sealed class MigrationFormatDefinition
{
    internal delegate IEnumerable<Migration> Reader(IReadOnlyList<MigrationFileText> files, IReadOnlyList<MigrationFile> allFiles, List<SourceProblem> problems);

    internal MigrationFormatDefinition(
        MigrationFormat format, string name, string displayName, string expects, HistoryTableKind historyKind, string historyTable,
        int detectionRank, Func<MigrationFileText, bool> recognises, Reader read, Func<string, bool>? atlasSumCovers)
    {
        Format = format;
        Name = name;
        DisplayName = displayName;
        Expects = expects;
        HistoryKind = historyKind;
        HistoryTable = historyTable;
        DetectionRank = detectionRank;
        Recognises = recognises;
        Read = read;
        AtlasSumCovers = atlasSumCovers;
    }

    public MigrationFormat Format { get; }

    /// <summary>What users write: <c>flyway</c>, <c>golang-migrate</c> …</summary>
    public string Name { get; }

    /// <summary>The tool's own spelling, for messages.</summary>
    public string DisplayName { get; }

    /// <summary>What a file of this format looks like, for the message about a directory that matches no format.</summary>
    public string Expects { get; }

    /// <summary>The layout of the tool's own history table, which Gatekeeper adopts when pointed at it.</summary>
    public HistoryTableKind HistoryKind { get; }

    /// <summary>The tool's own history table name (without schema).</summary>
    public string HistoryTable { get; }

    /// <summary>Detection asks lower ranks first: markers inside a file are stronger evidence than a name.</summary>
    internal int DetectionRank { get; }

    /// <summary>True when the file is unmistakably this tool's: a marker inside it, or a name only this tool gives.</summary>
    internal Func<MigrationFileText, bool> Recognises { get; }

    internal Reader Read { get; }

    /// <summary>Which files an atlas.sum in a directory of this format hashes; null when such a directory has no atlas.sum.</summary>
    internal Func<string, bool>? AtlasSumCovers { get; }

    public override string ToString() => Name;
}

/// <summary>The registry of migration formats: the one list every format-dependent choice reads.</summary>
public static class MigrationFormats
{
    /// <summary>The name that asks Gatekeeper to detect the format.</summary>
    public const string Auto = "auto";

    /// <summary>Every format, in the order users see them listed.</summary>
    public static IReadOnlyList<MigrationFormatDefinition> All { get; } =
    [
        new(MigrationFormat.Flyway, "flyway", "Flyway",
            "V<version>__<description>.sql (two underscores; R__<description>.sql for repeatables)",
            HistoryTableKind.Flyway, "flyway_schema_history", 3, file => FlywayLayout.HasVersionedOrRepeatableName(file.Name), FlywayLayout.Read, null),
        new(MigrationFormat.GolangMigrate, "golang-migrate", "golang-migrate",
            "<version>_<title>.up.sql with an optional <version>_<title>.down.sql",
            HistoryTableKind.GolangMigrate, "schema_migrations", 2, file => GolangMigrateLayout.LooksLike(file.Name), (files, _, problems) => GolangMigrateLayout.Read(files, problems),
            name => name.EndsWith(".up.sql", StringComparison.Ordinal)),
        new(MigrationFormat.Dbmate, "dbmate", "dbmate",
            "<version>_<name>.sql holding a '-- migrate:up' section",
            HistoryTableKind.Dbmate, "schema_migrations", 1, DbmateLayout.HasMarkers, (files, _, problems) => DbmateLayout.Read(files, problems), null),
        new(MigrationFormat.SqlMigrate, "sql-migrate", "sql-migrate",
            "<number>-<name>.sql holding a '-- +migrate Up' section",
            HistoryTableKind.SqlMigrate, "gorp_migrations", 0, SqlMigrateLayout.HasMarkers, (files, _, problems) => SqlMigrateLayout.Read(files, problems), null),
        new(MigrationFormat.Atlas, "atlas", "Atlas",
            "<version>_<name>.sql, the version being digits, with an optional atlas.sum",
            HistoryTableKind.Atlas, "atlas_schema_revisions", 4, file => AtlasLayout.LooksLike(file.Name) || AtlasLayout.HasDirectives(file), (files, _, problems) => AtlasLayout.Read(files, problems),
            name => name.EndsWith(".sql", StringComparison.Ordinal)),
    ];

    /// <summary>Every name <c>--format</c> and the annotation accept: <c>auto</c> and each format's.</summary>
    public static IReadOnlyList<string> NamesWithAuto { get; } = [Auto, .. All.Select(f => f.Name)];

    /// <summary>The detection order: markers first, then names.</summary>
    internal static IReadOnlyList<MigrationFormatDefinition> ByDetectionRank { get; } = [.. All.OrderBy(f => f.DetectionRank)];

    public static MigrationFormatDefinition Get(MigrationFormat format) =>
        All.FirstOrDefault(f => f.Format == format) ?? throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown migration format.");

    public static string Name(MigrationFormat format) => Get(format).Name;

    /// <summary>Parses a format name, case-insensitively; <c>auto</c> gives null (detect). False for an unknown name.</summary>
    public static bool TryParse(string? text, out MigrationFormat? format)
    {
        format = null;
        if (text is null)
        {
            return false;
        }

        if (string.Equals(text.Trim(), Auto, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var candidate in All)
        {
            if (string.Equals(text.Trim(), candidate.Name, StringComparison.OrdinalIgnoreCase))
            {
                format = candidate.Format;
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The history layout a table that does not exist yet will get, from its name: the layout of the tool that names its
    /// table so, preferring <paramref name="format"/> where two tools share a name (<c>schema_migrations</c>:
    /// golang-migrate's single row only for golang-migrate directories, dbmate's row per version otherwise).
    /// Null when no tool uses the name (Gatekeeper's own layout then).
    /// </summary>
    public static HistoryTableKind? HistoryKindFor(string tableName, MigrationFormat? format)
    {
        ArgumentNullException.ThrowIfNull(tableName);
        var sharing = All.Where(f => string.Equals(f.HistoryTable, tableName, StringComparison.Ordinal)).ToList();
        if (sharing.Count == 0)
        {
            return null;
        }

        return (sharing.FirstOrDefault(f => f.Format == format) ?? sharing.FirstOrDefault(f => f.Format == MigrationFormat.Dbmate) ?? sharing[0]).HistoryKind;
    }
}
