using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Tests.ApiServerDouble;
using k8s;
using k8s.Models;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// Rollbacks against a real PostgreSQL: <c>kubectl rollout undo</c> and <c>helm rollback</c> put back an older pod
/// template and an older migrations ConfigMap while the database already holds newer migrations. Recovery must never be
/// blocked: a template the Deployment already ran, whose plan its record names as applied, is admitted without planning
/// and without the database, and a database ahead of the files is a warning.
/// </summary>
public sealed class RollbackTests : IAsyncLifetime
{
    private const string Uid = "5f3c0a42-9d2e-4c5b-8f77-0d1e2a3b4c5d";

    private static readonly Dictionary<string, string> V1Files = new()
    {
        ["V1__create_customers.sql"] = "CREATE TABLE customers (\n  id bigint PRIMARY KEY,\n  email text NOT NULL\n);\n",
    };

    private static readonly Dictionary<string, string> V2Files = new(V1Files)
    {
        ["V2__create_orders.sql"] = "CREATE TABLE orders (\n  id bigint PRIMARY KEY,\n  customer_id bigint NOT NULL REFERENCES customers (id)\n);\n",
    };

    private DeploymentScenario scenario = null!;
    private int revision;

    public async Task InitializeAsync() => scenario = await DeploymentScenario.StartAsync("postgres");

    public async Task DisposeAsync() => await scenario.DisposeAsync();

    private static JsonObject Manifest(string configMap, string image) =>
        DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/migrations", configMap)), image);

    /// <summary>
    /// What follows an admitted apply in a cluster: the API server stores it (with its uid), the Deployment controller
    /// makes a ReplicaSet of its template, the migration Job applies the files, and the controller records the plan.
    /// </summary>
    private async Task<JsonObject> RollOutAsync(ApplyResult result, IDictionary<string, string> files, params string[] applied)
    {
        Assert.True(result.Admitted, result.Denial);
        await scenario.Database!.MigrateAsync(files);
        var stored = (JsonObject)result.Stored.DeepClone();
        stored["metadata"]!["uid"] = Uid;
        var status = new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "applied", applied[0], null, DateTimeOffset.UnixEpoch) { AppliedPlans = applied };
        var (migrated, record) = DeploymentRecord.Conditions(status, DateTimeOffset.UnixEpoch);
        stored["status"] = JsonNode.Parse(KubernetesJson.Serialize(new V1DeploymentStatus { Conditions = [migrated, record] }));

        revision++;
        var template = KubernetesJson.Deserialize<V1PodTemplateSpec>(stored["spec"]!["template"]!.ToJsonString());
        var hash = $"7c9d5f{revision}b4";
        template.Metadata.Labels[PodOwner.TemplateHashLabel] = hash;
        scenario.Api.Put(new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"shop-{hash}",
                NamespaceProperty = DeploymentScenario.Namespace,
                Labels = new Dictionary<string, string> { ["app"] = "shop", [PodOwner.TemplateHashLabel] = hash },
                Annotations = new Dictionary<string, string> { ["deployment.kubernetes.io/revision"] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "shop", Uid = Uid, Controller = true, BlockOwnerDeletion = true }],
            },
            Spec = new V1ReplicaSetSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "shop", [PodOwner.TemplateHashLabel] = hash } },
                Template = template,
            },
        });
        return stored;
    }

    /// <summary>v1 then v2 rolled out and applied: the record remembers both plans; returns (v1 stored, v2 stored).</summary>
    private async Task<(JsonObject V1, JsonObject V2, string PlanV1, string PlanV2)> TwoReleasesAsync()
    {
        scenario.PutMigrations(V1Files, "shop-migrations-v1");
        var first = await scenario.ApplyAsync(Manifest("shop-migrations-v1", "ghcr.io/example/shop:1.0.0"));
        var planV1 = first.PlanStamp!;
        var v1 = await RollOutAsync(first, V1Files, planV1);

        scenario.PutMigrations(V2Files, "shop-migrations-v2");
        var second = await scenario.ApplyAsync(Manifest("shop-migrations-v2", "ghcr.io/example/shop:2.0.0"), v1);
        var planV2 = second.PlanStamp!;
        Assert.NotEqual(planV1, planV2);
        var v2 = await RollOutAsync(second, V2Files, planV2, planV1);
        return (v1, v2, planV1, planV2);
    }

    /// <summary>The incident: the database does not answer, and the old ConfigMap was cleaned up.</summary>
    private void BreakEverythingARollbackMustNotNeed()
    {
        scenario.PutSecret(DeploymentScenario.SecretName, new Dictionary<string, string> { ["url"] = "postgres://app:pw@127.0.0.1:1/shop?connect_timeout=2" });
        scenario.Api.Delete<V1ConfigMap>(DeploymentScenario.Namespace, "shop-migrations-v1");
    }

    [Fact]
    public async Task Rollout_undo_to_an_applied_plan_is_admitted_without_planning_while_the_database_is_down()
    {
        var (v1, v2, planV1, _) = await TwoReleasesAsync();
        BreakEverythingARollbackMustNotNeed();
        var requestsBefore = scenario.Api.Requests.Count;

        // kubectl rollout undo: the old ReplicaSet's template (stamps and all) and its annotations, on the live object.
        var undo = (JsonObject)v2.DeepClone();
        undo.Remove("status");
        undo["metadata"]!["annotations"] = v1["metadata"]!["annotations"]!.DeepClone();
        undo["spec"]!["template"] = v1["spec"]!["template"]!.DeepClone();
        var result = await scenario.ApplyAsync(undo, v2);

        Assert.True(result.Admitted, result.Denial);
        Assert.Equal(planV1, result.PlanStamp);
        var warning = Assert.Single(result.Warnings, w => w.Contains("returns to the pod template of ReplicaSet shop-7c9d5f1b4 (revision 1)", StringComparison.Ordinal));
        Assert.Contains($"whose plan {planV1[..12]} is already applied", warning, StringComparison.Ordinal);
        // Only the ReplicaSets were read: no ConfigMap, no Secret, so no database either.
        Assert.All(scenario.Api.Requests.Skip(requestsBefore), r => Assert.EndsWith("/replicasets", r.Path, StringComparison.Ordinal));
    }

    private int ReplicaSetLists() => scenario.Api.Requests.Count(r => r.Method == "GET" && r.Path.EndsWith("/replicasets", StringComparison.Ordinal));

    /// <summary>kubectl rollout undo to <paramref name="to"/>: its template (stamps and all) and annotations on the live object.</summary>
    private static JsonObject Undo(JsonObject to, JsonObject live)
    {
        var undo = (JsonObject)live.DeepClone();
        undo.Remove("status");
        undo["metadata"]!["annotations"] = to["metadata"]!["annotations"]!.DeepClone();
        undo["spec"]!["template"] = to["spec"]!["template"]!.DeepClone();
        return undo;
    }

    /// <summary><paramref name="stored"/> with a record that names only <paramref name="applied"/>.</summary>
    private static JsonObject WithRecord(JsonObject stored, params string[] applied)
    {
        var copy = (JsonObject)stored.DeepClone();
        var status = new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "applied", applied[0], null, DateTimeOffset.UnixEpoch) { AppliedPlans = applied };
        var (migrated, record) = DeploymentRecord.Conditions(status, DateTimeOffset.UnixEpoch);
        copy["status"] = JsonNode.Parse(KubernetesJson.Serialize(new V1DeploymentStatus { Conditions = [migrated, record] }));
        return copy;
    }

    [Fact]
    public async Task One_apply_lists_the_ReplicaSets_once_because_the_validating_call_takes_its_mutating_calls_answer()
    {
        var (v1, v2, planV1, _) = await TwoReleasesAsync();

        var listsBefore = ReplicaSetLists();
        var undo = await scenario.ApplyAsync(Undo(v1, v2), v2);
        var listsForUndo = ReplicaSetLists() - listsBefore;

        // A release that is no rollback: the answer "none" is taken over as well.
        listsBefore = ReplicaSetLists();
        var release = (JsonObject)v2.DeepClone();
        release.Remove("status");
        release["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "ghcr.io/example/shop:3.0.0";
        var forward = await scenario.ApplyAsync(release, v2);
        var listsForRelease = ReplicaSetLists() - listsBefore;

        Assert.True(undo.Admitted, undo.Denial);
        Assert.Equal(planV1, undo.PlanStamp);
        Assert.Contains(undo.Warnings, w => w.Contains("returns to the pod template of ReplicaSet shop-7c9d5f1b4", StringComparison.Ordinal));
        Assert.Equal(1, listsForUndo);
        Assert.True(forward.Admitted, forward.Denial);
        Assert.DoesNotContain(forward.Warnings, w => w.Contains("returns to the pod template", StringComparison.Ordinal));
        Assert.Equal(1, listsForRelease);
    }

    [Fact]
    public async Task A_validating_call_whose_stored_record_changed_since_the_mutating_call_finds_the_rollback_itself()
    {
        var (v1, v2, planV1, planV2) = await TwoReleasesAsync();
        var undo = Undo(v1, v2);

        // The mutating call sees a record that does not (yet) name plan v1: no rollback, and the answer kept says so.
        var (mutation, _) = await scenario.MutateAsync(undo, WithRecord(v2, planV2));
        Assert.True(mutation.Allowed, mutation.Message);
        // The controller records plan v1 before the validating call; then the database and the old ConfigMap go.
        BreakEverythingARollbackMustNotNeed();
        var validation = await scenario.ValidateAsync(undo, v2);

        // The answer of another stored object is not taken: the rollback is recognised, without the database.
        Assert.True(validation.Allowed, validation.Message);
        Assert.Contains(validation.Warnings, w => w.Contains($"whose plan {planV1[..12]} is already applied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_kept_answer_serves_one_validating_call_and_a_second_one_lists_the_ReplicaSets_again()
    {
        var (v1, v2, _, _) = await TwoReleasesAsync();
        var (mutation, mutated) = await scenario.MutateAsync(Undo(v1, v2), v2);
        Assert.True(mutation.Allowed, mutation.Message);

        var listsBefore = ReplicaSetLists();
        var first = await scenario.ValidateAsync(mutated, v2);
        var listsForFirst = ReplicaSetLists() - listsBefore;
        // The same object again, with no mutating call before it: a different request (a retry, another replica's
        // leftover), which reads for itself.
        var second = await scenario.ValidateAsync(mutated, v2);
        var listsForSecond = ReplicaSetLists() - listsBefore - listsForFirst;

        Assert.True(first.Allowed, first.Message);
        Assert.True(second.Allowed, second.Message);
        Assert.Equal(0, listsForFirst);
        Assert.Equal(1, listsForSecond);
    }

    [Fact]
    public async Task Helm_rollback_that_keeps_the_live_stamps_gets_back_the_stamps_its_template_ran_with()
    {
        var (v1, v2, planV1, planV2) = await TwoReleasesAsync();
        BreakEverythingARollbackMustNotNeed();

        // helm rollback patches the old manifest onto the live object: the stamps, in no manifest, stay those of v2.
        var rollback = Manifest("shop-migrations-v1", "ghcr.io/example/shop:1.0.0");
        rollback["metadata"]!["uid"] = Uid;
        rollback["spec"]!["template"]!["metadata"]!["annotations"] = new JsonObject { [GatekeeperNames.Plan] = planV2, [GatekeeperNames.TargetVersion] = "2" };
        var result = await scenario.ApplyAsync(rollback, v2);

        Assert.True(result.Admitted, result.Denial);
        // The template is again exactly the one of revision 1, so the Deployment controller scales that ReplicaSet up.
        Assert.Equal(planV1, result.PlanStamp);
        Assert.Equal("1", result.TargetVersionStamp);
        Assert.True(JsonNode.DeepEquals(v1["spec"]!["template"], result.Stored["spec"]!["template"]));
    }

    [Fact]
    public async Task A_template_that_never_ran_is_planned_even_when_it_carries_an_applied_plans_stamp()
    {
        var (v1, v2, _, _) = await TwoReleasesAsync();
        scenario.PutSecret(DeploymentScenario.SecretName, new Dictionary<string, string> { ["url"] = "postgres://app:pw@127.0.0.1:1/shop?connect_timeout=2" });

        // A stamp copied onto a new image proves nothing: only a whole template that ran does.
        var copied = (JsonObject)v1.DeepClone();
        copied.Remove("status");
        copied["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = "ghcr.io/example/shop:3.0.0";
        var result = await scenario.ApplyAsync(copied, v2);

        Assert.False(result.Admitted);
        Assert.Contains("database unreachable", result.Denial, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rollback_to_a_template_whose_plan_never_applied_is_planned_as_usual()
    {
        var (v1, v2, _, planV2) = await TwoReleasesAsync();
        // The record lost plan v1 (say it was written by hand): the rollback is judged on the database, which is ahead.
        var status = new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "applied", planV2, null, DateTimeOffset.UnixEpoch) { AppliedPlans = [planV2] };
        var (migrated, record) = DeploymentRecord.Conditions(status, DateTimeOffset.UnixEpoch);
        v2["status"] = JsonNode.Parse(KubernetesJson.Serialize(new V1DeploymentStatus { Conditions = [migrated, record] }));

        var undo = (JsonObject)v2.DeepClone();
        undo.Remove("status");
        undo["metadata"]!["annotations"] = v1["metadata"]!["annotations"]!.DeepClone();
        undo["spec"]!["template"] = v1["spec"]!["template"]!.DeepClone();
        var result = await scenario.ApplyAsync(undo, v2);

        Assert.True(result.Admitted, result.Denial);
        Assert.Null(result.PlanStamp);
        Assert.Contains(result.Warnings, w => w.Contains("is ahead of these migration files: 1 applied migration(s) have no file here (2)", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Warnings, w => w.Contains("returns to the pod template", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_database_ahead_of_the_files_is_a_warning_and_never_a_block()
    {
        await scenario.Database!.MigrateAsync(V2Files);
        scenario.PutMigrations(V1Files);

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.True(result.Admitted, result.Denial);
        Assert.Null(result.PlanStamp);
        var warning = Assert.Single(result.Warnings, w => w.Contains("ahead", StringComparison.Ordinal));
        Assert.Contains("older code runs on the newer schema", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_missing_below_the_newest_one_still_blocks()
    {
        // Not a rollback: V2 is gone while V3 is there, a hole in the source.
        var files = new Dictionary<string, string>(V2Files) { ["V3__create_items.sql"] = "CREATE TABLE items (id bigint PRIMARY KEY);\n" };
        await scenario.Database!.MigrateAsync(files);
        files.Remove("V2__create_orders.sql");
        scenario.PutMigrations(files);

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.False(result.Admitted);
        Assert.Contains("Missing", result.Denial, StringComparison.Ordinal);
    }
}
