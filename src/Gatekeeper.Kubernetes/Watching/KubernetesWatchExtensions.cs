using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Watching;

/// <summary>
/// The watches Gatekeeper opens, named as KubernetesClient names its operations (<c>WatchList…</c>), so the RBAC
/// check in the delivery tests finds them as it finds the typed calls.
/// </summary>
public static class KubernetesWatchExtensions
{
    public static IAsyncEnumerable<(WatchEventType Type, V1Deployment Object)> WatchListDeploymentForAllNamespacesAsync(
        this IKubernetes kubernetes, string? resourceVersion, Action<Exception>? onError, CancellationToken cancellationToken, string? labelSelector = null) =>
        KubernetesWatch.StreamAsync<V1Deployment>(kubernetes, "apis/apps/v1/deployments", new WatchQuery(resourceVersion, labelSelector), onError, cancellationToken);

    public static IAsyncEnumerable<(WatchEventType Type, V1Job Object)> WatchListJobForAllNamespacesAsync(
        this IKubernetes kubernetes, string? resourceVersion, Action<Exception>? onError, CancellationToken cancellationToken, string? labelSelector = null) =>
        KubernetesWatch.StreamAsync<V1Job>(kubernetes, "apis/batch/v1/jobs", new WatchQuery(resourceVersion, labelSelector), onError, cancellationToken);

    public static IAsyncEnumerable<(WatchEventType Type, V1Pod Object)> WatchListPodForAllNamespacesAsync(
        this IKubernetes kubernetes, string? resourceVersion, Action<Exception>? onError, CancellationToken cancellationToken, string? fieldSelector = null, string? labelSelector = null) =>
        KubernetesWatch.StreamAsync<V1Pod>(kubernetes, "api/v1/pods", new WatchQuery(resourceVersion, labelSelector, fieldSelector), onError, cancellationToken);
}
