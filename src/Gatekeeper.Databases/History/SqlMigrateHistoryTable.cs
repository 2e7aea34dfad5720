using Gatekeeper.Core.History;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.History;

/// <summary>
/// sql-migrate's <c>gorp_migrations(id, applied_at)</c>: one row per applied file, keyed by the whole file name.
/// sql-migrate has no dirty state, so in-progress and failed marks go to <see cref="DirtyMarkTable"/>.
/// </summary>
internal sealed class SqlMigrateHistoryTable(HistoryTableName table, SqlEngine engine) : HistoryTableLayout(table, engine)
{
    public override HistoryTableKind Kind => HistoryTableKind.SqlMigrate;

    protected override IEnumerable<string> CreateStatements(DbSession session)
    {
        yield return Engine.Kind switch
        {
            DatabaseEngine.Postgres => $"CREATE TABLE IF NOT EXISTS {QuotedName(session)} (id text NOT NULL PRIMARY KEY, applied_at timestamp with time zone NULL)",
            DatabaseEngine.MySql => $"CREATE TABLE IF NOT EXISTS {QuotedName(session)} (id varchar(255) NOT NULL PRIMARY KEY, applied_at datetime NULL) ENGINE=InnoDB CHARSET=UTF8",
            _ => throw NoDdlFor(),
        };
    }

    protected override async Task<HistoryRows> ReadOwnRowsAsync(DbSession session, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync(
            $"SELECT id, applied_at FROM {QuotedName(session)} ORDER BY applied_at, id",
            reader => new AppliedMigration(reader.GetString(0), null, null, null, ReadTime(reader, 1), null, Dirty: false),
            cancellationToken).ConfigureAwait(false);
        return new HistoryRows(rows, null);
    }

    public override Task RecordAppliedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken)
    {
        List<(string Name, object? Value)> parameters = [("id", entry.Migration.Id)];
        var at = time.FinishedAt(Engine, "at", parameters);
        return session.ExecuteAsync($"INSERT INTO {QuotedName(session)} (id, applied_at) VALUES (@id, {at})", cancellationToken, [.. parameters]);
    }
}
