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
    RolloutPlanner planner,
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
        if (deployment.TemplateUnchanged && stamp == PlanStamp.Read(deployment.OldObject!.Value))
        {
            // No rollout follows this update, so no migration runs for it.
            return null;
        }

        var deadline = AdmissionDeadline.From(options.Value, timeProvider);
        if (await rollbacks.FindAsync(deployment, deadline, cancellationToken).ConfigureAwait(false) is { } rollback && rollback.Stamps == stamp)
        {
            // A rollback to a template this Deployment ran, whose plan is applied: never blocked, never waits for the database.
            return new(PlanVerdict.Allow([rollback.Warning($"{deployment.Namespace}/{deployment.Name}")]), null);
        }

        var outcome = await planner.PlanAsync(deployment.Namespace, annotations, deadline, cancellationToken).ConfigureAwait(false);
        var verdict = !outcome.Succeeded
            ? PlanVerdict.Deny(outcome.Failure.Reason, $"gatekeeper: cannot plan {deployment.Namespace}/{deployment.Name}: {outcome.Failure.Message}", [], outcome.Failure.Undecidable)
            : await reviewer.ReviewAsync(deployment, annotations, outcome.Planned, stamp.Plan, deadline, cancellationToken).ConfigureAwait(false);

        if (!verdict.Allowed && verdict.Undecidable && options.Value.FailsOpenIn(deployment.Namespace))
        {
            verdict = PlanVerdict.Allow([$"gatekeeper: admitted without a check because the namespace fails open: {verdict.Message}"]);
        }

        return new(verdict, outcome.Planned);
    }

    internal static string AnnotationMessage(DeploymentRequest deployment, MigrationAnnotationsParseResult parsed) =>
        $"gatekeeper: the annotations of {deployment.Namespace}/{deployment.Name} cannot be used\n" +
        string.Concat(parsed.Problems.Select(p => $"  {p.Message}\n")) +
        "To proceed: correct the annotation values above (see the annotation table in Gatekeeper's README).";

    /// <summary>403 for a plan judged unsafe, 422 for configuration a person must fix, 503 when Gatekeeper could not decide.</summary>
    internal static int StatusCodeFor(string reason) => reason switch
    {
        PlanFailureReasons.DatabaseUnreachable or PlanFailureReasons.KubernetesUnreachable => 503,
        PlanFailureReasons.AnnotationInvalid or PlanFailureReasons.SourceInvalid or PlanFailureReasons.SecretInvalid or PlanFailureReasons.DatabasePermissionDenied => 422,
        _ => 403,
    };
}
