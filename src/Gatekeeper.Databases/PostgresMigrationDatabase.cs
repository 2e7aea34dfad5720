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
    /// <c>BEGIN</c>/<c>COMMIT</c> is not sent.
    /// </summary>
    private protected override async Task<DryRunReport> DryRunInTransactionAsync(MigrationDirectory directory, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        var time = Options.TimeProvider;
        var started = time.GetTimestamp();
        var notes = new List<DryRunNote>();
        var checkedMigrations = new List<Migration>();
        Log.DryRunStarting(Logger, migrations.Count, Label);

        await using var session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        await session.BeginAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await session.ExecuteAsync(Sql.SetLockTimeout(Options.DryRunLockTimeout, transactionLocal: true), cancellationToken).ConfigureAwait(false);
            await session.ExecuteAsync($"SET LOCAL statement_timeout = '{(long)Options.DryRunStatementTimeout.TotalMilliseconds}ms'", cancellationToken).ConfigureAwait(false);

            foreach (var migration in migrations)
            {
                var script = MigrationScript.Prepare(migration, Sql, MigrationScript.MajorVersion(session.Connection.ServerVersion), out var problems);
                if (problems.Count > 0)
                {
                    var failure = new MigrationFailure(migration.Id, migration.FileName, problems[0].Location, DatabaseErrorKind.Syntax, problems[0].Message, null, false, null);
                    return new DryRunReport(DryRunMode.Transaction, checkedMigrations, failure, notes, time.GetElapsedTime(started));
                }

                var outsideTransaction = script.Mode == ExecutionMode.StatementByStatement;
                foreach (var statement in script.Statements)
                {
                    if (statement.Control != TransactionControl.None)
                    {
                        Note(notes, statement.Location, "the file's own transaction command is not sent in a dry-run");
                        continue;
                    }

                    var failure = await DryRunStatementAsync(session, script, statement, outsideTransaction, notes, cancellationToken).ConfigureAwait(false);
                    if (failure is not null)
                    {
                        return new DryRunReport(DryRunMode.Transaction, checkedMigrations, failure, notes, time.GetElapsedTime(started));
                    }
                }

                checkedMigrations.Add(migration);
            }

            return new DryRunReport(DryRunMode.Transaction, checkedMigrations, null, notes, time.GetElapsedTime(started));
        }
        finally
        {
            await session.RollbackQuietlyAsync().ConfigureAwait(false);
        }
    }

    private async Task<MigrationFailure?> DryRunStatementAsync(
        Execution.DbSession session, MigrationScript script, ScriptStatement statement, bool outsideTransaction, List<DryRunNote> notes, CancellationToken cancellationToken)
    {
        try
        {
            if (outsideTransaction)
            {
                await session.ExecuteAsync("SAVEPOINT gatekeeper_dry_run", cancellationToken).ConfigureAwait(false);
            }

            await session.ExecuteStatementAsync(statement.Text, cancellationToken).ConfigureAwait(false);
            if (outsideTransaction)
            {
                await session.ExecuteAsync("RELEASE SAVEPOINT gatekeeper_dry_run", cancellationToken).ConfigureAwait(false);
            }

            return null;
        }
        catch (PostgresException ex) when (outsideTransaction && NotCheckableInTransaction.Contains(ex.SqlState))
        {
            await session.ExecuteAsync("ROLLBACK TO SAVEPOINT gatekeeper_dry_run", cancellationToken).ConfigureAwait(false);
            Note(notes, statement.Location, $"not checked: it runs outside a transaction ({ex.MessageText})");
            return null;
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            return MigrationApplier.Failure(script, Sql.Locate(statement.Statement, ex), error, leftDirty: false, statement.Text);
        }
    }

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
