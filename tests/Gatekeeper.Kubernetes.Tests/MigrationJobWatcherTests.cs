using System.Net;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class MigrationJobWatcherTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private KubeApiServerDouble api = null!;

    public async Task InitializeAsync() => api = await KubeApiServerDouble.StartAsync();

    public async Task DisposeAsync() => await api.DisposeAsync();

    private static V1Job Job(string ns, string plan, bool succeeded, bool failed = false, bool annotate = true) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "gatekeeper-migrate-" + plan[..10],
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = plan[..63], ["app.kubernetes.io/managed-by"] = "gatekeeper" },
            Annotations = annotate ? new Dictionary<string, string> { ["gatekeeper.dev/plan"] = plan } : null,
        },
        Status = new V1JobStatus
        {
            Succeeded = succeeded ? 1 : 0,
            Failed = failed ? 1 : 0,
            Conditions = succeeded ? [new V1JobCondition { Type = "Complete", Status = "True" }]
                : failed ? [new V1JobCondition { Type = "Failed", Status = "True" }] : null,
        },
    };

    private static string Plan(char c) => new(c, 64);

    private static Task WhenWarm(AppliedPlans plans)
    {
        var warm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        plans.BecameWarm += () => warm.TrySetResult();
        if (plans.IsWarm)
        {
            warm.TrySetResult();
        }

        return warm.Task.WaitAsync(Patience);
    }

    private static Task<string> NextApplied(AppliedPlans plans)
    {
        var applied = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        plans.PlanApplied += key => applied.TrySetResult(key);
        return applied.Task.WaitAsync(Patience);
    }

    private Task NextWatch()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        api.WatchStarted += () => started.TrySetResult();
        return started.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task The_initial_list_marks_succeeded_plans_applied_and_the_cache_warm()
    {
        api.Put(Job("team-a", Plan('a'), succeeded: true));
        api.Put(Job("team-b", Plan('b'), succeeded: false));
        api.Put(Job("team-b", Plan('c'), succeeded: false, failed: true));
        var plans = new AppliedPlans();
        var watcher = new MigrationJobWatcher(api.CreateClient(), plans, TimeProvider.System, OutputCapture.Logger<MigrationJobWatcher>());
        using var stop = new CancellationTokenSource();
        var warm = WhenWarm(plans);

        var run = watcher.RunUntilCancelledAsync(stop.Token);
        await warm;

        Assert.True(plans.IsApplied(Plan('a')));
        Assert.False(plans.IsApplied(Plan('b')));
        Assert.False(plans.IsApplied(Plan('c')));
        stop.Cancel();
        await run.WaitAsync(Patience);
        Assert.Contains(api.RequestsTo("GET", "/apis/batch/v1/jobs"), r => r.Query.Contains("labelSelector=gatekeeper.dev%2Fplan", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_job_that_succeeds_while_watched_marks_its_plan_applied()
    {
        var plans = new AppliedPlans();
        var watcher = new MigrationJobWatcher(api.CreateClient(), plans, TimeProvider.System, OutputCapture.Logger<MigrationJobWatcher>());
        using var stop = new CancellationTokenSource();
        var watching = NextWatch();
        var run = watcher.RunUntilCancelledAsync(stop.Token);
        await watching;
        Assert.True(plans.IsWarm);

        api.Put(Job("team-a", Plan('d'), succeeded: false));
        var applied = NextApplied(plans);
        api.Put(Job("team-a", Plan('d'), succeeded: true));

        Assert.Equal(Plan('d')[..63], await applied);
        Assert.True(plans.IsApplied(Plan('d')));
        stop.Cancel();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_job_carrying_only_the_truncated_label_still_counts()
    {
        var plans = new AppliedPlans();
        var watcher = new MigrationJobWatcher(api.CreateClient(), plans, TimeProvider.System, OutputCapture.Logger<MigrationJobWatcher>());
        api.Put(Job("team-a", Plan('e'), succeeded: true, annotate: false));
        using var stop = new CancellationTokenSource();
        var warm = WhenWarm(plans);

        var run = watcher.RunUntilCancelledAsync(stop.Token);
        await warm;

        Assert.True(plans.IsApplied(Plan('e')));
        stop.Cancel();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_watch_that_ends_is_followed_by_a_fresh_list_and_watch()
    {
        var plans = new AppliedPlans();
        var watcher = new MigrationJobWatcher(api.CreateClient(), plans, TimeProvider.System, OutputCapture.Logger<MigrationJobWatcher>());
        using var stop = new CancellationTokenSource();
        var firstWatch = NextWatch();
        var run = watcher.RunUntilCancelledAsync(stop.Token);
        await firstWatch;

        var secondWatch = NextWatch();
        var applied = NextApplied(plans);
        api.EndWatches();
        await secondWatch;
        Assert.False(plans.IsApplied(Plan('f')));
        api.Put(Job("team-a", Plan('f'), succeeded: true));

        Assert.Equal(Plan('f')[..63], await applied);
        Assert.True(api.RequestsTo("GET", "/apis/batch/v1/jobs").Count(r => !r.Query.Contains("watch=true", StringComparison.Ordinal)) >= 2);
        stop.Cancel();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_watch_the_server_closes_before_any_event_is_listed_again_without_a_backoff()
    {
        // API servers end idle watches every few minutes; KubernetesClient reports one that brought no line as an
        // EndOfStreamException. That is an ordinary end, not an outage: no pause in which a succeeded Job goes unseen.
        var time = new SignallingTimeProvider();
        var plans = new AppliedPlans();
        var watcher = new MigrationJobWatcher(api.CreateClient(), plans, time, OutputCapture.Logger<MigrationJobWatcher>());
        using var stop = new CancellationTokenSource();
        var firstWatch = NextWatch();
        var run = watcher.RunUntilCancelledAsync(stop.Token);
        await firstWatch;

        var secondWatch = NextWatch();
        var backoff = time.NextTimer();
        api.EndWatches();

        Assert.Same(secondWatch, await Task.WhenAny(secondWatch, backoff).WaitAsync(Patience));
        var applied = NextApplied(plans);
        api.Put(Job("team-a", Plan('h'), succeeded: true));
        Assert.Equal(Plan('h')[..63], await applied);
        stop.Cancel();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_server_that_ends_every_watch_at_once_is_asked_again_only_after_a_backoff()
    {
        // The other side of the test above: quiet endings in a row must not become a tight list-and-watch loop.
        var time = new SignallingTimeProvider();
        var watcher = new MigrationJobWatcher(api.CreateClient(), new AppliedPlans(), time, OutputCapture.Logger<MigrationJobWatcher>());
        using var stop = new CancellationTokenSource();
        api.WatchStarted += api.EndWatches;
        var backoff = time.NextTimer();

        var run = watcher.RunUntilCancelledAsync(stop.Token);
        Assert.Equal(TimeSpan.FromSeconds(1), await backoff.WaitAsync(Patience));
        var lists = api.RequestsTo("GET", "/apis/batch/v1/jobs").Count(r => !r.Query.Contains("watch=true", StringComparison.Ordinal));

        Assert.InRange(lists, 1, 4);
        stop.Cancel();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task An_api_outage_keeps_the_cache_cold_until_a_retry_after_the_backoff_succeeds()
    {
        api.Fail("/apis/batch/v1/jobs", HttpStatusCode.ServiceUnavailable);
        api.Put(Job("team-a", Plan('g'), succeeded: true));
        var time = new SignallingTimeProvider();
        var plans = new AppliedPlans();
        var watcher = new MigrationJobWatcher(api.CreateClient(), plans, time, OutputCapture.Logger<MigrationJobWatcher>());
        using var stop = new CancellationTokenSource();
        var warm = WhenWarm(plans);
        var backoff = time.NextTimer();

        var run = watcher.RunUntilCancelledAsync(stop.Token);
        Assert.Equal(TimeSpan.FromSeconds(1), await backoff.WaitAsync(Patience));
        Assert.False(plans.IsWarm);

        api.Heal("/apis/batch/v1/jobs");
        time.Advance(TimeSpan.FromSeconds(1));

        await warm;
        Assert.True(plans.IsApplied(Plan('g')));
        Assert.Equal(2, api.RequestsTo("GET", "/apis/batch/v1/jobs").Count(r => !r.Query.Contains("watch=true", StringComparison.Ordinal)));
        stop.Cancel();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task Repeated_outages_double_the_backoff()
    {
        api.Fail("/apis/batch/v1/jobs", HttpStatusCode.ServiceUnavailable);
        var time = new SignallingTimeProvider();
        var watcher = new MigrationJobWatcher(api.CreateClient(), new AppliedPlans(), time, OutputCapture.Logger<MigrationJobWatcher>());
        using var stop = new CancellationTokenSource();
        var delays = new List<TimeSpan>();

        var next = time.NextTimer();
        var run = watcher.RunUntilCancelledAsync(stop.Token);
        for (var i = 0; i < 3; i++)
        {
            delays.Add(await next.WaitAsync(Patience));
            next = time.NextTimer();
            time.Advance(delays[^1]);
        }

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], delays);
        stop.Cancel();
        await run.WaitAsync(Patience);
    }
}
