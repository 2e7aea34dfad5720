namespace Gatekeeper.Core.Migrations;

/// <summary>The names users write for formats (<c>--format</c>, the <c>gatekeeper.dev/format</c> annotation).</summary>
public static class MigrationFormatNames
{
    public const string Auto = "auto";

    public static IReadOnlyList<string> All { get; } = ["flyway", "golang-migrate", "dbmate", "sql-migrate", "atlas"];

    public static string Name(MigrationFormat format) => format switch
    {
        MigrationFormat.Flyway => "flyway",
        MigrationFormat.GolangMigrate => "golang-migrate",
        MigrationFormat.Dbmate => "dbmate",
        MigrationFormat.SqlMigrate => "sql-migrate",
        MigrationFormat.Atlas => "atlas",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown migration format."),
    };

    /// <summary>Parses a format name, case-insensitively; <c>auto</c> gives null (detect). False for an unknown name.</summary>
    public static bool TryParse(string? text, out MigrationFormat? format)
    {
        format = null;
        if (text is null)
        {
            return false;
        }

        if (string.Equals(text, Auto, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var candidate in Enum.GetValues<MigrationFormat>())
        {
            if (string.Equals(text, Name(candidate), StringComparison.OrdinalIgnoreCase))
            {
                format = candidate;
                return true;
            }
        }

        return false;
    }
}
