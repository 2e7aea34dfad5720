using System.Diagnostics.CodeAnalysis;
using Gatekeeper.Core.Planning;
using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Deployments;
using Gatekeeper.Webhook.Rollouts;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Webhook;

/// <summary>A Deployment's validation: the verdict and, when it could be planned, the rollout it judged.</summary>
public sealed record DeploymentValidationDecision(PlanVerdict Verdict, PlannedRollout? Rollout);

/// <summary>
/// Decides <c>POST /validate/deployments</c>: plans the Deployment's migrations and judges the plan the mutating step
/// stamped with the one plan verdict (<see cref="PlanJudge"/>). It has no side effects of its own; what a decision
/// records (Events, metrics) is <see cref="DeploymentDecisionRecorder"/>'s, called by <see cref="ValidateDeploymentsHandler"/>.
/// </summary>
public sealed class DeploymentValidation(
    PlanHandover plans,
    PlanReviewer reviewer,
    RollbackFinder rollbacks,
    IOptions<WebhookOptions> options,
    TimeProvider timeProvider)
{
    /// <summary>Null when no rollout follows the update (only Gatekeeper's stamps or nothing of the template changed).</summary>
    public async Task<DeploymentValidationDecision?> DecideAsync(DeploymentRequest deployment, MigrationAnnotationsParseResult parsed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(parsed);
        if (parsed.Annotations is not { } annotations)
        {
            return new(PlanVerdict.Deny(PlanFailureReasons.AnnotationInvalid, AnnotationMessage(deployment, parsed), []), null);
        }

        var stamp = PlanStamp.Read(deployment.Object);
        var deadline = AdmissionDeadline.From(options.Value, timeProvider);
        if (deployment.TemplateUnchanged && stamp == PlanStamp.Read(deployment.OldObject!.Value))
        {
            // No rollout follows this update, so no migration runs for it. Opting in a running Deployment is such an
            // update: say what its next rollout will run rather than nothing at all.
            return deployment.OptedInNow ? await PreviewAsync(deployment, annotations, deadline, cancellationToken).ConfigureAwait(false) : null;
        }

        if (await rollbacks.FindAgainAsync(deployment, deadline, cancellationToken).ConfigureAwait(false) is { } rollback && rollback.Stamps == stamp)
        {
            // A rollback to a template this Deployment ran, whose plan is applied: never blocked, never waits for the database.
            return new(PlanVerdict.Allow([rollback.Warning($"{deployment.Namespace}/{deployment.Name}")]), null);
        }

        // The plan this apply's mutating call made, with the sources it read, when this call is that apply's (see PlanHandover).
        var outcome = await plans.PlanAgainAsync(deployment, annotations, deadline, cancellationToken).ConfigureAwait(false);
        var verdict = !outcome.Succeeded
            ? PlanVerdict.Deny(outcome.Failure.Reason, $"gatekeeper: cannot plan {deployment.Namespace}/{deployment.Name}: {outcome.Failure.Message}", [], outcome.Failure.Undecidable)
            : await reviewer.ReviewAsync(deployment, annotations, outcome.Planned, stamp.Plan, deadline, cancellationToken).ConfigureAwait(false);

        if (!verdict.Allowed && verdict.Undecidable && options.Value.FailsOpenIn(deployment.Namespace))
        {
            verdict = PlanVerdict.Allow([$"gatekeeper: admitted without a check because the namespace fails open: {verdict.Message}"]);
        }
        else if (verdict.Allowed && outcome.Planned is { Cached.Plan.IsEmpty: false })
        {
            verdict = WithCapacity(verdict, deployment, annotations);
        }

        return new(verdict, outcome.Planned);
    }

    /// <summary>
    /// The plan of a Deployment opted in by this update while its template stays the same: admitted (nothing runs now),
    /// with a warning that names what its next rollout will run, or why it could not be planned.
    /// </summary>
    private async Task<DeploymentValidationDecision> PreviewAsync(DeploymentRequest deployment, MigrationAnnotations annotations, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var subject = $"{deployment.Namespace}/{deployment.Name}";
        var restart = $"kubectl -n {deployment.Namespace} rollout restart deployment/{deployment.Name}";
        var outcome = await plans.PlanAgainAsync(deployment, annotations, deadline, cancellationToken).ConfigureAwait(false);
        if (outcome.Failure is { } failure)
        {
            return new(PlanVerdict.Allow([$"gatekeeper: {subject} is opted in now, but its pod template did not change, so nothing runs yet; " +
                                          $"its plan could not be made: {failure.Message}; the next rollout is judged then and is refused until this is fixed"]), null);
        }

        var planned = outcome.Planned!;
        var plan = planned.Cached.Plan;
        var what = planned.Cached.Schema is { } schema
            ? schema.Diff.Changes.Count == 0 ? "the database already has the desired schema, so it changes nothing" : $"{Count(schema.Diff.Changes.Count, "schema change")} to {plan.Database.Database} run at the next rollout"
            : plan.Pending.Count == 0 ? $"no migration is pending on {plan.Database.Database}, so it runs none"
            : $"{Count(plan.Pending.Count, "pending migration")} ({string.Join(", ", plan.Pending.Take(5).Select(m => m.Id))}{(plan.Pending.Count > 5 ? ", …" : string.Empty)}) run at the next rollout";
        var blocked = plan.Problems.Count == 0 ? string.Empty : $"; the plan is blocked now ({plan.Problems[0].Message}), so that rollout would be refused until it is fixed";
        var warning = $"gatekeeper: plan {Core.Integrity.Hashes.Short(planned.Cached.Schema?.Hash ?? plan.Hash)} for {subject} waits for the next rollout: the Deployment is opted in now, but its pod template " +
                      $"did not change, so no rollout follows and nothing runs yet; {what}, judged by Gatekeeper then{blocked}" +
                      (plan.Pending.Count > 0 || planned.Cached.Schema is { Diff.Changes.Count: > 0 } ? $" (to run them now: {restart})" : string.Empty);
        return new(PlanVerdict.Allow([warning]), planned);
    }

    private static string Count(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    /// <summary>
    /// A plan that will run meets the Deployment's rollout settings: pods it stops while the new ones wait, and a
    /// progress deadline the Job may outlast (<see cref="RolloutCapacity"/>). Warnings, or a denial by policy.
    /// </summary>
    private PlanVerdict WithCapacity(PlanVerdict verdict, DeploymentRequest deployment, MigrationAnnotations annotations)
    {
        var judgement = RolloutCapacity.Judge(RolloutShape.Read(deployment.Object), annotations.JobTimeout,
            annotations.CapacityPolicy ?? options.Value.CapacityPolicy, $"{deployment.Namespace}/{deployment.Name}");
        return judgement.Denial is { } denial
            ? PlanVerdict.Deny(CapacityReason, denial, verdict.Warnings)
            : judgement.Problems.Count == 0 ? verdict : verdict with { Warnings = [.. verdict.Warnings, .. judgement.Problems] };
    }

    /// <summary>The verdict's reason when the capacity policy refuses a rollout.</summary>
    public const string CapacityReason = "CapacityPolicy";

    internal static string AnnotationMessage(DeploymentRequest deployment, MigrationAnnotationsParseResult parsed) =>
        $"gatekeeper: the annotations of {deployment.Namespace}/{deployment.Name} cannot be used\n" +
        string.Concat(parsed.Problems.Select(p => $"  {p.Message}\n")) +
        "To proceed: correct the annotation values above (see the annotation table in Gatekeeper's README).";

    /// <summary>403 for a plan judged unsafe, 422 for configuration a person must fix, 503 when Gatekeeper could not decide.</summary>
    internal static int StatusCodeFor(string reason) => reason switch
    {
        PlanFailureReasons.DatabaseUnreachable or PlanFailureReasons.KubernetesUnreachable => 503,
        PlanFailureReasons.AnnotationInvalid or CapacityReason or PlanFailureReasons.SourceInvalid or PlanFailureReasons.SecretInvalid or PlanFailureReasons.DatabasePermissionDenied => 422,
        _ => 403,
    };
}
