using System.Diagnostics.CodeAnalysis;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Schema;
using Gatekeeper.Databases.Schema;
using DatabaseTarget = Gatekeeper.Databases.DatabaseTarget;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Sources;

namespace Gatekeeper.Webhook.Rollouts;

/// <summary>
/// Either the database to plan against (its URL prints only redacted, so the credential never passes through the
/// webhook's code as text) or one sentence saying what is wrong with the URL (which it never repeats).
/// </summary>
public sealed record DatabaseTargetResult(DatabaseTarget? Target, string? Problem)
{
    /// <summary>True when the URL named a database, false when <see cref="Problem"/> says what is wrong with it; an outcome holds exactly one of <see cref="Target"/> and <see cref="Problem"/>.</summary>
    [MemberNotNullWhen(true, nameof(Target))]
    [MemberNotNullWhen(false, nameof(Problem))]
    public bool Resolved => Target is not null;
}

/// <summary>Where a dry-run failed and the server's message; <see cref="Notes"/> say what it could not check.</summary>
/// <param name="Place">How and where it ran, for messages: "on a throwaway copy of the schema on dev-db:5432".</param>
public sealed record DryRunResult(bool Succeeded, string? FailedAt, string? Message, IReadOnlyList<string> Notes, TimeSpan Elapsed, string Place);

/// <summary>A declarative plan (or where the desired state failed to load) and the last apply recorded (null: none yet).</summary>
public sealed record DeclarativePlanning(DeclarativePlanResult Planned, DeclarativeApply? LastApplied);

/// <summary>Why a database call failed, in one sentence; a permission error is configuration, never an outage.</summary>
public sealed record DatabaseFailure(string Message, bool PermissionDenied);

/// <summary>
/// What the webhook needs from the database engine (Gatekeeper.Databases): resolve a URL, read the history, dry-run
/// a plan, and say in one sentence why a call failed. Calls throw on I/O failures; <see cref="ResilientCalls"/>
/// retries the transient ones.
/// </summary>
public interface IPlanningDatabase
{
    /// <param name="namespace">The Deployment's namespace: a short host in its Secret names a Service there, as its pods resolve it.</param>
    /// <param name="format">The directory's format, which decides whose layout a history table that does not exist yet will have.</param>
    DatabaseTargetResult Resolve(SecretValue url, string @namespace, string historyTable, MigrationFormat? format);

    Task<HistoryState> ReadHistoryAsync(DatabaseTarget target, CancellationToken cancellationToken);

    /// <summary>The live tables (sizes, columns) and server version the linter judges the plan against.</summary>
    Task<Databases.LiveSchema> ReadSchemaAsync(DatabaseTarget target, CancellationToken cancellationToken);

    /// <summary>
    /// Proves the plan's pending migrations apply, leaving the database as it was: on a throwaway copy on
    /// <paramref name="devServer"/> (or the target's own server), or with <see cref="DryRunMode.Live"/> in a rolled-back
    /// transaction on the target.
    /// </summary>
    Task<DryRunResult> DryRunAsync(DatabaseTarget target, MigrationDirectory directory, MigrationPlan plan, DryRunMode mode, DatabaseTarget? devServer, CancellationToken cancellationToken);

    /// <summary>
    /// The read-only pre-flight of the plan's tables on the live database: sessions its locks would queue behind,
    /// INVALID indexes, and rows its changes would fail on (the data pre-checks share <paramref name="budget"/>).
    /// Sessions whose transaction is younger than <paramref name="minimumAge"/> are not named. The files are read in
    /// <paramref name="modes"/> (the session's MySQL sql_mode, as the schema read found it).
    /// A right the credential lacks is a note in the result, not a failure.
    /// </summary>
    Task<PreflightEvidence.Ran> PreflightAsync(DatabaseTarget target, MigrationPlan plan, Core.Sql.SqlModes modes, TimeSpan minimumAge, TimeSpan budget, CancellationToken cancellationToken);

    /// <summary>
    /// Declarative mode: the plan that makes <paramref name="target"/> match <paramref name="desired"/>, the desired state
    /// loaded into a throwaway database on <paramref name="devServer"/> (the dev database server, or the target's own),
    /// and the last apply on record, which tells drift from change. A load failure is a value; I/O failures throw.
    /// </summary>
    Task<DeclarativePlanning> PlanSchemaAsync(DatabaseTarget target, DatabaseTarget devServer, DesiredSchema desired, SchemaExclusions exclusions, CancellationToken cancellationToken);

    /// <summary>"database unreachable: …", "user reader may not …; grant …": one sentence, no secret.</summary>
    DatabaseFailure Describe(Exception failure, DatabaseTarget target);
}
