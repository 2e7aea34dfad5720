using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Gatekeeper.Kubernetes.Controller;

public enum WorkKind
{
    Deployment,
    Pod,
}

/// <summary>One object to look at again.</summary>
public readonly record struct WorkItem(WorkKind Kind, string Namespace, string Name)
{
    public override string ToString() => $"{Kind} {Namespace}/{Name}";
}

/// <summary>
/// The keys waiting for a reconcile, each at most once (ten events about one Deployment make one reconcile),
/// plus keys held back after a failure, with a per-key backoff on the injected clock.
/// </summary>
public sealed class ReconcileQueue(TimeProvider timeProvider) : IDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    private readonly Channel<WorkItem> ready = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<WorkItem, byte> queued = new();
    private readonly ConcurrentDictionary<WorkItem, ITimer> delayed = new();
    private readonly ConcurrentDictionary<WorkItem, int> failures = new();

    public int Count => queued.Count;

    public void Add(WorkItem item)
    {
        if (queued.TryAdd(item, 0))
        {
            ready.Writer.TryWrite(item);
        }
    }

    /// <summary>Adds the item after <paramref name="delay"/> (a look again that no watch event would cause), unless one is already due sooner.</summary>
    public void AddAfter(WorkItem item, TimeSpan delay)
    {
        if (delayed.ContainsKey(item))
        {
            return;
        }

        var timer = timeProvider.CreateTimer(_ =>
        {
            if (delayed.TryRemove(item, out var fired))
            {
                fired.Dispose();
            }

            Add(item);
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (delayed.TryAdd(item, timer))
        {
            // Armed only once it is registered, so a timer that fires at once still finds itself to remove.
            timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
        else
        {
            timer.Dispose();
        }
    }

    /// <summary>Adds the item again after its backoff (1 s, doubling to 5 min) and returns that backoff.</summary>
    public TimeSpan AddAfterFailure(WorkItem item)
    {
        var attempt = failures.AddOrUpdate(item, 1, (_, count) => count + 1);
        var backoff = TimeSpan.FromTicks(Math.Min(FirstBackoff.Ticks << Math.Min(attempt - 1, 20), MaxBackoff.Ticks));
        var timer = timeProvider.CreateTimer(_ =>
        {
            if (delayed.TryRemove(item, out var fired))
            {
                fired.Dispose();
            }

            Add(item);
        }, null, backoff, Timeout.InfiniteTimeSpan);
        if (delayed.TryRemove(item, out var earlier))
        {
            earlier.Dispose();
        }

        delayed[item] = timer;
        return backoff;
    }

    /// <summary>The item was handled: its next failure starts from the first backoff again.</summary>
    public void Forget(WorkItem item) => failures.TryRemove(item, out _);

    public async ValueTask<WorkItem> TakeAsync(CancellationToken cancellationToken)
    {
        var item = await ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        queued.TryRemove(item, out _);
        return item;
    }

    public void Dispose()
    {
        foreach (var timer in delayed.Values)
        {
            timer.Dispose();
        }

        delayed.Clear();
        ready.Writer.TryComplete();
    }
}
