using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Planning;

public enum PlanProblemKind
{
    /// <summary>An applied migration's file changed since it was applied.</summary>
    Drift,
    /// <summary>The history lists a migration whose file is gone.</summary>
    Missing,
    /// <summary>A new file's version is below the latest applied one.</summary>
    OutOfOrder,
    /// <summary>A migration failed half-way (MySQL has no transactional DDL) and must be repaired by a person.</summary>
    Dirty,
}

/// <summary>Something that stops a plan from being applied, with a reason a person can act on.</summary>
public sealed record PlanProblem(PlanProblemKind Kind, string MigrationId, string? File, string Message)
{
    public override string ToString() => Message;
}

/// <summary>
/// What applying a directory to a database would do.
/// </summary>
/// <param name="Database">Where (no credentials).</param>
/// <param name="Pending">Migrations to apply, in order.</param>
/// <param name="Applied">Migrations the history says are applied and whose files are present.</param>
/// <param name="Problems">Drift, missing, out-of-order and dirty findings; any of them blocks the plan.</param>
/// <param name="Hash">The plan hash (<see cref="PlanKeys.PlanHash"/>): engine, history table, the applied migrations the plan
/// starts from and the pending ones, not where the database is; what approvals name and messages print.</param>
/// <param name="TargetVersion">The id of the last migration once the plan is applied (what new pods need).</param>
public sealed record MigrationPlan(
    DatabaseIdentity Database,
    IReadOnlyList<Migration> Pending,
    IReadOnlyList<Migration> Applied,
    IReadOnlyList<PlanProblem> Problems,
    string Hash,
    string? TargetVersion)
{
    /// <summary>
    /// History rows newer than every file, when nothing is pending: the database is ahead of these files (a rollback, or
    /// files not updated yet). Not a problem: under expand/contract the older code runs on the newer schema.
    /// </summary>
    public IReadOnlyList<string> Ahead { get; init; } = [];

    /// <summary>
    /// The plan hash as written by Gatekeeper before version 3 (database identity and pending migrations), set by the
    /// planner only to recognise a stamp, Job or record an earlier version wrote; null when there is none to recognise.
    /// </summary>
    public string? LegacyHash { get; init; }

    /// <summary>
    /// What this plan's releases are keyed by on <see cref="Database"/> (<see cref="PlanKeys.ReleaseKey"/>): the pod
    /// template stamp, the migration Job's name, the applied-plan records and the pod gate.
    /// </summary>
    public string ReleaseKey => PlanKeys.ReleaseKey(Database, Hash);

    /// <summary>True when <paramref name="stamp"/>, read from a pod template, is this plan's release key (or the stamp an earlier version wrote for it).</summary>
    public bool IsStampedWith(string? stamp) =>
        stamp is not null && (string.Equals(stamp, ReleaseKey, StringComparison.Ordinal) || string.Equals(stamp, LegacyHash, StringComparison.Ordinal));

    public bool IsBlocked => Problems.Count > 0;

    public bool IsEmpty => Pending.Count == 0;
}
