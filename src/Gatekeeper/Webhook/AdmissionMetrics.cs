using Prometheus;

namespace Gatekeeper.Webhook;

/// <summary>
/// The metric names the webhook exports. The alert rules and dashboards refer to these; a test reads the
/// exported /metrics text to hold them to it.
/// </summary>
public static class MetricNames
{
    public const string AdmissionRequests = "gatekeeper_admission_requests_total";
    public const string AdmissionDuration = "gatekeeper_admission_duration_seconds";
    public const string PlanRejections = "gatekeeper_plan_rejections_total";
    public const string PendingMigrations = "gatekeeper_pending_migrations";

    public static IReadOnlyList<string> All { get; } = [AdmissionRequests, AdmissionDuration, PlanRejections, PendingMigrations];
}

/// <summary>The webhook's Prometheus metrics, created on one registry (the default one in production, a fresh one per test host).</summary>
public sealed class AdmissionMetrics
{
    private readonly Counter requests;
    private readonly Histogram duration;
    private readonly Counter rejections;
    private readonly Gauge pending;

    public AdmissionMetrics(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        requests = factory.CreateCounter(MetricNames.AdmissionRequests,
            "Admission requests answered, by webhook and decision (allowed, patched, denied, invalid, too_large, error).",
            ["webhook", "decision"]);
        duration = factory.CreateHistogram(MetricNames.AdmissionDuration,
            "Time to answer an admission request, by webhook.",
            ["webhook"],
            new HistogramConfiguration { Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 8, 10] });
        rejections = factory.CreateCounter(MetricNames.PlanRejections,
            "Deployment rollouts denied, by namespace, Deployment and reason (PlanRejected, SourceInvalid, DatabaseUnreachable, ...).",
            ["namespace", "deployment", "reason"]);
        pending = factory.CreateGauge(MetricNames.PendingMigrations,
            "Migrations the last admitted plan of a Deployment has still to apply.",
            ["namespace", "deployment"]);
    }

    public void RecordRequest(string webhook, string decision, TimeSpan elapsed)
    {
        requests.WithLabels(webhook, decision).Inc();
        duration.WithLabels(webhook).Observe(elapsed.TotalSeconds);
    }

    public void RecordRejection(string @namespace, string deployment, string reason) =>
        rejections.WithLabels(@namespace, deployment, reason).Inc();

    public void RecordPending(string @namespace, string deployment, int count) =>
        pending.WithLabels(@namespace, deployment).Set(count);
}
