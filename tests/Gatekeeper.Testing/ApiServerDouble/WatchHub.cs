using System.Globalization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>
/// The double's watches: each open watch stream gets the store's changes translated for its namespace and selectors,
/// replayed from a resourceVersion without gaps, or 410 Expired from a compacted one. Raises events when a watch
/// opens, delivers a change and ends, so tests wait on those instead of sleeping.
/// </summary>
public sealed class WatchHub
{
    private readonly ObjectStore store;
    private readonly List<Watcher> watchers = [];

    public WatchHub(ObjectStore store)
    {
        this.store = store;
        store.Changed += change =>
        {
            foreach (var watcher in watchers)
            {
                watcher.Offer(change);
            }
        };
    }

    /// <summary>Raised when a watch connection has been accepted (tests wait for it instead of sleeping).</summary>
    public event Action? Started;

    /// <summary>Raised when a watch stream has closed, by either side.</summary>
    public event Action<OpenWatch>? Ended;

    /// <summary>Raised after a change has been written to a watch stream (the watch, the event type, the object's JSON).</summary>
    public event Action<OpenWatch, string, string>? Delivered;

    /// <summary>The watch streams open now.</summary>
    public IReadOnlyList<OpenWatch> Open
    {
        get
        {
            lock (store.Gate)
            {
                return watchers.Select(w => w.Description).ToList();
            }
        }
    }

    /// <summary>Ends every open watch stream, as the API server does when a watch times out.</summary>
    public void EndAll()
    {
        lock (store.Gate)
        {
            foreach (var watcher in watchers)
            {
                watcher.Channel.Writer.TryComplete();
            }

            watchers.Clear();
        }
    }

    /// <summary>Serves one watch request until the client leaves or the stream is ended.</summary>
    public Task ServeAsync(HttpContext context, ResourceKind kind, string? ns, LabelSelector labels, FieldSelector fields, string? client) =>
        ServeAsync(context, new WatchRequest(kind.Plural, kind.Kind, kind.ApiVersion, ns, labels, fields, client));

    /// <summary>
    /// Sends a BOOKMARK (the store's current resourceVersion) to every open watch that asked for bookmarks, as the API
    /// server does about once a minute, so a client's next watch starts from a recent version.
    /// </summary>
    public void Bookmark()
    {
        lock (store.Gate)
        {
            foreach (var watcher in watchers.Where(w => w.Request.Bookmarks))
            {
                watcher.Bookmark(store.Version);
            }
        }
    }

    /// <summary>Serves one watch request until the client leaves, the stream is ended or its timeout passes.</summary>
    public async Task ServeAsync(HttpContext context, WatchRequest request)
    {
        var ns = request.Namespace;
        var watcher = new Watcher(new OpenWatch(request.Client, request.Resource, ns), request);
        var from = context.Request.Query["resourceVersion"].ToString();
        var expired = false;
        lock (store.Gate)
        {
            if (from.Length == 0 || from == "0")
            {
                // "Start at most recent": the current objects as ADDED, then every change.
                foreach (var json in store.ReadAll(ObjectStore.Prefix(request.Resource, ns)))
                {
                    watcher.Offer(new StoredChange(0, request.Resource, ns, "ADDED", json, null));
                }
            }
            else if (store.IsCompacted(long.Parse(from, CultureInfo.InvariantCulture)))
            {
                expired = true;
            }
            else
            {
                foreach (var change in store.Since(long.Parse(from, CultureInfo.InvariantCulture)))
                {
                    watcher.Offer(change);
                }
            }

            if (!expired)
            {
                watchers.Add(watcher);
            }
        }

        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(context.RequestAborted);
        if (expired)
        {
            await context.Response.WriteAsync(
                "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: "
                + from + "\",\"reason\":\"Expired\",\"code\":410}}\n", context.RequestAborted);
            Ended?.Invoke(watcher.Description);
            return;
        }

        await context.Response.Body.FlushAsync(context.RequestAborted);
        Started?.Invoke();
        using var timeout = request.Timeout is { } limit ? new CancellationTokenSource(limit, request.Clock ?? TimeProvider.System) : null;
        using var ended = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, timeout.Token);
        try
        {
            await foreach (var (type, json) in watcher.Channel.Reader.ReadAllAsync(ended?.Token ?? context.RequestAborted))
            {
                await context.Response.WriteAsync($"{{\"type\":\"{type}\",\"object\":{json}}}\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                Delivered?.Invoke(watcher.Description, type, json);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        catch (IOException)
        {
            // The client went away while a line was written.
        }
        finally
        {
            lock (store.Gate)
            {
                watchers.Remove(watcher);
            }

            Ended?.Invoke(watcher.Description);
        }
    }

    private sealed class Watcher(OpenWatch description, WatchRequest request)
    {
        public OpenWatch Description { get; } = description;

        public WatchRequest Request { get; } = request;

        public Channel<(string Type, string Json)> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<(string, string)>();

        /// <summary>
        /// Translates a change into what this watch sees: an object that starts matching its selectors is ADDED,
        /// one that stops matching is DELETED, as the API server does for filtered watches.
        /// </summary>
        public void Offer(StoredChange change)
        {
            if (change.Resource != Description.Resource || (Description.Namespace is not null && change.Namespace != Description.Namespace))
            {
                return;
            }

            var matchesNow = change.Type != "DELETED" && Selectors.Matches(change.Json, Request.Labels, Request.Fields);
            var matchedBefore = change.OldJson is not null && Selectors.Matches(change.OldJson, Request.Labels, Request.Fields);
            var type = (matchedBefore, matchesNow, change.Type) switch
            {
                (_, _, "DELETED") when matchedBefore => "DELETED",
                (_, true, "ADDED") => "ADDED",
                (false, true, _) => "ADDED",
                (true, true, _) => "MODIFIED",
                (true, false, _) => "DELETED",
                _ => null,
            };
            if (type is not null)
            {
                Channel.Writer.TryWrite((type, change.Json));
            }
        }

        /// <summary>A BOOKMARK carries only the kind and the resourceVersion the watch has seen up to.</summary>
        public void Bookmark(long version) => Channel.Writer.TryWrite(("BOOKMARK",
            $"{{\"kind\":\"{Request.Kind}\",\"apiVersion\":\"{Request.ApiVersion}\",\"metadata\":{{\"resourceVersion\":\"{version.ToString(CultureInfo.InvariantCulture)}\"}}}}"));
    }
}

/// <summary>
/// What one watch asks for: the store's resource name, the kind and apiVersion its BOOKMARKs carry, the namespace (null:
/// all) and selectors, who asked, whether it wants bookmarks, and after how long (on <paramref name="Clock"/>) it ends.
/// </summary>
public sealed record WatchRequest(
    string Resource,
    string Kind,
    string ApiVersion,
    string? Namespace,
    LabelSelector Labels,
    FieldSelector Fields,
    string? Client,
    bool Bookmarks = false,
    TimeSpan? Timeout = null,
    TimeProvider? Clock = null);

/// <summary>One open watch stream: who asked (the X-Test-Client header), for what resource, in which namespace (null: all).</summary>
public sealed record OpenWatch(string? Client, string Resource, string? Namespace);
