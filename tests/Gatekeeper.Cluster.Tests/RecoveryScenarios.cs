using System.Net;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.SimulatedCluster;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit.Abstractions;

namespace Gatekeeper.Cluster.Tests;

/// <summary>What operators do when things go wrong: roll back, restart, lose a leader, opt out, lose Gatekeeper.</summary>
public sealed class RecoveryScenarios(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(Scenario.Engines), MemberType = typeof(Scenario))]
    public async Task Rollback_with_rollout_undo_after_an_applied_migration_is_admitted_without_the_database_and_runs_no_job(string engine)
    {
        await using var scenario = await Scenario.StartAsync(output, engine);
        await scenario.PutMigrationsAsync(Steps.V1, "shop-migrations-v1");
        await scenario.ApplyAsync(scenario.App(replicas: 2, annotations: new Dictionary<string, string> { ["gatekeeper.dev/migrations"] = "shop-migrations-v1" }));
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 2, "v1 runs");
        await scenario.PutMigrationsAsync(Steps.V2, "shop-migrations-v2");
        await scenario.ApplyAsync(scenario.App(replicas: 2, image: "ghcr.io/example/shop:2.0.0", annotations: new Dictionary<string, string> { ["gatekeeper.dev/migrations"] = "shop-migrations-v2" }));
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 2 && scenario.Pods().Count == 2, "v2 runs");
        var v1Plan = scenario.CreatedPods[0].Plan!;
        AssertNoReplicaSetCarriesGatekeeperStatus(scenario);

        // An incident: the database is unreachable, and the team rolls back to v1 (files V1 only, V2 applied).
        await scenario.PutSecretAsync(scenario.Namespace, Scenario.SecretName, engine == "postgres" ? "postgres://app:pw@127.0.0.1:9/shop" : "mysql://app:pw@127.0.0.1:9/shop");
        var before = scenario.CreatedPods.Count;
        await scenario.RolloutUndoAsync();

        Assert.Contains(scenario.LastWarnings, w => w.Contains(v1Plan[..12], StringComparison.Ordinal));
        Assert.Equal("shop-migrations-v1", scenario.Deployment().Annotation("gatekeeper.dev/migrations"));
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 2 && scenario.Pods().Count == 2, "v1's template runs again");
        Assert.Equal(Scenario.AppImage, (string?)scenario.NewPods()[0]["spec"]!["containers"]![0]!["image"]);
        Assert.All(scenario.CreatedPods.Skip(before), pod => Assert.False(pod.Gated, $"{pod.Name} of the rollback waited for a plan applied long ago"));
        Assert.Equal(2, scenario.Jobs().Count);
        AssertNoReplicaSetCarriesGatekeeperStatus(scenario);
        Assert.Empty(scenario.Forbidden());
    }

    /// <summary>
    /// The Deployment controller copies a Deployment's annotations onto its ReplicaSets, and `rollout undo` copies an
    /// old ReplicaSet's back: Gatekeeper's record of applied plans must live where neither happens (the status
    /// conditions), or a rollback restores a stale record.
    /// </summary>
    private static void AssertNoReplicaSetCarriesGatekeeperStatus(Scenario scenario)
    {
        var replicaSets = scenario.Cluster.Api.List(ApiResources.ReplicaSets, scenario.Namespace);
        Assert.NotEmpty(replicaSets);
        Assert.All(replicaSets, rs => Assert.Null(rs["metadata"]?["annotations"]?["gatekeeper.dev/status"]));
        Assert.Null(scenario.Deployment()["metadata"]?["annotations"]?["gatekeeper.dev/status"]);
    }

    [Fact]
    public async Task Restart_of_gatekeeper_after_the_jobs_ttl_lets_replacement_pods_run_without_being_held()
    {
        await using var scenario = await Scenario.StartAsync(output, values: new JsonObject { ["replicaCount"] = 2 });
        await Steps.RolledOutAsync(scenario);

        // A day later the Job is gone (ttlSecondsAfterFinished), and Gatekeeper restarts (an upgrade, a node drain).
        await scenario.Cluster.AdvanceUntilAsync(() => scenario.Jobs().Count == 0, "the TTL controller deleted the Job", TimeSpan.FromDays(2), TimeSpan.FromHours(1));
        var restarted = scenario.GatekeeperPods().Select(p => p.Name()).ToHashSet();
        foreach (var name in restarted)
        {
            await scenario.Kubectl.CoreV1.DeleteNamespacedPodAsync(name, Scenario.GatekeeperNamespace);
        }

        await scenario.WaitUntilAsync(() => scenario.GatekeeperPods().Count == 2 && scenario.GatekeeperPods().All(p => !restarted.Contains(p.Name())), "replacement Gatekeeper pods exist");
        await scenario.WaitForGatekeeperAsync();

        // The app's pods are replaced (node drain) and scaled up (HPA): none may wait for a plan applied a day ago.
        var before = scenario.CreatedPods.Count;
        await scenario.Kubectl.CoreV1.DeleteNamespacedPodAsync(scenario.Pods()[0].Name(), scenario.Namespace);
        await scenario.EditAsync("shop", d => d.Spec.Replicas = 3);
        await scenario.WaitUntilAsync(() => scenario.Pods().Count(ServiceNetwork.IsReady) == 3 && scenario.CreatedPods.Count >= before + 2, "the replacement and the new pod run");
        Assert.All(scenario.CreatedPods.Skip(before), pod => Assert.False(pod.Gated, $"{pod.Name} was held for a plan applied a day ago"));
        Assert.Empty(scenario.Jobs());
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task LeaderLoss_in_the_middle_of_a_job_hands_the_work_to_the_other_replica_with_exactly_one_job()
    {
        var values = new JsonObject
        {
            ["replicaCount"] = 2,
            ["extraEnv"] = new JsonArray(
                new JsonObject { ["name"] = "Controller__LeaseDuration", ["value"] = "00:00:06" },
                new JsonObject { ["name"] = "Controller__RenewDeadline", ["value"] = "00:00:04" },
                new JsonObject { ["name"] = "Controller__RetryPeriod", ["value"] = "00:00:01" }),
        };
        await using var scenario = await Scenario.StartAsync(output, values: values);
        await scenario.PutMigrationsAsync(Steps.V1);
        scenario.HoldJobs();
        await scenario.ApplyAsync(scenario.App(replicas: 2));
        await scenario.WaitUntilAsync(() => scenario.JobPodExists(), "the leader created the Job");
        var leader = Holder(scenario);
        var leaderPod = scenario.GatekeeperPods().Single(p => leader.StartsWith(p.Name(), StringComparison.Ordinal));

        // The leader's node fails mid-Job: its process dies without giving the lease up.
        scenario.Cluster.Kubelet.Crash(Scenario.GatekeeperNamespace, leaderPod.Name());
        await scenario.WaitUntilAsync(() => Holder(scenario) is var now && now.Length > 0 && !now.StartsWith(leaderPod.Name(), StringComparison.Ordinal),
            "the other replica took the lease once it expired");
        scenario.ReleaseJobs();
        await scenario.WaitUntilAsync(() => scenario.Pods().Count(ServiceNetwork.IsReady) == 2, "the new leader released the pods after the Job");
        Assert.Single(scenario.Jobs());
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task OptOut_by_removing_the_annotation_removes_the_stamps_so_no_new_pod_waits_for_a_plan_nobody_runs()
    {
        await using var scenario = await Scenario.StartAsync(output);
        await Steps.RolledOutAsync(scenario);
        scenario.HoldJobs();
        await scenario.PutMigrationsAsync(Steps.V2);
        await scenario.ApplyAsync(scenario.App(replicas: 2, image: "ghcr.io/example/shop:2.0.0"));
        await scenario.WaitUntilAsync(() => scenario.JobPodExists() && scenario.NewPods().Count > 0, "v2 waits for its Job");

        // kubectl annotate deployment shop gatekeeper.dev/migrations- gatekeeper.dev/database-secret-
        await scenario.Kubectl.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(
            "{\"metadata\":{\"annotations\":{\"gatekeeper.dev/migrations\":null,\"gatekeeper.dev/database-secret\":null}}}", V1Patch.PatchType.MergePatch), "shop", scenario.Namespace);

        await scenario.WaitUntilAsync(() => scenario.Deployment()["spec"]?["template"]?["metadata"]?["annotations"]?["gatekeeper.dev/plan"] is null, "the plan stamp is gone from the template");
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 2 && scenario.Pods().Count == 2, "the opted-out Deployment's pods run");
        Assert.All(scenario.Pods(), pod => Assert.False(Scenario.Gated(pod)));
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task Unreachable_gatekeeper_with_failurePolicy_Fail_refuses_only_opted_in_deployments_and_their_pods()
    {
        await using var scenario = await Scenario.StartAsync(output);
        await Steps.RolledOutAsync(scenario);

        // Gatekeeper is down: no endpoint behind its Service.
        await scenario.Kubectl.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":0}}", V1Patch.PatchType.MergePatch), Scenario.Release, Scenario.GatekeeperNamespace);
        await scenario.WaitUntilAsync(() => scenario.GatekeeperPods().Count == 0, "Gatekeeper's pods are gone");

        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => scenario.ApplyAsync(scenario.App(name: "billing", replicas: 1)));
        Assert.Equal(HttpStatusCode.InternalServerError, refused.Response.StatusCode);
        Assert.Contains("failed calling webhook", refused.Response.Content, StringComparison.Ordinal);

        // Everything else proceeds: a Deployment that did not opt in, and kube-system, opted in or not.
        await scenario.ApplyAsync(scenario.App(name: "plain", replicas: 1, optIn: false));
        var system = scenario.App(name: "dns", replicas: 1, ns: "kube-system");
        await scenario.ApplyAsync(system);
        await scenario.WaitUntilAsync(() => scenario.Pods("plain").Count(ServiceNetwork.IsReady) == 1 && scenario.Pods("dns", "kube-system").Count(ServiceNetwork.IsReady) == 1,
            "the other Deployments' pods run");

        // Scaling goes through the scale subresource, which no webhook sees; the new pod is refused: FailedCreate.
        await scenario.Kubectl.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":3}}", V1Patch.PatchType.MergePatch), "shop", scenario.Namespace);
        await scenario.WaitUntilAsync(
            () => scenario.Cluster.Api.List(ApiResources.Events, scenario.Namespace).Any(e => (string?)e["reason"] == "FailedCreate" && ((string?)e["message"])!.Contains("failed calling webhook", StringComparison.Ordinal)),
            "the ReplicaSet could not create the new pod");
        Assert.Equal(2, scenario.Pods().Count);
    }

    private static string Holder(Scenario scenario) =>
        (string?)scenario.Cluster.Api.Get(ApiResources.Leases, Scenario.GatekeeperNamespace, "gatekeeper-controller")?["spec"]?["holderIdentity"] ?? string.Empty;
}
