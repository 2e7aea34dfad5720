using System.Text.Json.Nodes;
using Gatekeeper.Tests.SimulatedCluster;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit.Abstractions;

namespace Gatekeeper.Cluster.Tests;

/// <summary>Whose Job proves what, across namespaces; and an install limited to some namespaces.</summary>
public sealed class TrustScenarios(ITestOutputHelper output)
{
    [Fact]
    public async Task SharedDatabase_two_namespaces_on_one_server_with_their_own_schemas_release_only_their_own_pods()
    {
        // Both teams opted in (sourceNamespaces); the chart's RoleBindings create their namespaces.
        await using var scenario = await Scenario.StartAsync(output, ns: "team-a", values: new JsonObject { ["sourceNamespaces"] = new JsonArray("team-a", "team-b") });
        await scenario.Database.ScalarAsync("CREATE SCHEMA team_a; CREATE SCHEMA team_b;");
        await scenario.PutSecretAsync("team-a", Scenario.SecretName, scenario.Database.Url + "?search_path=team_a");
        await scenario.PutSecretAsync("team-b", Scenario.SecretName, scenario.Database.Url + "?search_path=team_b");
        await scenario.PutMigrationsAsync(Steps.V1, ns: "team-a");
        await scenario.PutMigrationsAsync(Steps.V1, ns: "team-b");

        // Same files, same server and database: only the schema differs. team-b's Job is held.
        scenario.HoldJobs("team-b");
        await scenario.ApplyAsync(scenario.App(replicas: 2, ns: "team-b"));
        await scenario.WaitUntilAsync(() => scenario.JobPodExists("team-b"), "team-b's Job has started");
        await scenario.ApplyAsync(scenario.App(replicas: 2, ns: "team-a"));
        await scenario.WaitUntilAsync(() => scenario.Pods(ns: "team-a").Count(ServiceNetwork.IsReady) == 2, "team-a's pods run after team-a's Job");

        // team-a's success must not release team-b: only team-b's own Job may.
        scenario.ReleaseJobs("team-b");
        await scenario.WaitUntilAsync(() => scenario.Pods(ns: "team-b").Count(ServiceNetwork.IsReady) == 2, "team-b's pods run after team-b's Job");
        var teamBRelease = FirstUngating(scenario, "team-b");
        var teamBJob = scenario.Jobs("team-b").Single();
        Assert.True(teamBRelease > scenario.CompletedAt(teamBJob), $"team-b's pods were released (store version {teamBRelease}) before team-b's Job completed ({scenario.CompletedAt(teamBJob)})");
        Assert.Equal(1L, await Steps.Count(scenario, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'team_b' AND table_name = 'orders'"));
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task Forged_job_in_another_namespace_claiming_the_plan_releases_nothing()
    {
        await using var scenario = await Scenario.StartAsync(output);
        scenario.Cluster.Kubelet.Register("busybox:1.36", RunnableImage.OwnCommand);
        await scenario.PutMigrationsAsync(Steps.V1);
        scenario.HoldJobs();
        await scenario.ApplyAsync(scenario.App(replicas: 2));
        await scenario.WaitUntilAsync(() => scenario.JobPodExists() && scenario.Pods().Count == 2, "shop's Job and gated pods exist");
        var real = scenario.Jobs().Single();

        // Someone who may create Jobs in their own namespace copies the real Job's labels and annotations.
        await scenario.Cluster.CreateNamespaceAsync("attacker");
        var forged = new V1Job
        {
            Metadata = new V1ObjectMeta
            {
                Name = real.Name(),
                NamespaceProperty = "attacker",
                Labels = ((JsonObject)real["metadata"]!["labels"]!).ToDictionary(l => l.Key, l => (string)l.Value!),
                Annotations = ((JsonObject)real["metadata"]!["annotations"]!).ToDictionary(a => a.Key, a => (string)a.Value!),
            },
            Spec = new V1JobSpec
            {
                BackoffLimit = 0,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = ((JsonObject)real["metadata"]!["labels"]!).ToDictionary(l => l.Key, l => (string)l.Value!) },
                    Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "migrate", Image = "busybox:1.36", Command = ["true"] }] },
                },
            },
        };
        await scenario.Kubectl.BatchV1.CreateNamespacedJobAsync(forged, "attacker");
        await scenario.WaitUntilAsync(() => scenario.Jobs("attacker").SingleOrDefault()?.ConditionIs("Complete") == true, "the forged Job completed");

        // Only shop's own Job may release shop's pods: the first release comes after it completed.
        scenario.ReleaseJobs();
        await scenario.WaitUntilAsync(() => scenario.Pods().Count(ServiceNetwork.IsReady) == 2, "shop's pods run after shop's Job");
        Assert.True(FirstUngating(scenario, scenario.Namespace) > scenario.CompletedAt(scenario.Jobs().Single()), "a pod was released before shop's own Job completed");
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task WatchNamespaces_install_runs_the_controller_and_rolls_out_in_a_watched_namespace()
    {
        await using var scenario = await Scenario.StartAsync(output, values: new JsonObject { ["watchNamespaces"] = new JsonArray("shop") });
        await Steps.RolledOutAsync(scenario);
        Assert.Single(scenario.Jobs());
        Assert.NotNull(scenario.Cluster.Api.Get(ApiResources.Leases, Scenario.GatekeeperNamespace, "gatekeeper-controller"));
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task LeastPrivilege_the_default_install_reads_no_Secret_outside_the_listed_namespaces_and_denies_there_naming_the_value_to_set()
    {
        // The chart's defaults, with shop listed in sourceNamespaces as a team opting in would.
        await using var scenario = await Scenario.StartAsync(output);
        var bindings = scenario.Cluster.Api.List(ApiResources.ClusterRoleBindings, null).Select(b => (string)b["roleRef"]!["name"]!).ToList();
        Assert.DoesNotContain($"{Scenario.Release}-sources", bindings);

        // A team that opted its Deployment in but not its namespace: Gatekeeper may not read its Secret, and says how to fix it.
        await scenario.Cluster.CreateNamespaceAsync("unlisted");
        await scenario.PutSecretAsync("unlisted", Scenario.SecretName, scenario.Database.Url);
        await scenario.PutMigrationsAsync(Steps.V1, ns: "unlisted");
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => scenario.ApplyAsync(scenario.App(replicas: 1, ns: "unlisted")));
        Assert.Contains("add unlisted to the chart's sourceNamespaces", refused.Response.Content, StringComparison.Ordinal);
        Assert.Contains(scenario.Forbidden(), call => call.Namespace == "unlisted");
        Assert.DoesNotContain(scenario.Forbidden(), call => call.Namespace != "unlisted");

        // The listed namespace rolls out as always.
        await Steps.RolledOutAsync(scenario);
    }

    /// <summary>The store version at which a pod of the namespace first lost its scheduling gate.</summary>
    private static long FirstUngating(Scenario scenario, string ns) => scenario.Ungatings(ns).DefaultIfEmpty(long.MaxValue).Min();
}
