using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using Gatekeeper.Webhook.Rollouts;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace Gatekeeper.Webhook.Tests;

public sealed class PlanningPartsTests
{
    private static readonly DatabaseIdentity Database = new("postgres", "db", 5432, "shop", "gatekeeper_schema_history");

    private static CachedPlan Plan(string id)
    {
        var directory = new MigrationDirectory("test", MigrationFormat.Flyway, [], false);
        return new CachedPlan(directory, new MigrationPlan(Database, [], [], [], id, null));
    }

    private static PlanCacheKey Key(string source) => new(source, null, Database, "history");

    private static IOptions<WebhookOptions> Options(int capacity = 2, double ttlSeconds = 60) =>
        Microsoft.Extensions.Options.Options.Create(new WebhookOptions { PlanCacheCapacity = capacity, PlanCacheTimeToLive = TimeSpan.FromSeconds(ttlSeconds) });

    [Fact]
    public void Plan_cache_returns_the_entry_added_for_an_equal_key()
    {
        var cache = new PlanCache(Options(), new SignallingTimeProvider());
        var added = cache.GetOrAdd(Key("a"), Plan("1"));

        Assert.True(cache.TryGet(Key("a"), out var found));
        Assert.Same(added, found);
        Assert.False(cache.TryGet(Key("b"), out _));
        Assert.False(cache.TryGet(Key("a") with { HistoryFingerprint = "other" }, out _));
    }

    [Fact]
    public void Plan_cache_keeps_the_first_of_two_concurrent_plans_so_both_requests_share_it()
    {
        var cache = new PlanCache(Options(), new SignallingTimeProvider());
        var first = cache.GetOrAdd(Key("a"), Plan("1"));

        Assert.Same(first, cache.GetOrAdd(Key("a"), Plan("2")));
    }

    [Fact]
    public void Plan_cache_drops_the_least_recently_used_entry_beyond_its_capacity()
    {
        var cache = new PlanCache(Options(capacity: 2), new SignallingTimeProvider());
        cache.GetOrAdd(Key("a"), Plan("1"));
        cache.GetOrAdd(Key("b"), Plan("2"));
        cache.TryGet(Key("a"), out _);

        cache.GetOrAdd(Key("c"), Plan("3"));

        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet(Key("a"), out _));
        Assert.False(cache.TryGet(Key("b"), out _));
        Assert.True(cache.TryGet(Key("c"), out _));
    }

    [Fact]
    public void Plan_cache_entries_expire_after_their_time_to_live()
    {
        var time = new SignallingTimeProvider();
        var cache = new PlanCache(Options(ttlSeconds: 60), time);
        cache.GetOrAdd(Key("a"), Plan("1"));

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.True(cache.TryGet(Key("a"), out _));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(cache.TryGet(Key("a"), out _));
    }

    [Fact]
    public void History_fingerprint_changes_when_a_row_is_applied_or_dirtied()
    {
        var empty = HistoryState.Empty("gatekeeper_schema_history", HistoryTableKind.Gatekeeper);
        var row = new AppliedMigration("1", "init", "abc", "sha256", null, null, false);
        var applied = empty with { Exists = true, Applied = [row] };
        var dirty = applied with { Applied = [row with { Dirty = true }] };

        var fingerprints = new[] { empty, applied, dirty }.Select(RolloutPlanner.Fingerprint).ToList();

        Assert.Equal(3, fingerprints.Distinct().Count());
        Assert.Equal(RolloutPlanner.Fingerprint(applied), RolloutPlanner.Fingerprint(applied with { Applied = [row] }));
    }

    [Fact]
    public async Task Deployment_gates_let_one_request_per_deployment_in_at_a_time()
    {
        var gates = new DeploymentGates();
        var first = await gates.EnterAsync("team-a", "shop", CancellationToken.None);

        var second = gates.EnterAsync("team-a", "shop", CancellationToken.None);
        var other = await gates.EnterAsync("team-a", "billing", CancellationToken.None);

        Assert.False(second.IsCompleted);
        other.Dispose();
        first.Dispose();
        (await second.WaitAsync(Gatekeeper.Tests.Patience.Default)).Dispose();
        Assert.Equal(0, gates.ActiveCount);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_does_not_leak_its_slot()
    {
        var gates = new DeploymentGates();
        var holder = await gates.EnterAsync("team-a", "shop", CancellationToken.None);
        using var cancel = new CancellationTokenSource();

        var waiter = gates.EnterAsync("team-a", "shop", cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        holder.Dispose();
        Assert.Equal(0, gates.ActiveCount);
    }

    [Fact]
    public async Task Resilient_calls_retry_a_transient_failure_a_bounded_number_of_times()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new WebhookOptions { MaxRetries = 2, RetryDelay = TimeSpan.Zero });
        var calls = new ResilientCalls(options, TimeProvider.System, OutputCapture.Logger<ResilientCalls>());
        var attempts = 0;

        await Assert.ThrowsAsync<HttpRequestException>(async () => await calls.ExecuteAsync<int>("test", DateTimeOffset.UtcNow.AddSeconds(30), _ =>
        {
            attempts++;
            throw new HttpRequestException("connection refused");
        }, CancellationToken.None));

        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task Resilient_calls_never_retry_a_persons_mistake()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new WebhookOptions { MaxRetries = 2, RetryDelay = TimeSpan.Zero });
        var calls = new ResilientCalls(options, TimeProvider.System, OutputCapture.Logger<ResilientCalls>());
        var attempts = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await calls.ExecuteAsync<int>("test", DateTimeOffset.UtcNow.AddSeconds(30), _ =>
        {
            attempts++;
            throw new InvalidOperationException("syntax error");
        }, CancellationToken.None));

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Resilient_calls_time_out_at_the_deadline()
    {
        var time = new SignallingTimeProvider();
        var options = Microsoft.Extensions.Options.Options.Create(new WebhookOptions { MaxRetries = 0 });
        var calls = new ResilientCalls(options, time, OutputCapture.Logger<ResilientCalls>());
        var deadline = time.GetUtcNow().AddSeconds(5);
        var timer = time.NextTimer();

        var call = calls.ExecuteAsync("hang", deadline, async ct =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return 0;
        }, CancellationToken.None).AsTask();
        await timer.WaitAsync(Gatekeeper.Tests.Patience.Default);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call);
    }
}
