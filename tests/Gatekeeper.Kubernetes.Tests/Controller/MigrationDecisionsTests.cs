using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Events;

namespace Gatekeeper.Kubernetes.Tests.Controller;

public sealed class MigrationDecisionsTests
{
    private static readonly string PlanA = "a1" + new string('a', 62);
    private static readonly string PlanB = "b2" + new string('b', 62);
    private static readonly DateTimeOffset Now = new(2025, 3, 14, 9, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Earlier = Now.AddMinutes(-10);

    private static DeploymentFacts Facts(
        string? plan = null, DeploymentStatus? status = null, string? retry = null, string template = "t1", IReadOnlyDictionary<string, string>? annotations = null) => new(
        "shop",
        "storefront",
        "uid-1",
        MigrationAnnotationParser.Parse(annotations ?? new Dictionary<string, string>
        {
            [GatekeeperNames.Migrations] = "storefront-migrations",
            [GatekeeperNames.DatabaseSecret] = "storefront-db",
        }),
        plan,
        plan is null ? null : "3",
        retry,
        template,
        status);

    private static string Attempt(string plan = "", string? retry = null, string template = "t1") =>
        MigrationJobNames.For("storefront", plan.Length == 0 ? PlanA : plan, retry, template);

    private static MigrationJobFacts Job(string name, MigrationJobPhase phase, string? plan = null, string? reason = null) => new(
        "shop", name, plan ?? PlanA, phase, Earlier, phase == MigrationJobPhase.Running ? null : Earlier.AddSeconds(42), reason, null);

    private static GatedPod Pod(string name, string? plan = null) => new("shop", name, "uid-" + name, plan ?? PlanA, 0, Earlier, "storefront");

    private static DeploymentStatus Status(RolloutState state, string reason, string? job, string? plan = null, params string[] applied) =>
        new(state, reason, "earlier words", plan ?? PlanA, job, Earlier) { AppliedPlans = applied };

    /// <summary>One row of the decision table: the situation and what the controller must do about it.</summary>
    public sealed record Case(
        DeploymentFacts Deployment,
        MigrationJobFacts[] Jobs,
        GatedPod[] Pods,
        bool KnownApplied,
        string? Creates,
        int Releases,
        RolloutState? Writes,
        string? WritesReason,
        string? Event,
        MigrationJobResult? Finished,
        string? Detail = null,
        JobPodStart? Pod = null);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["A template without a plan is up to date and starts nothing"] = new(
            Facts(), [], [], false, null, 0, RolloutState.Ready, StatusReasons.UpToDate, null, null),
        ["A new plan gets its Job and a Migrating status"] = new(
            Facts(PlanA), [], [Pod("p1")], false, Attempt(), 0, RolloutState.Reconciling, StatusReasons.Migrating, StatusReasons.MigrationStarted, null),
        ["A running Job of this attempt is waited for without a second one"] = new(
            Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt())), [Job(Attempt(), MigrationJobPhase.Running)], [Pod("p1")], false,
            null, 0, RolloutState.Reconciling, StatusReasons.Migrating, null, null),
        ["A running Job of an earlier attempt is waited for too"] = new(
            Facts(PlanA, retry: "2"), [Job(Attempt(retry: "1"), MigrationJobPhase.Running)], [], false,
            null, 0, RolloutState.Reconciling, StatusReasons.Migrating, StatusReasons.MigrationStarted, null),
        ["A Job that succeeded releases the plan's pods and reports once"] = new(
            Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt())), [Job(Attempt(), MigrationJobPhase.Succeeded)], [Pod("p1"), Pod("p2")], false,
            null, 2, RolloutState.Ready, StatusReasons.Applied, StatusReasons.MigrationSucceeded, MigrationJobResult.Succeeded),
        ["Pods created after the success are released without a new report"] = new(
            Facts(PlanA, Status(RolloutState.Ready, StatusReasons.Applied, Attempt(), PlanA, PlanA) with { Message = $"plan {PlanA[..12]} is applied (target version 3); pods of this plan are released" }),
            [Job(Attempt(), MigrationJobPhase.Succeeded)], [Pod("late")], false,
            null, 1, null, null, null, null),
        ["A plan this replica knows applied needs no Job of its own"] = new(
            Facts(PlanA), [], [Pod("p1")], true, null, 1, RolloutState.Ready, StatusReasons.Applied, StatusReasons.MigrationSucceeded, null),
        ["A rollback to a plan the status remembers as applied starts nothing and releases its pods"] = new(
            Facts(PlanA, Status(RolloutState.Ready, StatusReasons.Applied, "gk-migrate-storefront-0000000000", PlanB, PlanB, PlanA)), [], [Pod("old")], false,
            null, 1, RolloutState.Ready, StatusReasons.Applied, StatusReasons.MigrationSucceeded, null),
        ["A failed Job stalls the rollout, keeps the pods gated and names the failure"] = new(
            Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt())), [Job(Attempt(), MigrationJobPhase.Failed, reason: "BackoffLimitExceeded")], [Pod("p1")], false,
            null, 0, RolloutState.Stalled, StatusReasons.MigrationFailed, StatusReasons.MigrationFailed, MigrationJobResult.Failed,
            "V3__orders.sql: ERROR: column \"total\" does not exist"),
        ["A reported failure is not reported again"] = new(
            Facts(PlanA, Status(RolloutState.Stalled, StatusReasons.MigrationFailed, Attempt())), [Job(Attempt(), MigrationJobPhase.Failed)], [Pod("p1")], false,
            null, 0, null, null, null, null),
        ["A failed Job removed by its TTL is not run again"] = new(
            Facts(PlanA, Status(RolloutState.Stalled, StatusReasons.MigrationFailed, Attempt())), [], [Pod("p1")], false,
            null, 0, null, null, null, null),
        ["A bumped retry annotation runs the failed plan again"] = new(
            Facts(PlanA, Status(RolloutState.Stalled, StatusReasons.MigrationFailed, Attempt()), retry: "1"), [Job(Attempt(), MigrationJobPhase.Failed)], [Pod("p1")], false,
            Attempt(retry: "1"), 0, RolloutState.Reconciling, StatusReasons.Migrating, StatusReasons.MigrationStarted, null),
        ["A new pod template runs the failed plan again"] = new(
            Facts(PlanA, Status(RolloutState.Stalled, StatusReasons.MigrationFailed, Attempt()), template: "t2"), [Job(Attempt(), MigrationJobPhase.Failed)], [], false,
            Attempt(template: "t2"), 0, RolloutState.Reconciling, StatusReasons.Migrating, StatusReasons.MigrationStarted, null),
        ["A Job deleted while it ran is created again"] = new(
            Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt())), [], [Pod("p1")], false,
            Attempt(), 0, RolloutState.Reconciling, StatusReasons.Migrating, StatusReasons.MigrationStarted, null),
        ["Annotations that do not parse stall without a Job"] = new(
            Facts(PlanA, annotations: new Dictionary<string, string> { [GatekeeperNames.Migrations] = "Not A Name" }), [], [Pod("p1")], false,
            null, 0, RolloutState.Stalled, StatusReasons.AnnotationInvalid, StatusReasons.AnnotationInvalid, null),
        ["A Job of another plan in the namespace changes nothing"] = new(
            Facts(PlanA), [Job("gk-migrate-other-1234567890", MigrationJobPhase.Succeeded, PlanB)], [Pod("p1")], false,
            Attempt(), 0, RolloutState.Reconciling, StatusReasons.Migrating, StatusReasons.MigrationStarted, null),
        ["A paused Deployment gets no Job until it is resumed"] = new(
            Facts(PlanA) with { Paused = true }, [], [], false,
            null, 0, RolloutState.Reconciling, StatusReasons.Paused, StatusReasons.Paused, null),
        ["A Job already running when the Deployment was paused is waited for"] = new(
            Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt())) with { Paused = true }, [Job(Attempt(), MigrationJobPhase.Running)], [], false,
            null, 0, RolloutState.Reconciling, StatusReasons.Migrating, null, null),
        ["A paused Deployment whose plan is applied releases its pods"] = new(
            Facts(PlanA) with { Paused = true }, [], [Pod("p1")], true,
            null, 1, RolloutState.Ready, StatusReasons.Applied, StatusReasons.MigrationSucceeded, null),
        ["A resumed Deployment gets its Job"] = new(
            Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Paused, null)), [], [Pod("p1")], false,
            Attempt(), 0, RolloutState.Reconciling, StatusReasons.Migrating, StatusReasons.MigrationStarted, null),
        ["A Job whose pod cannot pull its image stalls the rollout with the registry's words"] = new(
            Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt())), [Job(Attempt(), MigrationJobPhase.Running)], [Pod("p1")], false,
            null, 0, RolloutState.Stalled, StatusReasons.JobNotStarting, StatusReasons.JobNotStarting, null,
            Pod: new JobPodStart(Attempt(), false, "ErrImagePull", "failed to pull image: 401 Unauthorized")),
        ["A pull failure already reported is not reported again when it turns into ImagePullBackOff"] = new(
            Facts(PlanA, Status(RolloutState.Stalled, StatusReasons.JobNotStarting, Attempt()) with { Message = $"Job {Attempt()} cannot start its pod (ImagePull): ErrImagePull: 401" }),
            [Job(Attempt(), MigrationJobPhase.Running)], [Pod("p1")], false,
            null, 0, null, null, null, null,
            Pod: new JobPodStart(Attempt(), false, "ImagePullBackOff", "Back-off pulling image")),
        ["A pull failure followed by a missing Secret is reported again"] = new(
            Facts(PlanA, Status(RolloutState.Stalled, StatusReasons.JobNotStarting, Attempt()) with { Message = $"Job {Attempt()} cannot start its pod (ImagePull): ErrImagePull: 401" }),
            [Job(Attempt(), MigrationJobPhase.Running)], [Pod("p1")], false,
            null, 0, RolloutState.Stalled, StatusReasons.JobNotStarting, StatusReasons.JobNotStarting, null,
            Pod: new JobPodStart(Attempt(), false, "CreateContainerConfigError", "secret \"storefront-db\" not found")),
        ["A pod that starts after its pull was fixed is Migrating again"] = new(
            Facts(PlanA, Status(RolloutState.Stalled, StatusReasons.JobNotStarting, Attempt())), [Job(Attempt(), MigrationJobPhase.Running)], [Pod("p1")], false,
            null, 0, RolloutState.Reconciling, StatusReasons.Migrating, StatusReasons.MigrationStarted, null,
            Pod: new JobPodStart(Attempt(), true, null, null)),
        ["A Job whose pod a quota refused stalls with FailedCreate"] = new(
            Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt())), [Job(Attempt(), MigrationJobPhase.Running)], [Pod("p1")], false,
            null, 0, RolloutState.Stalled, StatusReasons.JobNotStarting, StatusReasons.JobNotStarting, null,
            Pod: new JobPodStart(Attempt(), false, "FailedCreate", "Error creating: pods \"x\" is forbidden: exceeded quota: compute, requested: limits.cpu=1")),
        ["A stuck pod of another Job than the running one changes nothing"] = new(
            Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt())), [Job(Attempt(), MigrationJobPhase.Running)], [Pod("p1")], false,
            null, 0, RolloutState.Reconciling, StatusReasons.Migrating, null, null,
            Pod: new JobPodStart("gk-migrate-other-1234567890", false, "ErrImagePull", "401")),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_decision_table_holds(string name)
    {
        var row = Cases[name];

        var decision = MigrationDecisions.Decide(new ReconcileInput(row.Deployment, row.Jobs, row.KnownApplied, row.Pods, row.Detail, Now) { JobPod = row.Pod });

        Assert.Equal(row.Creates, decision.CreateJob);
        Assert.Equal(row.Releases, decision.Release.Count);
        Assert.Equal(row.Writes, decision.Status?.State);
        Assert.Equal(row.WritesReason, decision.Status?.Reason);
        Assert.Equal(row.Event, decision.Event?.Reason);
        Assert.Equal(row.Finished, decision.Finished?.Result);
        Assert.Equal(decision.Release.Count > 0 || row.WritesReason == StatusReasons.Applied, decision.MarkPlanApplied);
    }

    [Fact]
    public void No_pod_is_ever_released_while_its_plan_is_not_applied()
    {
        foreach (var (name, row) in Cases.Where(pair => !pair.Value.KnownApplied && !pair.Value.Jobs.Any(j => j.Phase == MigrationJobPhase.Succeeded && j.Plan == PlanA)
            && pair.Value.Deployment.Status?.AppliedPlans.Contains(PlanA) != true))
        {
            var decision = MigrationDecisions.Decide(new ReconcileInput(row.Deployment, row.Jobs, row.KnownApplied, row.Pods, row.Detail, Now) { JobPod = row.Pod });

            Assert.True(decision.Release.Count == 0, name);
        }
    }

    [Fact]
    public void A_failure_status_names_the_runner_message_and_how_to_run_it_again()
    {
        var facts = Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt()));

        var decision = MigrationDecisions.Decide(new ReconcileInput(facts, [Job(Attempt(), MigrationJobPhase.Failed)], false, [], "V3__orders.sql: ERROR: column \"total\" does not exist", Now));

        Assert.Contains("V3__orders.sql: ERROR: column \"total\" does not exist", decision.Status!.Message, StringComparison.Ordinal);
        Assert.Contains(GatekeeperNames.Retry, decision.Status.Message, StringComparison.Ordinal);
        Assert.Equal(EventSeverity.Warning, decision.Event!.Severity);
        Assert.Equal(TimeSpan.FromSeconds(42), decision.Finished!.Duration);
    }

    [Fact]
    public void A_failure_offers_the_rollout_that_plans_fixed_files_first_and_the_retry_only_for_unchanged_files()
    {
        var facts = Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt()));

        var message = MigrationDecisions.Decide(new ReconcileInput(facts, [Job(Attempt(), MigrationJobPhase.Failed)], false, [], "V3__orders.sql: ERROR: relation \"order_archive\" does not exist", Now)).Status!.Message;

        var rollout = message.IndexOf("kubectl -n shop rollout restart deployment/storefront", StringComparison.Ordinal);
        var retry = message.IndexOf(GatekeeperNames.Retry, StringComparison.Ordinal);
        Assert.True(rollout > 0 && retry > rollout, message);
        Assert.Contains("only if nothing in the files has to change", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_retry_refused_because_the_files_changed_offers_the_rollout_and_no_retry()
    {
        // The files were fixed and the retry annotation bumped: the Job runs the admitted plan, which no longer matches.
        var facts = Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt(retry: "2")), retry: "2");
        var refusal = "refusing to apply plan 3f2a9c1d0b7e (1 pending: V2__backfill.sql): --expect-plan names plan a1aaaaaaaaaa, and the migrations or the history of shop changed since it was made; nothing was applied.";

        var message = MigrationDecisions.Decide(new ReconcileInput(facts, [Job(Attempt(retry: "2"), MigrationJobPhase.Failed)], false, [], refusal, Now)).Status!.Message;

        Assert.Contains("kubectl -n shop rollout restart deployment/storefront", message, StringComparison.Ordinal);
        Assert.Contains("changed since plan a1aaaaaaaaaa was admitted", message, StringComparison.Ordinal);
        var advice = message[message.IndexOf("Pods of this plan stay gated", StringComparison.Ordinal)..];
        Assert.DoesNotContain(GatekeeperNames.Retry, advice, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_past_its_deadline_says_so_in_words()
    {
        var facts = Facts(PlanA, annotations: new Dictionary<string, string>
        {
            [GatekeeperNames.Migrations] = "storefront-migrations",
            [GatekeeperNames.DatabaseSecret] = "storefront-db",
            [GatekeeperNames.JobTimeout] = "45m",
        });

        var decision = MigrationDecisions.Decide(new ReconcileInput(facts, [Job(Attempt(), MigrationJobPhase.Failed, reason: "DeadlineExceeded")], false, [], null, Now));

        Assert.Contains("did not finish within 45m (gatekeeper.dev/job-timeout)", decision.Status!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Success_remembers_the_plan_and_keeps_earlier_ones()
    {
        var facts = Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt(), PlanA, PlanB));

        var decision = MigrationDecisions.Decide(new ReconcileInput(facts, [Job(Attempt(), MigrationJobPhase.Succeeded)], false, [], null, Now));

        Assert.Equal([PlanA, PlanB], decision.Status!.AppliedPlans);
        Assert.Equal(Now, decision.Status.Since);
    }

    [Fact]
    public void A_status_whose_conclusion_stands_keeps_its_since_time()
    {
        var facts = Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt()));

        var decision = MigrationDecisions.Decide(new ReconcileInput(facts, [Job(Attempt(), MigrationJobPhase.Running)], false, [], null, Now));

        Assert.Equal(Earlier, decision.Status!.Since);
        Assert.Null(decision.Event);
    }

    [Fact]
    public void A_job_that_cannot_pull_says_why_how_to_fix_it_and_counts_once()
    {
        var facts = Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt()));
        var pod = new JobPodStart(Attempt(), false, "ErrImagePull", "failed to pull and unpack image \"ghcr.io/gatekeeper-dev/gatekeeper:1\": 401 Unauthorized");

        var decision = MigrationDecisions.Decide(new ReconcileInput(facts, [Job(Attempt(), MigrationJobPhase.Running)], false, [Pod("p1")], null, Now) { JobPod = pod });

        Assert.Contains("cannot start its pod (ImagePull): ErrImagePull: failed to pull and unpack image", decision.Status!.Message, StringComparison.Ordinal);
        Assert.Contains("controller.imagePullSecrets", decision.Status.Message, StringComparison.Ordinal);
        Assert.Contains("until its 30m deadline", decision.Status.Message, StringComparison.Ordinal);
        Assert.Equal(EventSeverity.Warning, decision.Event!.Severity);
        Assert.Contains("401 Unauthorized", decision.Event.Message, StringComparison.Ordinal);
        Assert.Equal("ImagePull", decision.CannotStart);
        Assert.Null(decision.Finished);
        Assert.Equal(MigrationDecisions.StartCheckInterval, decision.LookAgainAfter);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void A_running_job_is_looked_at_again_until_its_pod_started(bool started, bool looksAgain)
    {
        var facts = Facts(PlanA, Status(RolloutState.Reconciling, StatusReasons.Migrating, Attempt()));

        var decision = MigrationDecisions.Decide(new ReconcileInput(facts, [Job(Attempt(), MigrationJobPhase.Running)], false, [], null, Now)
        {
            JobPod = new JobPodStart(Attempt(), started, null, null),
        });

        Assert.Equal(looksAgain ? MigrationDecisions.StartCheckInterval : null, decision.LookAgainAfter);
    }

    [Fact]
    public void A_paused_deployment_says_the_job_starts_on_resume()
    {
        var decision = MigrationDecisions.Decide(new ReconcileInput(Facts(PlanA) with { Paused = true }, [], false, [], null, Now));

        Assert.Contains("the Deployment is paused", decision.Status!.Message, StringComparison.Ordinal);
        Assert.Contains("kubectl rollout resume", decision.Status.Message, StringComparison.Ordinal);
        Assert.Null(decision.Status.Job);
        Assert.Equal(EventSeverity.Normal, decision.Event!.Severity);
    }

    [Fact]
    public void A_missing_source_stalls_with_its_reason()
    {
        var input = new ReconcileInput(Facts(PlanA), [], false, [], null, Now);

        var decision = MigrationDecisions.CannotCreate(input, StatusReasons.SourceInvalid, "ConfigMap shop/storefront-migrations named by annotation gatekeeper.dev/migrations does not exist");

        Assert.Equal((RolloutState.Stalled, StatusReasons.SourceInvalid), (decision.Status!.State, decision.Status.Reason));
        Assert.Equal(StatusReasons.SourceInvalid, decision.Event!.Reason);
        Assert.Null(decision.CreateJob);
    }

    [Theory]
    [InlineData(MigrationJobPhase.Failed, false, true)]
    [InlineData(MigrationJobPhase.Failed, true, false)]
    [InlineData(MigrationJobPhase.Running, false, false)]
    [InlineData(MigrationJobPhase.Succeeded, false, false)]
    public void Only_a_new_failure_of_this_attempt_is_worth_reading_the_pod_for(MigrationJobPhase phase, bool alreadyReported, bool explains)
    {
        var status = alreadyReported ? Status(RolloutState.Stalled, StatusReasons.MigrationFailed, Attempt()) : null;

        var job = MigrationDecisions.JobToExplain(Facts(PlanA, status), [Job(Attempt(), phase)]);

        Assert.Equal(explains ? Attempt() : null, job);
    }
}
