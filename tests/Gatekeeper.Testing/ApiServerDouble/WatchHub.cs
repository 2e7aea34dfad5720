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
    public async Task ServeAsync(HttpContext context, ResourceKind kind, string? ns, LabelSelector labels, FieldSelector fields, string? client)
    {
        var watcher = new Watcher(new OpenWatch(client, kind.Plural, ns), labels, fields);
        var from = context.Request.Query["resourceVersion"].ToString();
        var expired = false;
        lock (store.Gate)
        {
            if (from.Length == 0 || from == "0")
            {
                // "Start at most recent": the current objects as ADDED, then every change.
                foreach (var json in store.ReadAll(ObjectStore.Prefix(kind.Plural, ns)))
                {
                    watcher.Offer(new StoredChange(0, kind.Plural, ns, "ADDED", json, null));
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
        try
        {
            await foreach (var (type, json) in watcher.Channel.Reader.ReadAllAsync(context.RequestAborted))
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

    private sealed class Watcher(OpenWatch description, LabelSelector labels, FieldSelector fields)
    {
        public OpenWatch Description { get; } = description;

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

            var matchesNow = change.Type != "DELETED" && Selectors.Matches(change.Json, labels, fields);
            var matchedBefore = change.OldJson is not null && Selectors.Matches(change.OldJson, labels, fields);
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
    }
}

/// <summary>One open watch stream: who asked (the X-Test-Client header), for what resource, in which namespace (null: all).</summary>
public sealed record OpenWatch(string? Client, string Resource, string? Namespace);
