using Gatekeeper.Core.History;
using Gatekeeper.Databases.Execution;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases.Schema;

/// <summary>
/// Where <c>gatekeeper schema apply</c> records what it applied: one row per apply, with the plan's hash, the desired
/// state's hash, the statements themselves and when, and whether it succeeded. Kept apart from the versioned history
/// (<c>gatekeeper_schema_history</c>) because a declarative apply is not a migration file: nothing later must match it.
/// A row is written in the plan's transaction on PostgreSQL; on MySQL, whose DDL commits as it goes, it is written
/// first and completed or given the error afterwards. A failed apply does not block the next: the next plan starts
/// from what the database has.
/// </summary>
internal sealed class DeclarativeHistoryTable(HistoryTableName table, SqlEngine engine) : HistoryTableLayout(table, engine)
{
    public const string DefaultName = "gatekeeper_declarative_history";

    public override HistoryTableKind Kind => HistoryTableKind.Gatekeeper;

    protected override bool HasNativeDirtyState => true;

    protected override IEnumerable<string> CreateStatements(DbSession session)
    {
        var boolean = Engine.BooleanType;
        // MySQL's text holds 64 KB; a plan of hundreds of statements needs more.
        var text = Engine.TransactionalDdl ? "text" : "longtext";
        yield return $"""
            CREATE TABLE IF NOT EXISTS {QuotedName(session)} (
                installed_rank integer NOT NULL PRIMARY KEY,
                plan_hash varchar(64) NOT NULL,
                desired_hash varchar(64) NOT NULL,
                description varchar(500) NOT NULL,
                statements {text} NOT NULL,
                statement_count integer NOT NULL,
                applied_at {TimestampType} NOT NULL,
                execution_time_ms bigint NOT NULL,
                success {boolean} NOT NULL,
                error {text} NULL
            )
            """;
    }

    protected override async Task<HistoryRows> ReadOwnRowsAsync(DbSession session, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync(
            $"SELECT plan_hash, description, desired_hash, applied_at, execution_time_ms, success, error FROM {QuotedName(session)} ORDER BY installed_rank",
            reader => new AppliedMigration(
                reader.GetString(0),
                ReadString(reader, 1),
                ReadString(reader, 2),
                "sha256",
                ReadTime(reader, 3),
                TimeSpan.FromMilliseconds(ReadInt64(reader, 4) ?? 0),
                Dirty: false)
            {
                Failure = ReadBool(reader, 5) ? null : ReadString(reader, 6) ?? "interrupted before it finished",
            },
            cancellationToken).ConfigureAwait(false);
        return new HistoryRows(rows, null);
    }

    public override Task RecordAppliedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken) =>
        InsertAsync(session, entry, time, success: true, error: null, cancellationToken);

    public override Task MarkStartedAsync(DbSession session, HistoryEntry entry, DateTime startedAtUtc, CancellationToken cancellationToken) =>
        InsertAsync(session, entry, ExecutionTime.Measured(TimeSpan.Zero, startedAtUtc), success: false, error: null, cancellationToken);

    public override Task MarkFinishedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken)
    {
        List<(string Name, object? Value)> parameters = [("t", true), ("p", entry.Migration.Id)];
        var at = time.FinishedAt(Engine, "at", parameters);
        var ms = time.Elapsed(Engine, ElapsedUnit.Milliseconds, "ms", parameters);
        return session.ExecuteAsync(
            $"UPDATE {QuotedName(session)} SET success = @t, error = NULL, applied_at = {at}, execution_time_ms = {ms} WHERE installed_rank = (SELECT r FROM (SELECT MAX(installed_rank) AS r FROM {QuotedName(session)} WHERE plan_hash = @p) latest)",
            cancellationToken,
            [.. parameters]);
    }

    public override Task MarkFailedAsync(DbSession session, HistoryEntry entry, string failure, string? failedStatement, int statementsApplied, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"UPDATE {QuotedName(session)} SET error = @e WHERE installed_rank = (SELECT r FROM (SELECT MAX(installed_rank) AS r FROM {QuotedName(session)} WHERE plan_hash = @p) latest)",
            cancellationToken,
            ("e", $"{failure} ({statementsApplied} of {entry.StatementCount} statements applied before it)"), ("p", entry.Migration.Id));

    public override Task ForgetStartedAsync(DbSession session, HistoryEntry entry, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"DELETE FROM {QuotedName(session)} WHERE success = @f AND error IS NULL AND plan_hash = @p",
            cancellationToken, ("f", false), ("p", entry.Migration.Id));

    public override Task<bool> RepairAsync(DbSession session, HistoryEntry entry, RepairResolution resolution, string? previousId, DateTime nowUtc, CancellationToken cancellationToken) =>
        Task.FromResult(false);

    /// <summary>Records an apply of which nothing was kept, with why (the next plan tries again from the database as it is).</summary>
    public Task RecordFailedAsync(DbSession session, HistoryEntry entry, TimeSpan elapsed, DateTime atUtc, string error, CancellationToken cancellationToken) =>
        InsertAsync(session, entry, ExecutionTime.Measured(elapsed, atUtc), success: false, error, cancellationToken);

    private Task<int> InsertAsync(DbSession session, HistoryEntry entry, ExecutionTime time, bool success, string? error, CancellationToken cancellationToken)
    {
        var table = QuotedName(session);
        var migration = entry.Migration;
        List<(string Name, object? Value)> parameters =
        [
            ("p", migration.Id),
            ("d", migration.Checksum),
            ("desc", Clip(migration.Description, 500)),
            ("s", migration.UpSql),
            ("n", entry.StatementCount),
            ("ok", success),
            ("e", error),
        ];
        var at = time.FinishedAt(Engine, "at", parameters);
        var ms = time.Elapsed(Engine, ElapsedUnit.Milliseconds, "ms", parameters);
        return session.ExecuteAsync(
            $"INSERT INTO {table} (installed_rank, plan_hash, desired_hash, description, statements, statement_count, applied_at, execution_time_ms, success, error) " +
            $"SELECT COALESCE(MAX(installed_rank), 0) + 1, @p, @d, @desc, @s, @n, {at}, {ms}, @ok, @e FROM {table}",
            cancellationToken,
            [.. parameters]);
    }

    /// <summary>The last apply that succeeded (null when there was none or the table does not exist): what the database was last made to match.</summary>
    public async Task<DeclarativeApply?> ReadLastAppliedAsync(DbSession session, CancellationToken cancellationToken)
    {
        var sql = Engine.ColumnNamesQuery(Table.Schema is not null ? "@gk_history_schema" : Engine.CurrentSchemaExpression);
        var columns = Table.Schema is not null
            ? await session.QueryAsync(sql, r => r.GetString(0), cancellationToken, ("gk_history_table", Table.Name), ("gk_history_schema", Table.Schema)).ConfigureAwait(false)
            : await session.QueryAsync(sql, r => r.GetString(0), cancellationToken, ("gk_history_table", Table.Name)).ConfigureAwait(false);
        if (columns.Count == 0)
        {
            return null;
        }

        var rows = await ReadOwnRowsAsync(session, cancellationToken).ConfigureAwait(false);
        return rows.Applied.LastOrDefault(row => row.Failure is null) is { } last
            ? new DeclarativeApply(last.Id, last.Checksum ?? string.Empty, last.AppliedAt)
            : null;
    }
}

/// <summary>One recorded declarative apply: the plan applied, the desired state it made the database match, and when.</summary>
public sealed record DeclarativeApply(string PlanHash, string DesiredHash, DateTimeOffset? AppliedAt);
