using Gatekeeper.Core.History;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.History;

/// <summary>
/// Flyway's <c>flyway_schema_history</c>, read and written as Flyway does: one row per application ranked by
/// <c>installed_rank</c>, type <c>SQL</c>, the file name in <c>script</c>, Flyway's CRC-32 in <c>checksum</c> (so Flyway
/// itself validates the rows Gatekeeper wrote), repeatables with a null version. A <c>BASELINE</c> row counts every
/// version up to it as applied; a failed row (<c>success = false</c>) is Flyway's own "failed migration" state, which
/// both Flyway and Gatekeeper refuse to run past until it is repaired.
/// </summary>
internal sealed class FlywayHistoryTable(HistoryTableName table, SqlEngine engine) : HistoryTableLayout(table, engine)
{
    public override HistoryTableKind Kind => HistoryTableKind.Flyway;

    protected override bool HasNativeDirtyState => true;

    protected override IEnumerable<string> CreateStatements(DbSession session)
    {
        var name = QuotedName(session);
        if (Engine.Kind == DatabaseEngine.Postgres)
        {
            yield return $"""
                CREATE TABLE IF NOT EXISTS {name} (
                    "installed_rank" INT NOT NULL,
                    "version" VARCHAR(50),
                    "description" VARCHAR(200) NOT NULL,
                    "type" VARCHAR(20) NOT NULL,
                    "script" VARCHAR(1000) NOT NULL,
                    "checksum" INTEGER,
                    "installed_by" VARCHAR(100) NOT NULL,
                    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
                    "execution_time" INTEGER NOT NULL,
                    "success" BOOLEAN NOT NULL,
                    CONSTRAINT {session.Quote(Table.Name + "_pk")} PRIMARY KEY ("installed_rank")
                )
                """;
            yield return $"CREATE INDEX IF NOT EXISTS {session.Quote(Table.Name + "_s_idx")} ON {name} (\"success\")";
        }
        else if (Engine.Kind == DatabaseEngine.MySql)
        {
            yield return $"""
                CREATE TABLE IF NOT EXISTS {name} (
                    `installed_rank` INT NOT NULL,
                    `version` VARCHAR(50),
                    `description` VARCHAR(200) NOT NULL,
                    `type` VARCHAR(20) NOT NULL,
                    `script` VARCHAR(1000) NOT NULL,
                    `checksum` INT,
                    `installed_by` VARCHAR(100) NOT NULL,
                    `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                    `execution_time` INT NOT NULL,
                    `success` BOOL NOT NULL,
                    CONSTRAINT {session.Quote(Table.Name + "_pk")} PRIMARY KEY (`installed_rank`),
                    INDEX {session.Quote(Table.Name + "_s_idx")} (`success`)
                ) ENGINE=InnoDB
                """;
        }
        else
        {
            throw NoDdlFor();
        }
    }

    protected override async Task<HistoryRows> ReadOwnRowsAsync(DbSession session, CancellationToken cancellationToken)
    {
        var raw = await session.QueryAsync(
            $"SELECT version, description, type, script, checksum, installed_on, execution_time, success FROM {QuotedName(session)} ORDER BY installed_rank",
            reader => (
                Version: ReadString(reader, 0),
                Description: ReadString(reader, 1) ?? string.Empty,
                Type: ReadString(reader, 2) ?? string.Empty,
                Checksum: ReadInt64(reader, 4),
                InstalledOn: ReadTime(reader, 5),
                ExecutionTime: ReadInt64(reader, 6),
                Success: ReadBool(reader, 7)),
            cancellationToken).ConfigureAwait(false);

        var applied = new List<AppliedMigration>();
        string? baseline = null;
        foreach (var row in raw)
        {
            var id = row.Version ?? row.Description;
            switch (row.Type)
            {
                case "SCHEMA":
                    continue; // Flyway's note that it created the schemas; not a migration.
                case "BASELINE":
                    baseline = row.Version;
                    continue;
                case "DELETE":
                    // Flyway's repair marks a missing migration as deleted by appending this row.
                    applied.RemoveAll(a => a.Id == id);
                    continue;
            }

            applied.Add(new AppliedMigration(
                id,
                row.Description,
                row.Checksum?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                row.Checksum is null ? null : MigrationChecksums.FlywayCrc32,
                row.InstalledOn,
                row.ExecutionTime is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
                Dirty: !row.Success)
            {
                Failure = row.Success ? null : $"{row.Description} (Flyway records no error text)",
            });
        }

        return new HistoryRows(applied, baseline);
    }

    public override Task RecordAppliedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken) =>
        InsertAsync(session, entry.Migration, time, success: true, cancellationToken);

    public override Task MarkStartedAsync(DbSession session, HistoryEntry entry, DateTime startedAtUtc, CancellationToken cancellationToken) =>
        InsertAsync(session, entry.Migration, ExecutionTime.Measured(TimeSpan.Zero, startedAtUtc), success: false, cancellationToken);

    public override Task MarkFinishedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken)
    {
        List<(string Name, object? Value)> parameters = [("t", true), ("script", entry.Migration.FileName), ("f", false)];
        var ms = time.Elapsed(Engine, ElapsedUnit.Milliseconds32, "ms", parameters);
        return session.ExecuteAsync(
            $"UPDATE {QuotedName(session)} SET success = @t, execution_time = {ms} WHERE script = @script AND success = @f",
            cancellationToken,
            [.. parameters]);
    }

    // Flyway keeps no error text: the failed row itself is the record, as when Flyway fails on MySQL.
    public override Task MarkFailedAsync(DbSession session, HistoryEntry entry, string failure, string? failedStatement, int statementsApplied, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public override Task ForgetStartedAsync(DbSession session, HistoryEntry entry, CancellationToken cancellationToken) =>
        session.ExecuteAsync($"DELETE FROM {QuotedName(session)} WHERE script = @script AND success = @f", cancellationToken, ("script", entry.Migration.FileName), ("f", false));

    public override async Task<bool> RepairAsync(DbSession session, HistoryEntry entry, RepairResolution resolution, string? previousId, DateTime nowUtc, CancellationToken cancellationToken)
    {
        var changed = resolution == RepairResolution.Retry
            ? await session.ExecuteAsync($"DELETE FROM {QuotedName(session)} WHERE script = @script AND success = @f", cancellationToken, ("script", entry.Migration.FileName), ("f", false)).ConfigureAwait(false)
            : await session.ExecuteAsync($"UPDATE {QuotedName(session)} SET success = @t WHERE script = @script AND success = @f", cancellationToken, ("t", true), ("script", entry.Migration.FileName), ("f", false)).ConfigureAwait(false);
        return changed > 0;
    }

    // installed_on is left to the column's default (the server's now()), as Flyway leaves it.
    private Task<int> InsertAsync(DbSession session, Migration migration, ExecutionTime time, bool success, CancellationToken cancellationToken)
    {
        var table = QuotedName(session);
        var user = Engine.CurrentUserNameExpression;
        List<(string Name, object? Value)> parameters =
        [
            ("v", migration.Kind == MigrationKind.Repeatable ? null : migration.Id),
            ("d", Clip(migration.Description, 200)),
            ("script", migration.FileName),
            ("c", FlywayChecksum.Compute(migration.Content.Span)),
            ("s", success),
        ];
        var ms = time.Elapsed(Engine, ElapsedUnit.Milliseconds32, "ms", parameters);
        return session.ExecuteAsync(
            $"INSERT INTO {table} (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) " +
            $"SELECT COALESCE(MAX(installed_rank), 0) + 1, @v, @d, 'SQL', @script, @c, {user}, {ms}, @s FROM {table}",
            cancellationToken,
            [.. parameters]);
    }
}
