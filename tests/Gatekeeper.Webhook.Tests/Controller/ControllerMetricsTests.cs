using System.Text;
using System.Text.RegularExpressions;
using Gatekeeper.Controller;
using Gatekeeper.Kubernetes.Controller;
using Microsoft.Extensions.Time.Testing;
using Prometheus;

namespace Gatekeeper.Webhook.Tests.Controller;

public sealed partial class ControllerMetricsTests
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

    [Fact]
    public void The_operations_guide_lists_every_metric_with_exactly_the_labels_the_code_exports()
    {
        var controller = new PrometheusControllerMetrics(registry, time);
        var admission = new AdmissionMetrics(registry);
        controller.JobFinished("shop", "storefront", MigrationJobResult.Succeeded, TimeSpan.FromSeconds(40));
        controller.PodReleased("shop", TimeSpan.FromSeconds(45));
        controller.JobCannotStart("shop", "storefront", "ImagePull");
        controller.GatedPodsChanged([Pod("shop", "a", TimeSpan.FromMinutes(3))]);
        admission.RecordRequest("validate-deployments", "allowed", TimeSpan.FromMilliseconds(5));
        admission.RecordRejection("shop", "storefront", "LintRejected");
        admission.RecordPending("shop", "storefront", 2);
        var exported = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (Match sample in SampleLine().Matches(Scrape()))
        {
            var name = HistogramPart().Replace(sample.Groups["name"].Value, string.Empty);
            var labels = LabelName().Matches(sample.Groups["labels"].Value).Select(m => m.Groups[1].Value).Where(l => l != "le");
            exported.TryAdd(name, new SortedSet<string>(labels, StringComparer.Ordinal));
        }

        var guide = File.ReadAllText(Path.Combine(global::Gatekeeper.Tests.SimulatedCluster.HelmChart.RepositoryRoot, "docs", "operations.md"));
        var documented = GuideRow().Matches(guide).ToDictionary(
            m => m.Groups["name"].Value,
            m => new SortedSet<string>(GuideLabel().Matches(m.Groups["labels"].Value).Select(l => l.Groups[1].Value), StringComparer.Ordinal),
            StringComparer.Ordinal);

        var gatekeeper = exported.Where(e => e.Key.StartsWith("gatekeeper_", StringComparison.Ordinal)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        Assert.Equal(gatekeeper.Keys.Order(StringComparer.Ordinal), documented.Keys.Order(StringComparer.Ordinal));
        Assert.All(gatekeeper, e => Assert.True(documented[e.Key].SetEquals(e.Value),
            $"docs/operations.md lists {e.Key} with labels [{string.Join(", ", documented[e.Key])}]; the code exports [{string.Join(", ", e.Value)}]"));
    }

    [GeneratedRegex(@"^(?<name>gatekeeper_[a-z_]+)(\{(?<labels>[^}]*)\})? ", RegexOptions.Multiline)]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"_(bucket|sum|count)$")]
    private static partial Regex HistogramPart();

    [GeneratedRegex(@"([a-z_]+)=""")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"`([a-z_]+)`")]
    private static partial Regex GuideLabel();

    // | `gatekeeper_gated_pods` | gauge | `namespace` | …
    [GeneratedRegex(@"^\| `(?<name>gatekeeper_[a-z_]+)` \| [a-z]+ \| (?<labels>[^|]*)\|", RegexOptions.Multiline)]
    private static partial Regex GuideRow();
}
