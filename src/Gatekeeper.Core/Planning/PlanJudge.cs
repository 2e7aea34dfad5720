using System.Text;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Lint;

namespace Gatekeeper.Core.Planning;

/// <summary>
/// The one verdict on a plan, for the admission webhook, <c>gatekeeper plan</c> and <c>gatekeeper migrate</c> alike.
/// Pure: the callers read the history, the live schema, look at the live database and run the dry-run; this decides,
/// in this order: history problems (never allowable), a plan other than the expected one, nothing to do, rows that
/// would fail a change (never allowable), blocking lint findings (unless allowed or the plan approved), open
/// transactions the plan's locks would wait behind (deny or warn by policy), then the dry-run.
/// </summary>
public static class PlanJudge
{
    public static PlanVerdict Judge(PlanEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        var plan = evidence.Plan;
        var audience = evidence.Audience;
        if (plan.IsBlocked)
        {
            return PlanVerdict.Deny(PlanVerdictReasons.PlanBlocked, PlanVerdictMessages.Blocked(audience, evidence.Subject, plan), []);
        }

        var expectation = Expectation(evidence);
        if (expectation == ExpectationMatch.Mismatch)
        {
            return audience == VerdictAudience.Admission
                ? PlanVerdict.Deny(PlanVerdictReasons.StaleStamp, PlanVerdictMessages.StaleStamp(evidence.Subject, evidence.Expected!.Hash, plan), [])
                : PlanVerdict.Deny(PlanVerdictReasons.PlanChanged, PlanVerdictMessages.PlanChanged(evidence.Expected!.Hash, plan), []);
        }

        if (plan.IsEmpty)
        {
            return PlanVerdict.Allow(plan.Ahead.Count > 0 ? [PlanVerdictMessages.Ahead(audience, plan)] : []);
        }

        // Rows that would fail a change come first: no allow or approval gets past them, so they are what to fix first.
        if (evidence.Preflight is PreflightEvidence.Ran { Data.Violations.Count: > 0 } failing)
        {
            return PlanVerdict.Deny(PlanVerdictReasons.ExistingRowsViolate, PreflightMessages.ExistingRows(audience, evidence.Subject, plan, failing.Data.Violations), []);
        }

        var lint = evidence.Lint ?? throw new ArgumentException("a plan with pending migrations is judged with its lint report", nameof(evidence));
        var blocking = lint.Findings.Where(f => f.IsBlocking).ToList();
        // The approval names the plan hash, which is the same wherever the same history is; an approval written before hash
        // version 3 named that version's hash and still holds for the plan it named.
        var approvedByHash = evidence.ApprovedPlanHash is { } approval
            && (string.Equals(approval, plan.Hash, StringComparison.Ordinal) || string.Equals(approval, plan.LegacyHash, StringComparison.Ordinal));
        var approvedByExpectation = expectation is ExpectationMatch.Exact or ExpectationMatch.Remainder && audience == VerdictAudience.CommandLine;
        var approved = blocking.Count > 0 && (approvedByHash || approvedByExpectation);
        if (blocking.Count > 0 && !approved)
        {
            return PlanVerdict.Deny(PlanVerdictReasons.LintRejected, PlanVerdictMessages.Unsafe(audience, evidence.Subject, plan, blocking), []) with { Blocking = blocking };
        }

        // At kubectl apply the warnings are all a person sees; the command line prints the plan, findings and dry-run
        // itself, so its warnings carry only what it would not show otherwise.
        var warnings = new List<string>();
        if (audience == VerdictAudience.Admission)
        {
            warnings.Add(PlanVerdictMessages.Summary(plan));
            if (evidence.Ignored.Count > 0)
            {
                warnings.Add(PlanVerdictMessages.Ignored(evidence.Ignored));
            }
        }

        if (evidence.SchemaProblem is { } problem)
        {
            warnings.Add($"the live schema could not be read ({problem}): findings were judged from the migration text alone");
        }

        if (evidence.ServerVersionProblem is { } version)
        {
            warnings.Add(version);
        }

        if (approved)
        {
            warnings.Add(approvedByHash
                ? PlanVerdictMessages.ApprovedByHash(audience, plan, blocking.Count)
                : PlanVerdictMessages.ApprovedByExpectation(evidence.Expected!.Hash!, plan, blocking.Count, expectation == ExpectationMatch.Remainder));
        }

        if (audience == VerdictAudience.Admission)
        {
            warnings.AddRange(lint.Findings.Select(PlanVerdictMessages.Warning));
        }

        if (JudgePreflight(evidence, warnings) is { } preflightDenial)
        {
            return preflightDenial;
        }

        switch (evidence.DryRun)
        {
            case DryRunEvidence.NotRun notRun:
                if (notRun.Why is { } why)
                {
                    warnings.Add($"the plan was not dry-run ({why})");
                }

                return Admit(warnings, blocking, approved);
            case DryRunEvidence.Pending:
                return new PlanVerdict(PlanVerdictOutcome.DryRunNeeded, PlanVerdictReasons.DryRunNeeded, null, warnings) { Blocking = blocking, Approved = approved };
            case DryRunEvidence.Unreachable unreachable:
                return PlanVerdict.Deny(PlanVerdictReasons.DatabaseUnreachable, unreachable.Message, [], undecidable: true);
            case DryRunEvidence.NotPermitted notPermitted:
                return PlanVerdict.Deny(PlanVerdictReasons.DatabasePermissionDenied, $"{Prefix(audience)}{notPermitted.Message}", []);
            case DryRunEvidence.Failed failed:
                return PlanVerdict.Deny(PlanVerdictReasons.DryRunFailed, PlanVerdictMessages.DryRunFailed(audience, evidence.Subject, plan, failed), []);
            case DryRunEvidence.Succeeded succeeded:
                if (audience == VerdictAudience.Admission)
                {
                    warnings.AddRange(succeeded.Notes.Select(note => $"not checked by the dry-run: {note}"));
                }

                return Admit(warnings, blocking, approved);
            default:
                throw new ArgumentOutOfRangeException(nameof(evidence), evidence.DryRun, "unknown dry-run evidence");
        }
    }

    /// <summary>
    /// The rest of the pre-flight, before any dry-run (rows that would fail a change denied before the lint): blockers
    /// deny or warn by policy; what it could not see or check, and INVALID indexes, are warnings.
    /// </summary>
    private static PlanVerdict? JudgePreflight(PlanEvidence evidence, List<string> warnings)
    {
        var plan = evidence.Plan;
        switch (evidence.Preflight)
        {
            case PreflightEvidence.NotRun:
                return null;
            case PreflightEvidence.Unreachable unreachable:
                return PlanVerdict.Deny(PlanVerdictReasons.DatabaseUnreachable, PreflightMessages.PreflightUnreachable(evidence.Audience, plan, unreachable.Message), [], undecidable: true);
            case PreflightEvidence.Ran ran:
                if (ran.Locks.Blockers.Count > 0 && evidence.LockPolicy == LockPreflightPolicy.Deny)
                {
                    return PlanVerdict.Deny(PlanVerdictReasons.LocksBlocked, PreflightMessages.Blocked(evidence.Audience, evidence.Subject, plan, ran.Locks.Blockers), []);
                }

                var prefix = Prefix(evidence.Audience);
                warnings.AddRange(ran.Locks.Blockers.Select(b => $"{prefix}the plan's locks would wait behind an open transaction: {b}"));
                warnings.AddRange(ran.Locks.InvalidIndexes.Select(i => $"{prefix}{i}"));
                warnings.AddRange(ran.Locks.Notes.Select(n => $"{prefix}the lock pre-flight did not see everything: {n}"));
                warnings.AddRange(ran.Data.NotChecked.Select(n => $"{prefix}{n}"));
                return null;
            default:
                throw new ArgumentOutOfRangeException(nameof(evidence), evidence.Preflight, "unknown pre-flight evidence");
        }
    }

    private static PlanVerdict Admit(List<string> warnings, List<LintFinding> blocking, bool approved) =>
        PlanVerdict.Allow(warnings) with { Blocking = blocking, Approved = approved };

    private enum ExpectationMatch
    {
        NoneExpected,
        Exact,
        /// <summary>What is pending is the rest of the expected plan, whose first part an earlier attempt applied.</summary>
        Remainder,
        /// <summary>Nothing is pending, which a resuming runner accepts: it applies nothing, so nothing other than expected.</summary>
        NothingLeft,
        Mismatch,
    }

    private static ExpectationMatch Expectation(PlanEvidence evidence)
    {
        if (evidence.Expected is not { } expected)
        {
            return ExpectationMatch.NoneExpected;
        }

        var plan = evidence.Plan;
        if (Names(evidence.Audience, expected.Hash, plan))
        {
            return ExpectationMatch.Exact;
        }

        if (!expected.AcceptsRemainder)
        {
            return ExpectationMatch.Mismatch;
        }

        if (plan.IsEmpty)
        {
            return ExpectationMatch.NothingLeft;
        }

        return expected.Hash is not null && MigrationPlanner.IsRemainderOf(plan, expected.Hash) ? ExpectationMatch.Remainder : ExpectationMatch.Mismatch;
    }

    /// <summary>
    /// Whether the expected value names this plan (null: nothing pending). At admission it is the pod template's stamp,
    /// which must be this plan's release key on this very database (or the stamp an earlier version wrote for it); a
    /// runner's <c>--expect-plan</c> names the plan by its hash or by a release key (the Job's credential may be another
    /// user than the one the webhook planned with), since the runner applies to the database it was given.
    /// </summary>
    private static bool Names(VerdictAudience audience, string? expected, MigrationPlan plan)
    {
        if (expected is null || plan.IsEmpty)
        {
            return expected is null && plan.IsEmpty;
        }

        return audience == VerdictAudience.Admission ? plan.IsStampedWith(expected) : PlanKeys.NamesPlan(expected, plan.Hash, plan.LegacyHash);
    }

    private static string Prefix(VerdictAudience audience) => audience == VerdictAudience.Admission ? "gatekeeper: " : string.Empty;

}

/// <summary>
/// The texts people read at <c>kubectl apply</c> and on the command line: first line what and why, then one line per
/// problem or finding with its rule, file:line and hint, last line how to get past it in the reader's own terms.
/// </summary>
public static class PlanVerdictMessages
{
    private const string AllowAnnotation = "gatekeeper.dev/allow";
    private const string ApproveAnnotation = "gatekeeper.dev/approve-plan";

    public static string Blocked(VerdictAudience audience, string subject, MigrationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var text = new StringBuilder();
        text.Append(Prefix(audience)).Append(audience == VerdictAudience.Admission ? "rollout of " + subject : "plan " + Hashes.Short(plan.Hash) + " for " + subject)
            .Append(" blocked: the migration files disagree with the history of ").Append(plan.Database).Append('\n');
        foreach (var problem in plan.Problems)
        {
            text.Append("  ").Append(problem.Kind).Append(' ').Append(problem.File ?? problem.MigrationId).Append(": ").Append(problem.Message).Append('\n');
        }

        text.Append("To proceed: fix the migration source as each line says; drift, missing, out-of-order and dirty migrations cannot be allowed or approved.");
        return text.ToString();
    }

    public static string Ahead(VerdictAudience audience, MigrationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var ids = string.Join(", ", plan.Ahead.Take(5)) + (plan.Ahead.Count > 5 ? $" and {plan.Ahead.Count - 5} more" : string.Empty);
        return $"{Prefix(audience)}the database {plan.Database.Database} is ahead of these migration files: {plan.Ahead.Count} applied migration(s) have no file here ({ids}); " +
               "nothing is applied, and the older code runs on the newer schema (expand/contract), so this is not a block";
    }

    public static string StaleStamp(string subject, string? stamped, MigrationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return $"gatekeeper: the pod template of {subject} carries plan {stamped ?? "(none)"} but the plan is now {(plan.IsEmpty ? "(none)" : plan.ReleaseKey)}; " +
               "the database or the migrations changed during the apply, apply again";
    }

    /// <summary>The words of <see cref="PlanChanged"/> that a reader of a failed run's message (the controller) looks for.</summary>
    public const string PlanChangedMarker = "--expect-plan names plan";

    /// <summary>Whether a run's failure message is <see cref="PlanChanged"/>'s refusal: the admitted plan cannot run as it is.</summary>
    public static bool IsPlanChanged(string? failure) => failure?.Contains(PlanChangedMarker, StringComparison.Ordinal) == true;

    public static string PlanChanged(string? expected, MigrationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var names = string.Join(", ", plan.Pending.Take(5).Select(m => m.FileName)) + (plan.Pending.Count > 5 ? $" and {plan.Pending.Count - 5} more" : string.Empty);
        return $"refusing to apply plan {Hashes.Short(plan.Hash)} ({plan.Pending.Count} pending: {names}): {PlanChangedMarker} {(expected is null ? "(none)" : Hashes.Short(expected))}, " +
               $"and the migrations or the history of {plan.Database.Database} changed since it was made; nothing was applied. " +
               "Run `gatekeeper plan` to see the current plan (in Kubernetes: roll the Deployment out again, e.g. kubectl rollout restart, so the webhook plans it; " +
               "applying an unchanged manifest sends nothing)";
    }

    public static string Unsafe(VerdictAudience audience, string subject, MigrationPlan plan, IReadOnlyList<LintFinding> blocking)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(blocking);
        var files = blocking.Select(f => f.Location.File).Distinct(StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        text.Append(Prefix(audience)).Append("plan ").Append(Hashes.Short(plan.Hash)).Append(" for ").Append(subject).Append(" is unsafe: ")
            .Append(blocking.Count).Append(blocking.Count == 1 ? " blocking finding in " : " blocking findings in ")
            .Append(string.Join(", ", files)).Append('\n');
        foreach (var finding in blocking)
        {
            text.Append("  ").Append(finding.Rule.Id).Append(' ').Append(finding.Location).Append(": ").Append(finding.Message).Append('\n');
            if (!string.IsNullOrEmpty(finding.Hint))
            {
                text.Append("    hint: ").Append(finding.Hint).Append('\n');
            }
        }

        var rules = string.Join(",", blocking.Select(f => f.Rule.Id).Distinct(StringComparer.Ordinal));
        if (audience == VerdictAudience.Admission)
        {
            text.Append("To allow it: change the migration, or accept these rules with the annotation ").Append(AllowAnnotation).Append(": \"").Append(rules)
                .Append("\", or approve exactly this plan with ").Append(ApproveAnnotation).Append(": \"").Append(plan.Hash).Append("\".");
        }
        else
        {
            text.Append("To allow it: change the migration, put `-- gatekeeper:allow RULE <reason>` on the line before the statement, pass --allow ")
                .Append(rules).Append(", or approve exactly this plan with --approve-plan ").Append(plan.Hash).Append('.');
        }

        return text.ToString();
    }

    public static string DryRunFailed(VerdictAudience audience, string subject, MigrationPlan plan, DryRunEvidence.Failed failed)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(failed);
        return $"{Prefix(audience)}plan {Hashes.Short(plan.Hash)} for {subject} failed its dry-run {failed.Where}\n" +
               $"  {failed.At ?? "(no location)"}: {failed.Message}\n" +
               "To proceed: fix the failing statement in a new or not yet applied migration; nothing was applied to the database.";
    }

    public static string ApprovedByHash(VerdictAudience audience, MigrationPlan plan, int blocking)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return $"plan {plan.Hash} is approved by {(audience == VerdictAudience.Admission ? ApproveAnnotation : "--approve-plan")} despite {blocking} blocking finding(s)";
    }

    public static string ApprovedByExpectation(string expected, MigrationPlan plan, int blocking, bool remainder)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return remainder
            ? $"plan {Hashes.Short(plan.Hash)} is the rest of plan {Hashes.Short(expected)} (--expect-plan), which an earlier attempt began; it was admitted with {blocking} blocking finding(s) allowed or approved where it was judged"
            : $"plan {Hashes.Short(plan.Hash)} is the expected plan (--expect-plan), admitted with {blocking} blocking finding(s) allowed or approved where it was judged";
    }

    public static string Ignored(IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var names = string.Join(", ", files.Take(10)) + (files.Count > 10 ? $" and {files.Count - 10} more" : string.Empty);
        return $"gatekeeper: {files.Count} file(s) left out by gatekeeper.dev/ignore: {names}";
    }

    public static string Summary(MigrationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var names = plan.Pending.Take(5).Select(m => m.FileName).ToList();
        var more = plan.Pending.Count > names.Count ? $" and {plan.Pending.Count - names.Count} more" : string.Empty;
        return $"gatekeeper: plan {Hashes.Short(plan.Hash)} applies {plan.Pending.Count} migration(s) ({string.Join(", ", names)}{more}) in a migration Job before the new pods start";
    }

    /// <summary>A finding that does not block, as one kubectl warning line (allowed ones say who allowed them).</summary>
    public static string Warning(LintFinding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var severity = finding.Severity == LintSeverity.Error ? "error" : "warning";
        var allowed = finding.AllowedBy is { } allowance ? $" [allowed: {allowance.Reason}]" : string.Empty;
        var hint = string.IsNullOrEmpty(finding.Hint) ? string.Empty : $" (hint: {finding.Hint})";
        return $"{finding.Rule.Id} {finding.Location} {severity}: {finding.Message}{hint}{allowed}";
    }

    private static string Prefix(VerdictAudience audience) => audience switch
    {
        VerdictAudience.Admission => "gatekeeper: ",
        VerdictAudience.CommandLine => string.Empty,
        _ => throw new ArgumentOutOfRangeException(nameof(audience), audience, "unknown verdict audience"),
    };
}
