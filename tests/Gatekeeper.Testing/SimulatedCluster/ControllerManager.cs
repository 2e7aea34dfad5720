using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>A simulated controller: which changes concern it, and how it reconciles one object.</summary>
public interface ISimulatedController
{
    string Name { get; }

    /// <summary>The keys (namespace/name of the object it reconciles) a stored change concerns; empty when none.</summary>
    IEnumerable<string> KeysFor(StoredChange change);

    Task ReconcileAsync(string key, CancellationToken cancellationToken);
}

/// <summary>
/// kube-controller-manager for the simulated cluster: one worker that reconciles queued keys one at a time (so the
/// controllers' writes happen in a deterministic order), fed by the store's changes and by timers on the cluster's
/// clock (deadlines, TTLs, backoffs, progress deadlines), which only move when a test advances the clock.
/// </summary>
public sealed class ControllerManager : IAsyncDisposable
{
    private readonly List<ISimulatedController> controllers = [];
    private readonly Channel<(ISimulatedController Controller, string Key)> queue = Channel.CreateUnbounded<(ISimulatedController, string)>();
    private readonly ConcurrentDictionary<(string, string), bool> queued = new();
    private readonly ConcurrentBag<ITimer> timers = [];
    private readonly CancellationTokenSource stop = new();
    private readonly TimeProvider clock;
    private readonly Action<string> log;
    private Task? worker;
    private int busy;

    public ControllerManager(ObjectStore store, TimeProvider clock, Action<string> log)
    {
        this.clock = clock;
        this.log = log;
        store.Changed += change =>
        {
            foreach (var controller in controllers)
            {
                foreach (var key in controller.KeysFor(change))
                {
                    Enqueue(controller, key);
                }
            }
        };
    }

    /// <summary>True while nothing is queued and no reconcile is running.</summary>
    public bool Idle => Volatile.Read(ref busy) == 0 && queue.Reader.Count == 0;

    /// <summary>Raised after each reconcile (with the queue possibly empty), for waits without sleeping.</summary>
    public event Action? Reconciled;

    public void Add(ISimulatedController controller) => controllers.Add(controller);

    /// <summary>Writes a line to the cluster's log (shown with a failed wait).</summary>
    public void Log(string line) => log(line);

    public void Start() => worker = Task.Run(() => RunAsync(stop.Token));

    public void Enqueue(ISimulatedController controller, string key)
    {
        if (queued.TryAdd((controller.Name, key), true))
        {
            Interlocked.Increment(ref busy);
            queue.Writer.TryWrite((controller, key));
        }
    }

    /// <summary>Reconciles <paramref name="key"/> again once the cluster's clock has moved on by <paramref name="delay"/>.</summary>
    public void EnqueueAfter(ISimulatedController controller, string key, TimeSpan delay)
    {
        ITimer? timer = null;
        timer = clock.CreateTimer(_ =>
        {
            Enqueue(controller, key);
            timer?.Dispose();
        }, null, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
        timers.Add(timer);
    }

    public static string Key(JsonNode obj) => $"{(string?)obj["metadata"]?["namespace"]}/{(string?)obj["metadata"]?["name"]}";

    public static (string Namespace, string Name) Split(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return (key[..slash], key[(slash + 1)..]);
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        queue.Writer.TryComplete();
        foreach (var timer in timers)
        {
            await timer.DisposeAsync();
        }

        if (worker is not null)
        {
            try
            {
                await worker;
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }

        stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var (controller, key) in queue.Reader.ReadAllAsync(cancellationToken))
        {
            queued.TryRemove((controller.Name, key), out _);
            try
            {
                await controller.ReconcileAsync(key, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ApiStatusException e) when (e.Code == System.Net.HttpStatusCode.Conflict || e.Code == System.Net.HttpStatusCode.NotFound)
            {
                // Someone wrote in between, or the object is gone: the change that caused it queues the key again.
                Enqueue(controller, key);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log($"{controller.Name} {key}: {e.GetType().Name}: {e.Message}");
                EnqueueAfter(controller, key, TimeSpan.FromSeconds(5));
            }
            finally
            {
                Interlocked.Decrement(ref busy);
                Reconciled?.Invoke();
            }
        }
    }
}
