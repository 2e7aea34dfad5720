using Microsoft.Extensions.Logging;

namespace Gatekeeper.Databases.Execution;

/// <summary>
/// A migration lock held on a session of its own (PostgreSQL advisory lock, MySQL GET_LOCK). Disposing runs the
/// engine's release statement once and then closes the session; closing alone would release it too, but an explicit
/// release matters for MySQL, whose pooled connections keep GET_LOCK locks.
/// </summary>
internal sealed class HeldSessionLock(DbSession session, string releaseSql, (string Name, object? Value) key, string label, ILogger logger) : IAsyncDisposable
{
    private int _released;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        try
        {
            await session.ScalarAsync(releaseSql, CancellationToken.None, key).ConfigureAwait(false);
            Log.MigrationLockReleased(logger, label);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null || ex is InvalidOperationException)
        {
            // Closing the session below releases it anyway.
            Log.MigrationLockReleaseFailed(logger, label, ex);
        }
        finally
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }
}
