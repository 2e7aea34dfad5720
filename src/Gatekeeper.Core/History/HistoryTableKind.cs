namespace Gatekeeper.Core.History;

/// <summary>Whose layout a history table has: Gatekeeper's own, or an adopted tool's.</summary>
public enum HistoryTableKind
{
    Gatekeeper,
    Flyway,
    /// <summary>golang-migrate's <c>schema_migrations(version bigint, dirty boolean)</c>: one row, the latest version.</summary>
    GolangMigrate,
    /// <summary>dbmate's <c>schema_migrations(version varchar)</c>: one row per applied version.</summary>
    Dbmate,
    /// <summary>sql-migrate's <c>gorp_migrations(id, applied_at)</c>: one row per applied file name.</summary>
    SqlMigrate,
    Atlas,
}
