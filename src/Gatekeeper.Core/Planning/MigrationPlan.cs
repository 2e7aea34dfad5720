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
/// <param name="Hash">sha256 over the database identity and the ordered (id, checksum) list of pending migrations.</param>
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

    public bool IsBlocked => Problems.Count > 0;

    public bool IsEmpty => Pending.Count == 0;
}
