using Gatekeeper.Kubernetes.Pods;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// The leader's work: watch opted-in Deployments, migration Jobs and gated pods, and reconcile each one that
/// changed, one at a time. Every term starts from cluster state (fresh lists), so a new leader resumes where the
/// last one stopped; a periodic resync lists everything again and looks at every Deployment, catching whatever a
/// watch missed.
/// </summary>
public sealed class MigrationController(
    KubernetesApi kubernetes,
    DeploymentReconciler reconciler,
    AppliedPlans appliedPlans,
    IMigrationControllerMetrics metrics,
    TimeSpan resyncInterval,
    TimeProvider timeProvider,
    ILogger logger,
    ControllerHealth? health = null)
{
    /// <summary>Wires a controller from its parts: the one place the host and the tests compose it.</summary>
    public static MigrationController Create(
        KubernetesApi kubernetes,
        AppliedPlans appliedPlans,
        MigrationJobSettings jobSettings,
        MigrationJobSigner signer,
        IMigrationControllerMetrics metrics,
        TimeSpan resyncInterval,
        TimeProvider timeProvider,
        ILogger logger,
        ControllerHealth? health = null)
    {
        var reconciler = new DeploymentReconciler(
            new MigrationJobClient(kubernetes, jobSettings, signer),
            new PodUngater(kubernetes),
            new DeploymentReporter(kubernetes, timeProvider),
            appliedPlans,
            metrics,
            logger);
        return new MigrationController(kubernetes, reconciler, appliedPlans, metrics, resyncInterval, timeProvider, logger, health);
    }

    private ReconcileQueue? queue;

    /// <summary>Work items waiting or being handled now (0 when the leader has caught up).</summary>
    public int Backlog => Volatile.Read(ref queue)?.Count ?? 0;

    /// <summary>Runs until <paramref name="leadership"/> is cancelled (the lease was lost or the process stops).</summary>
    public async Task RunWhileLeadingAsync(CancellationToken leadership)
    {
        var cluster = new ClusterWatch(kubernetes, timeProvider, logger, health);
        using var queue = new ReconcileQueue(timeProvider);
        Volatile.Write(ref this.queue, queue);
        using var term = CancellationTokenSource.CreateLinkedTokenSource(leadership);

        cluster.Deployments.Changed += (old, current) =>
        {
            var deployment = current ?? old!;
            queue.Add(new WorkItem(WorkKind.Deployment, deployment.Metadata.NamespaceProperty, deployment.Metadata.Name));
        };
        cluster.Jobs.Changed += (old, current) =>
        {
            var job = current ?? old!;
            if (job.Metadata.Labels?.ValueOf(GatekeeperNames.PlanLabel) is { } label)
            {
                EnqueueDeployments(cluster, queue, job.Metadata.NamespaceProperty, label);
            }
        };
        cluster.MigrationPods.Changed += (old, current) =>
        {
            // A Job's pod that starts, or cannot (image pull, missing Secret, no node): the Deployments of its plan look.
            var pod = current ?? old!;
            if (pod.Metadata.Labels?.ValueOf(GatekeeperNames.PlanLabel) is { } label)
            {
                EnqueueDeployments(cluster, queue, pod.Metadata.NamespaceProperty, label);
            }
        };
        cluster.Pods.Changed += (_, current) =>
        {
            metrics.GatedPodsChanged(cluster.GatedPods());
            if (current is not null)
            {
                queue.Add(new WorkItem(WorkKind.Pod, current.Metadata.NamespaceProperty, current.Metadata.Name));
            }
        };
        void OnPlanApplied(string @namespace, string deployment, string plan)
        {
            queue.Add(new WorkItem(WorkKind.Deployment, @namespace, deployment));
            foreach (var pod in cluster.GatedPods(@namespace, deployment, plan))
            {
                queue.Add(new WorkItem(WorkKind.Pod, pod.Namespace, pod.Name));
            }
        }

        appliedPlans.PlanApplied += OnPlanApplied;
        var watching = cluster.RunUntilCancelledAsync(term.Token);
        try
        {
            await cluster.Synced.WaitAsync(term.Token).ConfigureAwait(false);
            Log.ControllerSynced(logger, cluster.Deployments.Items.Count, cluster.Jobs.Items.Count, cluster.Pods.Items.Count);
            metrics.GatedPodsChanged(cluster.GatedPods());
            EnqueueEverything(cluster, queue);
            using var resync = timeProvider.CreateTimer(_ =>
            {
                Log.Resync(logger);
                cluster.Relist();
                EnqueueEverything(cluster, queue);
            }, null, resyncInterval, resyncInterval);

            while (true)
            {
                var item = await queue.TakeAsync(term.Token).ConfigureAwait(false);
                try
                {
                    await ProcessAsync(item, cluster, queue, term.Token).ConfigureAwait(false);
                }
                finally
                {
                    queue.Done();
                }
            }
        }
        catch (OperationCanceledException) when (term.IsCancellationRequested)
        {
            // Leadership ended: stop at once; the next leader starts from cluster state.
        }
        finally
        {
            appliedPlans.PlanApplied -= OnPlanApplied;
            await term.CancelAsync().ConfigureAwait(false);
            try
            {
                await watching.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The watches end with the term.
            }

            metrics.GatedPodsChanged([]);
            Volatile.Write(ref this.queue, null);
        }
    }

    private async Task ProcessAsync(WorkItem item, ClusterWatch cluster, ReconcileQueue queue, CancellationToken cancellationToken)
    {
        try
        {
            var now = timeProvider.GetUtcNow();
            if (item.Kind == WorkKind.Deployment)
            {
                if (cluster.Deployments.Get(item.Namespace, item.Name) is { } deployment)
                {
                    var outcome = await reconciler.ReconcileAsync(deployment, cluster, now, cancellationToken).ConfigureAwait(false);
                    if (outcome.NotWrittenBecause is { } why)
                    {
                        // Not done: the key comes back after its back-off, and the back-off keeps growing until a decision sticks.
                        var backoff = queue.AddAfterFailure(item);
                        Log.DecisionNotWritten(logger, item.Namespace, item.Name, why, backoff.TotalSeconds);
                        return;
                    }

                    if (outcome.LookAgainAfter is { } again)
                    {
                        queue.AddAfter(item, again);
                    }
                }
            }
            else if (cluster.Pods.Get(item.Namespace, item.Name) is { } pod && GatedPod.From(pod) is { } gated)
            {
                await reconciler.ReleaseIfAppliedAsync(gated, cluster, now, cancellationToken).ConfigureAwait(false);
            }

            queue.Forget(item);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var backoff = queue.AddAfterFailure(item);
            var reason = e is HttpOperationException http ? $"HTTP {(int)http.Response.StatusCode}" : e.Message;
            Log.ReconcileFailed(logger, item.Kind.ToString(), item.Namespace, item.Name, e.GetType().Name, reason, backoff.TotalSeconds);
        }
    }

    private static void EnqueueDeployments(ClusterWatch cluster, ReconcileQueue queue, string? @namespace, string planLabel)
    {
        foreach (var deployment in cluster.DeploymentsWithPlan(@namespace, planLabel))
        {
            queue.Add(new WorkItem(WorkKind.Deployment, deployment.Metadata.NamespaceProperty, deployment.Metadata.Name));
        }
    }

    private static void EnqueueEverything(ClusterWatch cluster, ReconcileQueue queue)
    {
        foreach (var deployment in cluster.Deployments.Items)
        {
            queue.Add(new WorkItem(WorkKind.Deployment, deployment.Metadata.NamespaceProperty, deployment.Metadata.Name));
        }

        foreach (var pod in cluster.GatedPods())
        {
            queue.Add(new WorkItem(WorkKind.Pod, pod.Namespace, pod.Name));
        }
    }
}
