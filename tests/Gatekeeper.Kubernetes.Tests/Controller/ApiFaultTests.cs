using System.Collections.Concurrent;
using System.Net;
using Gatekeeper.Kubernetes.Controller;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Gatekeeper.Kubernetes.Tests.Controller;

/// <summary>
/// The controller through a rollout while the API server double misbehaves: 500 bursts longer than one attempt,
/// writes stored but answered with an error, 409s, slow answers, dropped and expired watches. Every retry runs on the
/// fake clock, so the tests count attempts instead of timing them, and advance the clock rather than sleep.
/// </summary>
public sealed class ApiFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string JobsPath = "/apis/batch/v1/namespaces/shop/jobs";
    private const string PodsPath = "/api/v1/namespaces/shop/pods/";
    private static readonly string PlanA = ControllerHarness.Plan('a');
    private readonly RecordingLogger log = new(new TestOutputLogger(output, "controller"));
    private ControllerHarness harness = null!;

    public async Task InitializeAsync() => harness = await ControllerHarness.StartAsync(log);

    public async Task DisposeAsync() => await harness.DisposeAsync();

    /// <summary>The backoffs (seconds) the controller announced after failed reconciles of one object, in order.</summary>
    private List<double> Backoffs(string kind, string name) => log.Lines
        .Where(l => l.EventId == 4116 && l.Message.StartsWith($"Reconciling {kind} shop/{name} failed", StringComparison.Ordinal))
        .Select(l => double.Parse(l.Message[(l.Message.LastIndexOf(' ') + 1)..^1], System.Globalization.CultureInfo.InvariantCulture))
        .ToList();

    private int PodLists() => harness.Api.RequestsTo("GET", "/api/v1/pods").Count(r => !r.Query.Contains("watch=true", StringComparison.Ordinal));

    private int Patches(string pod) => harness.Api.RequestsTo("PATCH", PodsPath + pod).Count;

    /// <summary>
    /// Advances the fake clock a second at a time (every backoff timer the controller set fires in turn) until the
    /// condition holds; gives up after <paramref name="limit"/> of fake time, which bounds the retries it allows.
    /// </summary>
    private async Task AdvanceUntil(Func<bool> condition, string what, TimeSpan limit)
    {
        // Not before the controller leads and has filled its caches: on a loaded machine its start can take longer than
        // Settle's quiet period, and fake time moved on before it set any timer is fake time lost from the limit.
        await ControllerHarness.WaitUntil(() => log.Lines.Any(l => l.EventId == 4109), "the controller filled its caches");
        var advanced = TimeSpan.Zero;
        while (!condition())
        {
            if (advanced >= limit)
            {
                Assert.Fail($"{what} did not happen within {limit} of fake time");
            }

            await harness.Settle();
            if (condition())
            {
                return;
            }

            harness.Time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
        }
    }

    [Fact]
    public async Task A_rollout_through_a_storm_of_api_faults_ends_with_one_job_every_pod_released_and_bounded_retries()
    {
        harness.PutSources();
        var deployment = harness.PutDeployment(PlanA);
        var jobName = DeploymentFacts.From(deployment).JobName!;
        string[] pods = ["storefront-7d9f-a", "storefront-7d9f-b", "storefront-7d9f-c"];
        foreach (var pod in pods)
        {
            harness.PutGatedPod(pod, PlanA);
        }

        // 1. Job creation answers 500 for longer than one reconcile's attempt: one POST per attempt, backoff doubling.
        harness.Api.Fail(JobsPath, HttpStatusCode.InternalServerError);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.JobCreates() == 1, "the first create was refused");
        await harness.Settle();
        foreach (var (backoff, attempt) in new[] { (1, 2), (2, 3), (4, 4) })
        {
            harness.Time.Advance(TimeSpan.FromSeconds(backoff));
            await ControllerHarness.WaitUntil(() => harness.JobCreates() == attempt, $"create attempt {attempt}");
            await harness.Settle();
        }

        Assert.Equal(4, harness.JobCreates());
        Assert.Equal([1.0, 2, 4, 8], Backoffs("Deployment", "storefront"));
        Assert.Empty(harness.Jobs());
        Assert.Null(harness.StatusOf());
        Assert.All(pods, pod => Assert.True(harness.IsGated(pod)));

        // 2. The Job list and watch fail; a pod of the new ReplicaSet arrives unseen, the history is compacted and
        //    every watch drops, so resuming watches get 410 and must list again. Then the create heals, but its
        //    answer is lost after the Job was stored (504): the controller cannot know its create took effect.
        var podLists = PodLists();
        harness.Api.Fail("/apis/batch/v1/jobs", HttpStatusCode.InternalServerError);
        harness.Api.PutUnannounced(ControllerHarness.GatedPodObject("storefront-7d9f-d", PlanA));
        harness.Api.CompactHistory();
        harness.Api.EndWatches();
        pods = [.. pods, "storefront-7d9f-d"];
        harness.Api.Heal(JobsPath);
        harness.Api.LoseAnswerNext("POST", JobsPath, HttpStatusCode.GatewayTimeout);
        harness.Time.Advance(TimeSpan.FromSeconds(8));
        await ControllerHarness.WaitUntil(() => harness.JobCreates() == 5, "the fifth create");
        await harness.Settle();
        Assert.Equal(jobName, Assert.Single(harness.Jobs()).Metadata.Name);
        Assert.Equal(16.0, Backoffs("Deployment", "storefront")[^1]);
        await ControllerHarness.WaitUntil(() => PodLists() > podLists, "the pod watch, expired, lists again");

        // 3. The next attempt meets the Job it stored: 409 AlreadyExists, read back, no second Job.
        harness.Time.Advance(TimeSpan.FromSeconds(16));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Migrating, "the status says Migrating");
        await harness.Settle();
        Assert.Equal(6, harness.JobCreates());
        Assert.Equal(jobName, Assert.Single(harness.Jobs()).Metadata.Name);
        Assert.Equal(jobName, harness.StatusOf()!.Job);

        // 4. The Job watch heals and the Job succeeds; releasing the pods meets 409s within the ungater's budget (a),
        //    409s beyond it (b: the reconcile fails and is retried after a backoff), and a slow answer (c).
        var relisted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Api.Answered += (request, code) =>
        {
            if (request.Method == "GET" && request.Path == "/apis/batch/v1/jobs" && !request.Query.Contains("watch=true", StringComparison.Ordinal) && code == 200)
            {
                relisted.TrySetResult();
            }
        };
        harness.Api.Heal("/apis/batch/v1/jobs");
        await AdvanceUntil(() => relisted.Task.IsCompleted, "the Job informer lists again", TimeSpan.FromSeconds(60));
        harness.Api.FailNext("PATCH", PodsPath + "storefront-7d9f-a", HttpStatusCode.Conflict, times: 2);
        harness.Api.FailNext("PATCH", PodsPath + "storefront-7d9f-b", HttpStatusCode.Conflict, times: 5);
        harness.Api.Slow("PATCH", PodsPath + "storefront-7d9f-c", TimeSpan.FromSeconds(30), times: 1);
        harness.Succeed(jobName, TimeSpan.FromSeconds(40));
        await ControllerHarness.WaitUntil(() => Patches("storefront-7d9f-c") >= 1, "the slow release of c has been asked for");
        harness.Time.Advance(TimeSpan.FromSeconds(30));
        await AdvanceUntil(() => pods.All(p => !harness.IsGated(p)), "every pod is released", TimeSpan.FromSeconds(60));
        // On fake time too: the pods can be released by their own reconciles while the Deployment's, which writes the
        // status, still waits out a backoff from the 409s above (which one comes first depends on the machine's load).
        await AdvanceUntil(() => harness.StatusOf()?.Reason == StatusReasons.Applied, "the status says Applied", TimeSpan.FromSeconds(60));
        await harness.Settle();

        // Exactly one Job, with the name of this attempt, however often creation was tried.
        Assert.Equal(jobName, Assert.Single(harness.Jobs()).Metadata.Name);
        Assert.Equal(6, harness.JobCreates());
        Assert.All(pods, pod => Assert.False(harness.IsGated(pod), $"{pod} is still gated"));

        // The ungater tries a pod at most four times per release; b needed a second release after its backoff.
        Assert.InRange(Patches("storefront-7d9f-a"), 3, 3 + 4);
        Assert.InRange(Patches("storefront-7d9f-b"), 6, 6 + 4);
        Assert.NotEmpty(Backoffs("Deployment", "storefront").Skip(5).Concat(Backoffs("Pod", "storefront-7d9f-b")));

        // State, metrics and Events tell the story once.
        var status = harness.StatusOf()!;
        Assert.Equal((RolloutState.Ready, StatusReasons.Applied, jobName), (status.State, status.Reason, status.Job));
        Assert.Contains(PlanA, status.AppliedPlans);
        Assert.Equal(("shop", "storefront", MigrationJobResult.Succeeded, TimeSpan.FromSeconds(40)), Assert.Single(harness.Metrics.Jobs));
        Assert.Equal(pods.Length, harness.Metrics.Released.Count);
        Assert.Empty(harness.Metrics.Gated);
        Assert.Single(harness.Events(), e => e.Reason == StatusReasons.MigrationSucceeded);
        Assert.DoesNotContain(harness.Events(), e => e.Type == "Warning");
    }

    [Fact]
    public async Task A_conflict_on_job_create_with_no_job_behind_it_is_tried_again_and_reported_as_a_start()
    {
        // A 409 that is not AlreadyExists (the create raced a delete, or a proxy said so): reading the Job finds none.
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        harness.Api.FailNext("POST", JobsPath, HttpStatusCode.Conflict, times: 2);

        harness.Run();
        await AdvanceUntil(() => harness.Jobs().Count == 1, "the Job exists", TimeSpan.FromSeconds(10));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Migrating, "the status says Migrating");
        await harness.Settle();

        Assert.Equal(3, harness.JobCreates());
        var job = Assert.Single(harness.Jobs()).Metadata.Name;
        Assert.Equal(job, harness.StatusOf()!.Job);
        var started = Assert.Single(harness.Events());
        Assert.Equal(StatusReasons.MigrationStarted, started.Reason);
        Assert.StartsWith($"Started Job {job}", started.Message, StringComparison.Ordinal);
        Assert.True(harness.IsGated("storefront-1"));

        harness.Succeed(job, TimeSpan.FromSeconds(5));
        await ControllerHarness.WaitUntil(() => !harness.IsGated("storefront-1"), "the pod is released");
        Assert.Equal(3, harness.JobCreates());
    }

    [Fact]
    public async Task A_burst_of_500s_on_every_pod_patch_is_retried_with_growing_backoff_until_the_api_recovers()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        harness.PutGatedPod("storefront-2", PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        await harness.Settle();

        harness.Api.Fail(PodsPath, HttpStatusCode.InternalServerError);
        harness.Succeed(harness.Jobs()[0].Metadata.Name, TimeSpan.FromSeconds(5));
        await ControllerHarness.WaitUntil(() => Patches("storefront-1") + Patches("storefront-2") >= 1, "a release was tried");
        await harness.Settle();
        for (var second = 0; second < 30; second++)
        {
            harness.Time.Advance(TimeSpan.FromSeconds(1));
            await harness.Settle();
        }

        // A 500 is not a conflict: each release tries once, and every failed reconcile of an item waits twice as long
        // as the one before (1, 2, 4 ... s), so 30 s of outage cost a handful of attempts per item, not hundreds.
        Assert.True(harness.IsGated("storefront-1") && harness.IsGated("storefront-2"));
        Assert.InRange(Patches("storefront-1") + Patches("storefront-2"), 2, 3 * 7);
        foreach (var (kind, name) in new[] { ("Deployment", "storefront"), ("Pod", "storefront-1"), ("Pod", "storefront-2") })
        {
            var backoffs = Backoffs(kind, name);
            Assert.InRange(backoffs.Count, 1, 7);
            Assert.Equal(backoffs.Select((_, i) => Math.Pow(2, i)), backoffs);
        }

        Assert.Empty(harness.Metrics.Released);
        Assert.NotEqual(StatusReasons.Applied, harness.StatusOf()!.Reason);

        harness.Api.Heal(PodsPath);
        await AdvanceUntil(() => !harness.IsGated("storefront-1") && !harness.IsGated("storefront-2"), "both pods are released", TimeSpan.FromSeconds(40));
        // Releasing a pod does not enqueue its Deployment: the status follows when that item's own backoff ends.
        await AdvanceUntil(() => harness.StatusOf()?.Reason == StatusReasons.Applied, "the status says Applied", TimeSpan.FromSeconds(40));

        Assert.Equal(2, harness.Metrics.Released.Count);
        Assert.Single(harness.Metrics.Jobs);
        Assert.Single(harness.Events(), e => e.Reason == StatusReasons.MigrationSucceeded);
        Assert.Equal(1, harness.JobCreates());
    }

    [Fact]
    public async Task A_slow_job_create_holds_the_reconcile_and_its_answer_still_makes_one_job()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        harness.Api.Slow("POST", JobsPath, TimeSpan.FromSeconds(45), times: 1);

        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.JobCreates() == 1, "the create was sent");
        // While the answer is on its way the resync fires and every watch drops; nothing may create a second Job.
        harness.Api.EndWatches();
        harness.Time.Advance(TimeSpan.FromSeconds(45));
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Migrating, "the status says Migrating");
        harness.Time.Advance(ControllerHarness.Resync);
        await harness.Settle();

        Assert.Equal(1, harness.JobCreates());
        var job = Assert.Single(harness.Jobs()).Metadata.Name;
        Assert.Single(harness.Events(), e => e.Reason == StatusReasons.MigrationStarted);

        harness.Succeed(job, TimeSpan.FromSeconds(50));
        await ControllerHarness.WaitUntil(() => !harness.IsGated("storefront-1"), "the pod is released");
        Assert.Equal(1, harness.JobCreates());
    }
}

/// <summary>Keeps every log line (event id and text) for assertions, and passes it on.</summary>
internal sealed class RecordingLogger(ILogger inner) : ILogger
{
    public ConcurrentQueue<(int EventId, string Message)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Lines.Enqueue((eventId.Id, formatter(state, exception)));
        inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
