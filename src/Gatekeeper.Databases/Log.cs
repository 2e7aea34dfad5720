using Microsoft.Extensions.Logging;

namespace Gatekeeper.Databases;

/// <summary>
/// Every log line of the database layer, each with a stable event id. Servers appear as host:port and database
/// name only; no message here takes a URL, a connection string or a password.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Waiting for the migration lock on {Database} (up to {TimeoutSeconds} s)")]
    public static partial void WaitingForMigrationLock(ILogger logger, string database, double timeoutSeconds);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Took the migration lock on {Database} after {WaitedMilliseconds} ms")]
    public static partial void MigrationLockAcquired(ILogger logger, string database, long waitedMilliseconds);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Another migration holds the lock on {Database}; gave up after {TimeoutSeconds} s")]
    public static partial void MigrationLockTimedOut(ILogger logger, string database, double timeoutSeconds);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Released the migration lock on {Database}")]
    public static partial void MigrationLockReleased(ILogger logger, string database);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Could not release the migration lock on {Database}; it ends with the session")]
    public static partial void MigrationLockReleaseFailed(ILogger logger, string database, Exception exception);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Created history table {Table} ({Kind}) on {Database}")]
    public static partial void HistoryTableCreated(ILogger logger, string table, string kind, string database);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Information, Message = "Applying {MigrationId} ({File}) on {Database}")]
    public static partial void MigrationStarting(ILogger logger, string migrationId, string file, string database);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Information, Message = "Applied {MigrationId} on {Database} in {ElapsedMilliseconds} ms")]
    public static partial void MigrationApplied(ILogger logger, string migrationId, string database, long elapsedMilliseconds);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Error, Message = "Migration {MigrationId} failed on {Database} at {Location}: {ServerMessage}")]
    public static partial void MigrationFailed(ILogger logger, string migrationId, string database, string location, string serverMessage);

    [LoggerMessage(EventId = 2023, Level = LogLevel.Warning, Message = "Migration {MigrationId} timed out waiting for a lock on {Database} (attempt {Attempt} of {Attempts}); retrying in {DelayMilliseconds} ms")]
    public static partial void MigrationLockTimeoutRetry(ILogger logger, string migrationId, string database, int attempt, int attempts, long delayMilliseconds);

    [LoggerMessage(EventId = 2024, Level = LogLevel.Error, Message = "Migration {MigrationId} failed half-way on {Database}; it is marked dirty in {Table}")]
    public static partial void MigrationLeftDirty(ILogger logger, string migrationId, string database, string table);

    [LoggerMessage(EventId = 2025, Level = LogLevel.Warning, Message = "Cleared the dirty mark of {MigrationId} in {Table} on {Database}")]
    public static partial void MigrationRepaired(ILogger logger, string migrationId, string table, string database);

    [LoggerMessage(EventId = 2026, Level = LogLevel.Warning, Message = "Migration {MigrationId} is not retried on {Database}: its session could not be reset for the retry")]
    public static partial void MigrationRetrySessionLost(ILogger logger, string migrationId, string database, Exception exception);

    [LoggerMessage(EventId = 2030, Level = LogLevel.Information, Message = "Dry-running {Count} migrations on {Database}")]
    public static partial void DryRunStarting(ILogger logger, int count, string database);

    [LoggerMessage(EventId = 2031, Level = LogLevel.Information, Message = "Dry-run skipped {Location}: {Reason}")]
    public static partial void DryRunStatementSkipped(ILogger logger, string location, string reason);

    [LoggerMessage(EventId = 2032, Level = LogLevel.Information, Message = "Copied {Objects} objects of {Database} into throwaway database {Shadow} on {Server}")]
    public static partial void ShadowDatabaseCreated(ILogger logger, int objects, string database, string shadow, string server);

    [LoggerMessage(EventId = 2033, Level = LogLevel.Warning, Message = "Could not drop throwaway database {Shadow} on {Server}; the next dry-run there drops it once it is an hour old")]
    public static partial void ThrowawayDatabaseDropFailed(ILogger logger, string shadow, string server, Exception exception);

    [LoggerMessage(EventId = 2034, Level = LogLevel.Debug, Message = "Created throwaway database {Shadow} on {Server}")]
    public static partial void ThrowawayDatabaseCreated(ILogger logger, string shadow, string server);

    [LoggerMessage(EventId = 2035, Level = LogLevel.Information, Message = "Dropped throwaway database {Shadow} on {Server}, left behind more than an hour ago")]
    public static partial void StaleThrowawayDatabaseDropped(ILogger logger, string shadow, string server);

    [LoggerMessage(EventId = 2036, Level = LogLevel.Debug, Message = "Left stale throwaway databases on {Server} alone: {Reason}")]
    public static partial void StaleThrowawayDatabaseKept(ILogger logger, string server, string reason);

    // Declarative schema mode (2080–2099).
    [LoggerMessage(EventId = 2080, Level = LogLevel.Information, Message = "Planned {Changes} schema change(s) for {Database} (plan {PlanHash}) in {ElapsedMilliseconds} ms")]
    public static partial void SchemaPlanned(ILogger logger, string database, int changes, string planHash, long elapsedMilliseconds);
}
