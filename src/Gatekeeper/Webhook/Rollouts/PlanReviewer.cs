using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Schema;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Annotations;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace Gatekeeper.Webhook.Rollouts;

/// <summary>
/// Gathers what <see cref="PlanJudge.Judge"/> needs about a Deployment's plan, within the request's budget: the live
/// schema and the lint, then, when the verdict asks for it, the dry-run (one at a time per Deployment, reused from the
/// cache when the same plan was proven moments before). The verdict itself is the one <c>gatekeeper plan</c> and
/// <c>gatekeeper migrate</c> reach.
/// </summary>
public sealed class PlanReviewer(IPlanningDatabase database, DeploymentGates gates, ResilientCalls calls, IOptions<WebhookOptions> options)
{
    public async Task<PlanVerdict> ReviewAsync(
        DeploymentRequest deployment, MigrationAnnotations annotations, PlannedRollout rollout, string? stampedPlan, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(annotations);
        ArgumentNullException.ThrowIfNull(rollout);
        var plan = rollout.Cached.Plan;
        var mode = annotations.DryRun;
        var evidence = new PlanEvidence
        {
            Plan = plan,
            Audience = VerdictAudience.Admission,
            Subject = $"{deployment.Namespace}/{deployment.Name}",
            ApprovedPlanHash = annotations.ApprovedPlanHash,
            Expected = new PlanExpectation(stampedPlan, AcceptsRemainder: false),
            Ignored = rollout.Cached.Directory.Ignored,
            DryRun = WantedDryRun(mode, rollout, deployment.Admission.DryRun),
        };

        if (!plan.IsBlocked && !plan.IsEmpty)
        {
            var (live, schemaProblem) = await ReadSchemaAsync(rollout, deadline, cancellationToken).ConfigureAwait(false);
            // The linter applies the allow annotation itself (rule ids and category names), so the webhook and
            // `gatekeeper lint` agree on what an allowance covers.
            evidence = evidence with
            {
                Lint = Linter.Lint(plan.Pending, rollout.Target.Engine.Dialect, new LintOptions
                {
                    Allow = annotations.Allow,
                    Schema = live?.Schema,
                    Server = live?.Server,
                    Modes = live?.Modes ?? Core.Sql.SqlModes.None,
                }),
                SchemaProblem = schemaProblem,
                ServerVersionProblem = live?.VersionProblem,
                // Every admission of a plan looks again: a cached dry-run proves the plan applies, not that nothing
                // holds its tables now.
                Preflight = await PreflightAsync(rollout, live?.Modes ?? Core.Sql.SqlModes.None, deadline, cancellationToken).ConfigureAwait(false),
                LockPolicy = annotations.LockPreflight,
            };
        }

        var verdict = Judge(rollout, evidence);
        if (verdict.Outcome == PlanVerdictOutcome.DryRunNeeded)
        {
            verdict = Judge(rollout, evidence with { DryRun = await DryRunAsync(deployment, rollout, mode, deadline, cancellationToken).ConfigureAwait(false) });
        }

        return rollout.Warnings.Count == 0 ? verdict : verdict with { Warnings = [.. rollout.Warnings, .. verdict.Warnings] };
    }

    /// <summary>The one verdict; a declarative plan goes through <see cref="SchemaPlanJudge"/>, which blocks what the differ will not express and is otherwise <see cref="PlanJudge"/>.</summary>
    private static PlanVerdict Judge(PlannedRollout rollout, PlanEvidence evidence) =>
        rollout.Cached.Schema is { } schema ? SchemaPlanJudge.Judge(schema, evidence) : PlanJudge.Judge(evidence);

    /// <summary>
    /// Whether the plan still has to be dry-run. The live dry-run takes the plan's locks on production tables, which a
    /// <c>dryRun</c> request (<c>kubectl --dry-run=server</c>, GitOps diffs) must not: it reuses a result proven before,
    /// or says the dry-run was skipped.
    /// </summary>
    internal static DryRunEvidence WantedDryRun(DryRunMode mode, PlannedRollout rollout, bool dryRunRequest) => mode switch
    {
        DryRunMode.None => new DryRunEvidence.NotRun($"{GatekeeperNames.DryRun}: none"),
        DryRunMode.Live when dryRunRequest && rollout.Cached.DryRun is null && rollout.Target.Engine.TransactionalDdl =>
            new DryRunEvidence.NotRun($"{GatekeeperNames.DryRun}: live does not run for a dry-run request, which must not lock production tables; the real apply runs it"),
        DryRunMode.Live or DryRunMode.Shadow => DryRunEvidence.Wanted,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown dry-run mode"),
    };

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
            return (null, $"{rollout.Target.Url.Endpoint} did not answer in time");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (null, database.Describe(e, rollout.Target).Message);
        }
    }

    /// <summary>
    /// The read-only pre-flight within a third of what is left of the request's budget (the dry-run may still need
    /// the rest). An outage is undecidable, as for the dry-run; a missing right is a warning that says what to grant.
    /// </summary>
    private async Task<PreflightEvidence> PreflightAsync(PlannedRollout rollout, Core.Sql.SqlModes modes, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        using var activity = WebhookTracing.Source.StartActivity("pre-flight");
        activity?.SetTag("gatekeeper.plan.hash", rollout.Cached.Plan.Hash);
        activity?.SetTag("gatekeeper.plan.release_key", rollout.Cached.Plan.ReleaseKey);
        var budget = calls.TimeLeft(deadline) / 3;
        try
        {
            var ran = await calls.ExecuteAsync("pre-flight", deadline,
                async ct => await database.PreflightAsync(rollout.Target, rollout.Cached.Plan, modes, options.Value.LockPreflightMinimumAge, budget, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            activity?.SetTag("gatekeeper.preflight.blockers", ran.Locks.Blockers.Count);
            activity?.SetTag("gatekeeper.preflight.violations", ran.Data.Violations.Count);
            return ran;
        }
        catch (TimeoutRejectedException)
        {
            return new PreflightEvidence.Unreachable($"{rollout.Target.Identity.Endpoint} did not answer in time");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failure = database.Describe(e, rollout.Target);
            return failure.PermissionDenied
                ? new PreflightEvidence.Ran(new LockPreflight([], [], [failure.Message]), DataPrechecks.Clean)
                : new PreflightEvidence.Unreachable(failure.Message);
        }
    }

    private async Task<DryRunEvidence> DryRunAsync(DeploymentRequest deployment, PlannedRollout rollout, DryRunMode mode, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var plan = rollout.Cached.Plan;
        DryRunResult result;
        try
        {
            result = await DryRunOnceAsync(deployment, rollout, mode, deadline, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException)
        {
            return new DryRunEvidence.Unreachable(
                $"database unreachable: the dry-run of plan {Hashes.Short(plan.Hash)} on {rollout.Target.Identity.Endpoint} did not finish in time; nothing was applied, retry the apply");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failure = database.Describe(e, rollout.Target);
            return failure.PermissionDenied ? new DryRunEvidence.NotPermitted(failure.Message) : new DryRunEvidence.Unreachable(failure.Message);
        }

        if (result.Succeeded)
        {
            return new DryRunEvidence.Succeeded(result.Notes);
        }

        return new DryRunEvidence.Failed(result.Place, result.FailedAt, result.Message ?? "the dry-run failed");
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
        activity?.SetTag("gatekeeper.plan.release_key", rollout.Cached.Plan.ReleaseKey);
        activity?.SetTag("gatekeeper.dry_run.mode", mode.ToString());
        var result = await calls.ExecuteAsync("dry-run", deadline,
            async ct => await database.DryRunAsync(rollout.Target, rollout.Cached.Directory, rollout.Cached.Plan, mode, rollout.DevServer, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        activity?.SetTag("gatekeeper.dry_run.succeeded", result.Succeeded);
        if (result.Succeeded)
        {
            rollout.Cached.DryRun = result;
        }

        return result;
    }
}
