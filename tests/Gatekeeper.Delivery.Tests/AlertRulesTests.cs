using System.Text.RegularExpressions;

namespace Gatekeeper.Delivery.Tests;

/// <summary>The alert rules name only metrics the code exports, ship unchanged in the chart, and each has a runbook and a test.</summary>
public sealed partial class AlertRulesTests
{
    private static readonly string[] Severities = ["critical", "warning", "info"];

    private const string RulesFile = "alerts/gatekeeper.rules.yaml";

    // Series Prometheus makes itself for every target: not Gatekeeper's to export.
    private static readonly HashSet<string> PrometheusOwnSeries = new(StringComparer.Ordinal) { "up" };

    private static readonly string[] HistogramSeriesSuffixes = ["_bucket", "_sum", "_count"];

    [Fact]
    public void Every_metric_the_alert_rules_use_is_exported_by_the_code()
    {
        var used = Alerts().SelectMany(alert => PromQlMetricNames.In(alert.Expression).Select(metric => (alert.Name, Metric: metric))).ToList();
        var literals = MetricNameLiterals();
        Assert.True(literals.Count > 0,
            "No Prometheus metric name (a \"gatekeeper_…\" string literal) was found under src/: the webhook and controller sources must be on this branch.");

        var unexported = used
            .Where(use => !PrometheusOwnSeries.Contains(use.Metric) && ExportedName(use.Metric, literals) is null)
            .Select(use => $"{use.Name} uses {use.Metric}")
            .Distinct()
            .ToList();
        Assert.True(unexported.Count == 0,
            $"Alert rules use metrics no code under src/ defines: {string.Join("; ", unexported)}. Exported: {string.Join(", ", literals.Order())}.");
    }

    [Fact]
    public void Every_alert_rule_selects_at_least_one_metric()
    {
        var alerts = Alerts();
        Assert.NotEmpty(alerts);
        Assert.All(alerts, alert => Assert.True(PromQlMetricNames.In(alert.Expression).Count > 0, $"{alert.Name}: no metric found in its expression."));
    }

    [Fact]
    public void The_promql_reader_finds_metrics_and_skips_functions_labels_and_durations()
    {
        var names = PromQlMetricNames.In(
            """histogram_quantile(0.99, sum by (webhook, le) (rate(gatekeeper_admission_duration_seconds_bucket{webhook=~".*pods"}[5m]))) > 0.25 or absent(up{job="x"} == 1) unless gatekeeper_gated_pods offset 15m""");
        Assert.Equal(["gatekeeper_admission_duration_seconds_bucket", "gatekeeper_gated_pods", "up"], names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_chart_ships_the_plain_rules_file_unchanged()
    {
        Assert.True(RepositoryFiles.ReadText(RulesFile) == RepositoryFiles.ReadText("charts/gatekeeper/files/gatekeeper.rules.yaml"),
            "charts/gatekeeper/files/gatekeeper.rules.yaml differs from alerts/gatekeeper.rules.yaml: run scripts/ci/delivery-checks.sh --update.");
    }

    [Fact]
    public void Every_alert_has_a_severity_a_summary_and_a_runbook_style_description()
    {
        Assert.All(Alerts(), alert =>
        {
            Assert.Contains(alert.Labels.GetValueOrDefault("severity"), Severities);
            Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault("summary")), $"{alert.Name} has no summary.");
            var description = alert.Annotations.GetValueOrDefault("description") ?? string.Empty;
            Assert.True(description.Contains("\nCheck: ", StringComparison.Ordinal) && description.Contains("\nFix: ", StringComparison.Ordinal),
                $"{alert.Name}: the description must say what it means, then a 'Check:' line and a 'Fix:' line.");
        });
    }

    [Fact]
    public void Every_alert_has_a_runbook_section_in_the_operations_guide()
    {
        var guide = RepositoryFiles.ReadText("docs/operations.md");
        var anchors = Heading().Matches(guide).Select(m => Anchor(m.Groups["title"].Value)).ToHashSet(StringComparer.Ordinal);
        Assert.All(Alerts(), alert =>
        {
            var runbook = alert.Annotations.GetValueOrDefault("runbook");
            Assert.Equal($"docs/operations.md#{alert.Name.ToLowerInvariant()}", runbook);
            Assert.True(anchors.Contains(alert.Name.ToLowerInvariant()), $"docs/operations.md has no heading '{alert.Name}' for the runbook of that alert.");
        });
    }

    [Fact]
    public void Every_alert_is_fired_by_a_promtool_test()
    {
        var tests = YamlDocuments.Load("alerts/gatekeeper.rules.test.yaml");
        Assert.Contains("gatekeeper.rules.yaml", tests.ListAt("rule_files").Strings());
        var fired = tests.ListAt("tests")
            .SelectMany(test => test.ListAt("alert_rule_test"))
            .Where(check => check.ListAt("exp_alerts").Count > 0)
            .Select(check => check.StringAt("alertname"))
            .ToHashSet(StringComparer.Ordinal);
        Assert.All(Alerts(), alert => Assert.True(fired.Contains(alert.Name), $"No promtool test expects {alert.Name} to fire."));
    }

    private sealed record Alert(string Name, string Expression, Dictionary<string, string> Labels, Dictionary<string, string> Annotations);

    private static List<Alert> Alerts() =>
        YamlDocuments.Load(RulesFile).ListAt("groups")
            .SelectMany(group => group.ListAt("rules"))
            .Where(rule => rule.StringAt("alert") is not null)
            .Select(rule => new Alert(
                rule.StringAt("alert")!,
                rule.StringAt("expr") ?? string.Empty,
                rule.MapAt("labels").ToDictionary(p => p.Key, p => p.Value as string ?? string.Empty),
                rule.MapAt("annotations").ToDictionary(p => p.Key, p => p.Value as string ?? string.Empty)))
            .ToList();

    /// <summary>
    /// Every "gatekeeper_…" string literal in the product's C# files that deal with metrics (they mention Prometheus or
    /// Metric): how prometheus-net metrics are named. Other files use the prefix for table names.
    /// </summary>
    internal static HashSet<string> MetricNameLiterals() =>
        RepositoryFiles.ProductSources()
            .Select(File.ReadAllText)
            .Where(text => text.Contains("Prometheus", StringComparison.Ordinal) || text.Contains("Metric", StringComparison.Ordinal))
            .SelectMany(text => MetricLiteral().Matches(text).Select(m => m.Groups["name"].Value))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>The exported metric a series belongs to: itself, or the histogram or summary it is a part of.</summary>
    internal static string? ExportedName(string series, HashSet<string> exported)
    {
        if (exported.Contains(series))
        {
            return series;
        }

        return HistogramSeriesSuffixes
            .Where(suffix => series.EndsWith(suffix, StringComparison.Ordinal))
            .Select(suffix => series[..^suffix.Length])
            .FirstOrDefault(exported.Contains);
    }

    /// <summary>GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string Anchor(string title) =>
        Regex.Replace(title.Trim().ToLowerInvariant(), @"[^\w\- ]", string.Empty).Replace(' ', '-');

    [GeneratedRegex("\"(?<name>gatekeeper_[a-z0-9_]+)\"")]
    private static partial Regex MetricLiteral();

    [GeneratedRegex(@"^#{1,6}\s+(?<title>.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
