using Gatekeeper.Core.Lint;

namespace Gatekeeper.Core.Planning;

/// <summary>Who reads the verdict, which decides how its messages tell a person to get past it.</summary>
public enum VerdictAudience
{
    /// <summary><c>kubectl apply</c>: the way past a finding is an annotation on the Deployment.</summary>
    Admission,
    /// <summary><c>gatekeeper plan</c> and <c>gatekeeper migrate</c> (also inside the migration Job): flags.</summary>
    CommandLine,
}

public enum PlanVerdictOutcome
{
    Admit,
    Reject,
    /// <summary>Everything judged so far admits the plan; it still has to prove it applies (run the dry-run, then judge again).</summary>
    DryRunNeeded,
}

/// <summary>Why a plan was admitted or rejected: the metric's reason label and the Event's reason.</summary>
public static class PlanVerdictReasons
{
    public const string Planned = "Planned";
    public const string PlanBlocked = "PlanBlocked";
    public const string LintRejected = "LintRejected";
    public const string DryRunFailed = "DryRunFailed";
    public const string DryRunNeeded = "DryRunNeeded";

    /// <summary>The pod template carries a plan other than the one made now (admission).</summary>
    public const string StaleStamp = "StaleStamp";

    /// <summary>The plan made under the migration lock is not the one <c>--expect-plan</c> names.</summary>
    public const string PlanChanged = "PlanChanged";

    public const string DatabaseUnreachable = "DatabaseUnreachable";

    /// <summary>Rows already in a live table would make a pending change fail (the data pre-checks).</summary>
    public const string ExistingRowsViolate = "ExistingRowsViolate";

    /// <summary>Open transactions on the plan's tables would make its locks wait, and all traffic behind them (the lock pre-flight).</summary>
    public const string LocksBlocked = "LocksBlocked";

    /// <summary>A credential lacks a right Gatekeeper needs: configuration to fix, never an outage.</summary>
    public const string DatabasePermissionDenied = "DatabasePermissionDenied";
}

/// <summary>
/// The plan a caller expects: the hash stamped on the pod template (admission) or given with <c>--expect-plan</c>
/// (the migration Job). A null <see cref="Hash"/> expects nothing to be pending.
/// </summary>
/// <param name="AcceptsRemainder">True for a runner that may resume an attempt that applied part of the expected
/// plan before it failed: what is still pending must then be exactly the rest of that plan.</param>
public sealed record PlanExpectation(string? Hash, bool AcceptsRemainder);

/// <summary>What a dry-run showed, or why there is none.</summary>
public abstract record DryRunEvidence
{
    private DryRunEvidence()
    {
    }

    /// <summary>No dry-run was asked for. <paramref name="Why"/>, when set, is said as a warning (<c>gatekeeper.dev/dry-run: none</c>).</summary>
    public sealed record NotRun(string? Why) : DryRunEvidence;

    /// <summary>A dry-run is wanted and has not run yet.</summary>
    public sealed record Pending : DryRunEvidence;

    /// <param name="Notes">Statements the dry-run could not check, and why.</param>
    public sealed record Succeeded(IReadOnlyList<string> Notes) : DryRunEvidence;

    /// <param name="Where">Where and how it ran, e.g. <c>on postgres://db:5432/shop (in a transaction that was rolled back)</c>.</param>
    /// <param name="At">The failing statement's <c>file:line:column</c>.</param>
    /// <param name="Message">The server's message.</param>
    public sealed record Failed(string Where, string? At, string Message) : DryRunEvidence;

    /// <summary>The dry-run could not reach the database; nothing is known about the plan.</summary>
    public sealed record Unreachable(string Message) : DryRunEvidence;

    /// <summary>A credential may not do what the dry-run needs (create the throwaway copy, read the catalog).</summary>
    public sealed record NotPermitted(string Message) : DryRunEvidence;

    public static DryRunEvidence None { get; } = new NotRun(null);

    public static DryRunEvidence Wanted { get; } = new Pending();
}

/// <summary>Everything a plan is judged on. Gathering it is the caller's I/O; judging it is <see cref="PlanJudge.Judge"/>.</summary>
public sealed record PlanEvidence
{
    public required MigrationPlan Plan { get; init; }

    public required VerdictAudience Audience { get; init; }

    /// <summary>What the plan is for, in messages: <c>team-a/shop</c> (a Deployment) or the database.</summary>
    public required string Subject { get; init; }

    /// <summary>
    /// The lint of the pending migrations; required when something is pending. The team's allow rules (annotation or
    /// <c>--allow</c>) and inline <c>gatekeeper:allow</c> directives are applied by the linter
    /// (<see cref="LintOptions.Allow"/>), so <c>gatekeeper lint</c> and every verdict agree on what an allowance covers:
    /// an allowed finding carries <see cref="LintFinding.AllowedBy"/> and never blocks.
    /// </summary>
    public LintReport? Lint { get; init; }

    /// <summary>A plan hash the team approved despite blocking findings (<c>gatekeeper.dev/approve-plan</c>, <c>--approve-plan</c>).</summary>
    public string? ApprovedPlanHash { get; init; }

    public PlanExpectation? Expected { get; init; }

    public DryRunEvidence DryRun { get; init; } = DryRunEvidence.None;

    /// <summary>Files left out on purpose (<c>gatekeeper.dev/ignore</c>, <c>--ignore</c>); an admission names them, so nothing is skipped silently.</summary>
    public IReadOnlyList<string> Ignored { get; init; } = [];

    /// <summary>Why the live schema could not be read, when it could not: findings were then judged from the text alone.</summary>
    public string? SchemaProblem { get; init; }

    /// <summary>One sentence when the server printed a version that cannot be read (version-dependent rules then judged as for a current server).</summary>
    public string? ServerVersionProblem { get; init; }

    /// <summary>
    /// What the read-only look at the live database found: sessions the plan's locks would queue behind, INVALID
    /// indexes, rows the plan's changes would fail on. Gathered for every judgement of a plan, cached dry-run or not.
    /// </summary>
    public PreflightEvidence Preflight { get; init; } = PreflightEvidence.None;

    public LockPreflightPolicy LockPolicy { get; init; } = LockPreflightPolicy.Deny;
}

/// <summary>
/// The answer: admit (with warnings), reject (with a message a person can act on), or run the dry-run and ask again.
/// </summary>
/// <param name="Undecidable">True when an outage, not the plan, stopped the judgement (a namespace that fails open admits then).</param>
public sealed record PlanVerdict(PlanVerdictOutcome Outcome, string Reason, string? Message, IReadOnlyList<string> Warnings, bool Undecidable = false)
{
    public bool Allowed => Outcome == PlanVerdictOutcome.Admit;

    /// <summary>The findings that would block the plan, allowed by nothing (empty when there are none).</summary>
    public IReadOnlyList<LintFinding> Blocking { get; init; } = [];

    /// <summary>True when <see cref="Blocking"/> findings are admitted because this exact plan was approved (or expected).</summary>
    public bool Approved { get; init; }

    public static PlanVerdict Allow(IReadOnlyList<string> warnings) => new(PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, null, warnings);

    public static PlanVerdict Deny(string reason, string message, IReadOnlyList<string> warnings, bool undecidable = false) =>
        new(PlanVerdictOutcome.Reject, reason, message, warnings, undecidable);
}
