using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases;

/// <summary>
/// How Gatekeeper talks to one database: which history table, and the timeouts that keep DDL from queueing traffic.
/// </summary>
public sealed record MigrationDatabaseOptions
{
    /// <summary>The history table to read and write; an existing tool's table is adopted in its own layout.</summary>
    public HistoryTableName HistoryTable { get; init; } = new(null, HistoryTableName.Default);

    /// <summary>The directory's format, which decides whose <c>schema_migrations</c> a table that does not exist yet will be.</summary>
    public MigrationFormat? Format { get; init; }

    /// <summary>
    /// Set as <c>lock_timeout</c> (PostgreSQL) / <c>lock_wait_timeout</c> (MySQL) before each migration that does not set its
    /// own, so a DDL stuck behind a long transaction fails fast instead of queueing all traffic behind it.
    /// </summary>
    public TimeSpan StatementLockTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times a migration that timed out on a lock, with nothing of it committed, is run again.</summary>
    public int LockTimeoutRetries { get; init; } = 3;

    /// <summary>Wait before the first retry; each further retry waits twice as long.</summary>
    public TimeSpan LockTimeoutBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Dry-run: <c>lock_timeout</c> for the whole plan (PostgreSQL).</summary>
    public TimeSpan DryRunLockTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Dry-run: <c>statement_timeout</c> (PostgreSQL) or command timeout (MySQL shadow) per statement.</summary>
    public TimeSpan DryRunStatementTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The limit on each of Gatekeeper's own bookkeeping statements (history and catalog reads, the dry-run's copy of the
    /// structure, repair), in place of a server's, database's or role's statement timeout, which is meant for the app
    /// and stays on the files' statements. Reached only when something holds them up (a lock on the history table).
    /// </summary>
    public TimeSpan OwnStatementTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
