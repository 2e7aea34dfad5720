using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.History;

/// <summary>
/// Gatekeeper's own table (default <c>gatekeeper_schema_history</c>): one row per application, ordered by
/// <c>installed_rank</c> (repeatable migrations get a row each time they run). A migration that runs outside a
/// transaction gets its row first with <c>dirty = true</c>; it is cleared when the last statement succeeds, and
/// <c>error</c> says where and why it stopped otherwise.
/// </summary>
internal sealed class GatekeeperHistoryTable(HistoryTableName table, SqlEngine engine) : HistoryTableLayout(table, engine)
{
    public override HistoryTableKind Kind => HistoryTableKind.Gatekeeper;

    protected override bool HasNativeDirtyState => true;

    protected override IEnumerable<string> CreateStatements(DbSession session)
    {
        var boolean = Engine.BooleanType;
        yield return $"""
            CREATE TABLE IF NOT EXISTS {QuotedName(session)} (
                installed_rank integer NOT NULL PRIMARY KEY,
                version varchar(255) NOT NULL,
                description varchar(500) NOT NULL,
                kind varchar(20) NOT NULL,
                file_name varchar(1000) NOT NULL,
                checksum varchar(128) NOT NULL,
                checksum_algorithm varchar(32) NOT NULL,
                applied_at {TimestampType} NOT NULL,
                execution_time_ms bigint NOT NULL,
                success {boolean} NOT NULL,
                dirty {boolean} NOT NULL,
                error text NULL
            )
            """;
    }

    protected override async Task<HistoryRows> ReadOwnRowsAsync(DbSession session, CancellationToken cancellationToken)
    {
        var lastRank = 0;
        var rows = await session.QueryAsync(
            $"SELECT version, description, checksum, checksum_algorithm, applied_at, execution_time_ms, success, dirty, error, file_name, installed_rank FROM {QuotedName(session)} ORDER BY installed_rank",
            reader =>
            {
                lastRank = Math.Max(lastRank, (int)(ReadInt64(reader, 10) ?? 0));
                return ReadRow(reader);
            },
            cancellationToken).ConfigureAwait(false);
        return new HistoryRows(rows, null) { LastRank = lastRank };
    }

    private static AppliedMigration ReadRow(System.Data.Common.DbDataReader reader) =>
        new(
            reader.GetString(0),
            ReadString(reader, 1),
            ReadString(reader, 2),
            ReadString(reader, 3),
            ReadTime(reader, 4),
            TimeSpan.FromMilliseconds(ReadInt64(reader, 5) ?? 0),
            Dirty: ReadBool(reader, 7) || !ReadBool(reader, 6))
        {
            // No error text on a dirty row means the runner died between its statements.
            Failure = ReadString(reader, 8) ?? (ReadBool(reader, 7) ? $"{ReadString(reader, 9)} (interrupted before it finished)" : null),
        };

    public override Task RecordAppliedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken) =>
        InsertAsync(session, entry, time, success: true, cancellationToken);

    public override Task MarkStartedAsync(DbSession session, HistoryEntry entry, DateTime startedAtUtc, CancellationToken cancellationToken) =>
        InsertAsync(session, entry, ExecutionTime.Measured(TimeSpan.Zero, startedAtUtc), success: false, cancellationToken);

    public override Task MarkFinishedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken)
    {
        List<(string Name, object? Value)> parameters = [("t", true), ("f", false), ("v", entry.Migration.Id)];
        var at = time.FinishedAt(Engine, "at", parameters);
        var ms = time.Elapsed(Engine, ElapsedUnit.Milliseconds, "ms", parameters);
        return session.ExecuteAsync(
            $"UPDATE {QuotedName(session)} SET success = @t, dirty = @f, error = NULL, applied_at = {at}, execution_time_ms = {ms} WHERE version = @v AND dirty = @t" +
            Engine.NewestRowFirst("installed_rank"),
            cancellationToken,
            [.. parameters]);
    }

    public override Task MarkFailedAsync(DbSession session, HistoryEntry entry, string failure, string? failedStatement, int statementsApplied, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"UPDATE {QuotedName(session)} SET error = @e WHERE version = @v AND dirty = @t",
            cancellationToken,
            ("e", failure), ("v", entry.Migration.Id), ("t", true));

    public override Task ForgetStartedAsync(DbSession session, HistoryEntry entry, CancellationToken cancellationToken) =>
        session.ExecuteAsync($"DELETE FROM {QuotedName(session)} WHERE version = @v AND dirty = @t", cancellationToken, ("v", entry.Migration.Id), ("t", true));

    public override async Task<bool> RepairAsync(DbSession session, HistoryEntry entry, RepairResolution resolution, string? previousId, DateTime nowUtc, CancellationToken cancellationToken)
    {
        var changed = resolution == RepairResolution.Retry
            ? await session.ExecuteAsync($"DELETE FROM {QuotedName(session)} WHERE version = @v AND dirty = @t", cancellationToken, ("v", entry.Migration.Id), ("t", true)).ConfigureAwait(false)
            : await session.ExecuteAsync(
                $"UPDATE {QuotedName(session)} SET dirty = @f, success = @t, error = NULL, applied_at = @at WHERE version = @v AND dirty = @t",
                cancellationToken,
                ("f", false), ("t", true), ("at", nowUtc), ("v", entry.Migration.Id)).ConfigureAwait(false);
        return changed > 0;
    }

    /// <remarks>
    /// With the rank known (<see cref="HistoryEntry.Rank"/>) the row is plain values. Taking it from the table instead
    /// (<c>INSERT … SELECT MAX(installed_rank) + 1 …</c>) makes the server plan an aggregate over the table for every
    /// migration: on PostgreSQL 117 µs of server time per row against 55 µs (medians of 2,000 rows from the server's
    /// log), the history write being most of what Gatekeeper adds to a file's own statements.
    /// </remarks>
    private Task<int> InsertAsync(DbSession session, HistoryEntry entry, ExecutionTime time, bool success, CancellationToken cancellationToken)
    {
        var migration = entry.Migration;
        var table = QuotedName(session);
        List<(string Name, object? Value)> parameters =
        [
            ("v", migration.Id),
            ("d", Clip(migration.Description, 500)),
            ("k", migration.Kind == MigrationKind.Repeatable ? "repeatable" : "versioned"),
            ("f", migration.FileName),
            ("c", migration.Checksum),
            ("a", MigrationChecksums.Sha256),
            ("s", success),
            ("dirty", !success),
        ];
        var at = time.FinishedAt(Engine, "at", parameters);
        var ms = time.Elapsed(Engine, ElapsedUnit.Milliseconds, "ms", parameters);
        const string Columns = "installed_rank, version, description, kind, file_name, checksum, checksum_algorithm, applied_at, execution_time_ms, success, dirty";
        const string Values = "@v, @d, @k, @f, @c, @a";
        if (entry.Rank is { } rank)
        {
            parameters.Add(("rank", rank));
            return session.ExecuteAsync($"INSERT INTO {table} ({Columns}) VALUES (@rank, {Values}, {at}, {ms}, @s, @dirty)", cancellationToken, [.. parameters]);
        }

        return session.ExecuteAsync(
            $"INSERT INTO {table} ({Columns}) SELECT COALESCE(MAX(installed_rank), 0) + 1, {Values}, {at}, {ms}, @s, @dirty FROM {table}",
            cancellationToken,
            [.. parameters]);
    }
}
