using Gatekeeper.Core.Planning;
using Gatekeeper.Kubernetes.Events;
using Gatekeeper.Webhook.Rollouts;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Webhook;

/// <summary>
/// The side effects of a real (not dry-run) Deployment decision: the rejection and pending-migration metrics, a log
/// line, and an Event on the Deployment. A failure to record an Event never changes the verdict.
/// </summary>
public sealed class DeploymentDecisionRecorder(AdmissionMetrics metrics, DeploymentEventRecorder events, ILogger<DeploymentDecisionRecorder> logger)
{
    public async Task RecordAsync(DeploymentRequest deployment, PlanVerdict verdict, PlannedRollout? rollout, string webhook, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(verdict);
        var admission = deployment.Admission;
        Log.DeploymentDecision(logger, webhook, verdict.Allowed ? "admitted" : "denied", deployment.Namespace, deployment.Name,
            admission.Operation.ToString(), admission.DryRun, admission.UserInfo.Username ?? string.Empty, verdict.Reason);
        if (admission.DryRun)
        {
            return;
        }

        var pending = rollout?.Cached.Plan.Pending.Count ?? 0;
        if (verdict.Allowed)
        {
            metrics.RecordPending(deployment.Namespace, deployment.Name, pending);
        }
        else
        {
            metrics.RecordRejection(deployment.Namespace, deployment.Name, verdict.Reason);
        }

        if (verdict.Allowed && pending == 0)
        {
            return;
        }

        try
        {
            await events.RecordAsync(deployment.Namespace, deployment.Name, ExistingUid(deployment),
                verdict.Allowed ? EventSeverity.Normal : EventSeverity.Warning,
                verdict.Allowed ? "Planned" : "PlanRejected",
                verdict.Allowed ? verdict.Warnings.FirstOrDefault(w => w.StartsWith("gatekeeper: plan", StringComparison.Ordinal)) ?? "planned" : verdict.Message!,
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.EventNotRecorded(logger, verdict.Reason, deployment.Namespace, deployment.Name, e.GetType().Name);
        }
    }

    private static string? ExistingUid(DeploymentRequest deployment) =>
        deployment.OldObject is { } old && old.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("uid", out var uid)
            ? uid.GetString()
            : null;
}
