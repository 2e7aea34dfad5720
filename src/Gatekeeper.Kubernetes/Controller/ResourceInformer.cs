using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Gatekeeper.Kubernetes.Watching;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>Lists one kind; returns the items and the list's resourceVersion to watch from.</summary>
public delegate Task<(IList<T> Items, string? ResourceVersion)> ListResources<T>(CancellationToken cancellationToken);

/// <summary>Watches one kind from a resourceVersion; Status events (410 Expired) go to <paramref name="onError"/>.</summary>
public delegate IAsyncEnumerable<(WatchEventType Type, T Object)> WatchResources<T>(string? resourceVersion, Action<Exception> onError, CancellationToken cancellationToken);

/// <summary>
/// A local copy of the objects of one kind that matter to the controller: listed once, then kept current by a
/// watch that resumes from the last resourceVersion it saw. An expired resourceVersion (410), a failed call or a
/// <see cref="Relist"/> (the periodic resync) lists afresh, and the differences are reported like watch events, so
/// nothing a watch missed stays missed.
/// </summary>
public sealed class ResourceInformer<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Watches that end without a single event, in a row, before the next one waits a backoff.</summary>
    private const int MaxQuietEndings = 3;

    private readonly string resource;
    private readonly ListResources<T> list;
    private readonly WatchResources<T> watch;
    private readonly Func<T, bool> keep;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<string, T> items = new(StringComparer.Ordinal);

    /// <summary>Serialises changes to <see cref="items"/> (the watch and the controller's own writes), so a check and its change are one step.</summary>
    private readonly Lock gate = new();
    private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? currentWatch;
    private volatile bool relistRequested;

    /// <param name="keep">Which objects to hold (the rest are treated as absent, so memory stays small).</param>
    public ResourceInformer(string resource, ListResources<T> list, WatchResources<T> watch, Func<T, bool> keep, TimeProvider timeProvider, ILogger logger)
    {
        this.resource = resource;
        this.list = list;
        this.watch = watch;
        this.keep = keep;
        this.timeProvider = timeProvider;
        this.logger = logger;
    }

    /// <summary>Raised with (old, new) after the copy changed; new is null when the object went away.</summary>
    public event Action<T?, T?>? Changed;

    /// <summary>Raised after a list or watch failed, with the failure (a 403 means RBAC does not allow it).</summary>
    public event Action<Exception>? Failed;

    /// <summary>Raised after every successful list.</summary>
    public event Action? Listed;

    /// <summary>Completes after the first successful list.</summary>
    public Task Synced => synced.Task;

    public ICollection<T> Items => items.Values;

    public T? Get(string @namespace, string name) => items.GetValueOrDefault(Key(@namespace, name));

    /// <summary>
    /// Puts an object the controller itself just wrote (or read), so the next decision sees it before its watch event
    /// does; unless the watch has already brought a later version. The answer to a write can arrive after the watch
    /// event of someone else's later write (a new pod template applied meanwhile): going back to the written copy would
    /// have every following decision look at a template that is gone, and nothing would look again until the resync.
    /// </summary>
    public void Remember(T item)
    {
        ArgumentNullException.ThrowIfNull(item);
        lock (gate)
        {
            if (items.TryGetValue(Key(item.Metadata.NamespaceProperty, item.Metadata.Name), out var cached) && IsLater(cached, item))
            {
                return;
            }

            ApplyLocked(WatchEventType.Added, item);
        }
    }

    /// <summary>
    /// resourceVersions are opaque to clients, but every API server gives them as etcd's increasing revision numbers,
    /// and client-go's mutation cache compares them the same way; anything else is never called later.
    /// </summary>
    private static bool IsLater(T cached, T candidate) =>
        long.TryParse(cached.Metadata.ResourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var held)
        && long.TryParse(candidate.Metadata.ResourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var offered)
        && held > offered;

    /// <summary>Ends the current watch and lists again.</summary>
    public void Relist()
    {
        relistRequested = true;
        try
        {
            Volatile.Read(ref currentWatch)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That watch has just ended by itself; the flag makes the next round list.
        }
    }

    public async Task RunUntilCancelledAsync(CancellationToken cancellationToken)
    {
        var backoff = FirstBackoff;
        var needList = true;
        var quietEndings = 0;
        string? resourceVersion = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            using var watchScope = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Volatile.Write(ref currentWatch, watchScope);
            try
            {
                if (needList || relistRequested)
                {
                    relistRequested = false;
                    var (listed, version) = await list(cancellationToken).ConfigureAwait(false);
                    Replace(listed, version);
                    resourceVersion = version;
                    needList = false;
                    backoff = FirstBackoff;
                    synced.TrySetResult();
                    Listed?.Invoke();
                }
                else if (quietEndings >= MaxQuietEndings)
                {
                    // A server that ends every watch at once would otherwise be asked again in a tight loop.
                    await Task.Delay(backoff, timeProvider, watchScope.Token).ConfigureAwait(false);
                    backoff = Longer(backoff);
                }

                var (events, expired) = await WatchAsync(resourceVersion, seen => resourceVersion = seen, watchScope.Token).ConfigureAwait(false);
                quietEndings = events == 0 ? quietEndings + 1 : 0;
                backoff = events == 0 ? backoff : FirstBackoff;

                // A watch the server ended resumes from the last version seen; an expired one needs a new list.
                needList = expired;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (relistRequested && !cancellationToken.IsCancellationRequested)
            {
                // Relist() cut the watch short (the exception type depends on where the stream was).
                needList = true;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.InformerFailed(logger, resource, backoff.TotalSeconds, e.GetType().Name, Describe(e));
                Failed?.Invoke(e);
                needList = true;
                try
                {
                    await Task.Delay(backoff, timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = Longer(backoff);
            }
            finally
            {
                Volatile.Write(ref currentWatch, null);
            }
        }
    }

    /// <summary>Follows one watch to its end; returns how many events it brought and whether its resourceVersion expired (410).</summary>
    private async Task<(int Events, bool Expired)> WatchAsync(string? resourceVersion, Action<string> seen, CancellationToken cancellationToken)
    {
        var expired = false;
        var count = 0;
        var events = watch(resourceVersion, error =>
        {
            if (error is KubernetesException { Status.Code: (int)HttpStatusCode.Gone })
            {
                expired = true;
            }
            else
            {
                Log.InformerWatchError(logger, resource, error.GetType().Name, error.Message);
            }
        }, cancellationToken);
        await foreach (var (type, item) in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            count++;
            if (item?.Metadata?.ResourceVersion is { Length: > 0 } version)
            {
                seen(version);
            }

            if (type is WatchEventType.Added or WatchEventType.Modified or WatchEventType.Deleted && item is not null)
            {
                Apply(type, item);
            }
        }
        return (count, expired);
    }

    private static TimeSpan Longer(TimeSpan backoff) => TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));

    private static string Describe(Exception e) => e switch
    {
        HttpOperationException http => $"HTTP {(int)http.Response.StatusCode}",
        { InnerException: { } inner } => $"{e.Message} ({inner.Message})",
        _ => e.Message,
    };

    private static string Key(string? @namespace, string name) => $"{@namespace}/{name}";

    /// <summary>
    /// Makes the copy what the list says, without going back in time: a list is a snapshot, and the controller may have
    /// remembered a later version of an object (or one created after the snapshot) meanwhile. Such a copy stays; the
    /// watch that follows from the list's resourceVersion brings whatever happened after the snapshot anyway.
    /// </summary>
    private void Replace(IList<T> listed, string? listVersion)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        lock (gate)
        {
            foreach (var item in listed)
            {
                var key = Key(item.Metadata.NamespaceProperty, item.Metadata.Name);
                if (keep(item))
                {
                    seen.Add(key);
                }

                if (items.TryGetValue(key, out var cached) && IsLater(cached, item))
                {
                    seen.Add(key);
                    continue;
                }

                ApplyLocked(WatchEventType.Modified, item);
            }

            foreach (var (key, cached) in items)
            {
                if (!seen.Contains(key) && !IsLaterThan(cached, listVersion) && items.TryRemove(key, out var gone))
                {
                    Changed?.Invoke(gone, null);
                }
            }
        }
    }

    /// <summary>Whether the copy is a version written after the list at <paramref name="listVersion"/> was taken.</summary>
    private static bool IsLaterThan(T cached, string? listVersion) =>
        long.TryParse(cached.Metadata.ResourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var held)
        && long.TryParse(listVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var list)
        && held > list;

    private void Apply(WatchEventType type, T item)
    {
        lock (gate)
        {
            ApplyLocked(type, item);
        }
    }

    private void ApplyLocked(WatchEventType type, T item)
    {
        var key = Key(item.Metadata.NamespaceProperty, item.Metadata.Name);
        if (type == WatchEventType.Deleted || !keep(item))
        {
            if (items.TryRemove(key, out var old))
            {
                Changed?.Invoke(old, null);
            }

            return;
        }

        items.TryGetValue(key, out var previous);
        if (previous is not null && previous.Metadata.ResourceVersion == item.Metadata.ResourceVersion && item.Metadata.ResourceVersion is not null)
        {
            return;
        }

        items[key] = item;
        Changed?.Invoke(previous, item);
    }
}
