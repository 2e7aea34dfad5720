using System.Net;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.SimulatedCluster;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit.Abstractions;

namespace Gatekeeper.Cluster.Tests;

/// <summary>Rollouts through the whole chain: kubectl apply, the webhooks, the Deployment controller, the Job, the gate.</summary>
public sealed class RolloutScenarios(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> V1 = Steps.V1;
    private static readonly Dictionary<string, string> V2 = Steps.V2;

    [Theory]
    [MemberData(nameof(Scenario.Engines), MemberType = typeof(Scenario))]
    public async Task FirstRollout_holds_new_pods_until_the_one_migration_job_succeeds_while_the_old_pods_serve(string engine)
    {
        await using var scenario = await Scenario.StartAsync(output, engine);
        await scenario.PutMigrationsAsync(V1);
        await scenario.ApplyAsync(scenario.App(replicas: 2));
        await scenario.WaitUntilAsync(() => scenario.Pods().Count(ServiceNetwork.IsReady) == 2, "v1's pods run once its migration Job has succeeded");
        Assert.All(scenario.CreatedPods, pod => Assert.True(pod.Gated, $"{pod.Name} was created without the gate"));
        Assert.Equal(1L, await Steps.TableCount(scenario, "orders"));

        // v2: the old pods keep serving while the new ones wait for the one Job of the new plan.
        scenario.HoldJobs();
        await scenario.PutMigrationsAsync(V2);
        await scenario.ApplyAsync(scenario.App(replicas: 2, image: "ghcr.io/example/shop:2.0.0"));
        await scenario.WaitUntilAsync(() => scenario.JobPodExists() && scenario.NewPods().Count > 0, "v2's Job has a pod and v2 has pods");
        await scenario.Cluster.SettleAsync();
        Assert.All(scenario.NewPods(), pod => Assert.True(Scenario.Gated(pod), $"{pod.Name()} of v2 is not gated"));
        Assert.Equal(2, scenario.Pods().Count(p => ServiceNetwork.IsReady(p) && (string?)p["spec"]!["containers"]![0]!["image"] == Scenario.AppImage));

        scenario.ReleaseJobs();
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 2 && scenario.Pods().Count == 2, "v2 replaced v1 after its Job");
        Assert.Equal(2, scenario.Jobs().Count);
        Assert.All(scenario.Jobs(), job => Assert.True(job.ConditionIs("Complete"), job["status"]?.ToJsonString()));
        Assert.Equal(1L, await Steps.Count(scenario, engine == "postgres"
            ? "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note' AND table_schema = current_schema()"
            : "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note' AND table_schema = DATABASE()"));
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task NothingToMigrate_a_rollout_with_no_pending_migration_never_gates_a_pod_and_runs_no_job()
    {
        await using var scenario = await Scenario.StartAsync(output);
        await Steps.RolledOutAsync(scenario);
        var before = scenario.CreatedPods.Count;

        await scenario.ApplyAsync(scenario.App(replicas: 2, image: "ghcr.io/example/shop:1.0.1"));
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 2 && scenario.Pods().Count == 2, "1.0.1 replaced 1.0.0");

        Assert.All(scenario.CreatedPods.Skip(before), pod => Assert.False(pod.Gated, $"{pod.Name} was gated with nothing to migrate"));
        Assert.Single(scenario.Jobs());
        Assert.Empty(scenario.Forbidden());
    }

    [Theory]
    [MemberData(nameof(Scenario.Engines), MemberType = typeof(Scenario))]
    public async Task FailedMigration_holds_the_rollout_with_event_status_and_metric_then_a_fixed_migration_rolls_forward(string engine)
    {
        await using var scenario = await Scenario.StartAsync(output, engine);
        await Steps.RolledOutAsync(scenario);

        // A migration that only fails when it runs (the team switched the dry-run off for it).
        var broken = new Dictionary<string, string>(V1) { ["V2__backfill.sql"] = "INSERT INTO order_archive (id) VALUES (1);\n" };
        await scenario.PutMigrationsAsync(broken);
        var v2 = scenario.App(replicas: 2, image: "ghcr.io/example/shop:2.0.0", annotations: new Dictionary<string, string> { ["gatekeeper.dev/dry-run"] = "none" });
        await scenario.ApplyAsync(v2);
        // Gatekeeper is a process of its own on the wall clock: the clock below moves on only while the simulated
        // controllers have work, so ten cluster-minutes can pass in a second before Gatekeeper has seen v2. Its Job
        // (its reaction to the new template) is waited for first; only the Job's back-off needs the cluster's time.
        await scenario.WaitUntilAsync(() => scenario.Jobs().Count == 2, "Gatekeeper started the Job of v2's plan");
        // The Job retries its pod with back-off (10 s, 20 s…) until backoffLimit: the cluster's time passes.
        await scenario.Cluster.AdvanceUntilAsync(() => scenario.Jobs().Any(j => j.ConditionIs("Failed")), "the migration Job failed for good", TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5));
        await scenario.WaitUntilAsync(() => scenario.Events().Any(e => (string?)e["reason"] == "MigrationFailed"), "Gatekeeper reported the failed migration");

        Assert.All(scenario.NewPods(), pod => Assert.True(Scenario.Gated(pod), $"{pod.Name()} runs although its migration failed"));
        Assert.Equal(2, scenario.Pods().Count(p => ServiceNetwork.IsReady(p) && (string?)p["spec"]!["containers"]![0]!["image"] == Scenario.AppImage));
        Assert.Contains("MigrationFailed", scenario.GatekeeperStatus(), StringComparison.Ordinal);
        Assert.Contains("order_archive", scenario.GatekeeperStatus(), StringComparison.Ordinal);
        Assert.Contains($"kubectl -n {scenario.Namespace} rollout restart deployment/shop", scenario.GatekeeperStatus(), StringComparison.Ordinal);
        Assert.Matches("gatekeeper_migration_jobs_total\\{[^}]*result=\"failed\"[^}]*\\} 1", await scenario.MetricsAsync());

        // Fixed forward: the file is corrected. Applying the unchanged Deployment again changes nothing (kubectl sends
        // nothing, no webhook sees it), so the failure stands; rolling the template out again plans the fixed file.
        var fixedFiles = new Dictionary<string, string>(V1) { ["V2__backfill.sql"] = "CREATE TABLE order_archive (id bigint);\nINSERT INTO order_archive (id) VALUES (1);\n" };
        await scenario.PutMigrationsAsync(fixedFiles);
        await scenario.ApplyAsync(v2);
        Assert.Contains("MigrationFailed", scenario.GatekeeperStatus(), StringComparison.Ordinal);

        // A retry runs the admitted plan again, and its Job refuses it now that the file changed (--expect-plan); the
        // status then offers the rollout only, not the retry that cannot work.
        await scenario.EditAsync("shop", d => d.Metadata.Annotations["gatekeeper.dev/retry"] = "2");
        await scenario.WaitUntilAsync(() => scenario.Jobs().Count == 3, "Gatekeeper started the retry's Job");
        await scenario.Cluster.AdvanceUntilAsync(() => scenario.Jobs().Count(j => j.ConditionIs("Failed")) == 2, "the retry's Job failed for good", TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(5));
        await scenario.WaitUntilAsync(() => scenario.GatekeeperStatus().Contains("cannot run again as it is", StringComparison.Ordinal), "Gatekeeper reported the refused retry");
        Assert.Contains($"kubectl -n {scenario.Namespace} rollout restart deployment/shop", scenario.GatekeeperStatus(), StringComparison.Ordinal);
        Assert.DoesNotContain("gatekeeper.dev/retry", scenario.GatekeeperStatus(), StringComparison.Ordinal);
        Assert.Equal(0L, await Steps.TableCount(scenario, "order_archive"));

        await scenario.RolloutRestartAsync();
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 2 && scenario.Pods().Count == 2, "the fixed plan ran and v2's pods run");
        Assert.Equal(1L, await Steps.TableCount(scenario, "order_archive"));
        Assert.Equal(4, scenario.Jobs().Count);
        // The controller releases the pods, then writes the status: the pods can be ready a moment before it says Applied.
        await scenario.WaitUntilAsync(() => scenario.GatekeeperStatus().Contains("Applied", StringComparison.Ordinal), "Gatekeeper recorded the applied plan");
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task Scale_during_and_after_a_migration_holds_only_the_new_templates_pods_and_never_the_applied_ones()
    {
        await using var scenario = await Scenario.StartAsync(output);
        await Steps.RolledOutAsync(scenario);

        scenario.HoldJobs();
        await scenario.PutMigrationsAsync(V2);
        await scenario.ApplyAsync(scenario.App(replicas: 2, image: "ghcr.io/example/shop:2.0.0"));
        await scenario.WaitUntilAsync(() => scenario.JobPodExists(), "v2's Job has started");

        // kubectl scale during the migration (a merge patch of the scale subresource, with no resourceVersion to conflict
        // with the controllers' status writes): the Deployment controller's new pods are gated.
        await scenario.Kubectl.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":4}}", V1Patch.PatchType.MergePatch), "shop", scenario.Namespace);
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count >= 3, "the scale-up created more v2 pods");
        await scenario.Cluster.SettleAsync();
        Assert.All(scenario.NewPods(), pod => Assert.True(Scenario.Gated(pod), $"{pod.Name()} of v2 is not gated during the migration"));

        scenario.ReleaseJobs();
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 4 && scenario.Pods().Count == 4, "all four v2 pods run");

        // An HPA's scale after the migration: the new pods' plan is applied, so none waits.
        var before = scenario.CreatedPods.Count;
        var hpa = scenario.Cluster.ClientFor(UserInfo.Controller("horizontal-pod-autoscaler"));
        for (var attempt = 1; ; attempt++)
        {
            // The HPA reads the scale and updates it; a 409 (the Deployment controller wrote status meanwhile) is retried
            // at its next sync, from a fresh read.
            var hpaScale = await hpa.AppsV1.ReadNamespacedDeploymentScaleAsync("shop", scenario.Namespace);
            hpaScale.Spec.Replicas = 6;
            try
            {
                await hpa.AppsV1.ReplaceNamespacedDeploymentScaleAsync(hpaScale, "shop", scenario.Namespace);
                break;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < 10)
            {
            }
        }

        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 6, "the HPA's two new pods run");
        Assert.All(scenario.CreatedPods.Skip(before), pod => Assert.False(pod.Gated, $"{pod.Name} was held after its plan was applied"));
        Assert.Equal(2, scenario.Jobs().Count);
        Assert.Empty(scenario.Forbidden());
    }

    [Theory]
    [MemberData(nameof(Scenario.Engines), MemberType = typeof(Scenario))]
    public async Task DryRun_on_the_server_plans_and_answers_but_runs_no_ddl_creates_no_job_and_records_no_event(string engine)
    {
        await using var scenario = await Scenario.StartAsync(output, engine);
        await scenario.PutMigrationsAsync(V1);
        if (engine == "postgres")
        {
            // Any DDL in this database fails from now on, rolled back or not: a dry run that ran DDL would show it.
            await scenario.Database.ScalarAsync("""
                CREATE FUNCTION gk_sim_refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'gk-sim: DDL ran during a server-side dry run'; END $$;
                CREATE EVENT TRIGGER gk_sim_refuse_ddl ON ddl_command_start EXECUTE FUNCTION gk_sim_refuse_ddl();
                """);
        }

        var tablesBefore = await Steps.Count(scenario, engine == "postgres"
            ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            : "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE()");
        var answered = await scenario.ApplyAsync(scenario.App(replicas: 2), dryRun: true);

        Assert.Equal("shop", answered.Metadata.Name);
        Assert.NotNull(answered.Spec.Template.Metadata.Annotations?["gatekeeper.dev/plan"]);
        await scenario.Cluster.SettleAsync();
        Assert.Null(scenario.Cluster.Api.Get(ApiResources.Deployments, scenario.Namespace, "shop"));
        Assert.Empty(scenario.Jobs());
        Assert.DoesNotContain(scenario.Cluster.Api.List(ApiResources.Events, scenario.Namespace), e => (string?)e["involvedObject"]?["kind"] == "Deployment");
        Assert.Equal(tablesBefore, await Steps.Count(scenario, engine == "postgres"
            ? "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
            : "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE()"));
        Assert.All(scenario.Cluster.Api.Admission.Calls, call => Assert.True(call.DryRun, call.ToString()));
        Assert.DoesNotContain(scenario.Cluster.Api.Admission.Calls, call => call.Outcome.Contains("gk-sim", StringComparison.Ordinal));
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task Paused_a_template_edited_while_paused_gets_its_job_on_resume_not_at_the_edit()
    {
        await using var scenario = await Scenario.StartAsync(output);
        await Steps.RolledOutAsync(scenario);
        await scenario.EditAsync("shop", d => d.Spec.Paused = true);

        await scenario.PutMigrationsAsync(V2);
        var v2 = scenario.App(replicas: 2, image: "ghcr.io/example/shop:2.0.0");
        v2.Spec.Paused = true;
        var edited = await scenario.ApplyAsync(v2);
        await scenario.WaitUntilGatekeeperSawDeploymentsAsync(long.Parse(edited.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture));
        await scenario.Cluster.AdvanceAsync(TimeSpan.FromSeconds(30));

        var resumed = await scenario.EditAsync("shop", d => d.Spec.Paused = false);
        await scenario.WaitUntilAsync(() => scenario.Jobs().Count == 2, "v2's migration Job exists");
        var job = scenario.Jobs().OrderBy(scenario.CreatedAt).Last();
        Assert.True(scenario.CreatedAt(job) > long.Parse(resumed.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture),
            "v2's Job was created while the Deployment was paused, not on resume");
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 2 && scenario.Pods().Count == 2, "v2 rolled out after the resume");
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task Recreate_and_maxUnavailable_with_pending_migrations_are_admitted_with_a_warning_that_says_the_effect()
    {
        await using var scenario = await Scenario.StartAsync(output);
        await scenario.PutMigrationsAsync(V1);
        // Both Deployments share the database and the files: billing's Job, left to run, could apply V1 between shop's
        // mutating and validating calls, which then (rightly) refuse shop's apply as "the plan is now (none)" (1 in 3
        // runs once Jobs got faster). What is shown here is admission, so the Jobs wait.
        scenario.HoldJobs();
        var recreate = scenario.App(name: "billing", replicas: 2);
        recreate.Spec.Strategy = new V1DeploymentStrategy { Type = "Recreate" };
        await scenario.ApplyAsync(recreate);
        Assert.Contains(scenario.LastWarnings, w => w.Contains("Recreate", StringComparison.Ordinal));

        var rolling = scenario.App(name: "shop", replicas: 4);
        rolling.Spec.Strategy = new V1DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = "25%", MaxSurge = "25%" } };
        await scenario.ApplyAsync(rolling);
        Assert.Contains(scenario.LastWarnings, w => w.Contains("maxUnavailable", StringComparison.Ordinal));
        Assert.Empty(scenario.Forbidden());
    }

    [Fact]
    public async Task PullFail_of_the_migration_jobs_image_shows_in_the_deployments_status_within_a_minute()
    {
        await using var scenario = await Scenario.StartAsync(output);
        await scenario.PutMigrationsAsync(V1);
        scenario.Cluster.Kubelet.FailPulls(Scenario.GatekeeperImage, "unexpected status from HEAD request: 401 Unauthorized");
        await scenario.ApplyAsync(scenario.App(replicas: 2));
        await scenario.WaitUntilAsync(() => scenario.JobPodExists(), "the migration Job's pod exists");

        // The kubelet fails the pull at once and backs off (ErrImagePull, then ImagePullBackOff); Gatekeeper learns it from
        // the watch of the Job's pod, not from a timer, so it says so while the cluster's first minute passes.
        await scenario.Cluster.AdvanceUntilAsync(
            () => scenario.Cluster.Api.List(ApiResources.Pods, scenario.Namespace).Any(p => ((string?)p["status"]?["containerStatuses"]?[0]?["state"]?["waiting"]?["reason"]) is "ErrImagePull" or "ImagePullBackOff"),
            "the Job's pod failing its pull", TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5));
        await scenario.WaitUntilAsync(() => scenario.GatekeeperStatus().Contains("ImagePull", StringComparison.Ordinal), "the pull failure reaching the Deployment's status");
        Assert.Contains("MigrationNotStarting", scenario.GatekeeperStatus(), StringComparison.Ordinal);
        Assert.Contains("401 Unauthorized", scenario.GatekeeperStatus(), StringComparison.Ordinal);
        await scenario.WaitUntilAsync(() => scenario.Events().Any(e => (string?)e["reason"] == "MigrationNotStarting"), "the Warning Event");
        Assert.Contains(scenario.Events(), e => ((string?)e["message"])?.Contains("pull", StringComparison.OrdinalIgnoreCase) == true);
        Assert.All(scenario.NewPods(), pod => Assert.True(Scenario.Gated(pod), $"{pod.Name()} runs although its migration never started"));
        Assert.Matches("gatekeeper_migration_job_start_failures_total\\{[^}]*reason=\"ImagePull\"[^}]*\\} 1", await scenario.MetricsAsync());

        // The pull secret arrives: the same Job's pod pulls on its next try, the migration runs and the pods start.
        scenario.Cluster.Kubelet.HealPulls(Scenario.GatekeeperImage);
        await scenario.Cluster.AdvanceUntilAsync(() => scenario.Jobs().Any(j => j.ConditionIs("Complete")), "the Job ran after the pull was fixed", TimeSpan.FromMinutes(6), TimeSpan.FromSeconds(10));
        await scenario.WaitUntilAsync(() => scenario.NewPods().Count(ServiceNetwork.IsReady) == 2, "v1's pods run after the migration");
        Assert.Single(scenario.Jobs());
        Assert.Empty(scenario.Forbidden());
    }
}
