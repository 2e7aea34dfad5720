using System.Net;
using Gatekeeper.Tests.ApiServerDouble;
using Xunit.Abstractions;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The Deployment webhook's calls to the Kubernetes API (ConfigMap and Secret reads) through Polly while the API
/// server double fails in bursts or answers slowly: bounded attempts, answers in time, recovery on the next apply.
/// </summary>
public sealed class KubernetesApiFaultTests(ITestOutputHelper output)
{
    private const string ConfigMaps = "/api/v1/namespaces/team-a/configmaps";

    private static readonly Dictionary<string, string> Migrations = new()
    {
        ["V1__create_orders.sql"] = "CREATE TABLE orders (\n  id bigint PRIMARY KEY\n);\n",
    };

    private static async Task<AdmissionReviewResponse> MutateAsync(DeploymentScenario scenario, string image) =>
        await AdmissionReviewResponse.ReadAsync(await scenario.Webhook.PostAsync("/mutate/deployments",
            AdmissionReviewBodies.Review("CREATE", DeploymentScenario.Deployment(DeploymentScenario.OptIn(), image))));

    private static int ConfigMapReads(DeploymentScenario scenario) => scenario.Api.RequestsTo("GET", ConfigMaps).Count;

    [Fact]
    public async Task A_burst_of_500s_within_the_retry_budget_is_absorbed_and_one_beyond_it_denies_until_the_next_apply()
    {
        await using var scenario = await DeploymentScenario.StartAsync("postgres");
        scenario.PutMigrations(Migrations);

        // Two 500s: the first attempt and the first retry fail, the second retry (Webhook:MaxRetries 2) reads it.
        scenario.Api.FailNext("GET", ConfigMaps, HttpStatusCode.InternalServerError, times: 2);
        var absorbed = await MutateAsync(scenario, "ghcr.io/example/shop:1.0.0");

        Assert.True(absorbed.Allowed, absorbed.Message);
        Assert.Contains("gatekeeper.dev/plan", absorbed.PatchText, StringComparison.Ordinal);
        Assert.Equal(3, ConfigMapReads(scenario));

        // Three 500s: the budget is spent, the rollout is denied as an outage after exactly three attempts.
        scenario.Api.FailNext("GET", ConfigMaps, HttpStatusCode.InternalServerError, times: 3);
        var denied = await MutateAsync(scenario, "ghcr.io/example/shop:1.0.1");

        Assert.False(denied.Allowed);
        Assert.Equal(503, denied.Code);
        Assert.Contains("Kubernetes API unreachable", denied.Message, StringComparison.Ordinal);
        Assert.Equal(3 + 3, ConfigMapReads(scenario));

        // The API is back: the same apply goes through at the first attempt, with the same plan.
        var recovered = await MutateAsync(scenario, "ghcr.io/example/shop:1.0.1");

        Assert.True(recovered.Allowed, recovered.Message);
        Assert.Equal(absorbed.StampPatchText, recovered.StampPatchText);
        Assert.Equal(3 + 3 + 1, ConfigMapReads(scenario));
    }

    [Fact]
    public async Task A_kubernetes_api_slower_than_the_request_budget_is_denied_in_time_after_one_attempt_not_a_500()
    {
        // The webhook's clock moves only once the read is stuck in the double: the budget runs out then, whatever the load.
        var clock = new AdmissionClock(TimeSpan.FromSeconds(1));
        await using var scenario = await DeploymentScenario.StartAsync(engine: null, clock.Settings(), clock.Install);
        scenario.PutMigrations(Migrations);
        scenario.Api.Slow("GET", ConfigMaps, TimeSpan.FromMinutes(5));

        var pending = Task.Run(async () => await AdmissionReviewResponse.ReadAsync(await scenario.Webhook.PostAsync("/mutate/deployments",
            AdmissionReviewBodies.Review("CREATE", DeploymentScenario.Deployment(DeploymentScenario.OptIn())))));
        using (var patience = new CancellationTokenSource(Gatekeeper.Tests.Patience.Default))
        {
            while (ConfigMapReads(scenario) == 0)
            {
                Assert.False(pending.IsCompleted, "answered before reading the ConfigMaps");
                await Task.Delay(10, patience.Token);
            }
        }

        var answer = await clock.RunOutAsync(pending);
        output.WriteLine($"answered with the clock moved {clock.Elapsed.TotalMilliseconds} ms, a budget of 1 s");

        // The call's own deadline (the budget less a margin of 125 ms) names the API: a 503 deny in time with a reason
        // ("try again"), never a 500 or a hung request; the endpoint's budget, its safety net, never had to answer.
        Assert.False(answer.Allowed);
        Assert.Equal(503, answer.Code);
        Assert.Contains("Kubernetes API unreachable", answer.Message, StringComparison.Ordinal);
        Assert.Contains("no answer in time", answer.Message, StringComparison.Ordinal);
        // A timeout is the end of the budget, not a transient failure worth another attempt.
        Assert.Equal(1, ConfigMapReads(scenario));
    }
}
