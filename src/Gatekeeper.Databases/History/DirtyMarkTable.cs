using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.History;

/// <summary>
/// <c>gatekeeper_dirty_migrations</c>: where Gatekeeper marks a migration as in progress or failed half-way for
/// adopted tables whose tool has no such state (dbmate, sql-migrate). It sits next to the history table (same schema
/// or database), is created on first use, and is keyed by history table so several histories can share it. The adopted
/// table itself only ever receives rows its own tool would write.
/// </summary>
internal static class DirtyMarkTable
{
    public const string Name = "gatekeeper_dirty_migrations";

    public static async Task InsertAsync(DbSession session, HistoryTableLayout layout, Migration migration, DateTime startedAtUtc, CancellationToken cancellationToken)
    {
        var table = Quoted(session, layout);
        var timestamp = session.Engine.TimestampType;
        await session.ExecuteAsync(
            $"CREATE TABLE IF NOT EXISTS {table} (history_table varchar(255) NOT NULL, version varchar(255) NOT NULL, " +
            $"file_name varchar(1000) NOT NULL, started_at {timestamp} NOT NULL, error text NULL, PRIMARY KEY (history_table, version))",
            cancellationToken).ConfigureAwait(false);
        await session.ExecuteAsync(
            $"INSERT INTO {table} (history_table, version, file_name, started_at) VALUES (@t, @v, @f, @at)",
            cancellationToken,
            ("t", layout.Table.ToString()), ("v", migration.Id), ("f", migration.FileName), ("at", startedAtUtc)).ConfigureAwait(false);
    }

    public static Task SetFailureAsync(DbSession session, HistoryTableLayout layout, string id, string failure, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"UPDATE {Quoted(session, layout)} SET error = @e WHERE history_table = @t AND version = @v",
            cancellationToken,
            ("e", failure), ("t", layout.Table.ToString()), ("v", id));

    public static async Task<bool> DeleteAsync(DbSession session, HistoryTableLayout layout, string id, CancellationToken cancellationToken)
    {
        if (!await HistoryTableInspector.ExistsAsync(session, layout.Table with { Name = Name }, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        return await session.ExecuteAsync(
            $"DELETE FROM {Quoted(session, layout)} WHERE history_table = @t AND version = @v",
            cancellationToken,
            ("t", layout.Table.ToString()), ("v", id)).ConfigureAwait(false) > 0;
    }

    public static async Task<IReadOnlyList<AppliedMigration>> ReadAsync(DbSession session, HistoryTableLayout layout, CancellationToken cancellationToken)
    {
        if (!await HistoryTableInspector.ExistsAsync(session, layout.Table with { Name = Name }, cancellationToken).ConfigureAwait(false))
        {
            return [];
        }

        return await session.QueryAsync(
            $"SELECT version, file_name, started_at, error FROM {Quoted(session, layout)} WHERE history_table = @t ORDER BY started_at",
            reader => new AppliedMigration(
                reader.GetString(0),
                null,
                null,
                null,
                reader.GetValue(2) is DateTime at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null,
                null,
                Dirty: true)
            {
                Failure = reader.IsDBNull(3) ? $"{reader.GetString(1)} (interrupted before it finished)" : reader.GetString(3),
            },
            cancellationToken,
            ("t", layout.Table.ToString())).ConfigureAwait(false);
    }

    private static string Quoted(DbSession session, HistoryTableLayout layout) =>
        layout.EffectiveSchema is not { } schema ? session.Quote(Name) : session.Quote(schema) + "." + session.Quote(Name);
}
