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
/// plus keys held back (a look again later, or a back-off after a failure) on the injected clock. A key held back
/// more than once comes back at the earliest of the times asked for, never later.
/// </summary>
public sealed class ReconcileQueue(TimeProvider timeProvider) : IDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    private readonly Channel<WorkItem> ready = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<WorkItem, byte> queued = new();
    private readonly ConcurrentDictionary<WorkItem, int> failures = new();

    /// <summary>Serialises changes to <see cref="delayed"/>, so comparing due times and replacing a timer are one step.</summary>
    private readonly Lock gate = new();
    private readonly Dictionary<WorkItem, HeldBack> delayed = [];
    private bool disposed;
    private int taken;

    /// <summary>Keys waiting now plus keys taken and not yet <see cref="Done"/>: 0 only when nothing is due or being handled.</summary>
    public int Count => queued.Count + Volatile.Read(ref taken);

    public void Add(WorkItem item)
    {
        if (queued.TryAdd(item, 0))
        {
            ready.Writer.TryWrite(item);
        }
    }

    /// <summary>Adds the item after <paramref name="delay"/> (a look again that no watch event would cause), unless it is already due sooner.</summary>
    public void AddAfter(WorkItem item, TimeSpan delay) => HoldBack(item, delay);

    /// <summary>Adds the item again after its backoff (1 s, doubling to 5 min) and returns that backoff.</summary>
    public TimeSpan AddAfterFailure(WorkItem item)
    {
        var attempt = failures.AddOrUpdate(item, 1, (_, count) => count + 1);
        var backoff = TimeSpan.FromTicks(Math.Min(FirstBackoff.Ticks << Math.Min(attempt - 1, 20), MaxBackoff.Ticks));
        HoldBack(item, backoff);
        return backoff;
    }

    /// <summary>The item was handled: its next failure starts from the first backoff again.</summary>
    public void Forget(WorkItem item) => failures.TryRemove(item, out _);

    public async ValueTask<WorkItem> TakeAsync(CancellationToken cancellationToken)
    {
        var item = await ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        // Counted as taken before it leaves the waiting keys, so Count never reads 0 while it is on its way to a worker.
        Interlocked.Increment(ref taken);
        queued.TryRemove(item, out _);
        return item;
    }

    /// <summary>The worker finished with a key from <see cref="TakeAsync"/> (handled, held back or failed).</summary>
    public void Done() => Interlocked.Decrement(ref taken);

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            foreach (var held in delayed.Values)
            {
                held.Timer?.Dispose();
            }

            delayed.Clear();
        }

        ready.Writer.TryComplete();
    }

    private void HoldBack(WorkItem item, TimeSpan delay)
    {
        var due = timeProvider.GetUtcNow() + delay;
        lock (gate)
        {
            if (disposed || (delayed.TryGetValue(item, out var pending) && pending.Due <= due))
            {
                return;
            }

            pending?.Timer?.Dispose();
            var held = new HeldBack(item, due);
            delayed[item] = held;
            held.Timer = timeProvider.CreateTimer(Release, held, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

            // Armed only once it is registered, so a timer that fires at once still finds itself to remove.
            held.Timer.Change(delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void Release(object? state)
    {
        var held = (HeldBack)state!;
        lock (gate)
        {
            if (delayed.TryGetValue(held.Item, out var current) && ReferenceEquals(current, held))
            {
                delayed.Remove(held.Item);
            }
        }

        held.Timer?.Dispose();
        Add(held.Item);
    }

    private sealed class HeldBack(WorkItem item, DateTimeOffset due)
    {
        public WorkItem Item { get; } = item;

        public DateTimeOffset Due { get; } = due;

        public ITimer? Timer { get; set; }
    }
}
