using System.Data;
using System.Globalization;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.History;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Databases.Execution;

/// <summary>
/// Applies one prepared migration on one session: in a transaction with its history row, or statement by statement
/// between a dirty mark and its clearing. A lock timeout of which nothing was committed is retried with backoff.
/// </summary>
/// <param name="sessionSqlMode">MySQL: the sql_mode every file's session is set to first (a new session's, where the server
/// gives new sessions another than the pool's reset one: init_connect); null leaves the session's as it is.</param>
internal sealed partial class MigrationApplier(SqlEngine engine, MigrationDatabaseOptions options, string databaseLabel, ILogger logger, string? sessionSqlMode = null)
{
    private readonly TimeProvider _time = options.TimeProvider;

    public async Task<MigrationApplyResult> ApplyAsync(DbSession session, HistoryTableLayout history, MigrationScript script, HistoryEntry entry, CancellationToken cancellationToken)
    {
        var migration = script.Migration;
        var attempts = options.LockTimeoutRetries + 1;
        for (var attempt = 1; ; attempt++)
        {
            Log.MigrationStarting(logger, migration.Id, migration.FileName, databaseLabel);
            var started = _time.GetTimestamp();
            var (failure, nothingCommitted) = script.Mode == ExecutionMode.Transaction
                ? await RunInTransactionAsync(session, history, script, entry, started, cancellationToken).ConfigureAwait(false)
                : await RunStatementByStatementAsync(session, history, script, entry, started, cancellationToken).ConfigureAwait(false);
            var elapsed = _time.GetElapsedTime(started);

            if (failure is null)
            {
                Log.MigrationApplied(logger, migration.Id, databaseLabel, (long)elapsed.TotalMilliseconds);
                return new MigrationApplyResult(migration, elapsed, attempt, null);
            }

            Log.MigrationFailed(logger, migration.Id, databaseLabel, failure.Location?.ToString() ?? failure.File, failure.ServerMessage);
            if (failure.Kind == DatabaseErrorKind.LockTimeout && nothingCommitted && attempt < attempts)
            {
                if (!await ResetForRetryAsync(session, migration.Id, cancellationToken).ConfigureAwait(false))
                {
                    return new MigrationApplyResult(migration, elapsed, attempt, failure);
                }

                var delay = options.LockTimeoutBackoff * Math.Pow(2, attempt - 1);
                Log.MigrationLockTimeoutRetry(logger, migration.Id, databaseLabel, attempt, attempts, (long)delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (failure.LeftDirty)
            {
                Log.MigrationLeftDirty(logger, migration.Id, databaseLabel, history.Table.ToString());
            }

            return new MigrationApplyResult(migration, elapsed, attempt, failure);
        }
    }

    /// <summary>
    /// Returns the session to the state the first attempt started from before the file runs again; false when the
    /// session cannot be reset (it broke), and the lock timeout is reported as it is.
    /// </summary>
    /// <remarks>
    /// The attempt changed the session, and a retry on it ran in a state no first attempt has: the history writes after
    /// the failure set aside server defaults that would refuse them (MySQL: sql_safe_updates = 0, so the retried file's
    /// UPDATE whose WHERE names no key column was applied where the server refuses it), and what the file ran before the
    /// lock timed out outlives the rollback where the server keeps it with the session (PostgreSQL: a PREPARE, a session
    /// advisory lock, a sequence's currval). Only a retry pays for the reset (one round trip); a session the file after
    /// would take over (<see cref="DbSession.Carried"/>) is then a reset one too.
    /// </remarks>
    private async Task<bool> ResetForRetryAsync(DbSession session, string migrationId, CancellationToken cancellationToken)
    {
        try
        {
            await engine.ResetSessionAsync(session, cancellationToken).ConfigureAwait(false);
            session.Carried = false;
            return true;
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null || ex is InvalidOperationException)
        {
            Log.MigrationRetrySessionLost(logger, migrationId, databaseLabel, ex);
            return false;
        }
    }

    private async Task<(MigrationFailure? Failure, bool NothingCommitted)> RunInTransactionAsync(
        DbSession session, HistoryTableLayout history, MigrationScript script, HistoryEntry entry, long started, CancellationToken cancellationToken)
    {
        if (engine.SendsBatches && session.Connection.CanCreateBatch)
        {
            return await RunInBatchedTransactionAsync(session, history, script, entry, started, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await CommitEachStatementAsync(session, cancellationToken).ConfigureAwait(false);
            await session.BeginAsync(cancellationToken).ConfigureAwait(false);
            var failure = await RunOneByOneAsync(session, script, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                await session.RollbackQuietlyAsync().ConfigureAwait(false);
                return (failure, true);
            }

            var time = ExecutionTime.Measured(_time.GetElapsedTime(started), _time.GetUtcNow().UtcDateTime);
            await history.RecordAppliedAsync(session, entry, time, cancellationToken).ConfigureAwait(false);
            await session.CommitAsync(cancellationToken).ConfigureAwait(false);
            return (null, false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            // Setting the timeout, writing history or committing failed: the transaction is gone, and so is the migration.
            await session.RollbackQuietlyAsync().ConfigureAwait(false);
            return (Failure(script, null, error, leftDirty: false, null), true);
        }
    }

    // PostgreSQL: one round trip per migration whatever its length. The batch opens the transaction, sets the lock
    // timeout, runs every statement, writes the history row (its execution time by the server's clock, since nothing
    // can be measured before the batch is sent) and commits; its commands tell where it stopped. The transaction is the
    // server's own BEGIN/COMMIT, so a failure anywhere, the history row and COMMIT included, leaves nothing of the file.
    // A layout whose write must read first (none today) gets a second round trip for the row and COMMIT.
    private async Task<(MigrationFailure? Failure, bool NothingCommitted)> RunInBatchedTransactionAsync(
        DbSession session, HistoryTableLayout history, MigrationScript script, HistoryEntry entry, long started, CancellationToken cancellationToken)
    {
        try
        {
            var commands = new List<SessionCommand>(script.Statements.Count + 4) { SessionCommand.Plain("BEGIN ISOLATION LEVEL READ COMMITTED") };
            if (!script.SetsOwnLockTimeout)
            {
                commands.Add(SessionCommand.Plain(engine.SetLockTimeout(options.StatementLockTimeout, transactionLocal: true)));
            }

            var first = commands.Count;
            commands.AddRange(script.Statements.Select(s => SessionCommand.Plain(s.Statement.Text)));
            var record = await session.CollectAsync(() => history.RecordAppliedAsync(session, entry, ExecutionTime.FromServerClock, cancellationToken)).ConfigureAwait(false);
            if (record is not null)
            {
                commands.AddRange(record);
                commands.Add(SessionCommand.Plain("COMMIT"));
            }

            await using (var batch = session.Batch(commands))
            {
                try
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
                {
                    await TryExecuteAsync(session, "ROLLBACK").ConfigureAwait(false);
                    var index = engine.StoppedAt(batch) - first;
                    if (index < 0 || index >= script.Statements.Count)
                    {
                        // BEGIN or the lock timeout setting failed before any statement of the file ran, or the history
                        // row or COMMIT failed after all of them: either way the transaction took the file with it.
                        return (Failure(script, null, error, leftDirty: false, null), true);
                    }

                    var statement = script.Statements[index].Statement;
                    return (Failure(script, engine.Locate(statement, ex), error, leftDirty: false, statement.Text), true);
                }
            }

            if (record is null)
            {
                var time = ExecutionTime.Measured(_time.GetElapsedTime(started), _time.GetUtcNow().UtcDateTime);
                await history.RecordAppliedAsync(session, entry, time, cancellationToken).ConfigureAwait(false);
                await session.ExecuteAsync("COMMIT", cancellationToken).ConfigureAwait(false);
            }

            return (null, false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            // Writing history or committing failed: the transaction is gone, and so is the migration.
            await TryExecuteAsync(session, "ROLLBACK").ConfigureAwait(false);
            return (Failure(script, null, error, leftDirty: false, null), true);
        }
    }

    private async Task<MigrationFailure?> RunOneByOneAsync(DbSession session, MigrationScript script, CancellationToken cancellationToken)
    {
        try
        {
            if (!script.SetsOwnLockTimeout)
            {
                await session.ExecuteAsync(engine.SetLockTimeout(options.StatementLockTimeout, transactionLocal: true), cancellationToken).ConfigureAwait(false);
            }

            foreach (var statement in script.Statements)
            {
                var failure = await ExecuteAsync(session, script, statement.Statement, leftDirty: false, cancellationToken).ConfigureAwait(false);
                if (failure is not null)
                {
                    return failure;
                }
            }

            return null;
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            return Failure(script, null, error, leftDirty: false, null);
        }
    }

    private async Task<(MigrationFailure? Failure, bool NothingCommitted)> RunStatementByStatementAsync(
        DbSession session, HistoryTableLayout history, MigrationScript script, HistoryEntry entry, long started, CancellationToken cancellationToken)
    {
        if (engine.RunsStatementsAsOneQuery && session.Connection.CanCreateBatch && !ReadsPredecessorDiagnostics(script))
        {
            return await RunAsOneQueryAsync(session, history, script, entry, started, cancellationToken).ConfigureAwait(false);
        }

        var progress = new CommitTracker(engine);
        var marked = false;
        var resetTimeout = !script.SetsOwnLockTimeout;
        // PostgreSQL: the lock timeout and the dirty mark go as one batch, and the mark's clearing and the timeout's reset as
        // another: two round trips per file fewer than one each. Each batch is one implicit transaction, committed before
        // the next statement; the file's own statements still go one at a time (CREATE INDEX CONCURRENTLY refuses a batch).
        var batches = engine.SendsBatches && session.Connection.CanCreateBatch;
        try
        {
            await CommitEachStatementAsync(session, cancellationToken).ConfigureAwait(false);
            var setTimeout = script.SetsOwnLockTimeout ? null : engine.SetLockTimeout(options.StatementLockTimeout, transactionLocal: false);
            var startedAt = _time.GetUtcNow().UtcDateTime;
            var mark = batches ? await session.CollectAsync(() => history.MarkStartedAsync(session, entry, startedAt, cancellationToken)).ConfigureAwait(false) : null;
            if (mark is not null)
            {
                await RunBatchAsync(session, setTimeout is null ? [.. mark] : [SessionCommand.Plain(setTimeout), .. mark], cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // One at a time: the layout's mark reads first (golang-migrate's previous version), or the engine sends no batches.
                if (setTimeout is not null)
                {
                    await session.ExecuteAsync(setTimeout, cancellationToken).ConfigureAwait(false);
                }

                await history.MarkStartedAsync(session, entry, startedAt, cancellationToken).ConfigureAwait(false);
            }

            marked = true;

            for (var i = 0; i < script.Statements.Count; i++)
            {
                var statement = script.Statements[i];
                var failure = await ExecuteAsync(session, script, statement.Statement, leftDirty: false, cancellationToken).ConfigureAwait(false);
                if (failure is not null)
                {
                    return await StoppedAtAsync(session, history, entry, failure, i, progress, cancellationToken).ConfigureAwait(false);
                }

                progress.Ran(statement.Control);
            }

            if (progress.InOwnTransaction)
            {
                // The file opened a transaction and never closed it; psql would commit it at exit, and so does Gatekeeper.
                await session.ExecuteAsync("COMMIT", cancellationToken).ConfigureAwait(false);
            }

            var time = ExecutionTime.Measured(_time.GetElapsedTime(started), _time.GetUtcNow().UtcDateTime);
            var clear = batches ? await session.CollectAsync(() => history.MarkFinishedAsync(session, entry, time, cancellationToken)).ConfigureAwait(false) : null;
            if (clear is null)
            {
                // The layout's clearing reads first (a side table's existence), or the engine sends no batches.
                await history.MarkFinishedAsync(session, entry, time, cancellationToken).ConfigureAwait(false);
                return (null, false);
            }

            var epilogue = new List<SessionCommand>(clear);
            if (resetTimeout)
            {
                epilogue.Add(SessionCommand.Plain(engine.ResetLockTimeout));
            }

            await RunBatchAsync(session, epilogue, cancellationToken).ConfigureAwait(false);
            resetTimeout = false;
            return (null, false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            // The session broke while writing history: a mark written before stays, and the next run sees it.
            return (Failure(script, null, error, leftDirty: marked && progress.Committed, null), !progress.Committed);
        }
        finally
        {
            if (resetTimeout)
            {
                await TryExecuteAsync(session, engine.ResetLockTimeout).ConfigureAwait(false);
            }
        }
    }

    private static async Task RunBatchAsync(DbSession session, List<SessionCommand> commands, CancellationToken cancellationToken)
    {
        await using var batch = session.Batch(commands);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// MySQL: the lock timeout, the dirty mark, every statement of the file and the mark's clearing (its times by the
    /// server's clock) in one multi-statement query: one round trip per migration instead of one per statement plus four.
    /// Each statement still commits on its own and the server stops at the first that fails, so the mark is committed
    /// before the first statement runs and cleared only after the last one committed; what was committed, the dirty mark
    /// and the repair hint are exactly as when the statements are sent one at a time, and the results read back tell where
    /// it stopped. A layout whose clearing must read first clears in a second round trip.
    /// </summary>
    /// <remarks>
    /// The lock timeout is not set back after a file that applied: its session ends with the migration (the pool resets
    /// it before anything else runs on it, which is also what keeps a file's own SETs from the next file), so the reset was
    /// a statement per file that changed nothing. After a failure the history writes that follow run on the same session,
    /// and the timeout is set back then.
    /// </remarks>
    private async Task<(MigrationFailure? Failure, bool NothingCommitted)> RunAsOneQueryAsync(
        DbSession session, HistoryTableLayout history, MigrationScript script, HistoryEntry entry, long started, CancellationToken cancellationToken)
    {
        var progress = new CommitTracker(engine);
        var marked = false;
        var resetTimeout = !script.SetsOwnLockTimeout;
        try
        {
            var commands = new List<SessionCommand>(script.Statements.Count + 4);
            TimeSpan? lockTimeout = script.SetsOwnLockTimeout ? null : options.StatementLockTimeout;
            var startedAt = _time.GetUtcNow().UtcDateTime;
            var mark = await session.CollectAsync(() => history.MarkStartedAsync(session, entry, startedAt, cancellationToken)).ConfigureAwait(false);
            if (mark is null)
            {
                // The layout reads before it marks (golang-migrate's previous version): mark first, on its own.
                await CommitEachStatementAsync(session, cancellationToken).ConfigureAwait(false);
                await history.MarkStartedAsync(session, entry, startedAt, cancellationToken).ConfigureAwait(false);
                marked = true;
            }

            // The clock's start and the lock timeout in one statement where the engine notes a start, before the mark.
            if (engine.ServerClockStart(lockTimeout) is { } clockStart)
            {
                commands.Add(SessionCommand.Plain((session.Carried ? engine.CarriedSessionClockStart(lockTimeout) : clockStart) + SqlModePin));
            }
            else if (lockTimeout is { } timeout)
            {
                commands.Add(SessionCommand.Plain(engine.SetLockTimeout(timeout, transactionLocal: false)));
            }

            if (mark is not null)
            {
                commands.AddRange(mark);
            }

            var first = commands.Count;
            commands.AddRange(script.Statements.Select(s => SessionCommand.Plain(s.Text)));
            var clear = await session.CollectAsync(() => history.MarkFinishedAsync(session, entry, ExecutionTime.FromServerClock, cancellationToken)).ConfigureAwait(false);
            if (clear is not null)
            {
                if (EndsInOwnTransaction(script))
                {
                    // The file opened a transaction and never closed it; the mysql client would commit it at exit, and so does Gatekeeper.
                    commands.Add(SessionCommand.Plain("COMMIT"));
                }

                commands.AddRange(clear);
            }

            var (completed, exception) = await RunCountingAsync(session, commands, first, script.Statements.Count, cancellationToken).ConfigureAwait(false);
            if (exception is not null)
            {
                var error = DatabaseErrorClassifier.Classify(exception)!;
                var index = completed - first;
                if (index < 0)
                {
                    // The timeout or the mark failed: no statement of the file ran. A mark written on its own is taken back.
                    if (marked)
                    {
                        await history.ForgetStartedAsync(session, entry, cancellationToken).ConfigureAwait(false);
                    }

                    return (Failure(script, null, error, leftDirty: false, null), true);
                }

                marked = true;
                if (index >= script.Statements.Count)
                {
                    // Every statement ran; the file's COMMIT or the clearing failed after them. The mark stays as when the
                    // clearing is sent on its own and fails.
                    foreach (var ran in script.Statements)
                    {
                        progress.Ran(ran.Control);
                    }

                    return (Failure(script, null, error, leftDirty: progress.Committed, null), !progress.Committed);
                }

                for (var i = 0; i < index; i++)
                {
                    progress.Ran(script.Statements[i].Control);
                }

                var statement = script.Statements[index].Statement;
                error = error with { ServerMessage = engine.MessageAbout(statement, error.ServerMessage) };
                var failure = Failure(script, engine.Locate(statement, exception), error, leftDirty: false, statement.Text);
                return await StoppedAtAsync(session, history, entry, failure, index, progress, cancellationToken).ConfigureAwait(false);
            }

            marked = true;
            foreach (var statement in script.Statements)
            {
                progress.Ran(statement.Control);
            }

            if (clear is not null)
            {
                resetTimeout = false;
                return (null, false);
            }

            if (progress.InOwnTransaction)
            {
                // The file opened a transaction and never closed it; the mysql client would commit it at exit, and so does Gatekeeper.
                await session.ExecuteAsync("COMMIT", cancellationToken).ConfigureAwait(false);
            }

            // The layout's clearing reads first (a side table's existence): after the statements, on its own.
            await history.MarkFinishedAsync(session, entry, ExecutionTime.Measured(_time.GetElapsedTime(started), _time.GetUtcNow().UtcDateTime), cancellationToken).ConfigureAwait(false);
            resetTimeout = false;
            return (null, false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            // The session broke while writing history: a mark written before stays, and the next run sees it.
            return (Failure(script, null, error, leftDirty: marked && progress.Committed, null), !progress.Committed);
        }
        finally
        {
            if (resetTimeout)
            {
                await TryExecuteAsync(session, engine.ResetLockTimeout).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// After statement <paramref name="index"/> failed: nothing committed takes the mark back; something committed keeps
    /// it, with where and why. A session that died can write nothing more, so its mark stays as it is.
    /// </summary>
    private async Task<(MigrationFailure? Failure, bool NothingCommitted)> StoppedAtAsync(
        DbSession session, HistoryTableLayout history, HistoryEntry entry, MigrationFailure failure, int index, CommitTracker progress, CancellationToken cancellationToken)
    {
        if (session.Connection.State != ConnectionState.Open)
        {
            // The session died (server stopped, network cut): nothing more can be written on it, so the started
            // mark stays and the next run finds the migration dirty. Writing here would only throw past the caller's catch.
            return (failure with { LeftDirty = true }, !progress.Committed);
        }

        if (progress.InOwnTransaction)
        {
            await TryExecuteAsync(session, "ROLLBACK").ConfigureAwait(false);
        }

        // Only Gatekeeper's history writes run on this session from here: the server's defaults for the file's own
        // statements (sql_safe_updates refuses their WHERE on a non-key column) must not turn them down.
        if (engine.HistoryWritesOnly(session) is { } settings)
        {
            await session.ExecuteAsync(settings, cancellationToken).ConfigureAwait(false);
        }

        if (!progress.Committed)
        {
            await history.ForgetStartedAsync(session, entry, cancellationToken).ConfigureAwait(false);
            return (failure, true);
        }

        failure = failure with { LeftDirty = true };
        await history.MarkFailedAsync(session, entry, failure.ToString(), failure.Statement, index, cancellationToken).ConfigureAwait(false);
        return (failure, false);
    }

    /// <summary>
    /// Pins the session's commit settings (<see cref="SqlEngine.CommitEachStatement"/>) where no SET of the path carries
    /// them: on a server whose sessions start with autocommit = 0, the history rows and the file's DML would stay in a
    /// transaction the pool's reset rolls back, and a run that said "applied" would have kept only the DDL.
    /// </summary>
    private async Task CommitEachStatementAsync(DbSession session, CancellationToken cancellationToken)
    {
        if (engine.CommitEachStatement is { } pin)
        {
            await session.ExecuteAsync(pin + SqlModePin, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The <see cref="SqlEngine.SetSqlMode"/> part that <paramref name="sessionSqlMode"/> adds to the first SET a file's session gets.</summary>
    private string SqlModePin => sessionSqlMode is null ? string.Empty : engine.SetSqlMode(sessionSqlMode);

    private const string CompletedMarker = "gatekeeper_completed";

    // What the server reports about the statement just before: the one-query path's markers run between statements and
    // would answer instead (ROW_COUNT() of a SELECT is -1; a SELECT clears the warnings). A match in a comment or a string
    // only costs the file its round trips, never its meaning.
    [GeneratedRegex(
        @"\b(?:ROW_COUNT|FOUND_ROWS)\s*\(|\bSHOW\s+(?:COUNT\s*\(\s*\*\s*\)\s+)?(?:WARNINGS|ERRORS)\b|\bGET\s+(?:CURRENT\s+)?DIAGNOSTICS\b|@@(?:SESSION\.)?(?:warning_count|error_count)\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PredecessorDiagnostics();

    /// <summary>A file with a statement that reads what the statement before it did runs one statement at a time.</summary>
    private static bool ReadsPredecessorDiagnostics(MigrationScript script)
    {
        for (var i = 1; i < script.Statements.Count; i++)
        {
            if (PredecessorDiagnostics().IsMatch(script.Statements[i].Statement.Text))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Sends the commands as one query and tells how many completed, as far as the caller needs to know: the server stops
    /// at the first error, and the driver reports neither which command that was nor the commands that return no rows, so
    /// a <c>SELECT n AS gatekeeper_completed</c> follows the last command before <paramref name="first"/> and each of the
    /// <paramref name="counted"/> commands from there (a file's statements), and its rows are read back as the commands
    /// complete. The exception of the command the server refused (or of the broken session) is returned with the count of
    /// the last marker read: 0 when a command before <paramref name="first"/> failed, <c>first + k</c> when the k-th counted
    /// command did, <c>first + counted</c> when one after them did.
    /// </summary>
    /// <remarks>The marker is a SELECT of a constant: it takes no lock and commits nothing; it does reset
    /// <c>ROW_COUNT()</c> and the warnings, so a file whose statements read those runs one statement at a time
    /// (<see cref="ReadsPredecessorDiagnostics"/>). The commands before and after the counted ones need no marker each:
    /// the caller treats a failure anywhere among them alike, and a query that ends without an error completed them all
    /// (on fineract's 403 files, 2,400 statements fewer than a marker after every command).</remarks>
    private static async Task<(int Completed, Exception? Failure)> RunCountingAsync(
        DbSession session, List<SessionCommand> commands, int first, int counted, CancellationToken cancellationToken)
    {
        var sent = new List<SessionCommand>(commands.Count + counted + 1);
        for (var i = 0; i < commands.Count; i++)
        {
            sent.Add(commands[i]);
            if (i == first - 1 || (i >= first && i < first + counted))
            {
                sent.Add(SessionCommand.Plain($"SELECT {(i + 1).ToString(CultureInfo.InvariantCulture)} AS {CompletedMarker}"));
            }
        }

        var completed = 0;
        try
        {
            await using var batch = session.Batch(sent);
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            do
            {
                // Rows a migration's own SELECT returns are skipped; only the markers count.
                if (reader.FieldCount == 1 && reader.GetName(0) == CompletedMarker && await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    completed = Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
                }
            }
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

            return (commands.Count, null);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null)
        {
            return (completed, ex);
        }
    }

    /// <summary>Whether the file opens a transaction of its own and leaves it open after its last statement.</summary>
    private bool EndsInOwnTransaction(MigrationScript script)
    {
        var tracker = new CommitTracker(engine);
        foreach (var statement in script.Statements)
        {
            tracker.Ran(statement.Control);
        }

        return tracker.InOwnTransaction;
    }

    /// <summary>Follows a file's own transaction commands to know whether any statement has been committed yet.</summary>
    private sealed class CommitTracker(SqlEngine engine)
    {
        public bool Committed { get; private set; }

        public bool InOwnTransaction { get; private set; }

        public void Ran(TransactionControl control)
        {
            switch (control)
            {
                case TransactionControl.Begin:
                    InOwnTransaction = true;
                    break;
                case TransactionControl.Commit:
                    Committed |= InOwnTransaction;
                    InOwnTransaction = false;
                    break;
                case TransactionControl.Rollback:
                    InOwnTransaction = false;
                    break;
                default:
                    // Without transactional DDL (MySQL) every statement commits implicitly, even inside a transaction.
                    Committed |= !InOwnTransaction || !engine.TransactionalDdl;
                    break;
            }
        }
    }

    private async Task<MigrationFailure?> ExecuteAsync(DbSession session, MigrationScript script, SqlStatement statement, bool leftDirty, CancellationToken cancellationToken)
    {
        try
        {
            await session.ExecuteStatementAsync(statement.Text, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            return Failure(script, engine.Locate(statement, ex), error, leftDirty, statement.Text);
        }
    }

    private static async Task TryExecuteAsync(DbSession session, string sql)
    {
        try
        {
            await session.ExecuteAsync(sql, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null || ex is InvalidOperationException)
        {
            // Best effort on a session that may be broken; the pool discards it.
        }
    }

    internal static MigrationFailure Failure(MigrationScript script, SourceLocation? location, DatabaseError error, bool leftDirty, string? statement) =>
        new(script.Migration.Id, script.Migration.FileName, location, error.Kind, error.ServerMessage, error.ServerCode, leftDirty, statement);
}
