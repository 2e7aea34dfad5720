using System.Text.Json;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Deployments;
using Microsoft.Extensions.Logging;
using k8s;
using k8s.Models;

namespace Gatekeeper.Webhook.Rollouts;

/// <summary>
/// Finds whether an update returns a Deployment to a pod template it already ran (<see cref="RollbackMatcher"/>):
/// reads the Deployment's ReplicaSets (one list call, no database) and the applied plans its record keeps. When the
/// ReplicaSets cannot be read in time, it says "no": the update is then planned like any other.
/// </summary>
public sealed class RollbackFinder(KubernetesApi kubernetes, ResilientCalls calls, ILogger<RollbackFinder> logger)
{
    public async Task<RollbackTarget?> FindAsync(DeploymentRequest deployment, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (deployment.Admission.Operation != AdmissionOperation.Update || deployment.OldObject is not { } old
            || DeploymentObject.Uid(old) is not { Length: > 0 } uid)
        {
            return null;
        }

        var record = DeploymentRecord.Read(old.Deserialize(KubernetesModelJson.Default.V1Deployment)!);
        IList<V1ReplicaSet> replicaSets;
        try
        {
            var selector = DeploymentObject.SelectorMatchLabels(deployment.Object);
            var list = await calls.ExecuteAsync("read ReplicaSets", deadline,
                async ct => await kubernetes.ListNamespacedReplicaSetAsync(deployment.Namespace, labelSelector: selector, cancellationToken: ct).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
            replicaSets = list.Items;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ReplicaSetsUnreadable(logger, deployment.Namespace, deployment.Name, e.GetType().Name);
            return null;
        }

        return RollbackMatcher.Find(deployment.Object, replicaSets, uid, record?.AppliedPlans ?? []);
    }
}
