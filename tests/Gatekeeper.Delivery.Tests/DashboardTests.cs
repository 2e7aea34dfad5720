using System.Text.Json;

namespace Gatekeeper.Delivery.Tests;

/// <summary>The Grafana dashboard queries only metrics the code exports, and the chart ships it unchanged.</summary>
public sealed class DashboardTests
{
    private const string DashboardFile = "dashboards/gatekeeper.json";

    [Fact]
    public void Every_metric_the_dashboard_queries_is_exported_by_the_code()
    {
        var exported = AlertRulesTests.MetricNameLiterals();
        var used = Expressions().SelectMany(e => PromQlMetricNames.In(e.Expression).Select(metric => (e.Panel, Metric: metric))).ToList();
        Assert.NotEmpty(used);
        var unknown = used.Where(u => AlertRulesTests.ExportedName(u.Metric, exported) is null).Select(u => $"{u.Panel}: {u.Metric}").Distinct().ToList();
        Assert.True(unknown.Count == 0, $"Dashboard panels query metrics no code under src/ defines: {string.Join("; ", unknown)}. Exported: {string.Join(", ", exported.Order(StringComparer.Ordinal))}.");
    }

    [Fact]
    public void Every_panel_queries_a_metric_and_has_a_description()
    {
        using var dashboard = JsonDocument.Parse(RepositoryFiles.ReadText(DashboardFile));
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            var title = panel.GetProperty("title").GetString();
            Assert.False(string.IsNullOrWhiteSpace(panel.GetProperty("description").GetString()), $"{title}: no description");
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.NotEmpty(PromQlMetricNames.In(t.GetProperty("expr").GetString()!)));
        }
    }

    [Fact]
    public void The_chart_ships_the_repository_dashboard_unchanged()
    {
        Assert.Equal(RepositoryFiles.ReadText(DashboardFile), RepositoryFiles.ReadText("charts/gatekeeper/files/gatekeeper-dashboard.json"));
    }

    [Fact]
    public void The_dashboard_covers_admissions_held_pods_jobs_and_blocked_plans()
    {
        var metrics = Expressions().SelectMany(e => PromQlMetricNames.In(e.Expression)).ToHashSet(StringComparer.Ordinal);
        foreach (var needed in new[]
        {
            "gatekeeper_admission_requests_total", "gatekeeper_admission_duration_seconds_bucket", "gatekeeper_gated_pods",
            "gatekeeper_gated_pod_oldest_wait_seconds", "gatekeeper_migration_jobs_total", "gatekeeper_migration_duration_seconds_bucket",
            "gatekeeper_plan_rejections_total",
        })
        {
            Assert.Contains(needed, metrics);
        }
    }

    private static List<(string Panel, string Expression)> Expressions()
    {
        using var dashboard = JsonDocument.Parse(RepositoryFiles.ReadText(DashboardFile));
        return dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray()
                .Select(target => (panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!)))
            .ToList();
    }
}
