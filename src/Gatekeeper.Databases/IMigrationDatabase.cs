using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases;

/// <summary>
/// One database as the migration engine sees it: its history, its migration lock, applying one migration, a dry-run,
/// and repairing a dirty mark. Opened from a <see cref="DatabaseUrl"/> by <see cref="MigrationDatabase.Open"/>.
/// Connection failures throw <see cref="DatabaseException"/> with a one-line, password-free message; a failed
/// migration or dry-run is a value.
/// </summary>
public interface IMigrationDatabase : IAsyncDisposable
{
    /// <summary>Where, without credentials (for plans, messages and metrics).</summary>
    DatabaseIdentity Identity { get; }

    DatabaseEngine Engine { get; }

    /// <summary>
    /// How the database's sessions read text (MySQL's <c>sql_mode</c>), once a call read it along with what it asked
    /// (the catalog read, the migration lock); null before. Files are cut, linted and sent in it.
    /// </summary>
    Core.Sql.SqlModes? SessionModes { get; }

    /// <summary>Reads the history table in its own layout; an absent table is an empty history, not an error.</summary>
    Task<HistoryState> ReadHistoryAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Reads the history table as <see cref="ReadHistoryAsync(CancellationToken)"/> does, in one round trip when it still
    /// has the layout <paramref name="expectedKind"/> an earlier read found (the webhook's admissions read the same table
    /// again and again); otherwise, or when null, as usual.
    /// </summary>
    Task<HistoryState> ReadHistoryAsync(HistoryTableKind? expectedKind, CancellationToken cancellationToken);

    /// <summary>
    /// Reads every user table (system schemas excluded) with its estimated row count and columns, and the server's major
    /// version, in one query per kind, for <c>LintOptions.Schema</c> and <c>LintOptions.ServerMajorVersion</c>. A table
    /// never analysed has a negative estimate (unknown).
    /// </summary>
    Task<LiveSchema> ReadSchemaAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes the database-wide migration lock (keyed by database and history table) on a session of its own, waiting up to
    /// <paramref name="timeout"/>; throws <see cref="DatabaseException"/> of kind <see cref="DatabaseErrorKind.MigrationLockHeld"/>
    /// ("another migration holds the lock on …") when it cannot. Disposing releases it.
    /// </summary>
    Task<IAsyncDisposable> AcquireMigrationLockAsync(TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Opens the pooled session that history reads and migrations use, ahead of need, and leaves it in the pool: the runner
    /// connects it while the lock's own session connects and takes the lock, so the two connections are paid once, not in
    /// turn. A failure here is thrown as by any other call (the next call that needs the server meets it again).
    /// </summary>
    Task ConnectAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Applies one migration and records it in the history table (creating the table when absent). The caller holds the
    /// migration lock. <paramref name="directory"/> supplies what some layouts record beyond the file (Atlas's running hash).
    /// </summary>
    Task<MigrationApplyResult> ApplyAsync(MigrationDirectory directory, Migration migration, CancellationToken cancellationToken);

    /// <summary>
    /// Checks that <paramref name="migrations"/> would apply, leaving the database as it was: by default on a throwaway
    /// copy of its structure (no DDL reaches the database; only its catalog is read), or with
    /// <see cref="DryRunMode.Transaction"/> in a rolled-back transaction on the database itself (engines with
    /// transactional DDL; others are tried on a copy, which the report's mode says).
    /// </summary>
    Task<DryRunReport> DryRunAsync(MigrationDirectory directory, IReadOnlyList<Migration> migrations, DryRunSettings settings, CancellationToken cancellationToken);

    /// <summary>Dry-runs on a throwaway copy on the database's own server (<see cref="DryRunSettings.OffProduction"/>).</summary>
    Task<DryRunReport> DryRunAsync(MigrationDirectory directory, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken) =>
        DryRunAsync(directory, migrations, DryRunSettings.OffProduction, cancellationToken);

    /// <summary>
    /// The lock pre-flight, read-only: sessions whose open transactions hold (or wait for) locks on the tables
    /// <paramref name="locks"/> name, so the plan's statements would queue behind them, and INVALID indexes on those
    /// tables. Names blockers by session id, user, state and age, never by their queries.
    /// </summary>
    Task<Core.Planning.LockPreflight> InspectLocksAsync(IReadOnlyList<Core.Planning.TableLock> locks, Preflight.PreflightOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// The data pre-checks, read-only and bounded: for each change existing rows can fail, one row that would (named by
    /// its primary key only), or why it could not be checked.
    /// </summary>
    Task<Core.Planning.DataPrechecks> PrecheckDataAsync(IReadOnlyList<Core.Planning.DataCheck> checks, Preflight.PreflightOptions options, CancellationToken cancellationToken);

    /// <summary>Clears the dirty mark of <paramref name="migrationId"/> after a person repaired the schema by hand.</summary>
    Task<RepairResult> RepairAsync(MigrationDirectory directory, string migrationId, RepairResolution resolution, CancellationToken cancellationToken);
}
