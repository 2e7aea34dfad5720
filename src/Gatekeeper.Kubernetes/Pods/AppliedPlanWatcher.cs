using Gatekeeper.Kubernetes.Controller;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes.Pods;

/// <summary>
/// Keeps <see cref="AppliedPlans"/> current on every replica from the durable record each opted-in Deployment
/// carries in its status (<see cref="DeploymentRecord"/>): lists the Deployments once (the replica is not ready before
/// that, so it never answers a pod blind), then follows a watch. What the record says outlives the migration Jobs
/// (removed a day after they finish) and every restart of Gatekeeper, so replacement pods of an applied plan (a node
/// drain, a scale-up, a crash) start at once, with or without a leader. Jobs are not looked at here: only the
/// leader, which checks that Gatekeeper created them, takes a Job's success as proof.
/// </summary>
public sealed class AppliedPlanWatcher(KubernetesApi kubernetes, AppliedPlans appliedPlans, TimeProvider timeProvider, ILogger<AppliedPlanWatcher> logger)
{
    /// <summary>Lists and watches until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunUntilCancelledAsync(CancellationToken cancellationToken)
    {
        var deployments = ClusterWatch.OptedInDeployments(kubernetes, timeProvider, logger);
        deployments.Changed += Learn;
        var watching = deployments.RunUntilCancelledAsync(cancellationToken);
        try
        {
            await deployments.Synced.WaitAsync(cancellationToken).ConfigureAwait(false);
            appliedPlans.MarkWarm();
            Log.AppliedPlansWarm(logger, appliedPlans.Count);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping before the first list: nothing to learn.
        }

        await watching.ConfigureAwait(false);
    }

    private void Learn(V1Deployment? old, V1Deployment? current)
    {
        if (current is null)
        {
            appliedPlans.Forget(old!.Metadata.NamespaceProperty, old.Metadata.Name, old.Metadata.Uid ?? string.Empty);
            return;
        }

        var applied = DeploymentRecord.Read(current)?.AppliedPlans ?? [];
        appliedPlans.Record(current.Metadata.NamespaceProperty, current.Metadata.Name, current.Metadata.Uid ?? string.Empty, applied);
    }
}
