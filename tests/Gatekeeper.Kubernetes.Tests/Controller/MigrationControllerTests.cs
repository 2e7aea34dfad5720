using System.Net;
using Gatekeeper.Kubernetes.Controller;
using k8s.Models;
using Xunit.Abstractions;

namespace Gatekeeper.Kubernetes.Tests.Controller;

/// <summary>The controller through KubernetesClient against the loopback API server double.</summary>
public sealed class MigrationControllerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string PlanA = ControllerHarness.Plan('a');
    private static readonly string PlanB = ControllerHarness.Plan('b');
    private static readonly string StatusPath = $"/apis/apps/v1/namespaces/{ControllerHarness.Namespace}/deployments/storefront/status";
    private ControllerHarness harness = null!;

    public async Task InitializeAsync() => harness = await ControllerHarness.StartAsync(new TestOutputLogger(output, "controller"));

    public async Task DisposeAsync() => await harness.DisposeAsync();

    [Fact]
    public async Task A_stamped_deployment_gets_one_job_and_its_pods_are_released_only_when_it_succeeds()
    {
        harness.PutSources();
        var deployment = harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        harness.PutGatedPod("storefront-2", PlanA);

        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Migrating, "the status says Migrating");
        await harness.Settle();

        var job = Assert.Single(harness.Jobs());
        Assert.Equal(deployment.Metadata.Uid, Assert.Single(job.Metadata.OwnerReferences).Uid);
        Assert.Equal(PlanA, job.Metadata.Annotations[GatekeeperNames.Plan]);
        Assert.True(harness.IsGated("storefront-1") && harness.IsGated("storefront-2"));
        Assert.Equal((RolloutState.Reconciling, StatusReasons.Migrating), (harness.StatusOf()!.State, harness.StatusOf()!.Reason));
        Assert.False(harness.PlanApplied(PlanA));
        Assert.Equal(2, harness.Metrics.Gated.Count);

        harness.Time.Advance(TimeSpan.FromSeconds(40));
        harness.Succeed(job.Metadata.Name, TimeSpan.FromSeconds(37));
        await ControllerHarness.WaitUntil(() => !harness.IsGated("storefront-1") && !harness.IsGated("storefront-2"), "both pods are released");
        await ControllerHarness.WaitUntil(() => harness.Events().Count == 2, "the success Event is recorded");
        await harness.Settle();

        Assert.True(harness.PlanApplied(PlanA));
        Assert.Equal(RolloutState.Ready, harness.StatusOf()!.State);
        Assert.Equal([PlanA], harness.StatusOf()!.AppliedPlans);
        var finished = Assert.Single(harness.Metrics.Jobs);
        Assert.Equal(("shop", "storefront", MigrationJobResult.Succeeded, TimeSpan.FromSeconds(37)), finished);
        Assert.Equal([TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(40)], harness.Metrics.Released.Select(r => r.Waited));
        Assert.Equal([StatusReasons.MigrationStarted, StatusReasons.MigrationSucceeded], harness.Events().Select(e => e.Reason));
        Assert.All(harness.Events(), e => Assert.Equal(deployment.Metadata.Uid, e.InvolvedObject.Uid));
        Assert.Equal(1, harness.JobCreates());
        Assert.Empty(harness.Metrics.Gated);
    }

    [Fact]
    public async Task The_reconcile_is_a_span_whose_context_the_job_receives_so_the_run_joins_its_trace()
    {
        var reconciles = new List<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == ControllerTracing.SourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (reconciles)
                {
                    reconciles.Add(activity);
                }
            },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);

        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job is created");
        await harness.Settle();

        var job = Assert.Single(harness.Jobs());
        var traceParent = Assert.Single(job.Spec.Template.Spec.Containers[0].Env, e => e.Name == "TRACEPARENT").Value;
        System.Diagnostics.Activity reconcile;
        lock (reconciles)
        {
            reconcile = Assert.Single(reconciles, a => a.Id == traceParent);
        }

        Assert.Equal("reconcile", reconcile.OperationName);
        Assert.Equal(PlanA, reconcile.GetTagItem("gatekeeper.plan.release_key"));
        Assert.Equal("storefront", reconcile.GetTagItem("k8s.deployment.name"));
    }

    [Fact]
    public async Task A_failed_job_keeps_the_pods_gated_names_the_failure_and_waits_for_a_retry()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        var first = harness.Jobs()[0].Metadata.Name;

        harness.Fail(first, "V2__add_total.sql: ERROR: column \"total\" of relation \"orders\" already exists (42701)\nwhile connected to postgres://app:s3cret@db:5432/shop");
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.MigrationFailed, "the status says MigrationFailed");
        await harness.Settle();

        var status = harness.StatusOf()!;
        Assert.Equal(RolloutState.Stalled, status.State);
        Assert.Contains("V2__add_total.sql: ERROR: column \"total\" of relation \"orders\" already exists", status.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", status.Message, StringComparison.Ordinal);
        var warning = Assert.Single(harness.Events(), e => e.Type == "Warning");
        Assert.Equal(StatusReasons.MigrationFailed, warning.Reason);
        Assert.DoesNotContain("s3cret", warning.Message, StringComparison.Ordinal);
        Assert.Equal(MigrationJobResult.Failed, Assert.Single(harness.Metrics.Jobs).Result);
        Assert.True(harness.IsGated("storefront-1"));

        // The Job's TTL removes it; a resync must not start the failed attempt again.
        harness.Api.Delete<V1Job>(ControllerHarness.Namespace, first);
        harness.Time.Advance(ControllerHarness.Resync);
        await harness.Settle();
        Assert.Equal(1, harness.JobCreates());
        Assert.Empty(harness.Jobs());

        harness.Api.Update<V1Deployment>(ControllerHarness.Namespace, "storefront", d => d.Metadata.Annotations[GatekeeperNames.Retry] = "1");
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "a new Job exists after the retry bump");
        await harness.Settle();

        Assert.NotEqual(first, harness.Jobs()[0].Metadata.Name);
        Assert.Equal("1", harness.Jobs()[0].Metadata.Annotations[GatekeeperNames.Retry]);
        Assert.Equal(StatusReasons.Migrating, harness.StatusOf()!.Reason);
        Assert.True(harness.IsGated("storefront-1"));
    }

    [Fact]
    public async Task A_job_deleted_by_hand_while_it_runs_is_created_again_once()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        await harness.Settle();
        var name = harness.Jobs()[0].Metadata.Name;

        harness.Api.Delete<V1Job>(ControllerHarness.Namespace, name);
        await ControllerHarness.WaitUntil(() => harness.JobCreates() == 2 && harness.Jobs().Count == 1, "the Job is back");
        await harness.Settle();

        Assert.Equal(name, harness.Jobs()[0].Metadata.Name);
        Assert.Equal(2, harness.JobCreates());
        Assert.Contains(harness.Events(), e => e.Message.Contains("disappeared before it finished", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_job_another_leader_created_unseen_answers_already_exists_and_is_not_duplicated()
    {
        harness.PutSources();
        harness.PutDeployment(plan: null);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.UpToDate, "the first status is written");
        await harness.Settle();

        // The previous leader created the Job just before it stopped; its event has not reached this replica.
        var stamped = harness.Api.Get<V1Deployment>(ControllerHarness.Namespace, "storefront")!;
        stamped.Spec = ControllerHarness.Spec("storefront", PlanA);
        var name = DeploymentFacts.From(stamped).JobName!;
        harness.Api.PutUnannounced(ControllerHarness.SignedJob(stamped, name, PlanA));
        harness.Api.Put(stamped);
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Migrating, "the status says Migrating");
        await harness.Settle();

        Assert.Equal(1, harness.JobCreates());
        Assert.Equal(name, Assert.Single(harness.Jobs()).Metadata.Name);
        Assert.Equal(name, harness.StatusOf()!.Job);
        Assert.DoesNotContain(harness.Events(), e => e.Reason == StatusReasons.MigrationStarted);
    }

    [Fact]
    public async Task Pods_created_after_the_job_succeeded_are_released_at_once()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(3));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Applied, "the plan is applied");

        // A replica whose pod webhook had not heard of the success yet gated this one.
        harness.PutGatedPod("late-1", PlanA);
        await ControllerHarness.WaitUntil(() => !harness.IsGated("late-1"), "the late pod is released");
        await harness.Settle();

        Assert.Equal(1, harness.JobCreates());
        Assert.Single(harness.Events(), e => e.Reason == StatusReasons.MigrationSucceeded);
    }

    [Fact]
    public async Task A_pod_of_a_plan_not_yet_applied_stays_gated_while_another_plan_is_released()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.PutGatedPod("old-plan", PlanB);
        harness.PutGatedPod("new-plan", PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");

        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(3));
        await ControllerHarness.WaitUntil(() => !harness.IsGated("new-plan"), "the applied plan's pod is released");
        await harness.Settle();

        Assert.True(harness.IsGated("old-plan"));
    }

    [Fact]
    public async Task A_rollout_undo_to_an_applied_plan_whose_job_is_gone_starts_nothing_and_releases_its_pods()
    {
        harness.PutSources();
        var remembered = new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "plan applied", PlanB, "gk-migrate-storefront-bbbbbbbbbb", harness.Time.GetUtcNow())
        {
            AppliedPlans = [PlanB, PlanA],
        };
        harness.PutDeployment(PlanA, record: remembered);
        harness.PutGatedPod("undo-1", PlanA);

        harness.Run();
        await ControllerHarness.WaitUntil(() => !harness.IsGated("undo-1"), "the pod of the old plan is released");
        await harness.Settle();

        Assert.Equal(0, harness.JobCreates());
        Assert.Equal((StatusReasons.Applied, PlanA), (harness.StatusOf()!.Reason, harness.StatusOf()!.Plan));
        Assert.Equal([PlanA, PlanB], harness.StatusOf()!.AppliedPlans);
        Assert.True(harness.PlanApplied(PlanA));
    }

    [Fact]
    public async Task The_record_an_earlier_version_kept_in_an_annotation_is_read_once_and_then_kept_in_the_status()
    {
        harness.PutSources();
        var legacy = new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "plan applied", PlanA, "gk-migrate-storefront-aaaaaaaaaa", harness.Time.GetUtcNow())
        {
            AppliedPlans = [PlanA],
        };
        harness.PutDeployment(PlanA, annotations: new Dictionary<string, string> { [GatekeeperNames.Status] = legacy.Format() });
        harness.PutGatedPod("after-upgrade", PlanA);

        harness.Run();
        await ControllerHarness.WaitUntil(() => !harness.IsGated("after-upgrade"), "the pod is released from the old record");
        await harness.Settle();

        Assert.Equal(0, harness.JobCreates());
        var stored = harness.Api.Get<V1Deployment>(ControllerHarness.Namespace, "storefront")!;
        Assert.Contains(stored.Status.Conditions, c => c.Type == DeploymentRecord.RecordCondition);
        Assert.Equal([PlanA], harness.StatusOf()!.AppliedPlans);
    }

    [Fact]
    public async Task After_a_restart_past_the_jobs_ttl_replacement_pods_are_released_without_a_job()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(3));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Applied, "the plan is applied");
        await harness.Settle();
        await harness.StopAsync();

        // A day later the Job is gone (ttlSecondsAfterFinished), Gatekeeper restarts with empty memory, and a node drain
        // replaces the pods.
        harness.Api.Delete<V1Job>(ControllerHarness.Namespace, harness.Jobs()[0].Metadata.Name);
        harness.PutGatedPod("replacement-1", PlanA);
        await using var restarted = ControllerHarness.Against(harness.Api, "controller-2");
        restarted.Run();
        await ControllerHarness.WaitUntil(() => !harness.IsGated("replacement-1"), "the replacement pod is released");
        await restarted.Settle();

        Assert.Equal(1, harness.JobCreates());
        Assert.Empty(harness.Jobs());
        Assert.Equal(StatusReasons.Applied, harness.StatusOf()!.Reason);
    }

    [Fact]
    public async Task A_forged_job_in_another_namespace_releases_nothing()
    {
        harness.PutSources();
        var deployment = harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        await harness.Settle();

        // Someone who may create Jobs in another namespace copies Gatekeeper's Job, labels and owner and all, and
        // lets it succeed; a second copy in the Deployment's own namespace under another name lacks the signature.
        var real = harness.Jobs()[0];
        foreach (var (ns, name) in new[] { ("attacker", real.Metadata.Name), (ControllerHarness.Namespace, "gk-migrate-storefront-forged") })
        {
            var forged = ControllerHarness.SignedJob(deployment, name, PlanA);
            forged.Metadata.NamespaceProperty = ns;
            forged.Metadata.Labels[MigrationJobSigner.Label] = real.Metadata.Labels[MigrationJobSigner.Label];
            forged.Status = new V1JobStatus { Succeeded = 1, Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }] };
            harness.Api.Put(forged);
        }

        harness.Time.Advance(ControllerHarness.Resync);
        await harness.Settle();

        Assert.True(harness.IsGated("storefront-1"));
        Assert.False(harness.PlanApplied(PlanA));
        Assert.Equal(StatusReasons.Migrating, harness.StatusOf()!.Reason);
    }

    [Fact]
    public async Task A_job_squatting_the_attempts_name_is_reported_and_proves_nothing()
    {
        harness.PutSources();
        var deployment = harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        var name = DeploymentFacts.From(deployment).JobName!;
        var squatter = ControllerHarness.SignedJob(deployment, name, PlanA);
        squatter.Metadata.Labels.Remove(MigrationJobSigner.Label);
        squatter.Status = new V1JobStatus { Succeeded = 1, Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }] };
        harness.Api.Put(squatter);

        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.JobConflict, "the status names the conflict");
        await harness.Settle();

        Assert.True(harness.IsGated("storefront-1"));
        Assert.Equal(RolloutState.Stalled, harness.StatusOf()!.State);
        Assert.Contains($"delete job {name}", harness.StatusOf()!.Message, StringComparison.Ordinal);
        Assert.Contains(harness.Events(), e => e.Reason == StatusReasons.JobConflict && e.Type == "Warning");
    }

    [Fact]
    public async Task A_gated_pod_of_a_deployment_that_opted_out_is_released()
    {
        // Stamped and gated while it opted in; then the annotation went (before Gatekeeper removed stamps on opt-out).
        harness.Api.Put(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "storefront", NamespaceProperty = ControllerHarness.Namespace },
            Spec = ControllerHarness.Spec("storefront", PlanA),
        });
        harness.PutGatedPod("storefront-1", PlanA);

        harness.Run();
        await ControllerHarness.WaitUntil(() => !harness.IsGated("storefront-1"), "the pod is released");
        await harness.Settle();

        Assert.Equal(0, harness.JobCreates());
    }

    [Fact]
    public async Task Two_leaders_for_a_moment_do_not_drop_each_others_applied_plans()
    {
        // The old leader has not noticed it lost the Lease; its copy of the Deployment predates the new leader's write.
        harness.PutSources();
        harness.PutDeployment(PlanA, record: new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "applied", PlanB, "gk-migrate-storefront-bbbbbbbbbb", harness.Time.GetUtcNow())
        {
            AppliedPlans = [PlanB],
        });
        var stale = harness.Api.Get<V1Deployment>(ControllerHarness.Namespace, "storefront")!;
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(3));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Applied, "the new leader records plan A");
        await harness.Settle();
        Assert.Equal([PlanA, PlanB], harness.StatusOf()!.AppliedPlans);

        // The old leader writes what it decided from its stale copy: Migrating, with only plan B remembered.
        var reporter = new DeploymentReporter(harness.Api.CreateApi("old-leader"), harness.Time);
        var decidedFromStale = new DeploymentStatus(RolloutState.Reconciling, StatusReasons.Migrating, "Job is applying plan A", PlanA, harness.Jobs()[0].Metadata.Name, harness.Time.GetUtcNow())
        {
            AppliedPlans = [PlanB],
        };
        var write = await reporter.WriteStatusAsync(stale, decidedFromStale, CancellationToken.None);

        Assert.True(write.Conflicted);
        Assert.Null(write.Written);
        Assert.Equal([PlanA, PlanB], DeploymentRecord.Read(write.Fresh!)!.AppliedPlans);
        Assert.Equal([PlanA, PlanB], harness.StatusOf()!.AppliedPlans);
    }

    [Fact]
    public async Task A_restarted_controller_resumes_from_cluster_state_without_a_second_job()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        await harness.Settle();
        await harness.StopAsync();

        await using var restarted = ControllerHarness.Against(harness.Api, "controller-2");
        restarted.Run();
        await restarted.Settle();
        Assert.Equal(1, harness.JobCreates());
        Assert.Single(harness.Jobs());

        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(5));
        await ControllerHarness.WaitUntil(() => !harness.IsGated("storefront-1"), "the restarted controller releases the pod");
        Assert.Equal(1, harness.JobCreates());
    }

    [Fact]
    public async Task A_lost_watch_event_is_found_by_the_periodic_resync()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        await harness.Settle();

        var job = harness.Jobs()[0];
        job.Status = new V1JobStatus { Succeeded = 1, Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }] };
        harness.Api.PutUnannounced(job);
        await harness.Settle();
        Assert.True(harness.IsGated("storefront-1"));

        harness.Time.Advance(ControllerHarness.Resync);
        await ControllerHarness.WaitUntil(() => !harness.IsGated("storefront-1"), "the resync finds the success");
    }

    [Fact]
    public async Task An_expired_watch_lists_again_and_misses_nothing()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(1));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Applied, "the plan is applied");
        await harness.Settle();
        var lists = harness.Api.RequestsTo("GET", "/api/v1/pods").Count(r => !r.Query.Contains("watch=true", StringComparison.Ordinal));

        // While no watch is open: a pod arrives, the history is compacted, then every watch ends.
        harness.Api.PutUnannounced(ControllerHarness.GatedPodObject("during-outage", PlanA));
        harness.Api.CompactHistory();
        harness.Api.EndWatches();

        await ControllerHarness.WaitUntil(() => !harness.IsGated("during-outage"), "the pod seen by the new list is released");
        Assert.True(harness.Api.RequestsTo("GET", "/api/v1/pods").Count(r => !r.Query.Contains("watch=true", StringComparison.Ordinal)) > lists);
    }

    [Fact]
    public async Task A_watch_the_server_ends_resumes_from_where_it_was()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        await harness.Settle();
        var lists = harness.Api.RequestsTo("GET", "/apis/batch/v1/jobs").Count(r => !r.Query.Contains("watch=true", StringComparison.Ordinal));

        harness.Api.EndWatches();
        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(1));

        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Applied, "the success arrives through the resumed watch");
        Assert.Equal(lists, harness.Api.RequestsTo("GET", "/apis/batch/v1/jobs").Count(r => !r.Query.Contains("watch=true", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_conflict_on_the_status_write_is_tried_again_without_a_second_job()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.Api.FailNext("PATCH", "/apis/apps/v1/namespaces/shop/deployments/storefront", HttpStatusCode.Conflict, times: 2);

        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Api.RequestsTo("PATCH", "/apis/apps/v1/namespaces/shop/deployments/storefront").Count >= 2, "two writes were refused");
        await harness.Settle();
        harness.Time.Advance(TimeSpan.FromSeconds(2));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Migrating, "a later write lands");
        await harness.Settle();

        Assert.Equal(1, harness.JobCreates());
        Assert.Single(harness.Jobs());
        Assert.Single(harness.Events(), e => e.Reason == StatusReasons.MigrationStarted);
    }

    [Fact]
    public async Task A_new_template_whose_watch_event_overtakes_the_answer_to_a_status_write_still_gets_its_job()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "v1's Job exists");
        await harness.Settle();

        // The Applied record is stored at once but its answer comes late; meanwhile v2 is applied and its watch event
        // reaches the controller first. The written copy (v1's template) must not replace v2 in the controller's cache.
        var v2Delivered = 0;
        harness.Api.Watches.Delivered += (watch, _, json) =>
        {
            if (watch.Resource == "deployments" && json.Contains(PlanB, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref v2Delivered);
            }
        };
        harness.Api.AnswerLateNext("PATCH", $"/apis/apps/v1/namespaces/{ControllerHarness.Namespace}/deployments/storefront/status", TimeSpan.FromSeconds(1));
        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(1));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Applied, "the Applied record is stored");
        var v2 = harness.Api.Get<V1Deployment>(ControllerHarness.Namespace, "storefront")!;
        v2.Spec = ControllerHarness.Spec("storefront", PlanB, "shop:2");
        harness.Api.Put(v2);
        await ControllerHarness.WaitUntil(() => Volatile.Read(ref v2Delivered) > 0, "v2 went out on the controller's watch");
        harness.Time.Advance(TimeSpan.FromSeconds(1));

        // Well before the periodic resync (5 minutes of the clock, which does not move): v2's Job.
        await ControllerHarness.WaitUntil(() => harness.Jobs().Any(j => j.Metadata.Annotations[GatekeeperNames.Plan] == PlanB), "v2's Job exists");
        await harness.Settle();
        Assert.Equal(2, harness.JobCreates());
    }

    [Fact]
    public async Task A_new_template_applied_between_the_controllers_read_and_its_status_write_gets_its_job()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);

        // v2 lands just before the first record is written: the write, guarded by the resourceVersion it decided from,
        // conflicts (422), and the decision made again from the Deployment as it is now must start v2's Job.
        harness.Api.BeforeNext("PATCH", StatusPath, () =>
        {
            var v2 = harness.Api.Get<V1Deployment>(ControllerHarness.Namespace, "storefront")!;
            v2.Spec = ControllerHarness.Spec("storefront", PlanB, "shop:2");
            harness.Api.Put(v2);
        });
        var answers = new System.Collections.Concurrent.ConcurrentQueue<int>();
        harness.Api.Answered += (request, status) =>
        {
            if (request.Method == "PATCH" && request.Path == StatusPath)
            {
                answers.Enqueue(status);
            }
        };
        harness.Run();

        // The clock does not move: neither a back-off nor the resync can be what finds v2.
        await ControllerHarness.WaitUntil(() => harness.Jobs().Any(j => j.Metadata.Annotations[GatekeeperNames.Plan] == PlanB), "v2's Job exists");
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Plan == PlanB, "the record names v2's plan");
        await harness.Settle();
        Assert.Equal(StatusReasons.Migrating, harness.StatusOf()!.Reason);
        Assert.Equal(422, answers.First());
    }

    [Fact]
    public async Task A_status_write_that_conflicts_more_times_than_one_reconcile_decides_again_comes_back_after_a_backoff()
    {
        harness.PutSources();
        harness.PutDeployment(plan: null);

        // Every write is refused as a conflict, once more than a reconcile decides again in a row; nothing else changes,
        // so no watch event would bring the Deployment back before the periodic resync.
        harness.Api.FailNext("PATCH", StatusPath, HttpStatusCode.UnprocessableEntity, times: 4);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Api.RequestsTo("PATCH", StatusPath).Count == 4, "four writes were refused");
        await harness.Settle();
        Assert.Null(harness.StatusOf());

        // The work queue's first back-off (1 s), far short of the resync: the decision is written.
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.UpToDate, "the status is written after the back-off");
        await harness.Settle();
        Assert.Equal(5, harness.Api.RequestsTo("PATCH", StatusPath).Count);
    }

    [Fact]
    public async Task A_relist_taken_before_the_controller_created_a_job_keeps_that_job_in_its_cache()
    {
        harness.PutSources();
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Api.RequestsTo("GET", "/apis/batch/v1/jobs").Count >= 2, "the Jobs are listed and watched");
        await harness.Settle();

        // The resync lists Jobs again; the list is taken now but its answer comes late, and meanwhile a rollout makes
        // the controller create (and remember) a Job the list cannot contain.
        harness.Api.AnswerLateNext("GET", "/apis/batch/v1/jobs", TimeSpan.FromSeconds(2));
        var before = harness.Api.RequestsTo("GET", "/apis/batch/v1/jobs").Count;
        harness.Time.Advance(ControllerHarness.Resync);
        await ControllerHarness.WaitUntil(() => harness.Api.RequestsTo("GET", "/apis/batch/v1/jobs").Count > before, "the resync lists Jobs");
        harness.PutDeployment(PlanA);
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Migrating, "the rollout's Job is started");
        await harness.Settle();

        // The list arrives without the Job: the copy the controller remembered is newer than the list and stays.
        harness.Time.Advance(TimeSpan.FromSeconds(2));
        await ControllerHarness.WaitUntil(() => harness.Api.RequestsTo("GET", "/apis/batch/v1/jobs").Count > before + 1, "the Jobs are watched again");
        await harness.Settle();
        Assert.Equal(1, harness.JobCreates());
    }

    [Fact]
    public async Task A_release_whose_test_fails_reads_the_pod_again_and_removes_the_right_gate()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.Api.Put(ControllerHarness.GatedPodObject("two-gates", PlanA, "example.com/quota"));
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        await harness.Settle();

        // Another controller lifts its own gate, and the event never reaches Gatekeeper: its copy has a stale index.
        harness.Api.PutUnannounced(ControllerHarness.GatedPodObject("two-gates", PlanA));
        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(1));

        await ControllerHarness.WaitUntil(() => !harness.IsGated("two-gates"), "the pod is released");
        Assert.Equal(2, harness.Api.RequestsTo("PATCH", "/api/v1/namespaces/shop/pods/two-gates").Count);
        Assert.Empty(harness.Api.Get<V1Pod>(ControllerHarness.Namespace, "two-gates")!.Spec.SchedulingGates);
    }

    [Fact]
    public async Task A_missing_configmap_stalls_without_a_job_and_the_job_starts_within_30_seconds_of_its_creation()
    {
        harness.PutSources();
        harness.Api.Delete<V1ConfigMap>(ControllerHarness.Namespace, "storefront-migrations");
        harness.PutDeployment(PlanA);

        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.SourceInvalid, "the status says SourceInvalid");
        await harness.Settle();
        Assert.Equal(0, harness.JobCreates());
        Assert.Contains("ConfigMap shop/storefront-migrations", harness.StatusOf()!.Message, StringComparison.Ordinal);

        // Still missing at the first look again: the status does not change, and the looking must not stop with it.
        harness.Time.Advance(MigrationDecisions.SourceCheckInterval);
        await harness.Settle();
        Assert.Equal(0, harness.JobCreates());

        // Nothing watches ConfigMaps: the controller finds it at its next look, well before the resync.
        Assert.True(MigrationDecisions.SourceCheckInterval * 2 < ControllerHarness.Resync);
        harness.PutSources();
        harness.Time.Advance(MigrationDecisions.SourceCheckInterval);
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists within one check interval of the ConfigMap");
    }

    [Fact]
    public async Task A_deployment_without_a_plan_is_up_to_date_and_gets_no_job()
    {
        harness.PutSources();
        harness.PutDeployment(plan: null);

        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.UpToDate, "the status says UpToDate");
        await harness.Settle();

        Assert.Equal(0, harness.JobCreates());
        Assert.Empty(harness.Events());
    }

    [Fact]
    public async Task A_status_the_api_server_refuses_is_reported_once_and_not_asked_for_again()
    {
        // A policy (or RBAC missing deployments/status) refuses the status write.
        harness.PutDeployment(PlanA, name: "broken", annotations: new Dictionary<string, string> { [GatekeeperNames.JobTimeout] = "forever" });
        harness.Api.Fail("/apis/apps/v1/namespaces/shop/deployments/broken", HttpStatusCode.BadRequest);

        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Events().Any(e => e.Reason == StatusReasons.AnnotationInvalid), "the Event is recorded");
        await harness.Settle();
        harness.Time.Advance(ControllerHarness.Resync);
        await harness.Settle();
        harness.Time.Advance(ControllerHarness.Resync);
        await harness.Settle();

        Assert.Single(harness.Api.RequestsTo("PATCH", "/apis/apps/v1/namespaces/shop/deployments/broken"));
        var warning = Assert.Single(harness.Events());
        Assert.Contains("gatekeeper.dev/job-timeout", warning.Message, StringComparison.Ordinal);
        Assert.Equal(0, harness.JobCreates());
    }

    [Fact]
    public async Task Two_deployments_sharing_one_plan_each_run_and_trust_only_their_own_job()
    {
        harness.PutSources("web");
        harness.PutSources("worker");
        harness.PutDeployment(PlanA, name: "web");
        harness.PutDeployment(PlanA, name: "worker");
        harness.Api.Put(ControllerHarness.GatedPodObject("worker-1", PlanA, "worker", ControllerHarness.Namespace));

        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.StatusOf("web")?.Job is not null && harness.StatusOf("worker")?.Job is not null, "both have a Job");
        await harness.Settle();
        Assert.Equal(2, harness.JobCreates());
        Assert.NotEqual(harness.StatusOf("web")!.Job, harness.StatusOf("worker")!.Job);

        // The second Job finds nothing left to apply (the database's lock and history make it a no-op); until it has
        // succeeded, web's success does not release worker's pods.
        harness.Succeed(harness.StatusOf("web")!.Job!, TimeSpan.FromSeconds(3));
        await ControllerHarness.WaitUntil(() => harness.StatusOf("web")?.Reason == StatusReasons.Applied, "web's plan is applied");
        await harness.Settle();
        Assert.True(harness.IsGated("worker-1"));

        harness.Succeed(harness.StatusOf("worker")!.Job!, TimeSpan.FromSeconds(1));
        await ControllerHarness.WaitUntil(() => !harness.IsGated("worker-1"), "worker's pod is released by worker's own Job");
    }
}
