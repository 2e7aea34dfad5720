using Gatekeeper.Core.History;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.History;

/// <summary>
/// dbmate's <c>schema_migrations(version varchar(128) primary key)</c>: one row per applied version, nothing else.
/// dbmate has no dirty state, so in-progress and failed marks go to <see cref="DirtyMarkTable"/>.
/// </summary>
internal sealed class DbmateHistoryTable(HistoryTableName table, SqlEngine engine) : HistoryTableLayout(table, engine)
{
    public override HistoryTableKind Kind => HistoryTableKind.Dbmate;

    protected override IEnumerable<string> CreateStatements(DbSession session)
    {
        yield return Engine.Kind switch
        {
            DatabaseEngine.Postgres => $"CREATE TABLE IF NOT EXISTS {QuotedName(session)} (version character varying(128) NOT NULL PRIMARY KEY)",
            DatabaseEngine.MySql => $"CREATE TABLE IF NOT EXISTS {QuotedName(session)} (version varchar(128) NOT NULL PRIMARY KEY)",
            _ => throw NoDdlFor(),
        };
    }

    protected override async Task<HistoryRows> ReadOwnRowsAsync(DbSession session, CancellationToken cancellationToken)
    {
        // dbmate orders by version text; its versions are fixed-width timestamps, so that is also numeric order.
        var rows = await session.QueryAsync(
            $"SELECT version FROM {QuotedName(session)} ORDER BY version",
            reader => new AppliedMigration(reader.GetString(0), null, null, null, null, null, Dirty: false),
            cancellationToken).ConfigureAwait(false);
        return new HistoryRows(rows, null);
    }

    public override Task RecordAppliedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken) =>
        session.ExecuteAsync($"INSERT INTO {QuotedName(session)} (version) VALUES (@v)", cancellationToken, ("v", entry.Migration.Id));
}
