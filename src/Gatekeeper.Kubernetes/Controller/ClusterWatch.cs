using System.Collections.Concurrent;
using System.Net;
using Gatekeeper.Kubernetes.Watching;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// The controller's view of the cluster: opted-in Deployments, migration Jobs (label <c>gatekeeper.dev/plan</c>) and
/// gated pods, each a <see cref="ResourceInformer{T}"/>. Pods are watched with <c>spec.nodeName=</c>, so only
/// unscheduled pods travel: a gated pod cannot have a node, and a released one leaves the watch once scheduled.
/// </summary>
public sealed class ClusterWatch
{
    private readonly ControllerHealth? health;
    private readonly ConcurrentDictionary<string, byte> forbidden = new(StringComparer.Ordinal);

    /// <param name="health">Told when the API server refuses a list or watch (RBAC), and when it allows it again.</param>
    public ClusterWatch(KubernetesApi kubernetes, TimeProvider timeProvider, ILogger logger, ControllerHealth? health = null)
    {
        this.health = health;
        ArgumentNullException.ThrowIfNull(kubernetes);
        Deployments = OptedInDeployments(kubernetes, timeProvider, logger);
        Jobs = new ResourceInformer<V1Job>(
            "jobs",
            async ct =>
            {
                var list = await kubernetes.ListJobForAllNamespacesAsync(labelSelector: GatekeeperNames.PlanLabel, cancellationToken: ct).ConfigureAwait(false);
                return (list.Items, list.Metadata?.ResourceVersion);
            },
            (version, onError, ct) => kubernetes.WatchListJobForAllNamespacesAsync(version, onError, ct, labelSelector: GatekeeperNames.PlanLabel),
            _ => true,
            timeProvider,
            logger);
        Pods = new ResourceInformer<V1Pod>(
            "pods",
            async ct =>
            {
                var list = await kubernetes.ListPodForAllNamespacesAsync(fieldSelector: UnscheduledPods, cancellationToken: ct).ConfigureAwait(false);
                return (list.Items, list.Metadata?.ResourceVersion);
            },
            (version, onError, ct) => kubernetes.WatchListPodForAllNamespacesAsync(version, onError, ct, fieldSelector: UnscheduledPods),
            pod => GatedPod.From(pod) is not null,
            timeProvider,
            logger);
        MigrationPods = new ResourceInformer<V1Pod>(
            "migration pods",
            async ct =>
            {
                var list = await kubernetes.ListPodForAllNamespacesAsync(labelSelector: MigrationPodSelector, cancellationToken: ct).ConfigureAwait(false);
                return (list.Items, list.Metadata?.ResourceVersion);
            },
            (version, onError, ct) => kubernetes.WatchListPodForAllNamespacesAsync(version, onError, ct, labelSelector: MigrationPodSelector),
            _ => true,
            timeProvider,
            logger);
        Report(Deployments, "deployments");
        Report(Jobs, "jobs");
        Report(Pods, "pods");
        Report(MigrationPods, "pods");
    }

    public const string UnscheduledPods = "spec.nodeName=";

    /// <summary>The pods of migration Jobs (the Job's labels are on its pod template): few, and watched to see them start.</summary>
    public const string MigrationPodSelector = "app.kubernetes.io/managed-by=" + MigrationJobBuilder.ManagedBy + ",app.kubernetes.io/component=migration";

    /// <summary>Tells <see cref="ControllerHealth"/> which kinds the API server refuses to list or watch across namespaces.</summary>
    private void Report<T>(ResourceInformer<T> informer, string resource)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (health is null)
        {
            return;
        }

        informer.Failed += e =>
        {
            if (e is HttpOperationException { Response.StatusCode: HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized })
            {
                forbidden[resource] = 0;
                health.Block(ControllerBlockReasons.WatchForbidden,
                    $"the API server refuses to list or watch {string.Join(", ", forbidden.Keys.Order(StringComparer.Ordinal))} in all namespaces; grant list and watch on them cluster-wide (the chart binds its controller-watch ClusterRole with a ClusterRoleBinding)");
            }
        };
        informer.Listed += () =>
        {
            if (forbidden.TryRemove(resource, out _) && forbidden.IsEmpty)
            {
                health.Clear(ControllerBlockReasons.WatchForbidden);
            }
        };
    }

    /// <summary>An informer of the Deployments that opted in (annotation <c>gatekeeper.dev/migrations</c>), in every namespace.</summary>
    public static ResourceInformer<V1Deployment> OptedInDeployments(KubernetesApi kubernetes, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(kubernetes);
        return new ResourceInformer<V1Deployment>(
            "deployments",
            async ct =>
            {
                var list = await kubernetes.ListDeploymentForAllNamespacesAsync(cancellationToken: ct).ConfigureAwait(false);
                return (list.Items, list.Metadata?.ResourceVersion);
            },
            (version, onError, ct) => kubernetes.WatchListDeploymentForAllNamespacesAsync(version, onError, ct),
            DeploymentFacts.IsOptedIn,
            timeProvider,
            logger);
    }

    public ResourceInformer<V1Deployment> Deployments { get; }

    public ResourceInformer<V1Job> Jobs { get; }

    public ResourceInformer<V1Pod> Pods { get; }

    /// <summary>Pods of migration Jobs, wherever they are scheduled (<see cref="MigrationPodSelector"/>).</summary>
    public ResourceInformer<V1Pod> MigrationPods { get; }

    public Task Synced => Task.WhenAll(Deployments.Synced, Jobs.Synced, Pods.Synced, MigrationPods.Synced);

    public Task RunUntilCancelledAsync(CancellationToken cancellationToken) => Task.WhenAll(
        Deployments.RunUntilCancelledAsync(cancellationToken),
        Jobs.RunUntilCancelledAsync(cancellationToken),
        Pods.RunUntilCancelledAsync(cancellationToken),
        MigrationPods.RunUntilCancelledAsync(cancellationToken));

    public void Relist()
    {
        Deployments.Relist();
        Jobs.Relist();
        Pods.Relist();
        MigrationPods.Relist();
    }

    /// <summary>The pods a Job made (its controller reference), in the Job's namespace.</summary>
    public IReadOnlyList<V1Pod> PodsOfJob(string @namespace, string job) =>
        MigrationPods.Items.Where(pod => pod.Metadata.NamespaceProperty == @namespace
            && pod.Metadata.OwnerReferences?.Any(o => o.Kind == "Job" && o.Name == job && o.Controller == true) == true).ToList();

    /// <summary>
    /// The migration Jobs that count for this Deployment's plan: in its namespace, carrying the plan, and created by
    /// Gatekeeper for this very Deployment (<see cref="MigrationJobSigner"/>). Anything else with the same labels, in
    /// this namespace or another, proves nothing and is not looked at.
    /// </summary>
    public IReadOnlyList<MigrationJobFacts> JobsOfPlan(DeploymentFacts deployment, string plan, MigrationJobSigner signer)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(signer);
        var label = GatekeeperNames.PlanLabelValue(plan);
        return Jobs.Items
            .Where(job => job.Metadata.NamespaceProperty == deployment.Namespace && job.Metadata.Labels?.ValueOf(GatekeeperNames.PlanLabel) == label
                && signer.Created(job, deployment.Uid))
            .Select(MigrationJobFacts.From)
            .ToList();
    }

    public IReadOnlyList<GatedPod> GatedPods() =>
        Pods.Items.Select(GatedPod.From).OfType<GatedPod>().ToList();

    /// <summary>The pods of one Deployment (by its ReplicaSets) held for <paramref name="plan"/>.</summary>
    public IReadOnlyList<GatedPod> GatedPods(string @namespace, string deployment, string plan) =>
        GatedPods().Where(pod => pod.Namespace == @namespace && pod.Deployment == deployment && pod.Plan == plan).ToList();

    /// <summary>Opted-in Deployments in a namespace whose pod template carries this plan (by label form).</summary>
    public IEnumerable<V1Deployment> DeploymentsWithPlan(string? @namespace, string planLabel) =>
        Deployments.Items.Where(d => (@namespace is null || d.Metadata.NamespaceProperty == @namespace)
            && d.Spec?.Template?.Metadata?.Annotations?.ValueOf(GatekeeperNames.Plan) is { } plan
            && GatekeeperNames.PlanLabelValue(plan) == planLabel);
}
