using Gatekeeper.Core.History;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.History;

/// <summary>
/// Atlas's <c>atlas_schema_revisions</c> (on PostgreSQL in the schema of the same name): one row per version with the
/// file's atlas.sum hash, how many statements it has (<c>total</c>) and how many ran (<c>applied</c>), and the
/// error of a failed run. A row with <c>applied &lt; total</c> or an error is Atlas's own "partially applied" state,
/// which Gatekeeper treats as dirty. Atlas's bookkeeping rows (versions starting with a dot) are skipped; a baseline
/// revision counts every version up to it as applied.
/// </summary>
internal sealed class AtlasHistoryTable(HistoryTableName table, SqlEngine engine) : HistoryTableLayout(table, engine)
{
    private const int TypeBaseline = 1;
    private const int TypeExecute = 2;
    private const int TypeResolved = 4;
    private const string OperatorVersion = "Gatekeeper";

    public override HistoryTableKind Kind => HistoryTableKind.Atlas;

    protected override bool HasNativeDirtyState => true;

    protected override IEnumerable<string> CreateStatements(DbSession session)
    {
        yield return Engine.Kind switch
        {
            DatabaseEngine.Postgres => $"""
              CREATE TABLE IF NOT EXISTS {QuotedName(session)} (
                  "version" character varying NOT NULL, "description" character varying NOT NULL,
                  "type" bigint NOT NULL DEFAULT 2, "applied" bigint NOT NULL DEFAULT 0, "total" bigint NOT NULL DEFAULT 0,
                  "executed_at" timestamptz NOT NULL, "execution_time" bigint NOT NULL, "error" text NULL, "error_stmt" text NULL,
                  "hash" character varying NOT NULL, "partial_hashes" jsonb NULL, "operator_version" character varying NOT NULL,
                  PRIMARY KEY ("version"))
              """,
            DatabaseEngine.MySql => $"""
              CREATE TABLE IF NOT EXISTS {QuotedName(session)} (
                  `version` varchar(255) NOT NULL, `description` varchar(255) NOT NULL,
                  `type` bigint unsigned NOT NULL DEFAULT 2, `applied` bigint NOT NULL DEFAULT 0, `total` bigint NOT NULL DEFAULT 0,
                  `executed_at` timestamp(6) NOT NULL, `execution_time` bigint NOT NULL, `error` longtext NULL, `error_stmt` longtext NULL,
                  `hash` varchar(255) NOT NULL, `partial_hashes` json NULL, `operator_version` varchar(255) NOT NULL,
                  PRIMARY KEY (`version`)) CHARSET utf8mb4 COLLATE utf8mb4_bin
              """,
            _ => throw NoDdlFor(),
        };
    }

    protected override async Task<HistoryRows> ReadOwnRowsAsync(DbSession session, CancellationToken cancellationToken)
    {
        var raw = await session.QueryAsync(
            $"SELECT version, description, type, applied, total, executed_at, execution_time, error, hash FROM {QuotedName(session)} ORDER BY version",
            reader => (
                Version: reader.GetString(0),
                Description: ReadString(reader, 1),
                Type: ReadInt64(reader, 2) ?? TypeExecute,
                Applied: ReadInt64(reader, 3) ?? 0,
                Total: ReadInt64(reader, 4) ?? 0,
                ExecutedAt: ReadTime(reader, 5),
                ExecutionTime: ReadInt64(reader, 6),
                Error: ReadString(reader, 7),
                Hash: ReadString(reader, 8)),
            cancellationToken).ConfigureAwait(false);

        var applied = new List<AppliedMigration>();
        string? baseline = null;
        foreach (var row in raw.Where(r => !r.Version.StartsWith('.')))
        {
            if ((row.Type & TypeBaseline) != 0)
            {
                baseline = row.Version;
            }

            var dirty = !string.IsNullOrEmpty(row.Error) || row.Applied < row.Total;
            applied.Add(new AppliedMigration(
                row.Version,
                row.Description,
                row.Hash,
                "atlas-sum",
                row.ExecutedAt,
                row.ExecutionTime is { } ns ? TimeSpan.FromTicks(ns / 100) : null,
                dirty)
            {
                Failure = !dirty ? null : string.IsNullOrEmpty(row.Error)
                    ? $"{row.Applied} of {row.Total} statements applied (interrupted before it finished)"
                    : row.Error,
            });
        }

        return new HistoryRows(applied, baseline);
    }

    public override Task RecordAppliedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken) =>
        InsertAsync(session, entry, entry.StatementCount, time, cancellationToken);

    public override Task MarkStartedAsync(DbSession session, HistoryEntry entry, DateTime startedAtUtc, CancellationToken cancellationToken) =>
        InsertAsync(session, entry, 0, ExecutionTime.Measured(TimeSpan.Zero, startedAtUtc), cancellationToken);

    public override Task MarkFinishedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken)
    {
        List<(string Name, object? Value)> parameters = [("v", entry.Migration.Id)];
        var ns = time.Elapsed(Engine, ElapsedUnit.Nanoseconds, "ns", parameters);
        var at = time.FinishedAt(Engine, "at", parameters);
        return session.ExecuteAsync(
            $"UPDATE {QuotedName(session)} SET applied = total, error = NULL, error_stmt = NULL, execution_time = {ns}, executed_at = {at} WHERE version = @v",
            cancellationToken,
            [.. parameters]);
    }

    public override Task MarkFailedAsync(DbSession session, HistoryEntry entry, string failure, string? failedStatement, int statementsApplied, CancellationToken cancellationToken) =>
        session.ExecuteAsync(
            $"UPDATE {QuotedName(session)} SET applied = @n, error = @e, error_stmt = @s WHERE version = @v",
            cancellationToken,
            ("n", (long)statementsApplied), ("e", failure), ("s", failedStatement), ("v", entry.Migration.Id));

    public override Task ForgetStartedAsync(DbSession session, HistoryEntry entry, CancellationToken cancellationToken) =>
        session.ExecuteAsync($"DELETE FROM {QuotedName(session)} WHERE version = @v", cancellationToken, ("v", entry.Migration.Id));

    public override async Task<bool> RepairAsync(DbSession session, HistoryEntry entry, RepairResolution resolution, string? previousId, DateTime nowUtc, CancellationToken cancellationToken)
    {
        var dirtyFilter = "version = @v AND (applied < total OR error IS NOT NULL)";
        var changed = resolution == RepairResolution.Retry
            ? await session.ExecuteAsync($"DELETE FROM {QuotedName(session)} WHERE {dirtyFilter}", cancellationToken, ("v", entry.Migration.Id)).ConfigureAwait(false)
            : await session.ExecuteAsync(
                $"UPDATE {QuotedName(session)} SET applied = total, error = NULL, error_stmt = NULL, type = @type WHERE {dirtyFilter}",
                cancellationToken,
                ("type", (long)(TypeExecute | TypeResolved)), ("v", entry.Migration.Id)).ConfigureAwait(false);
        return changed > 0;
    }

    private Task<int> InsertAsync(DbSession session, HistoryEntry entry, int applied, ExecutionTime time, CancellationToken cancellationToken)
    {
        var migration = entry.Migration;
        List<(string Name, object? Value)> parameters =
        [
            ("v", migration.Id),
            ("d", DescriptionOf(migration.FileName)),
            ("type", (long)TypeExecute),
            ("applied", (long)applied),
            ("total", (long)entry.StatementCount),
            ("hash", entry.AtlasHash ?? string.Empty),
            ("op", OperatorVersion),
        ];
        var at = time.FinishedAt(Engine, "at", parameters);
        var ns = time.Elapsed(Engine, ElapsedUnit.Nanoseconds, "ns", parameters);
        return session.ExecuteAsync(
            $"INSERT INTO {QuotedName(session)} (version, description, type, applied, total, executed_at, execution_time, hash, operator_version) " +
            $"VALUES (@v, @d, @type, @applied, @total, {at}, {ns}, @hash, @op)",
            cancellationToken,
            [.. parameters]);
    }

    /// <summary>Atlas's description is the file name after the version and its underscore, without <c>.sql</c>.</summary>
    private static string DescriptionOf(string fileName)
    {
        var stem = fileName.EndsWith(".sql", StringComparison.Ordinal) ? fileName[..^4] : fileName;
        var underscore = stem.IndexOf('_', StringComparison.Ordinal);
        return underscore >= 0 ? stem[(underscore + 1)..] : string.Empty;
    }
}
