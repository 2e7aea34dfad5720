using Gatekeeper.Core.Sql;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases.Execution;
using Gatekeeper.Databases.History;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatekeeper.Databases;

/// <summary>
/// PostgreSQL: transactional DDL, so each migration runs in one transaction with its history row; the migration lock is
/// a session advisory lock; the dry-run runs the whole plan in one transaction and rolls it back.
/// </summary>
public sealed class PostgresMigrationDatabase : MigrationDatabase
{
    private static readonly TimeSpan LockPollInterval = TimeSpan.FromMilliseconds(100);

    // PostgreSQL refuses these inside a transaction block (25001) or until an added enum value is committed (55P04);
    // a dry-run notes them instead of failing, because the real run executes them outside a transaction.
    private static readonly string[] NotCheckableInTransaction = ["25001", "55P04"];

    public PostgresMigrationDatabase(DatabaseUrl url, MigrationDatabaseOptions options, ILoggerFactory? loggerFactory = null, DatabaseConnectionPools? pools = null)
        : this(url, options, url.ToNpgsqlConnectionStringBuilder(), loggerFactory, pools)
    {
    }

    private PostgresMigrationDatabase(DatabaseUrl url, MigrationDatabaseOptions options, NpgsqlConnectionStringBuilder builder, ILoggerFactory? loggerFactory, DatabaseConnectionPools? pools)
        : base(url, options, pools?.Postgres(builder) ?? PostgresDataSources.Create(builder.ConnectionString), ownsDataSource: pools is null, loggerFactory)
    {
    }

    /// <summary>
    /// pg_try_advisory_lock polled until <paramref name="timeout"/>, on a connection of its own that stays open while the
    /// lock is held (advisory locks belong to the session; if the runner dies, the server releases it).
    /// </summary>
    public override async Task<IAsyncDisposable> AcquireMigrationLockAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var key = LockKey(Url.Database, HistoryTableInspector.Locate(Options.HistoryTable, Sql).ToString());
        var time = Options.TimeProvider;
        var session = await OpenUnpooledSessionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The lock's queries are Gatekeeper's own: a role's statement_timeout of a millisecond must not stop them. Sent
            // with the pin (or the first try), in its round trip.
            session.LimitOwnStatements(Options.OwnStatementTimeout);
            if (Sql.PinLockSession(session.Connection.ServerVersion) is { } pin)
            {
                await session.ExecuteAsync(pin, cancellationToken).ConfigureAwait(false);
            }

            var started = time.GetTimestamp();
            var announced = false;
            while (true)
            {
                if (await session.ScalarAsync("SELECT pg_try_advisory_lock(@key)", cancellationToken, ("key", key)).ConfigureAwait(false) is true)
                {
                    Log.MigrationLockAcquired(Logger, Label, (long)time.GetElapsedTime(started).TotalMilliseconds);
                    return new Execution.HeldSessionLock(session, "SELECT pg_advisory_unlock(@key)", ("key", key), Label, Logger);
                }

                var remaining = timeout - time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    Log.MigrationLockTimedOut(Logger, Label, timeout.TotalSeconds);
                    throw new DatabaseException(DatabaseErrorKind.MigrationLockHeld, $"another migration holds the lock on {Label} (waited {Format(timeout)})");
                }

                if (!announced)
                {
                    Log.WaitingForMigrationLock(Logger, Label, timeout.TotalSeconds);
                    announced = true;
                }

                await Task.Delay(remaining < LockPollInterval ? remaining : LockPollInterval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // Every schema but the server's own: the linter takes a table it is not told of to be absent, so the list must be
    // whole. reltuples is -1 until the first ANALYZE or VACUUM (PostgreSQL 14+), which the linter reads as unknown.
    private const string TablesQuery = """
        SELECT n.nspname, c.relname, c.reltuples::bigint
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
        """;

    private const string ColumnsQuery = """
        SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
               a.attidentity <> '', col_description(c.oid, a.attnum) IS NOT NULL
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
        ORDER BY n.nspname, c.relname, a.attnum
        """;

    private protected override async Task<LiveSchema> ReadSchemaAsync(DbSession session, CancellationToken cancellationToken)
    {
        // Both catalog queries in one round trip; the version comes with the connection (the server_version it reports at start-up).
        var tables = new List<(string?, string, long)>();
        var columns = new List<(string?, string, SchemaColumn)>();
        await using (var batch = session.Batch([TablesQuery, ColumnsQuery]))
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tables.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                columns.Add((reader.GetString(0), reader.GetString(1), new SchemaColumn(
                    reader.GetString(2), reader.GetString(3), NotNull: reader.GetBoolean(4), HasDefault: reader.GetBoolean(5), AutoIncrement: reader.GetBoolean(6), HasComment: reader.GetBoolean(7))));
            }
        }

        // 15.4 and 9.6.5 alike; PostgreSQL 10 and later have no third part.
        var reported = ((NpgsqlConnection)session.Connection).PostgreSqlVersion;
        var version = reported.Major >= 10
            ? new ServerVersion(reported.Major, Math.Max(0, reported.Minor), 0, false)
            : new ServerVersion(reported.Major, Math.Max(0, reported.Minor), Math.Max(0, reported.Build), false);
        return new LiveSchema(Assemble(tables, columns), version);
    }

    /// <summary>
    /// Runs every statement of the plan in one transaction with <c>SET LOCAL lock_timeout</c> and <c>statement_timeout</c>,
    /// then rolls back. Statements of files that run outside a transaction are each wrapped in a savepoint: the ones
    /// PostgreSQL refuses inside a transaction (<c>CREATE INDEX CONCURRENTLY</c>, using an enum value added in the same
    /// file) are rolled back to it and reported as notes, the rest are checked like any other. A file's own
    /// <c>BEGIN</c>/<c>COMMIT</c> is not sent. The whole plan goes as one batch (one round trip, whatever its length);
    /// the batch's commands tell where the server stopped, and after a statement that could only be noted the rest of
    /// the plan goes in a batch of its own.
    /// </summary>
    private protected override async Task<DryRunReport> DryRunInTransactionAsync(MigrationDirectory directory, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        var time = Options.TimeProvider;
        var started = time.GetTimestamp();
        Log.DryRunStarting(Logger, migrations.Count, Label);

        await using var session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        var serverMajor = MigrationScript.MajorVersion(session.Connection.ServerVersion);
        var scripts = new List<MigrationScript>(migrations.Count);
        MigrationFailure? syntax = null;
        foreach (var migration in migrations)
        {
            var script = MigrationScript.Prepare(migration, Sql, serverMajor, Core.Sql.SqlModes.None, out var problems);
            if (problems.Count > 0)
            {
                // Checked after the files before it, as they would have run first.
                syntax = new MigrationFailure(migration.Id, migration.FileName, problems[0].Location, DatabaseErrorKind.Syntax, problems[0].Message, null, false, null);
                break;
            }

            scripts.Add(script);
        }

        var plan = DryRunBatch.Of(scripts, Sql, Options);
        await session.BeginAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var notes = new List<(int At, SourceLocation Location, string Message)>(plan.Notes);
            var from = 0;
            string? resume = null;
            while (from < plan.Commands.Count)
            {
                var texts = plan.Commands.Skip(from).Select(c => c.Text);
                await using var batch = session.Batch(resume is null ? texts : texts.Prepend(resume));
                try
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
                {
                    var stopped = Sql.StoppedAt(batch) - (resume is null ? 0 : 1) + from;
                    var command = stopped >= from && stopped < plan.Commands.Count ? plan.Commands[stopped] : null;
                    if (command is { InSavepoint: true, Statement: { } skipped } && ex is PostgresException pg && NotCheckableInTransaction.Contains(pg.SqlState))
                    {
                        notes.Add((stopped, skipped.Location, $"not checked: it runs outside a transaction ({pg.MessageText})"));
                        resume = "ROLLBACK TO SAVEPOINT gatekeeper_dry_run";
                        from = stopped + 2; // past its RELEASE
                        continue;
                    }

                    // The statement that failed, or (the timeouts, a savepoint) the file it belongs to; the files before it passed.
                    var owner = command?.Script ?? 0;
                    var script = scripts.Count > 0 ? scripts[owner] : null;
                    var failure = script is null
                        ? new MigrationFailure(migrations[0].Id, migrations[0].FileName, null, error.Kind, error.ServerMessage, error.ServerCode, false, null)
                        : MigrationApplier.Failure(script, command?.Statement is { } statement ? Sql.Locate(statement.Statement, ex) : null, error, leftDirty: false, command?.Statement?.Text);
                    return new DryRunReport(DryRunMode.Transaction, migrations.Take(owner).ToList(), failure, NotesUpTo(notes, stopped), time.GetElapsedTime(started));
                }
            }

            return new DryRunReport(DryRunMode.Transaction, scripts.Select(s => s.Migration).ToList(), syntax, NotesUpTo(notes, int.MaxValue), time.GetElapsedTime(started));
        }
        finally
        {
            await session.RollbackQuietlyAsync().ConfigureAwait(false);
        }
    }

    private List<DryRunNote> NotesUpTo(List<(int At, SourceLocation Location, string Message)> notes, int stopped)
    {
        var kept = new List<DryRunNote>();
        foreach (var (_, location, message) in notes.Where(n => n.At <= stopped).OrderBy(n => n.At))
        {
            Note(kept, location, message);
        }

        return kept;
    }

    /// <summary>
    /// The commands of a dry-run batch: the timeouts, then each file's statements in order (those of files that run
    /// outside a transaction between a savepoint and its release), each knowing its file and statement; and the notes
    /// for the files' own transaction commands, which are not sent, at the place they would have run.
    /// </summary>
    private sealed record DryRunBatch(IReadOnlyList<DryRunCommand> Commands, IReadOnlyList<(int At, SourceLocation Location, string Message)> Notes)
    {
        private static readonly string[] SessionResetInTransaction =
            ["CLOSE ALL", "SET SESSION AUTHORIZATION DEFAULT", "RESET ALL", "DEALLOCATE ALL", "DISCARD TEMP", "DISCARD SEQUENCES"];

        public static DryRunBatch Of(List<MigrationScript> scripts, SqlEngine sql, MigrationDatabaseOptions options)
        {
            string[] timeouts =
            [
                sql.SetLockTimeout(options.DryRunLockTimeout, transactionLocal: true),
                $"SET LOCAL statement_timeout = '{(long)options.DryRunStatementTimeout.TotalMilliseconds}ms'",
            ];
            var commands = timeouts.Select(t => new DryRunCommand(t, 0, null, false)).ToList();
            var notes = new List<(int, SourceLocation, string)>();
            for (var i = 0; i < scripts.Count; i++)
            {
                if (i > 0)
                {
                    // migrate runs each file on a session the pool has reset: what a file before it set here (SET
                    // search_path, SET ROLE, a PREPARE, a cursor, a temporary table) must not reach it in the dry-run
                    // either. DISCARD ALL refuses a transaction block; these are its parts that do not, and RESET ALL
                    // takes the dry-run's own timeouts with it, so they follow again.
                    commands.AddRange(SessionResetInTransaction.Concat(timeouts).Select(c => new DryRunCommand(c, i, null, false)));
                }

                var outsideTransaction = scripts[i].Mode == ExecutionMode.StatementByStatement;
                foreach (var statement in scripts[i].Statements)
                {
                    if (statement.Control != TransactionControl.None)
                    {
                        notes.Add((commands.Count, statement.Location, "the file's own transaction command is not sent in a dry-run"));
                        continue;
                    }

                    if (outsideTransaction)
                    {
                        commands.Add(new("SAVEPOINT gatekeeper_dry_run", i, null, false));
                    }

                    commands.Add(new(statement.Text, i, statement, outsideTransaction));
                    if (outsideTransaction)
                    {
                        commands.Add(new("RELEASE SAVEPOINT gatekeeper_dry_run", i, null, false));
                    }
                }
            }

            return new DryRunBatch(commands, notes);
        }
    }

    /// <param name="Script">The index of the file it belongs to.</param>
    /// <param name="Statement">The file's statement it runs; null for the timeouts and savepoints around them.</param>
    /// <param name="InSavepoint">Whether it runs between a savepoint and its release (its file runs outside a transaction).</param>
    private sealed record DryRunCommand(string Text, int Script, ScriptStatement? Statement, bool InSavepoint);

    private void Note(List<DryRunNote> notes, Core.Sql.SourceLocation location, string message)
    {
        notes.Add(new DryRunNote(location, message));
        Log.DryRunStatementSkipped(Logger, location.ToString(), message);
    }

    /// <summary>A stable 64-bit key per (database, history table): two histories in one database do not block each other.</summary>
    internal static long LockKey(string database, string historyTable)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"gatekeeper-migration-lock\0{database}\0{historyTable}"));
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }
}
