using System.Text;
using Gatekeeper.Controller;
using Gatekeeper.Kubernetes.Controller;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Gatekeeper.Webhook.Tests.Controller;

public sealed class ControllerMetricsTests
{
    private readonly CollectorRegistry registry = Metrics.NewCustomRegistry();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    private string Scrape()
    {
        using var stream = new MemoryStream();
        registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private GatedPod Pod(string ns, string name, TimeSpan age) => new(ns, name, "u-" + name, new string('a', 64), 0, time.GetUtcNow() - age, "shop");

    [Fact]
    public void Gated_pods_and_the_longest_wait_are_current_at_every_scrape()
    {
        var metrics = new PrometheusControllerMetrics(registry, time);
        metrics.GatedPodsChanged([Pod("shop", "a", TimeSpan.FromMinutes(3)), Pod("shop", "b", TimeSpan.FromSeconds(10)), Pod("billing", "c", TimeSpan.FromSeconds(30))]);

        var first = Scrape();
        time.Advance(TimeSpan.FromMinutes(1));
        var second = Scrape();

        Assert.Contains("gatekeeper_gated_pods{namespace=\"shop\"} 2", first, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_gated_pods{namespace=\"billing\"} 1", first, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_gated_pod_oldest_wait_seconds{namespace=\"shop\"} 180", first, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_gated_pod_oldest_wait_seconds{namespace=\"shop\"} 240", second, StringComparison.Ordinal);
    }

    [Fact]
    public void A_namespace_without_gated_pods_leaves_the_gauges()
    {
        var metrics = new PrometheusControllerMetrics(registry, time);
        metrics.GatedPodsChanged([Pod("shop", "a", TimeSpan.FromMinutes(3))]);
        Scrape();

        metrics.GatedPodsChanged([]);

        Assert.DoesNotContain("gatekeeper_gated_pods{namespace=\"shop\"}", Scrape(), StringComparison.Ordinal);
    }

    [Fact]
    public void Finished_jobs_count_by_result_and_record_their_duration()
    {
        var metrics = new PrometheusControllerMetrics(registry, time);

        metrics.JobFinished("shop", "storefront", MigrationJobResult.Failed, TimeSpan.FromSeconds(12));
        metrics.JobFinished("shop", "storefront", MigrationJobResult.Succeeded, TimeSpan.FromSeconds(40));
        metrics.PodReleased("shop", TimeSpan.FromSeconds(45));
        metrics.LeadershipChanged(true);
        var text = Scrape();

        Assert.Contains("gatekeeper_migration_jobs_total{namespace=\"shop\",deployment=\"storefront\",result=\"failed\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_migration_jobs_total{namespace=\"shop\",deployment=\"storefront\",result=\"succeeded\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_migration_duration_seconds_sum{result=\"succeeded\"} 40", text, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_gated_pod_wait_seconds_count{namespace=\"shop\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_controller_leader 1", text, StringComparison.Ordinal);
        Assert.All(ControllerMetricNames.All, name => Assert.Contains(name, text, StringComparison.Ordinal));
    }
}
