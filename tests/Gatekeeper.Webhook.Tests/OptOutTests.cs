namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// A Deployment that stops opting in must not keep Gatekeeper's stamps on its pod template: every new pod would carry
/// a plan nobody runs any more, and the pod webhook would hold it. The webhook configuration sends such Deployments to
/// the mutating webhook (matching the old object and the stamps), which removes the stamps.
/// </summary>
public sealed class OptOutTests : IAsyncLifetime
{
    private const string Plan = "4444444444444444444444444444444444444444444444444444444444444444";
    private DeploymentScenario scenario = null!;

    public async Task InitializeAsync() => scenario = await DeploymentScenario.StartAsync(engine: null);

    public async Task DisposeAsync() => await scenario.DisposeAsync();

    private static System.Text.Json.Nodes.JsonObject Stamped(IDictionary<string, string>? annotations) =>
        Gatekeeper.Tests.ApiServerDouble.AdmissionReviewBodies.Deployment("shop", DeploymentScenario.Namespace, annotations,
            templateAnnotations: new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Plan, ["gatekeeper.dev/target-version"] = "3", ["team/owner"] = "shop" });

    [Fact]
    public async Task Removing_the_opt_in_annotation_removes_the_stamps_so_no_new_pod_is_held()
    {
        var before = Stamped(DeploymentScenario.OptIn());
        var after = Stamped(new Dictionary<string, string> { ["team/owner"] = "shop" });

        var result = await scenario.ApplyAsync(after, stored: before);

        Assert.True(result.Mutation.Allowed);
        Assert.Null(result.PlanStamp);
        Assert.Null(result.TargetVersionStamp);
        Assert.Equal("shop", result.Stored["spec"]!["template"]!["metadata"]!["annotations"]!["team/owner"]!.GetValue<string>());
        var warning = Assert.Single(result.Mutation.Warnings);
        Assert.Contains("removed the gatekeeper.dev/plan and gatekeeper.dev/target-version stamps", warning, StringComparison.Ordinal);
        Assert.Empty(scenario.Api.Requests);
    }

    [Fact]
    public async Task A_stamped_deployment_that_never_opted_in_here_loses_its_stale_stamps()
    {
        // A manifest exported from a cluster (kubectl get -o yaml) carries the stamps and the planning id without the annotation.
        var result = await scenario.ApplyAsync(Stamped(new Dictionary<string, string> { ["gatekeeper.dev/planning-id"] = "0123456789abcdef0123456789abcdef" }));

        Assert.True(result.Mutation.Allowed);
        Assert.Null(result.PlanStamp);
        Assert.Null(result.Stored["metadata"]!["annotations"]!["gatekeeper.dev/planning-id"]);
    }

    [Fact]
    public async Task A_deployment_that_neither_opts_in_nor_carries_stamps_passes_untouched()
    {
        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(annotations: null));

        Assert.True(result.Mutation.Allowed);
        Assert.Null(result.Mutation.Patch);
        Assert.Empty(result.Mutation.Warnings);
    }
}
