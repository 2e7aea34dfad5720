using System.Diagnostics.CodeAnalysis;
using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Deployments;
using Gatekeeper.Webhook.Rollouts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Webhook;

/// <summary>
/// <c>POST /mutate/deployments</c>: computes the plan and stamps its release key and target version on the pod template.
/// Idempotent: an UPDATE whose template is otherwise unchanged keeps the old stamps, so re-applying an unchanged
/// Deployment never starts a rollout. Judging the plan is the validating webhook's job.
/// </summary>
public sealed class DeploymentMutation(PlanHandover plans, RollbackFinder rollbacks, IOptions<WebhookOptions> options, TimeProvider timeProvider, ILogger<DeploymentMutation> logger) : IAdmissionHandler
{
    public string Webhook => "mutate-deployments";

    public bool FailsClosed => true;

    public bool CallsOut => true;

    public async ValueTask<AdmissionResponse> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (DeploymentRequest.OptedOut(request) is { } optedOut)
        {
            return optedOut;
        }

        if (DeploymentRequest.From(request) is not { } deployment)
        {
            return AdmissionResponse.Allow(request.Uid);
        }

        using var activity = WebhookTracing.Source.StartActivity("admission " + Webhook);
        activity?.SetTag("k8s.namespace.name", deployment.Namespace);
        activity?.SetTag("k8s.deployment.name", deployment.Name);
        var parsed = MigrationAnnotationParser.Parse(deployment.Annotations);
        if (parsed.Annotations is not { } annotations)
        {
            return Deny(deployment, PlanFailureReasons.AnnotationInvalid, DeploymentValidation.AnnotationMessage(deployment, parsed));
        }

        if (deployment.TemplateUnchanged)
        {
            // Restore the old stamps if the apply dropped them (tools that replace the whole object do).
            return AdmissionResponse.Allow(request.Uid, patch: Patch(deployment, PlanStamp.Read(deployment.OldObject!.Value), planningId: null));
        }

        var deadline = AdmissionDeadline.From(options.Value, timeProvider);
        if (await rollbacks.FindAsync(deployment, deadline, cancellationToken).ConfigureAwait(false) is { } rollback)
        {
            // A template this Deployment already ran, with a plan already applied: give it back the stamps it ran with
            // (so the Deployment controller scales its old ReplicaSet up again) and ask nothing of the database. The
            // validating step says so to kubectl.
            Log.RollbackAdmitted(logger, deployment.Namespace, deployment.Name, rollback.ReplicaSet, rollback.Stamps.Plan ?? "(none)");
            return AdmissionResponse.Allow(request.Uid, patch: Patch(deployment, rollback.Stamps, planningId: null));
        }

        var (outcome, planningId) = await plans.PlanAsync(deployment, annotations, deadline, cancellationToken).ConfigureAwait(false);
        if (!outcome.Succeeded)
        {
            var failure = outcome.Failure;
            if (failure.Undecidable && options.Value.FailsOpenIn(deployment.Namespace))
            {
                return AdmissionResponse.Allow(request.Uid, [$"gatekeeper: admitted without a plan because the namespace fails open: {failure.Message}"],
                    Patch(deployment, PlanStamp.Read(deployment.Object), planningId: null));
            }

            return Deny(deployment, failure.Reason, $"gatekeeper: cannot plan {deployment.Namespace}/{deployment.Name}: {failure.Message}");
        }

        var plan = outcome.Planned.Cached.Plan;
        // The stamp is the plan's release key on this database (not the portable plan hash): the Job's name, the applied-plan
        // records and the pod gate go by it, so the same plan on another database (a restored copy) needs its own Job.
        var stamp = new PlanStamp(plan.IsEmpty ? null : plan.ReleaseKey, plan.TargetVersion);
        // Annotation warnings are the validating step's to give, so kubectl does not print them twice.
        return AdmissionResponse.Allow(request.Uid, patch: Patch(deployment, stamp, planningId));
    }

    /// <summary>
    /// The stamps, and the id under which this call kept its plan for the validating call (<see cref="PlanHandover"/>).
    /// Without one (this call did not plan, or kept nothing) the stored object's id goes back on (none on a CREATE): an
    /// id carried over by a manifest or copied from a ReplicaSet by a rollback must never name another apply's plan.
    /// </summary>
    private static ReadOnlyMemory<byte>? Patch(DeploymentRequest deployment, PlanStamp stamps, string? planningId)
    {
        var patch = new JsonPatchBuilder();
        PlanStamp.AppendPatch(patch, deployment.Object, stamps);
        PlanningId.AppendPatch(patch, deployment.Object, planningId ?? (deployment.OldObject is { } old ? PlanningId.Read(old) : null));
        return patch.Count == 0 ? default(ReadOnlyMemory<byte>?) : patch.Build();
    }

    private AdmissionResponse Deny(DeploymentRequest deployment, string reason, string message)
    {
        Log.DeploymentDecision(logger, Webhook, "denied", deployment.Namespace, deployment.Name, deployment.Admission.Operation.ToString(),
            deployment.Admission.DryRun, deployment.Admission.UserInfo.Username ?? string.Empty, reason);
        return AdmissionResponse.Deny(deployment.Admission.Uid, DeploymentValidation.StatusCodeFor(reason), message);
    }
}
