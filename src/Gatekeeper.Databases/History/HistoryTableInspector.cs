using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.History;

/// <summary>
/// Decides whose layout a history table has: from its columns when it exists, otherwise from its name and the
/// directory's format (<c>schema_migrations</c> is golang-migrate's for golang-migrate directories, dbmate's otherwise).
/// </summary>
internal static class HistoryTableInspector
{
    public const string AtlasName = "atlas_schema_revisions";

    /// <summary>
    /// Where the table really lives: on engines with schemas (PostgreSQL) Atlas keeps its revisions in a schema of the
    /// same name unless told otherwise, so an unqualified <c>atlas_schema_revisions</c> means
    /// <c>atlas_schema_revisions.atlas_schema_revisions</c>.
    /// </summary>
    public static HistoryTableName Locate(HistoryTableName name, SqlEngine engine) =>
        engine.HasSchemasInsideDatabases && name.Schema is null && name.Name == AtlasName ? name with { Schema = AtlasName } : name;

    public static async Task<bool> ExistsAsync(DbSession session, HistoryTableName table, CancellationToken cancellationToken) =>
        (await ColumnsAsync(session, table, cancellationToken).ConfigureAwait(false)).Count > 0;

    public static Task<List<string>> ColumnsAsync(DbSession session, HistoryTableName table, CancellationToken cancellationToken)
    {
        var (sql, parameters) = ColumnsQuery(session, table);
        return session.QueryAsync(sql, ColumnName, cancellationToken, parameters);
    }

    private static (string Sql, (string Name, object? Value)[] Parameters) ColumnsQuery(DbSession session, HistoryTableName table) =>
        table.Schema is not null
            ? (session.Engine.ColumnNamesQuery("@gk_history_schema"), [("gk_history_schema", table.Schema), ("gk_history_table", table.Name)])
            : (session.Engine.ColumnNamesQuery(session.Engine.CurrentSchemaExpression), [("gk_history_table", table.Name)]);

    private static string ColumnName(System.Data.Common.DbDataReader reader) => reader.GetString(0).ToLowerInvariant();

    /// <summary>
    /// Reads a history table whose layout an earlier read found, in one round trip: the catalog's column list goes in the
    /// same command ahead of the layout's query for its rows, and the rows count only when the columns still say that
    /// layout. Null when they do not, when the table is gone or unreadable (the query fails), or when the layout needs
    /// more than one query (a side table of dirty marks): the caller then inspects the table as usual, which also says
    /// why a read failed.
    /// </summary>
    public static async Task<(HistoryTableLayout Layout, HistoryRows Rows)?> TryReadKnownAsync(
        DbSession session, HistoryTableName name, HistoryTableKind kind, CancellationToken cancellationToken)
    {
        var table = Locate(name, session.Engine);
        var layout = Create(kind, table, session.Engine);
        var (sql, parameters) = ColumnsQuery(session, table);
        try
        {
            // The rows are read only once the columns (which come first) say the layout is still the one expected: another
            // tool's table of the same name can answer the old layout's query with rows of other types.
            var (_, accepted, rows) = await session.WithPreludeAsync(sql, ColumnName, parameters,
                columns => columns.Count > 0 && KindFromColumns(columns) == kind,
                () => layout.ReadAsync(session, cancellationToken)).ConfigureAwait(false);
            return accepted && rows is not null ? (layout, rows) : null;
        }
        catch (System.Data.Common.DbException)
        {
            return null;
        }
    }

    /// <summary>Finds the layout of <paramref name="name"/>; <c>Exists</c> is false when the table is not there yet.</summary>
    public static async Task<(HistoryTableLayout Layout, bool Exists)> InspectAsync(
        DbSession session, HistoryTableName name, MigrationFormat? format, CancellationToken cancellationToken)
    {
        var table = Locate(name, session.Engine);
        var columns = await ColumnsAsync(session, table, cancellationToken).ConfigureAwait(false);
        if (columns.Count == 0 && session.Engine.CatalogHidesUnreadableTables)
        {
            // The catalog leaves out tables the user may not read: ask the table itself, so a history the user may not
            // read is a permission error, never an empty history that would plan every migration again.
            await ProbeAsync(session, table, cancellationToken).ConfigureAwait(false);
        }

        if (columns.Count == 0)
        {
            return (Create(KindFromName(table, format), table, session.Engine), false);
        }

        var kind = KindFromColumns(columns) ?? throw new DatabaseException(
            DatabaseErrorKind.HistoryTable,
            $"history table {table} has columns ({string.Join(", ", columns)}), which match no layout Gatekeeper reads " +
            $"(Gatekeeper, {string.Join(", ", MigrationFormats.All.Select(f => f.DisplayName))}); name another table with --history-table");
        return (Create(kind, table, session.Engine), true);
    }

    private static async Task ProbeAsync(DbSession session, HistoryTableName table, CancellationToken cancellationToken)
    {
        var quoted = table.Schema is null ? session.Quote(table.Name) : session.Quote(table.Schema) + "." + session.Quote(table.Name);
        try
        {
            await session.ExecuteAsync($"SELECT 1 FROM {quoted} WHERE 1 = 0", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: not DatabaseErrorKind.PermissionDenied and not DatabaseErrorKind.ConnectionLost and not DatabaseErrorKind.Unreachable })
        {
            // Not there (or not a table): the history is empty, as the catalog said.
        }
    }

    public static HistoryTableKind KindFromName(HistoryTableName table, MigrationFormat? format) =>
        MigrationFormats.HistoryKindFor(table.Name, format) ?? HistoryTableKind.Gatekeeper;

    public static HistoryTableKind? KindFromColumns(IReadOnlyCollection<string> columns)
    {
        bool Has(params string[] names) => names.All(columns.Contains);
        if (Has("installed_rank", "checksum_algorithm", "dirty"))
        {
            return HistoryTableKind.Gatekeeper;
        }

        if (Has("installed_rank", "script", "installed_by", "success"))
        {
            return HistoryTableKind.Flyway;
        }

        if (Has("version", "hash", "applied", "total"))
        {
            return HistoryTableKind.Atlas;
        }

        if (Has("id", "applied_at"))
        {
            return HistoryTableKind.SqlMigrate;
        }

        if (Has("version", "dirty"))
        {
            return HistoryTableKind.GolangMigrate;
        }

        return Has("version") ? HistoryTableKind.Dbmate : null;
    }

    public static HistoryTableLayout Create(HistoryTableKind kind, HistoryTableName table, SqlEngine engine) => kind switch
    {
        HistoryTableKind.Gatekeeper => new GatekeeperHistoryTable(table, engine),
        HistoryTableKind.Flyway => new FlywayHistoryTable(table, engine),
        HistoryTableKind.GolangMigrate => new GolangMigrateHistoryTable(table, engine),
        HistoryTableKind.Dbmate => new DbmateHistoryTable(table, engine),
        HistoryTableKind.SqlMigrate => new SqlMigrateHistoryTable(table, engine),
        HistoryTableKind.Atlas => new AtlasHistoryTable(table, engine),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown history table kind"),
    };
}
