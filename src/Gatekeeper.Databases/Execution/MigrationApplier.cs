using System.Data;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.History;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Databases.Execution;

/// <summary>
/// Applies one prepared migration on one session: in a transaction with its history row, or statement by statement
/// between a dirty mark and its clearing. A lock timeout of which nothing was committed is retried with backoff.
/// </summary>
internal sealed class MigrationApplier(SqlEngine engine, MigrationDatabaseOptions options, string databaseLabel, ILogger logger)
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

    private async Task<(MigrationFailure? Failure, bool NothingCommitted)> RunInTransactionAsync(
        DbSession session, HistoryTableLayout history, MigrationScript script, HistoryEntry entry, long started, CancellationToken cancellationToken)
    {
        try
        {
            await session.BeginAsync(cancellationToken).ConfigureAwait(false);
            if (engine.SendsBatches && session.Connection.CanCreateBatch)
            {
                var failure = await RunAsBatchAsync(session, script, cancellationToken).ConfigureAwait(false);
                if (failure is not null)
                {
                    await session.RollbackQuietlyAsync().ConfigureAwait(false);
                    return (failure, true);
                }
            }
            else
            {
                var failure = await RunOneByOneAsync(session, script, cancellationToken).ConfigureAwait(false);
                if (failure is not null)
                {
                    await session.RollbackQuietlyAsync().ConfigureAwait(false);
                    return (failure, true);
                }
            }

            await history.RecordAppliedAsync(session, entry, _time.GetElapsedTime(started), _time.GetUtcNow().UtcDateTime, cancellationToken).ConfigureAwait(false);
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

    // PostgreSQL: the lock timeout and every statement in one batch, so a migration costs about three round trips
    // (batch, history row, commit) instead of one per statement; the batch's commands tell where it stopped.
    private async Task<MigrationFailure?> RunAsBatchAsync(DbSession session, MigrationScript script, CancellationToken cancellationToken)
    {
        var texts = new List<string>(script.Statements.Count + 1);
        if (!script.SetsOwnLockTimeout)
        {
            texts.Add(engine.SetLockTimeout(options.StatementLockTimeout, transactionLocal: true));
        }

        var first = texts.Count;
        texts.AddRange(script.Statements.Select(s => s.Statement.Text));
        if (texts.Count == 0)
        {
            return null;
        }

        await using var batch = session.Batch(texts);
        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            var index = engine.StoppedAt(batch) - first;
            if (index < 0 || index >= script.Statements.Count)
            {
                // The lock timeout setting itself failed: no statement of the file ran.
                return Failure(script, null, error, leftDirty: false, null);
            }

            var statement = script.Statements[index].Statement;
            return Failure(script, engine.Locate(statement, ex), error, leftDirty: false, statement.Text);
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
        var committed = false;
        var inOwnTransaction = false;
        var marked = false;
        try
        {
            if (!script.SetsOwnLockTimeout)
            {
                await session.ExecuteAsync(engine.SetLockTimeout(options.StatementLockTimeout, transactionLocal: false), cancellationToken).ConfigureAwait(false);
            }

            await history.MarkStartedAsync(session, entry, _time.GetUtcNow().UtcDateTime, cancellationToken).ConfigureAwait(false);
            marked = true;

            for (var i = 0; i < script.Statements.Count; i++)
            {
                var statement = script.Statements[i];
                var failure = await ExecuteAsync(session, script, statement.Statement, leftDirty: false, cancellationToken).ConfigureAwait(false);
                if (failure is not null)
                {
                    if (session.Connection.State != ConnectionState.Open)
                    {
                        // The session died (server stopped, network cut): nothing more can be written on it, so the started
                        // mark stays and the next run finds the migration dirty. Writing here would only throw past this catch.
                        return (failure with { LeftDirty = true }, !committed);
                    }

                    if (inOwnTransaction)
                    {
                        await TryExecuteAsync(session, "ROLLBACK").ConfigureAwait(false);
                    }

                    if (!committed)
                    {
                        await history.ForgetStartedAsync(session, entry, cancellationToken).ConfigureAwait(false);
                        return (failure, true);
                    }

                    failure = failure with { LeftDirty = true };
                    await history.MarkFailedAsync(session, entry, failure.ToString(), statement.Text, i, cancellationToken).ConfigureAwait(false);
                    return (failure, false);
                }

                switch (statement.Control)
                {
                    case TransactionControl.Begin:
                        inOwnTransaction = true;
                        break;
                    case TransactionControl.Commit:
                        committed |= inOwnTransaction;
                        inOwnTransaction = false;
                        break;
                    case TransactionControl.Rollback:
                        inOwnTransaction = false;
                        break;
                    default:
                        // Without transactional DDL (MySQL) every statement commits implicitly, even inside a transaction.
                        committed |= !inOwnTransaction || !engine.TransactionalDdl;
                        break;
                }
            }

            if (inOwnTransaction)
            {
                // The file opened a transaction and never closed it; psql would commit it at exit, and so does Gatekeeper.
                await session.ExecuteAsync("COMMIT", cancellationToken).ConfigureAwait(false);
            }

            await history.MarkFinishedAsync(session, entry, _time.GetElapsedTime(started), _time.GetUtcNow().UtcDateTime, cancellationToken).ConfigureAwait(false);
            return (null, false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            // The session broke while writing history: a mark written before stays, and the next run sees it.
            return (Failure(script, null, error, leftDirty: marked && committed, null), !committed);
        }
        finally
        {
            if (!script.SetsOwnLockTimeout)
            {
                await TryExecuteAsync(session, engine.ResetLockTimeout).ConfigureAwait(false);
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
