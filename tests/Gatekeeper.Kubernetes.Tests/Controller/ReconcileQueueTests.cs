using Gatekeeper.Kubernetes.Controller;
using Microsoft.Extensions.Time.Testing;

namespace Gatekeeper.Kubernetes.Tests.Controller;

public sealed class ReconcileQueueTests
{
    private static readonly WorkItem Shop = new(WorkKind.Deployment, "shop", "storefront");

    [Fact]
    public async Task Many_changes_to_one_object_make_one_reconcile()
    {
        using var queue = new ReconcileQueue(new FakeTimeProvider());

        queue.Add(Shop);
        queue.Add(Shop);
        queue.Add(new WorkItem(WorkKind.Pod, "shop", "storefront"));

        Assert.Equal(2, queue.Count);
        Assert.Equal(Shop, await queue.TakeAsync(CancellationToken.None));
        // Taken and not yet done still counts: whoever reads Count (a test's "settled") never sees 0 while a key is
        // on its way to the worker.
        Assert.Equal(2, queue.Count);
        queue.Done();
        Assert.Equal(1, queue.Count);
        queue.Add(Shop);
        Assert.Equal(2, queue.Count);
    }

    [Fact]
    public async Task A_failed_item_returns_after_a_backoff_that_doubles_and_resets_once_it_succeeds()
    {
        var time = new FakeTimeProvider();
        using var queue = new ReconcileQueue(time);

        Assert.Equal(TimeSpan.FromSeconds(1), queue.AddAfterFailure(Shop));
        Assert.Equal(0, queue.Count);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Shop, await queue.TakeAsync(CancellationToken.None).AsTask().WaitAsync(Gatekeeper.Tests.Patience.Default));
        queue.Done();

        Assert.Equal(TimeSpan.FromSeconds(2), queue.AddAfterFailure(Shop));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, queue.Count);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, queue.Count);

        queue.Forget(Shop);
        Assert.Equal(TimeSpan.FromSeconds(1), queue.AddAfterFailure(Shop));
    }

    [Fact]
    public void The_backoff_stops_growing_at_five_minutes()
    {
        using var queue = new ReconcileQueue(new FakeTimeProvider());

        var last = TimeSpan.Zero;
        for (var i = 0; i < 40; i++)
        {
            last = queue.AddAfterFailure(Shop);
        }

        Assert.Equal(TimeSpan.FromMinutes(5), last);
    }

    [Fact]
    public void A_key_held_back_twice_comes_back_at_the_earlier_time()
    {
        var time = new FakeTimeProvider();
        using var queue = new ReconcileQueue(time);

        // A back-off grown to minutes must not delay a look again asked for sooner (a Job's pod checked every 15 s).
        queue.AddAfter(Shop, TimeSpan.FromMinutes(5));
        queue.AddAfter(Shop, TimeSpan.FromSeconds(15));
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(1, queue.Count);

        // And a later one asked for while a sooner is pending does not push it back.
        var other = new WorkItem(WorkKind.Pod, "shop", "storefront-1");
        queue.AddAfter(other, TimeSpan.FromSeconds(1));
        queue.AddAfterFailure(other);
        queue.AddAfter(other, TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, queue.Count);
    }
}
