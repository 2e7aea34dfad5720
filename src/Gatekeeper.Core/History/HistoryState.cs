namespace Gatekeeper.Core.History;

/// <summary>
/// What a database's history table says has been applied.
/// </summary>
/// <param name="Table">The table name as given by the user (possibly schema-qualified).</param>
/// <param name="Kind">Whose layout the table has.</param>
/// <param name="Exists">False when the table does not exist yet (a fresh database).</param>
/// <param name="Applied">Rows, in the order they were applied.</param>
/// <param name="AppliedThrough">
/// For tools that record only a high-water mark (golang-migrate): every migration whose version is at or
/// below this one counts as applied.
/// </param>
public sealed record HistoryState(
    string Table,
    HistoryTableKind Kind,
    bool Exists,
    IReadOnlyList<AppliedMigration> Applied,
    string? AppliedThrough = null)
{
    public static HistoryState Empty(string table, HistoryTableKind kind) => new(table, kind, false, []);
}
