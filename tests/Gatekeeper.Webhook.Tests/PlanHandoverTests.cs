using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using Gatekeeper.Webhook.Rollouts;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The validating call of an apply judges the plan its own mutating call made, from the ConfigMap, Secret and history
/// that call read (<see cref="PlanHandover"/>): one read of each per apply instead of two. Every other validating call
/// — on another webhook replica, for another apply, another stored object, after the id's lifetime — reads afresh.
/// Real PostgreSQL, real HTTPS, two webhook servers on one API server double where a test needs two replicas.
/// </summary>
public sealed class PlanHandoverTests : IAsyncLifetime, IDisposable
{
    private const string Uid = "5d0c2b1e-8c4e-4f3a-9a51-0a1b2c3d4e5f";

    private static readonly Dictionary<string, string> V1V2 = new()
    {
        ["V1__create_customers.sql"] = "CREATE TABLE customers (\n  id bigint PRIMARY KEY,\n  email text NOT NULL\n);\n",
        ["V2__create_orders.sql"] = "CREATE TABLE orders (\n  id bigint PRIMARY KEY,\n  customer_id bigint NOT NULL REFERENCES customers (id)\n);\n",
    };

    private static readonly Dictionary<string, string> V1V2V3 = new(V1V2)
    {
        ["V3__create_items.sql"] = "CREATE TABLE items (id bigint PRIMARY KEY);\n",
    };

    private readonly ConcurrentBag<string> historyReads = [];
    private DeploymentScenario scenario = null!;
    private TestWebhook? otherReplica;
    private ActivityListener? listener;

    public async Task InitializeAsync()
    {
        scenario = await DeploymentScenario.StartAsync("postgres");
        // Every "plan" span that resolved a database read its history table (before the plan cache is asked): count
        // this test's own by its database's name.
        listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == WebhookTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "plan" && activity.GetTagItem("db.namespace") is string database)
                {
                    historyReads.Add(database);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await scenario.Database!.MigrateAsync(V1V2);
        scenario.PutMigrations(V1V2);
    }

    public void Dispose() => listener?.Dispose();

    public async Task DisposeAsync()
    {
        if (otherReplica is not null)
        {
            await otherReplica.DisposeAsync();
        }

        await scenario.DisposeAsync();
    }

    /// <summary>A second webhook replica behind the same API server (its own process state, so its own kept plans).</summary>
    private async Task<TestWebhook> OtherReplicaAsync() => otherReplica ??= await TestWebhook.StartAsync(scenario.Api, new Dictionary<string, string?>
    {
        ["Webhook:WatchDeployments"] = "false",
        ["Webhook:RequestBudget"] = DeploymentScenario.UnhurriedBudget,
    });

    private static async Task<(AdmissionReviewResponse Response, JsonObject Mutated)> MutateOnAsync(TestWebhook replica, JsonObject deployment, JsonObject stored)
    {
        var response = await AdmissionReviewResponse.ReadAsync(await replica.PostAsync("/mutate/deployments", AdmissionReviewBodies.Review("UPDATE", deployment, stored)));
        return (response, response.Patch is null ? deployment : (JsonObject)JsonPatchApplier.Apply(deployment, response.Patch));
    }

    private static async Task<AdmissionReviewResponse> ValidateOnAsync(TestWebhook replica, JsonObject deployment, JsonObject stored) =>
        await AdmissionReviewResponse.ReadAsync(await replica.PostAsync("/validate/deployments", AdmissionReviewBodies.Review("UPDATE", deployment, stored)));

    /// <summary>The Deployment as stored: running 1.0.0, with a uid and a resourceVersion.</summary>
    private static JsonObject Stored(string resourceVersion = "4711")
    {
        var stored = DeploymentScenario.Deployment(DeploymentScenario.OptIn());
        stored["metadata"]!["uid"] = Uid;
        stored["metadata"]!["resourceVersion"] = resourceVersion;
        return stored;
    }

    /// <summary>A release of <paramref name="stored"/>: a new image, so a rollout follows and the webhooks plan.</summary>
    private static JsonObject Release(JsonObject stored, string image = "ghcr.io/example/shop:2.0.0")
    {
        var release = (JsonObject)stored.DeepClone();
        release["spec"]!["template"]!["spec"]!["containers"]![0]!["image"] = image;
        return release;
    }

    private int Gets(string resource) => scenario.Api.Requests.Count(r => r.Method == "GET" && r.Path.Contains($"/{resource}/", StringComparison.Ordinal));

    private (int ConfigMaps, int Secrets, int History) Reads() => (Gets("configmaps"), Gets("secrets"), historyReads.Count(d => d == scenario.Database!.Name));

    private static (int, int, int) Since((int ConfigMaps, int Secrets, int History) before, (int ConfigMaps, int Secrets, int History) now) =>
        (now.ConfigMaps - before.ConfigMaps, now.Secrets - before.Secrets, now.History - before.History);

    private static string? PlanningIdOf(JsonObject deployment) => deployment["metadata"]?["annotations"]?[GatekeeperNames.PlanningId]?.GetValue<string>();

    [Fact]
    public async Task One_apply_with_nothing_pending_reads_the_ConfigMap_the_Secret_and_the_history_once()
    {
        var stored = Stored();
        var before = Reads();

        var result = await scenario.ApplyAsync(Release(stored), stored);

        Assert.True(result.Admitted, result.Denial);
        Assert.Null(result.PlanStamp);
        Assert.Equal("2", result.TargetVersionStamp);
        Assert.Equal((1, 1, 1), Since(before, Reads()));
        // A random id on the Deployment's metadata, not on the pod template: it never starts a rollout.
        Assert.Matches("^[0-9a-f]{32}$", PlanningIdOf(result.Stored));
        Assert.Null(result.Stored["spec"]!["template"]!["metadata"]!["annotations"]?[GatekeeperNames.PlanningId]);
        // Gatekeeper's own annotation is no unknown one to warn about.
        Assert.DoesNotContain(result.Warnings, w => w.Contains(GatekeeperNames.PlanningId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task One_apply_with_a_pending_plan_reads_its_sources_once_and_the_plan_is_judged_as_before()
    {
        scenario.PutMigrations(V1V2V3);
        var stored = Stored();
        var before = Reads();

        var result = await scenario.ApplyAsync(Release(stored), stored);

        Assert.True(result.Admitted, result.Denial);
        Assert.NotNull(result.PlanStamp);
        Assert.Equal("3", result.TargetVersionStamp);
        Assert.Contains(result.Validation!.Warnings, w => w.Contains("applies 1 migration(s) (V3__create_items.sql)", StringComparison.Ordinal));
        Assert.Equal((1, 1, 1), Since(before, Reads()));
    }

    [Fact]
    public async Task A_create_reads_its_sources_once_although_the_API_server_gives_the_object_its_uid_between_the_calls()
    {
        var (mutation, mutated) = await scenario.MutateAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));
        Assert.True(mutation.Allowed, mutation.Message);

        // Between the mutating and the validating admission of a CREATE the API server fills in uid and
        // creationTimestamp (registry Store.create: FillObjectMetaSystemFields, then rest.BeforeCreate, whose
        // PrepareForCreate sets generation; createValidation comes after): the validating call sees the object there
        // changed. (A generateName gets its name there too: that CREATE's validating call then reads for itself.)
        mutated["metadata"]!["uid"] = Uid;
        mutated["metadata"]!["creationTimestamp"] = "2026-12-05T08:00:00Z";
        mutated["metadata"]!["generation"] = 1;
        var before = Reads();
        var validation = await scenario.ValidateAsync(mutated);

        Assert.True(validation.Allowed, validation.Message);
        Assert.Equal((0, 0, 0), Since(before, Reads()));
    }

    [Fact]
    public async Task The_planning_id_is_random_so_the_same_sources_give_a_new_one_at_every_apply()
    {
        var stored = Stored();

        var first = await scenario.ApplyAsync(Release(stored), stored);
        var second = await scenario.ApplyAsync(Release(stored), stored);

        Assert.True(first.Admitted && second.Admitted, first.Denial ?? second.Denial);
        Assert.NotEqual(PlanningIdOf(first.Stored), PlanningIdOf(second.Stored));
    }

    [Fact]
    public async Task A_ConfigMap_written_between_the_two_calls_of_one_apply_is_left_to_the_next_apply_and_another_replica_reads_it()
    {
        var stored = Stored();
        var (mutation, mutated) = await scenario.MutateAsync(Release(stored), stored);
        Assert.True(mutation.Allowed, mutation.Message);

        // Written between the two calls of one apply, so concurrent with it: the apply is judged on what its mutating
        // call read (as if the write came just after it), and the next apply plans V3.
        scenario.PutMigrations(V1V2V3);
        var before = Reads();
        var sameReplica = await scenario.ValidateAsync(mutated, stored);
        var readsOnSameReplica = Since(before, Reads());
        // The validating call on a replica that did not make the plan reads the ConfigMap again, and refuses the stamp
        // made from the old files.
        var otherReplica = await ValidateOnAsync(await OtherReplicaAsync(), mutated, stored);

        Assert.True(sameReplica.Allowed, sameReplica.Message);
        Assert.Equal((0, 0, 0), readsOnSameReplica);
        Assert.False(otherReplica.Allowed);
        Assert.Contains("carries plan (none) but the plan is now", otherReplica.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_kept_plan_serves_one_validating_call_and_a_second_one_reads_for_itself()
    {
        var stored = Stored();
        var (mutation, mutated) = await scenario.MutateAsync(Release(stored), stored);
        Assert.True(mutation.Allowed, mutation.Message);

        var before = Reads();
        var first = await scenario.ValidateAsync(mutated, stored);
        var readsForFirst = Since(before, Reads());
        before = Reads();
        var second = await scenario.ValidateAsync(mutated, stored);
        var readsForSecond = Since(before, Reads());

        Assert.True(first.Allowed, first.Message);
        Assert.True(second.Allowed, second.Message);
        Assert.Equal((0, 0, 0), readsForFirst);
        Assert.Equal((1, 1, 1), readsForSecond);
    }

    [Fact]
    public async Task A_later_apply_of_the_same_template_planned_on_another_replica_is_judged_from_fresh_reads()
    {
        var stored = Stored();
        var replicaB = await OtherReplicaAsync();
        // Apply 1: mutating call here, validating call on replica B (which denies, say, and nothing is stored): this
        // replica keeps apply 1's plan, made from files with nothing pending.
        var (first, _) = await scenario.MutateAsync(Release(stored), stored);
        Assert.True(first.Allowed, first.Message);

        // The team adds V3 and applies the same Deployment again, against the same stored object: this time the
        // mutating call lands on replica B and the validating call here.
        scenario.PutMigrations(V1V2V3);
        var (second, mutated) = await MutateOnAsync(replicaB, Release(stored), stored);
        Assert.True(second.Allowed, second.Message);
        var before = Reads();
        var validation = await ValidateOnAsync(scenario.Webhook, mutated, stored);

        Assert.True(validation.Allowed, validation.Message);
        Assert.Contains(validation.Warnings, w => w.Contains("applies 1 migration(s) (V3__create_items.sql)", StringComparison.Ordinal));
        Assert.Equal((1, 1, 1), Since(before, Reads()));
    }

    [Fact]
    public async Task A_later_apply_after_the_Secret_moved_to_another_database_is_judged_on_that_database()
    {
        var stored = Stored();
        var replicaB = await OtherReplicaAsync();
        var (first, _) = await scenario.MutateAsync(Release(stored), stored);
        Assert.True(first.Allowed, first.Message);

        // The Secret now names an empty database: everything is pending there.
        await using var other = await TestDatabase.CreatePostgresAsync();
        scenario.PutSecret(DeploymentScenario.SecretName, new Dictionary<string, string> { ["url"] = other.Url });
        var (second, mutated) = await MutateOnAsync(replicaB, Release(stored), stored);
        Assert.True(second.Allowed, second.Message);
        var before = Reads();
        var validation = await ValidateOnAsync(scenario.Webhook, mutated, stored);

        Assert.True(validation.Allowed, validation.Message);
        Assert.Contains(validation.Warnings, w => w.Contains("applies 2 migration(s) (V1__create_customers.sql, V2__create_orders.sql)", StringComparison.Ordinal));
        Assert.Equal((1, 1), (Since(before, Reads()).Item1, Since(before, Reads()).Item2));
    }

    [Fact]
    public async Task A_validating_call_for_another_stored_object_does_not_take_the_plan_its_id_names()
    {
        var stored = Stored("4711");
        var (mutation, mutated) = await scenario.MutateAsync(Release(stored), stored);
        Assert.True(mutation.Allowed, mutation.Message);

        // The object carries the id, but the stored Deployment it updates is another version (the id was carried over
        // to a later update): the plan kept under the id answered another question, so the files are read again.
        scenario.PutMigrations(V1V2V3);
        var before = Reads();
        var validation = await scenario.ValidateAsync(mutated, Stored("4712"));

        Assert.False(validation.Allowed);
        Assert.Contains("carries plan (none) but the plan is now", validation.Message, StringComparison.Ordinal);
        Assert.Equal((1, 1, 1), Since(before, Reads()));
    }

    [Fact]
    public async Task A_validating_call_whose_gatekeeper_annotations_changed_after_the_mutating_call_reads_for_itself()
    {
        var stored = Stored();
        var (mutation, mutated) = await scenario.MutateAsync(Release(stored), stored);
        Assert.True(mutation.Allowed, mutation.Message);

        // Another mutating webhook after Gatekeeper's points the Deployment at other migrations.
        scenario.PutMigrations(V1V2V3, "shop-migrations-next");
        mutated["metadata"]!["annotations"]![GatekeeperNames.Migrations] = "shop-migrations-next";
        var before = Reads();
        var validation = await scenario.ValidateAsync(mutated, stored);

        Assert.False(validation.Allowed);
        Assert.Contains("carries plan (none) but the plan is now", validation.Message, StringComparison.Ordinal);
        Assert.Equal((1, 1, 1), Since(before, Reads()));
    }

    [Fact]
    public async Task An_id_carried_over_by_a_manifest_is_put_back_to_the_stored_objects_when_the_mutating_call_does_not_plan()
    {
        var stored = Stored();
        var (mutation, mutated) = await scenario.MutateAsync(Release(stored), stored);
        Assert.True(mutation.Allowed, mutation.Message);
        var keptId = PlanningIdOf(mutated);
        Assert.NotNull(keptId);

        // An update whose template is the stored one (nothing to plan), whose manifest carries the id of the plan kept
        // above (copied from a dry-run's output): the stored object's id goes back on (here: none), so the id never
        // reaches a validating call that did not come from its own mutating call.
        var unchanged = (JsonObject)stored.DeepClone();
        unchanged["metadata"]!["annotations"]![GatekeeperNames.PlanningId] = keptId;
        var (keep, kept) = await scenario.MutateAsync(unchanged, stored);

        var storedWithId = Stored();
        storedWithId["metadata"]!["annotations"]![GatekeeperNames.PlanningId] = "0123456789abcdef0123456789abcdef";
        var (keepStored, keptStored) = await scenario.MutateAsync(unchanged, storedWithId);

        Assert.True(keep.Allowed, keep.Message);
        Assert.Null(PlanningIdOf(kept));
        Assert.True(keepStored.Allowed, keepStored.Message);
        Assert.Equal("0123456789abcdef0123456789abcdef", PlanningIdOf(keptStored));
    }

    [Fact]
    public async Task A_mutating_call_that_could_not_plan_keeps_nothing_and_the_validating_call_decides_as_before()
    {
        await using var failsOpen = await DeploymentScenario.StartAsync("postgres", new Dictionary<string, string?> { ["Webhook:FailOpenNamespaces:0"] = DeploymentScenario.Namespace });
        failsOpen.PutMigrations(V1V2);
        failsOpen.PutSecret(DeploymentScenario.SecretName, new Dictionary<string, string> { ["url"] = "postgres://app:pw@127.0.0.1:1/shop?connect_timeout=2" });
        var stored = Stored();
        stored["metadata"]!["annotations"]![GatekeeperNames.PlanningId] = "0123456789abcdef0123456789abcdef";

        var (mutation, mutated) = await failsOpen.MutateAsync(Release(stored), stored);
        var before = failsOpen.Api.Requests.Count(r => r.Method == "GET" && r.Path.Contains("/configmaps/", StringComparison.Ordinal));
        var validation = await failsOpen.ValidateAsync(mutated, stored);
        var configMapReads = failsOpen.Api.Requests.Count(r => r.Method == "GET" && r.Path.Contains("/configmaps/", StringComparison.Ordinal)) - before;

        // The database is down: both calls admit because the namespace fails open, as before; no plan was kept, the
        // stored object's id stays, and the validating call reads (and fails) for itself.
        Assert.True(mutation.Allowed, mutation.Message);
        Assert.Contains(mutation.Warnings, w => w.Contains("admitted without a plan because the namespace fails open", StringComparison.Ordinal));
        Assert.Equal("0123456789abcdef0123456789abcdef", PlanningIdOf(mutated));
        Assert.True(validation.Allowed, validation.Message);
        Assert.Contains(validation.Warnings, w => w.Contains("fails open", StringComparison.Ordinal));
        Assert.Equal(1, configMapReads);
    }

    [Fact]
    public async Task A_kept_plan_past_its_lifetime_is_not_taken()
    {
        var clock = new AdmissionClock(TimeSpan.FromSeconds(29));
        await using var timed = await DeploymentScenario.StartAsync("postgres", clock.Settings(), clock.Install);
        await timed.Database!.MigrateAsync(V1V2);
        timed.PutMigrations(V1V2);
        var stored = Stored();
        var (mutation, mutated) = await timed.MutateAsync(Release(stored), stored);
        Assert.True(mutation.Allowed, mutation.Message);

        clock.Time.Advance(PlanHandover.Lifetime + TimeSpan.FromSeconds(1));
        var before = timed.Api.Requests.Count(r => r.Method == "GET" && r.Path.Contains("/configmaps/", StringComparison.Ordinal));
        var validation = await timed.ValidateAsync(mutated, stored);
        var configMapReads = timed.Api.Requests.Count(r => r.Method == "GET" && r.Path.Contains("/configmaps/", StringComparison.Ordinal)) - before;

        Assert.True(validation.Allowed, validation.Message);
        Assert.Equal(1, configMapReads);
    }
}
