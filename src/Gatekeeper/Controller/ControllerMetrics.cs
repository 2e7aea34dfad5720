using Gatekeeper.Kubernetes.Controller;
using Prometheus;

namespace Gatekeeper.Controller;

/// <summary>The metric names the controller exports; the alert rules and dashboards refer to these.</summary>
public static class ControllerMetricNames
{
    public const string MigrationJobs = "gatekeeper_migration_jobs_total";
    public const string MigrationDuration = "gatekeeper_migration_duration_seconds";
    public const string GatedPods = "gatekeeper_gated_pods";
    public const string GatedPodOldestWait = "gatekeeper_gated_pod_oldest_wait_seconds";
    public const string GatedPodWait = "gatekeeper_gated_pod_wait_seconds";
    public const string Leader = "gatekeeper_controller_leader";
    public const string Blocked = "gatekeeper_controller_blocked";
    public const string JobsNotStarting = "gatekeeper_migration_job_start_failures_total";

    public static IReadOnlyList<string> All { get; } = [MigrationJobs, MigrationDuration, GatedPods, GatedPodOldestWait, GatedPodWait, Leader, Blocked, JobsNotStarting];
}

/// <summary>
/// The controller's Prometheus metrics on one registry. The gated-pod gauges are computed when scraped, from the
/// leader's latest view and the injected clock, so "gated for how long" is current at every scrape.
/// </summary>
public sealed class PrometheusControllerMetrics : IMigrationControllerMetrics
{
    private readonly Counter jobs;
    private readonly Histogram duration;
    private readonly Gauge gated;
    private readonly Gauge oldestWait;
    private readonly Histogram waited;
    private readonly Gauge leader;
    private readonly Gauge blocked;
    private readonly Counter notStarting;
    private readonly ControllerHealth health;
    private readonly TimeProvider timeProvider;
    private readonly Lock snapshotLock = new();
    private IReadOnlyCollection<GatedPod> snapshot = [];
    private HashSet<string> publishedNamespaces = new(StringComparer.Ordinal);

    public PrometheusControllerMetrics(CollectorRegistry registry, TimeProvider timeProvider)
        : this(registry, timeProvider, new ControllerHealth())
    {
    }

    public PrometheusControllerMetrics(CollectorRegistry registry, TimeProvider timeProvider, ControllerHealth health)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(health);
        this.timeProvider = timeProvider;
        this.health = health;
        var factory = Metrics.WithCustomRegistry(registry);
        jobs = factory.CreateCounter(ControllerMetricNames.MigrationJobs,
            "Migration Jobs that ended, by namespace, Deployment and result (succeeded, failed).",
            ["namespace", "deployment", "result"]);
        duration = factory.CreateHistogram(ControllerMetricNames.MigrationDuration,
            "How long migration Jobs ran, from start to success or failure, by result.",
            ["result"],
            new HistogramConfiguration { Buckets = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200] });
        gated = factory.CreateGauge(ControllerMetricNames.GatedPods,
            "Pods held by Gatekeeper's scheduling gate until their plan is applied, by namespace.",
            ["namespace"]);
        oldestWait = factory.CreateGauge(ControllerMetricNames.GatedPodOldestWait,
            "How long the longest-held gated pod of a namespace has waited so far.",
            ["namespace"]);
        waited = factory.CreateHistogram(ControllerMetricNames.GatedPodWait,
            "How long released pods waited behind the scheduling gate, from creation to release.",
            ["namespace"],
            new HistogramConfiguration { Buckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600] });
        leader = factory.CreateGauge(ControllerMetricNames.Leader, "1 on the replica that holds the controller's Lease, else 0.");
        blocked = factory.CreateGauge(ControllerMetricNames.Blocked,
            "1 for each reason the controller cannot run on this replica (no Job starts and no pod is released without it), 0 otherwise.",
            ["reason"]);
        notStarting = factory.CreateCounter(ControllerMetricNames.JobsNotStarting,
            "Migration Jobs whose pod could not be created or could not start, each time Gatekeeper reported it, by namespace, Deployment and reason " +
            "(ImagePull, CreateContainerConfigError, CreateContainerError, Unschedulable, FailedCreate, Other).",
            ["namespace", "deployment", "reason"]);
        registry.AddBeforeCollectCallback(PublishGated);
        registry.AddBeforeCollectCallback(PublishBlocked);
    }

    public void JobFinished(string @namespace, string deployment, MigrationJobResult result, TimeSpan? duration)
    {
        var label = result == MigrationJobResult.Succeeded ? "succeeded" : "failed";
        jobs.WithLabels(@namespace, deployment, label).Inc();
        if (duration is { } value)
        {
            this.duration.WithLabels(label).Observe(value.TotalSeconds);
        }
    }

    public void JobCannotStart(string @namespace, string deployment, string category) => notStarting.WithLabels(@namespace, deployment, category).Inc();

    public void PodReleased(string @namespace, TimeSpan waited) => this.waited.WithLabels(@namespace).Observe(waited.TotalSeconds);

    public void GatedPodsChanged(IReadOnlyCollection<GatedPod> gated)
    {
        lock (snapshotLock)
        {
            snapshot = gated;
        }
    }

    public void LeadershipChanged(bool leading) => leader.Set(leading ? 1 : 0);

    private void PublishBlocked()
    {
        var now = health.Blocked;
        foreach (var reason in ControllerBlockReasons.All)
        {
            blocked.WithLabels(reason).Set(now.ContainsKey(reason) ? 1 : 0);
        }
    }

    private void PublishGated()
    {
        lock (snapshotLock)
        {
            var now = timeProvider.GetUtcNow();
            var byNamespace = snapshot.GroupBy(pod => pod.Namespace, StringComparer.Ordinal).ToList();
            var published = new HashSet<string>(StringComparer.Ordinal);
            foreach (var group in byNamespace)
            {
                published.Add(group.Key);
                gated.WithLabels(group.Key).Set(group.Count());
                var oldest = group.Min(pod => pod.CreatedAt);
                oldestWait.WithLabels(group.Key).Set(Math.Max(0, (now - oldest).TotalSeconds));
            }

            foreach (var gone in publishedNamespaces.Where(ns => !published.Contains(ns)))
            {
                gated.WithLabels(gone).Remove();
                oldestWait.WithLabels(gone).Remove();
            }

            publishedNamespaces = published;
        }
    }
}
