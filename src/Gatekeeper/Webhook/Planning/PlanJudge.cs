using System.Text;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Planning;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Annotations;
using Polly.Timeout;
using DatabaseTarget = Gatekeeper.Databases.DatabaseTarget;

namespace Gatekeeper.Webhook.Planning;

/// <summary>Why a plan was rejected; the metric's reason label and the Event's reason.</summary>
public static class RejectionReasons
{
    public const string PlanBlocked = "PlanBlocked";
    public const string LintRejected = "LintRejected";
    public const string DryRunFailed = "DryRunFailed";
    public const string StaleStamp = "StaleStamp";
}

/// <summary>The validating step's answer: admitted with warnings, or denied with a message a person can act on.</summary>
public sealed record PlanVerdict(bool Allowed, string Reason, string? Message, IReadOnlyList<string> Warnings, bool Undecidable = false)
{
    public static PlanVerdict Allow(IReadOnlyList<string> warnings) => new(true, "Planned", null, warnings);

    public static PlanVerdict Deny(string reason, string message, IReadOnlyList<string> warnings, bool undecidable = false) => new(false, reason, message, warnings, undecidable);
}

/// <summary>
/// Judges a plan: blocking history problems first, then the linter (with the team's allowances and approval),
/// then the dry-run against the database, one at a time per Deployment and reused from the cache when the same
/// plan was proven moments before.
/// </summary>
public sealed class PlanJudge(IPlanningDatabase database, DeploymentGates gates, ResilientCalls calls)
{
    public async Task<PlanVerdict> JudgeAsync(DeploymentRequest deployment, MigrationAnnotations annotations, PlannedRollout rollout, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(annotations);
        ArgumentNullException.ThrowIfNull(rollout);
        var plan = rollout.Cached.Plan;
        var subject = $"{deployment.Namespace}/{deployment.Name}";
        if (plan.IsBlocked)
        {
            return PlanVerdict.Deny(RejectionReasons.PlanBlocked, DenialMessages.Blocked(subject, plan), []);
        }

        if (plan.IsEmpty)
        {
            return PlanVerdict.Allow([]);
        }

        var (live, schemaProblem) = await ReadSchemaAsync(rollout, deadline, cancellationToken).ConfigureAwait(false);

        // The linter applies the allow annotation itself (rule ids and category names), so the webhook and
        // `gatekeeper lint` agree on what an allowance covers.
        var report = Linter.Lint(plan.Pending, rollout.Target.Engine.Dialect, new LintOptions
        {
            Allow = annotations.Allow,
            Schema = live?.Schema,
            ServerMajorVersion = live?.ServerMajorVersion,
        });
        var blocking = report.Findings.Where(f => f.IsBlocking).ToList();
        var approved = blocking.Count > 0 && string.Equals(annotations.ApprovedPlanHash, plan.Hash, StringComparison.Ordinal);
        if (blocking.Count > 0 && !approved)
        {
            return PlanVerdict.Deny(RejectionReasons.LintRejected, DenialMessages.Unsafe(subject, plan, blocking), []);
        }

        var warnings = new List<string> { DenialMessages.Summary(plan) };
        if (schemaProblem is not null)
        {
            warnings.Add($"the live schema could not be read ({schemaProblem}): findings were judged from the migration text alone");
        }

        if (approved)
        {
            warnings.Add($"plan {plan.Hash} is approved by {GatekeeperNames.ApprovePlan} despite {blocking.Count} blocking finding(s)");
        }

        warnings.AddRange(report.Findings.Select(DenialMessages.Warning));

        var mode = annotations.DryRun == DryRunMode.EngineDefault
            ? rollout.Target.Engine.TransactionalDdl ? DryRunMode.Transaction : DryRunMode.Shadow
            : annotations.DryRun;
        if (mode == DryRunMode.None)
        {
            warnings.Add($"the plan was not dry-run ({GatekeeperNames.DryRun}: none)");
            return PlanVerdict.Allow(warnings);
        }

        DryRunResult result;
        try
        {
            result = await DryRunOnceAsync(deployment, rollout, mode, deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException)
        {
            return PlanVerdict.Deny(PlanFailureReasons.DatabaseUnreachable,
                $"database unreachable: the dry-run of plan {Short(plan.Hash)} on {rollout.Target.Identity.Host}:{rollout.Target.Identity.Port} did not finish in time; nothing was applied, retry the apply", [], undecidable: true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return PlanVerdict.Deny(PlanFailureReasons.DatabaseUnreachable, database.Describe(e, rollout.Target), [], undecidable: true);
        }

        if (!result.Succeeded)
        {
            return PlanVerdict.Deny(RejectionReasons.DryRunFailed, DenialMessages.DryRunFailed(subject, plan, rollout.Target, mode, result), []);
        }

        warnings.AddRange(result.Notes.Select(note => $"not checked by the dry-run: {note}"));
        return PlanVerdict.Allow(warnings);
    }

    /// <summary>
    /// Reads the tables and server version within the request's budget. A failure is not a verdict: without the schema
    /// the linter judges from the text, which keeps size-dependent findings as errors, so nothing unsafe slips through.
    /// </summary>
    private async Task<(Databases.LiveSchema? Live, string? Problem)> ReadSchemaAsync(PlannedRollout rollout, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        try
        {
            var live = await calls.ExecuteAsync("read schema", deadline,
                async ct => await database.ReadSchemaAsync(rollout.Target, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            return (live, null);
        }
        catch (TimeoutRejectedException)
        {
            return (null, $"{rollout.Target.Identity.Host}:{rollout.Target.Identity.Port} did not answer in time");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (null, database.Describe(e, rollout.Target));
        }
    }

    private async Task<DryRunResult> DryRunOnceAsync(DeploymentRequest deployment, PlannedRollout rollout, DryRunMode mode, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        if (rollout.Cached.DryRun is { } known)
        {
            return known;
        }

        using var _ = await gates.EnterAsync(deployment.Namespace, deployment.Name, cancellationToken).ConfigureAwait(false);
        // Another request for this Deployment may have proven the same plan while this one waited.
        if (rollout.Cached.DryRun is { } proven)
        {
            return proven;
        }

        using var activity = WebhookTracing.Source.StartActivity("dry-run");
        activity?.SetTag("gatekeeper.plan.hash", rollout.Cached.Plan.Hash);
        activity?.SetTag("gatekeeper.dry_run.mode", mode.ToString());
        var result = await calls.ExecuteAsync("dry-run", deadline,
            async ct => await database.DryRunAsync(rollout.Target, rollout.Cached.Directory, rollout.Cached.Plan, mode, rollout.Scratch, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        activity?.SetTag("gatekeeper.dry_run.succeeded", result.Succeeded);
        if (result.Succeeded)
        {
            rollout.Cached.DryRun = result;
        }

        return result;
    }

    internal static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
}

/// <summary>
/// The texts people read at <c>kubectl apply</c>: first line what and why, then one line per finding with its
/// rule, file:line and hint, last line how to get past it.
/// </summary>
public static class DenialMessages
{
    public static string Blocked(string subject, MigrationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var text = new StringBuilder();
        text.Append("gatekeeper: rollout of ").Append(subject).Append(" blocked: the migration files disagree with the history of ")
            .Append(plan.Database).Append('\n');
        foreach (var problem in plan.Problems)
        {
            text.Append("  ").Append(problem.Kind).Append(' ').Append(problem.File ?? problem.MigrationId).Append(": ").Append(problem.Message).Append('\n');
        }

        text.Append("To proceed: fix the migration source as each line says; drift, missing, out-of-order and dirty migrations cannot be allowed or approved.");
        return text.ToString();
    }

    public static string Unsafe(string subject, MigrationPlan plan, IReadOnlyList<LintFinding> blocking)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(blocking);
        var files = blocking.Select(f => f.Location.File).Distinct(StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        text.Append("gatekeeper: plan ").Append(PlanJudge.Short(plan.Hash)).Append(" for ").Append(subject).Append(" is unsafe: ")
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
        text.Append("To allow it: change the migration, or accept these rules with the annotation ").Append(GatekeeperNames.Allow).Append(": \"").Append(rules)
            .Append("\", or approve exactly this plan with ").Append(GatekeeperNames.ApprovePlan).Append(": \"").Append(plan.Hash).Append("\".");
        return text.ToString();
    }

    public static string DryRunFailed(string subject, MigrationPlan plan, DatabaseTarget target, DryRunMode mode, DryRunResult result)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(result);
        var how = mode == DryRunMode.Transaction ? "in a transaction that was rolled back" : "on a throwaway copy of the schema";
        return $"gatekeeper: plan {PlanJudge.Short(plan.Hash)} for {subject} failed its dry-run on {target?.Identity} ({how})\n" +
            $"  {result.FailedAt ?? "(no location)"}: {result.Message}\n" +
            "To proceed: fix the failing statement in a new or not yet applied migration; nothing was applied to the database.";
    }

    public static string Summary(MigrationPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var names = plan.Pending.Take(5).Select(m => m.FileName).ToList();
        var more = plan.Pending.Count > names.Count ? $" and {plan.Pending.Count - names.Count} more" : string.Empty;
        return $"gatekeeper: plan {PlanJudge.Short(plan.Hash)} applies {plan.Pending.Count} migration(s) ({string.Join(", ", names)}{more}) in a migration Job before the new pods start";
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
}
