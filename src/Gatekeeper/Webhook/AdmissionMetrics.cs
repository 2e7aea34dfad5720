using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
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

    // The labelled children of each (webhook, decision), made on first use (a series appears once it has a request, as
    // before) and then kept: a WithLabels lookup per request cost the pod webhook a label search for every pod.
    private readonly ConcurrentDictionary<string, WebhookSeries> series = new(StringComparer.Ordinal);

    public void RecordRequest(string webhook, string decision, TimeSpan elapsed)
    {
        var of = series.GetOrAdd(webhook, static (name, metrics) => new WebhookSeries(metrics.requests, metrics.duration.WithLabels(name), name), this);
        of.Requests(decision).Inc();
        of.Duration.Observe(elapsed.TotalSeconds);
    }

    /// <summary>
    /// prometheus-net re-exports, once /metrics is first scraped, every .NET meter and the event counters of ASP.NET Core
    /// and System.Net. The per-request ones (ASP.NET Core's request duration and routing meters, Kestrel's memory pool
    /// meter, updated on every buffer rented, the hosting event source, whose request start and stop events are written
    /// for every request while anything listens at Informational) took 14 % of the pod webhook's CPU under load (a
    /// label-set lookup per measurement) and duplicate <see cref="MetricNames.AdmissionRequests"/> and
    /// <see cref="MetricNames.AdmissionDuration"/>; they are left off. Runtime counters, Kestrel's connection meters and
    /// the .NET client meters stay. Process-wide, so it is set before the first scrape (a no-op after it).
    /// </summary>
    public static void LeavePerRequestRuntimeMetricsOff()
    {
        Metrics.ConfigureMeterAdapter(options => options.InstrumentFilterPredicate = IsExportedMeterInstrument);
        Metrics.ConfigureEventCounterAdapter(options => options.EventSourceFilterPredicate = IsExportedEventSource);
    }

    /// <summary>Whether prometheus-net's meter adapter exports this instrument (see <see cref="LeavePerRequestRuntimeMetricsOff"/>).</summary>
    public static bool IsExportedMeterInstrument(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        return instrument.Meter.Name switch
        {
            "Microsoft.AspNetCore.Hosting" or "Microsoft.AspNetCore.Routing" or "Microsoft.AspNetCore.Diagnostics" or "Microsoft.AspNetCore.MemoryPool" => false,
            "Microsoft.AspNetCore.Server.Kestrel" => instrument.Name != "kestrel.queued_requests",
            _ => true,
        };
    }

    /// <summary>Whether prometheus-net's event counter adapter listens to this event source: the runtime's counters only.</summary>
    public static bool IsExportedEventSource(string eventSource) => eventSource == "System.Runtime";

    private sealed class WebhookSeries(Counter requests, Histogram.Child duration, string webhook)
    {
        private readonly Counter.Child?[] byDecision = new Counter.Child?[Decisions.Length];

        public Histogram.Child Duration { get; } = duration;

        public Counter.Child Requests(string decision)
        {
            var index = Array.IndexOf(Decisions, decision);
            if (index < 0)
            {
                return requests.WithLabels(webhook, decision);
            }

            return byDecision[index] ??= requests.WithLabels(webhook, decision);
        }
    }

    private static readonly string[] Decisions = ["allowed", "patched", "denied", "invalid", "too_large", "error"];

    public void RecordRejection(string @namespace, string deployment, string reason) =>
        rejections.WithLabels(@namespace, deployment, reason).Inc();

    public void RecordPending(string @namespace, string deployment, int count) =>
        pending.WithLabels(@namespace, deployment).Set(count);
}
