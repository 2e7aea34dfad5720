using System.Text.Json.Nodes;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// A pending migration meets the Deployment's rollout settings (issue 11.5): pods the Deployment controller stops while
/// the new ones are gated, and a progress deadline the Job may outlast. Real AdmissionReviews over HTTPS, a real
/// PostgreSQL planned against.
/// </summary>
public sealed class CapacityAdmissionTests
{
    private static readonly Dictionary<string, string> Files = new() { ["V1__create_orders.sql"] = "CREATE TABLE orders (id bigint PRIMARY KEY);\n" };

    private static async Task<DeploymentScenario> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var scenario = await DeploymentScenario.StartAsync("postgres", settings);
        scenario.PutMigrations(Files);
        return scenario;
    }

    private static JsonObject Deployment(int replicas, JsonObject? strategy, int? progressDeadlineSeconds, params (string Key, string Value)[] annotations)
    {
        var deployment = DeploymentScenario.Deployment(DeploymentScenario.OptIn(annotations));
        var spec = deployment["spec"]!.AsObject();
        spec["replicas"] = replicas;
        spec.Remove("strategy");
        spec.Remove("progressDeadlineSeconds");
        if (strategy is not null)
        {
            spec["strategy"] = strategy;
        }

        if (progressDeadlineSeconds is { } seconds)
        {
            spec["progressDeadlineSeconds"] = seconds;
        }

        return deployment;
    }

    private static JsonObject Rolling(JsonNode maxUnavailable, JsonNode maxSurge) => new()
    {
        ["type"] = "RollingUpdate",
        ["rollingUpdate"] = new JsonObject { ["maxUnavailable"] = maxUnavailable, ["maxSurge"] = maxSurge },
    };

    [Fact]
    public async Task The_default_rolling_update_of_four_replicas_warns_that_three_serve_and_that_the_job_may_outlast_the_progress_deadline()
    {
        await using var scenario = await StartAsync();

        var result = await scenario.ApplyAsync(Deployment(4, Rolling("25%", "25%"), 600));

        Assert.True(result.Admitted, result.Denial);
        var capacity = Assert.Single(result.Warnings, w => w.Contains("maxUnavailable", StringComparison.Ordinal));
        Assert.Contains("maxUnavailable 25% (of 4 replicas: 1)", capacity, StringComparison.Ordinal);
        Assert.Contains("3 of 4 serve until it succeeds", capacity, StringComparison.Ordinal);
        Assert.Contains("set maxUnavailable: 0", capacity, StringComparison.Ordinal);
        var deadline = Assert.Single(result.Warnings, w => w.Contains("progressDeadlineSeconds", StringComparison.Ordinal));
        Assert.Contains("may run 30m (gatekeeper.dev/job-timeout) but progressDeadlineSeconds is 600", deadline, StringComparison.Ordinal);
        Assert.Contains("ProgressDeadlineExceeded", deadline, StringComparison.Ordinal);
        Assert.Contains("set progressDeadlineSeconds to 1800 or more", deadline, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unset_strategy_and_deadline_are_judged_with_the_api_servers_defaults()
    {
        await using var scenario = await StartAsync();

        // What the mutating webhook (and a hand-made review) may see: no strategy, no progressDeadlineSeconds.
        var result = await scenario.ApplyAsync(Deployment(8, strategy: null, progressDeadlineSeconds: null));

        Assert.True(result.Admitted, result.Denial);
        Assert.Contains(result.Warnings, w => w.Contains("maxUnavailable 25% (of 8 replicas: 2)", StringComparison.Ordinal) && w.Contains("6 of 8 serve", StringComparison.Ordinal));
        Assert.Contains(result.Warnings, w => w.Contains("progressDeadlineSeconds is 600", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Recreate_warns_of_a_full_outage_while_the_job_runs()
    {
        await using var scenario = await StartAsync();

        var result = await scenario.ApplyAsync(Deployment(2, new JsonObject { ["type"] = "Recreate" }, 3600));

        Assert.True(result.Admitted, result.Denial);
        var warning = Assert.Single(result.Warnings, w => w.Contains("Recreate", StringComparison.Ordinal));
        Assert.Contains("its 2 old pods stop before the new ones start", warning, StringComparison.Ordinal);
        Assert.Contains("nothing serves while it runs", warning, StringComparison.Ordinal);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("progressDeadlineSeconds", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_surge_only_rollout_whose_deadline_covers_the_job_timeout_gets_no_capacity_warning()
    {
        await using var scenario = await StartAsync();

        var result = await scenario.ApplyAsync(Deployment(4, Rolling(0, 1), 600, ("gatekeeper.dev/job-timeout", "10m")));

        Assert.True(result.Admitted, result.Denial);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("maxUnavailable", StringComparison.Ordinal) || w.Contains("progressDeadlineSeconds", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_capacity_policy_annotation_deny_refuses_the_rollout_with_each_effect_and_fix()
    {
        await using var scenario = await StartAsync();

        var result = await scenario.ApplyAsync(Deployment(4, Rolling("25%", "25%"), 600, ("gatekeeper.dev/capacity-policy", "deny")));

        Assert.False(result.Admitted);
        Assert.Equal(422, result.Validation!.Code);
        var lines = result.Denial!.Split('\n');
        Assert.Contains("capacity policy is deny (gatekeeper.dev/capacity-policy)", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("3 of 4 serve", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ProgressDeadlineExceeded", StringComparison.Ordinal));
        Assert.StartsWith("To proceed:", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_chart_default_deny_refuses_and_the_annotation_warn_overrides_it()
    {
        await using var scenario = await StartAsync(new Dictionary<string, string?> { ["Webhook:CapacityPolicy"] = "deny" });

        var refused = await scenario.ApplyAsync(Deployment(2, new JsonObject { ["type"] = "Recreate" }, 3600));
        var warned = await scenario.ApplyAsync(Deployment(2, new JsonObject { ["type"] = "Recreate" }, 3600, ("gatekeeper.dev/capacity-policy", "warn")));
        var fine = await scenario.ApplyAsync(Deployment(2, Rolling(0, "25%"), 3600));

        Assert.False(refused.Admitted);
        Assert.Contains("Recreate", refused.Denial, StringComparison.Ordinal);
        Assert.True(warned.Admitted, warned.Denial);
        Assert.Contains(warned.Warnings, w => w.Contains("Recreate", StringComparison.Ordinal));
        Assert.True(fine.Admitted, fine.Denial);
    }

    [Fact]
    public async Task A_capacity_policy_that_is_neither_warn_nor_deny_is_an_annotation_problem()
    {
        await using var scenario = await StartAsync();

        var result = await scenario.ApplyAsync(Deployment(2, Rolling(0, 1), 3600, ("gatekeeper.dev/capacity-policy", "strict")));

        Assert.False(result.Admitted);
        Assert.Contains("gatekeeper.dev/capacity-policy value \"strict\" is not a capacity policy", result.Denial, StringComparison.Ordinal);
    }
}
