using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>
/// An in-process double of the Kubernetes API server on a loopback Kestrel port. It serves get, list, watch,
/// create, replace, patch (JSON patch with <c>test</c>, merge and strategic merge as merge) and delete on
/// ConfigMaps, Secrets, pods, Events, Deployments, ReplicaSets, Jobs and Leases from objects the test puts in;
/// it answers like the real one where Gatekeeper depends on it: 409 AlreadyExists on a second create, 409
/// Conflict on a stale resourceVersion, 422 when a patch's <c>test</c> fails, 410 Expired for a watch from a
/// compacted resourceVersion, watches replayed from a resourceVersion without gaps. It records every request
/// (with the <c>X-Test-Client</c> header, so tests tell two clients apart) and can be told to fail.
/// KubernetesClient talks to it over real HTTP, so the client's URL building, serialization and watch parsing are
/// exercised as in a cluster.
/// </summary>
public sealed class KubeApiServerDouble : IAsyncDisposable
{
    public const string ClientHeader = "X-Test-Client";

    private static readonly ResourceKind[] Kinds =
    [
        new("configmaps", "/api/v1", "ConfigMap", "v1", typeof(V1ConfigMap)),
        new("secrets", "/api/v1", "Secret", "v1", typeof(V1Secret)),
        new("pods", "/api/v1", "Pod", "v1", typeof(V1Pod)),
        new("events", "/api/v1", "Event", "v1", typeof(Corev1Event)),
        new("deployments", "/apis/apps/v1", "Deployment", "apps/v1", typeof(V1Deployment)),
        new("replicasets", "/apis/apps/v1", "ReplicaSet", "apps/v1", typeof(V1ReplicaSet)),
        new("jobs", "/apis/batch/v1", "Job", "batch/v1", typeof(V1Job)),
        new("leases", "/apis/coordination.k8s.io/v1", "Lease", "coordination.k8s.io/v1", typeof(V1Lease)),
    ];

    private readonly WebApplication app;
    private readonly Dictionary<string, string> objects = new(StringComparer.Ordinal);
    private readonly List<StoredEvent> history = [];
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly ConcurrentDictionary<string, HttpStatusCode> failures = new(StringComparer.Ordinal);
    private readonly List<InjectedFailure> nextFailures = [];
    private readonly List<InjectedFailure> lostAnswers = [];
    private readonly List<InjectedDelay> delays = [];
    private readonly List<Watcher> watchers = [];
    private readonly Lock store = new();
    private long resourceVersion = 100;
    private long compactedBelow;
    private long generatedNames;

    private KubeApiServerDouble(WebApplication app)
    {
        this.app = app;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyCollection<RecordedRequest> Requests => requests.ToArray();

    /// <summary>Raised when a watch connection has been accepted (tests wait for it instead of sleeping).</summary>
    public event Action? WatchStarted;

    /// <summary>Raised after every request has been answered (method, path, status), for tests that wait on a write.</summary>
    public event Action<RecordedRequest, int>? Answered;

    /// <summary>The clock that stamps creationTimestamp; tests that inject time into Gatekeeper set the same one here.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    public static async Task<KubeApiServerDouble> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new KubeApiServerDouble(app);
        server.Map();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address);
        return server;
    }

    /// <summary>A KubernetesClient pointed at this double.</summary>
    public IKubernetes CreateClient() => new k8s.Kubernetes(new KubernetesClientConfiguration { Host = BaseAddress.ToString() });

    /// <summary>A KubernetesClient whose requests the double records under <paramref name="name"/>.</summary>
    public IKubernetes CreateClient(string name) =>
        new k8s.Kubernetes(new KubernetesClientConfiguration { Host = BaseAddress.ToString() }, new NamingHandler(name));

    public void Put(V1ConfigMap configMap) => Put<V1ConfigMap>(configMap);

    public void Put(V1Secret secret) => Put<V1Secret>(secret);

    /// <summary>Stores a Job and tells every open watch about it (ADDED or MODIFIED).</summary>
    public void Put(V1Job job) => Put<V1Job>(job);

    /// <summary>
    /// Stores any served kind as the cluster would after a write (resourceVersion, uid, creationTimestamp
    /// filled in) and tells every matching watch (ADDED or MODIFIED).
    /// </summary>
    public T Put<T>(T value)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var kind = KindOf(typeof(T));
        var node = JsonNode.Parse(KubernetesJson.Serialize(value))!.AsObject();
        node["apiVersion"] = kind.ApiVersion;
        node["kind"] = kind.Kind;
        lock (store)
        {
            var key = Key(kind.Plural, value.Metadata.NamespaceProperty, value.Metadata.Name);
            objects.TryGetValue(key, out var old);
            Fill(node, old);
            return KubernetesJson.Deserialize<T>(Write(kind, key, old, node));
        }
    }

    /// <summary>Changes a stored object in place, as another controller or a person would (MODIFIED).</summary>
    public T Update<T>(string ns, string name, Action<T> change)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var current = Get<T>(ns, name) ?? throw new InvalidOperationException($"{typeof(T).Name} {ns}/{name} is not stored");
        change(current);
        return Put(current);
    }

    /// <summary>Stores a change without telling any watch, as if the event were lost; only a relist sees it.</summary>
    public void PutUnannounced<T>(T value)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var kind = KindOf(typeof(T));
        var node = JsonNode.Parse(KubernetesJson.Serialize(value))!.AsObject();
        node["apiVersion"] = kind.ApiVersion;
        node["kind"] = kind.Kind;
        lock (store)
        {
            var key = Key(kind.Plural, value.Metadata.NamespaceProperty, value.Metadata.Name);
            objects.TryGetValue(key, out var old);
            Fill(node, old);
            node["metadata"]!["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);
            objects[key] = node.ToJsonString();
        }
    }

    public T? Get<T>(string ns, string name)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        lock (store)
        {
            return objects.TryGetValue(Key(KindOf(typeof(T)).Plural, ns, name), out var json) ? KubernetesJson.Deserialize<T>(json) : default;
        }
    }

    public IReadOnlyList<T> List<T>(string? ns = null)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var prefix = ns is null ? KindOf(typeof(T)).Plural + "/" : Key(KindOf(typeof(T)).Plural, ns, string.Empty);
        lock (store)
        {
            return objects.Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal))
                .OrderBy(pair => pair.Key, StringComparer.Ordinal)
                .Select(pair => KubernetesJson.Deserialize<T>(pair.Value))
                .ToList();
        }
    }

    /// <summary>Deletes a stored object (DELETED to every matching watch); false when there was none.</summary>
    public bool Delete<T>(string ns, string name)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var kind = KindOf(typeof(T));
        lock (store)
        {
            return Remove(kind, Key(kind.Plural, ns, name)) is not null;
        }
    }

    /// <summary>Makes every request whose path starts with <paramref name="pathPrefix"/> answer <paramref name="status"/>.</summary>
    public void Fail(string pathPrefix, HttpStatusCode status) => failures[pathPrefix] = status;

    public void Heal(string pathPrefix) => failures.TryRemove(pathPrefix, out _);

    /// <summary>Makes the next <paramref name="times"/> requests with this method and path prefix answer <paramref name="status"/>.</summary>
    public void FailNext(string method, string pathPrefix, HttpStatusCode status, int times = 1)
    {
        lock (nextFailures)
        {
            nextFailures.Add(new InjectedFailure(method, pathPrefix, status) { Remaining = times });
        }
    }

    /// <summary>
    /// Makes the next <paramref name="times"/> requests with this method and path prefix take effect but answer
    /// <paramref name="status"/>, as when the API server stored a write and its answer was lost (a 504 after the
    /// commit, a connection cut on the way back): the client cannot tell that the write happened.
    /// </summary>
    public void LoseAnswerNext(string method, string pathPrefix, HttpStatusCode status, int times = 1)
    {
        lock (lostAnswers)
        {
            lostAnswers.Add(new InjectedFailure(method, pathPrefix, status) { Remaining = times });
        }
    }

    /// <summary>
    /// Makes the next <paramref name="times"/> requests with this method and path prefix wait <paramref name="delay"/>
    /// on <see cref="Clock"/> before they are handled (recorded at once, so a test can wait for one to arrive). With a
    /// fake clock the test decides when a slow answer comes, by advancing it; no test sleeps through the delay.
    /// </summary>
    public void Slow(string method, string pathPrefix, TimeSpan delay, int times = int.MaxValue)
    {
        lock (delays)
        {
            delays.Add(new InjectedDelay(method, pathPrefix, delay) { Remaining = times });
        }
    }

    /// <summary>Ends every open watch stream, as the API server does when a watch times out.</summary>
    public void EndWatches()
    {
        lock (store)
        {
            foreach (var watcher in watchers)
            {
                watcher.Channel.Writer.TryComplete();
            }

            watchers.Clear();
        }
    }

    /// <summary>Forgets the event history, so a watch from any earlier resourceVersion gets 410 Expired (etcd compaction).</summary>
    public void CompactHistory()
    {
        lock (store)
        {
            compactedBelow = resourceVersion + 1;
            history.Clear();
        }
    }

    public IReadOnlyList<RecordedRequest> RequestsTo(string method, string pathPrefix) =>
        Requests.Where(r => r.Method == method && r.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList();

    public async ValueTask DisposeAsync()
    {
        EndWatches();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static ResourceKind KindOf(Type type) =>
        Kinds.FirstOrDefault(k => k.Model == type) ?? throw new NotSupportedException($"the double does not serve {type.Name}");

    private static string Key(string resource, string? ns, string name) => $"{resource}/{ns}/{name}";

    /// <summary>Fills in what the API server sets on every write: uid and creationTimestamp kept from the stored version.</summary>
    private void Fill(JsonObject node, string? old)
    {
        var metadata = node["metadata"]!.AsObject();
        var previous = old is null ? null : JsonNode.Parse(old)!["metadata"];
        metadata["uid"] = previous?["uid"]?.GetValue<string>() ?? metadata["uid"]?.GetValue<string>() ?? Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = previous?["creationTimestamp"]?.GetValue<string>() ?? metadata["creationTimestamp"]?.GetValue<string>()
            ?? Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var generation = previous?["generation"]?.GetValue<long>() ?? 0;
        var specChanged = old is null || !JsonNode.DeepEquals(JsonNode.Parse(old)!["spec"], node["spec"]);
        metadata["generation"] = specChanged ? generation + 1 : generation;
    }

    /// <summary>Stores the object with a new resourceVersion and announces it; call under <see cref="store"/>.</summary>
    private string Write(ResourceKind kind, string key, string? old, JsonObject node)
    {
        var version = ++resourceVersion;
        node["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        var json = node.ToJsonString();
        objects[key] = json;
        Announce(new StoredEvent(version, kind.Plural, (string?)node["metadata"]!["namespace"], old is null ? "ADDED" : "MODIFIED", json, old));
        return json;
    }

    private string? Remove(ResourceKind kind, string key)
    {
        if (!objects.Remove(key, out var old))
        {
            return null;
        }

        var version = ++resourceVersion;
        var node = JsonNode.Parse(old)!;
        node["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        Announce(new StoredEvent(version, kind.Plural, (string?)node["metadata"]!["namespace"], "DELETED", node.ToJsonString(), old));
        return old;
    }

    private void Announce(StoredEvent stored)
    {
        history.Add(stored);
        foreach (var watcher in watchers)
        {
            watcher.Offer(stored);
        }
    }

    private void Map()
    {
        app.Use(async (context, next) =>
        {
            var body = string.Empty;
            if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
                body = await reader.ReadToEndAsync(context.RequestAborted);
            }

            var path = context.Request.Path.Value ?? string.Empty;
            var recorded = new RecordedRequest(context.Request.Method, path, context.Request.QueryString.Value ?? string.Empty, body)
            {
                Client = context.Request.Headers[ClientHeader].FirstOrDefault(),
                ContentType = context.Request.ContentType,
            };
            requests.Enqueue(recorded);
            OutputCapture.Record(OutputCapture.ApiRequests, "api server double", $"{recorded.Method} {path}{recorded.Query} [{recorded.Client}]\n{body}");
            context.Items[typeof(RecordedRequest)] = recorded;
            try
            {
                if (DelayFor(context.Request.Method, path) is { } delay)
                {
                    try
                    {
                        await Task.Delay(delay, Clock, context.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                        // The client gave up waiting; nothing is handled.
                        return;
                    }
                }

                if (InjectedStatus(context.Request.Method, path) is { } injected)
                {
                    await WriteStatus(context, injected, "injected failure");
                    return;
                }

                if (Take(lostAnswers, context.Request.Method, path) is { } lost)
                {
                    // Handle the request for real, then throw its answer away.
                    var answer = context.Response.Body;
                    context.Response.Body = Stream.Null;
                    await next(context);
                    context.Response.Body = answer;
                    context.Response.Headers.Clear();
                    await WriteStatus(context, lost, "injected failure after the change was stored");
                    return;
                }

                await next(context);
            }
            finally
            {
                Answered?.Invoke(recorded, context.Response.StatusCode);
            }
        });

        foreach (var kind in Kinds)
        {
            var collection = kind.Prefix + "/namespaces/{ns}/" + kind.Plural;
            app.MapGet(kind.Prefix + "/" + kind.Plural, (HttpContext c) => ListOrWatch(c, kind, null));
            app.MapGet(collection, (HttpContext c, string ns) => ListOrWatch(c, kind, ns));
            app.MapPost(collection, (HttpContext c, string ns) => Create(c, kind, ns));
            app.MapGet(collection + "/{name}", (HttpContext c, string ns, string name) => Read(c, kind, ns, name));
            app.MapPut(collection + "/{name}", (HttpContext c, string ns, string name) => Replace(c, kind, ns, name));
            app.MapPatch(collection + "/{name}", (HttpContext c, string ns, string name) => Patch(c, kind, ns, name));
            app.MapDelete(collection + "/{name}", (HttpContext c, string ns, string name) => DeleteOne(c, kind, ns, name));
        }

        app.MapFallback(c => WriteStatus(c, HttpStatusCode.NotFound, $"the double does not serve {c.Request.Method} {c.Request.Path}"));
    }

    private static HttpStatusCode? Take(List<InjectedFailure> list, string method, string path)
    {
        lock (list)
        {
            var next = list.FirstOrDefault(f => f.Method == method && path.StartsWith(f.PathPrefix, StringComparison.Ordinal));
            if (next is null)
            {
                return null;
            }

            if (--next.Remaining <= 0)
            {
                list.Remove(next);
            }

            return next.Status;
        }
    }

    private TimeSpan? DelayFor(string method, string path)
    {
        lock (delays)
        {
            var next = delays.FirstOrDefault(d => d.Method == method && path.StartsWith(d.PathPrefix, StringComparison.Ordinal));
            if (next is null)
            {
                return null;
            }

            if (--next.Remaining <= 0)
            {
                delays.Remove(next);
            }

            return next.Delay;
        }
    }

    private HttpStatusCode? InjectedStatus(string method, string path)
    {
        if (Take(nextFailures, method, path) is { } next)
        {
            return next;
        }

        foreach (var (prefix, status) in failures)
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return status;
            }
        }

        return null;
    }

    private static string Body(HttpContext context) => ((RecordedRequest)context.Items[typeof(RecordedRequest)]!).Body;

    private async Task Read(HttpContext context, ResourceKind kind, string ns, string name)
    {
        string? json;
        lock (store)
        {
            objects.TryGetValue(Key(kind.Plural, ns, name), out json);
        }

        if (json is null)
        {
            await WriteStatus(context, HttpStatusCode.NotFound, $"{kind.Plural} \"{name}\" not found", "NotFound", name, kind.Plural);
            return;
        }

        await WriteJson(context, 200, json);
    }

    private async Task Create(HttpContext context, ResourceKind kind, string ns)
    {
        var node = JsonNode.Parse(Body(context))!.AsObject();
        var metadata = node["metadata"]?.AsObject() ?? throw new InvalidOperationException("an object without metadata");
        metadata["namespace"] = ns;
        if (metadata["name"] is null && metadata["generateName"]?.GetValue<string>() is { } generateName)
        {
            metadata["name"] = generateName + Interlocked.Increment(ref generatedNames).ToString("x5", CultureInfo.InvariantCulture);
        }

        var name = metadata["name"]!.GetValue<string>();
        node["apiVersion"] = kind.ApiVersion;
        node["kind"] = kind.Kind;
        metadata.Remove("resourceVersion");
        metadata.Remove("uid");
        metadata.Remove("creationTimestamp");
        string json;
        lock (store)
        {
            var key = Key(kind.Plural, ns, name);
            if (objects.ContainsKey(key))
            {
                json = string.Empty;
            }
            else
            {
                Fill(node, null);
                json = Write(kind, key, null, node);
            }
        }

        if (json.Length == 0)
        {
            await WriteStatus(context, HttpStatusCode.Conflict, $"{kind.Plural} \"{name}\" already exists", "AlreadyExists", name, kind.Plural);
            return;
        }

        await WriteJson(context, 201, json);
    }

    private async Task Replace(HttpContext context, ResourceKind kind, string ns, string name)
    {
        var node = JsonNode.Parse(Body(context))!.AsObject();
        var sent = node["metadata"]?["resourceVersion"]?.GetValue<string>();
        string? json = null;
        string? problem = null;
        lock (store)
        {
            var key = Key(kind.Plural, ns, name);
            if (!objects.TryGetValue(key, out var old))
            {
                problem = "NotFound";
            }
            else if (!string.IsNullOrEmpty(sent) && sent != (string?)JsonNode.Parse(old)!["metadata"]!["resourceVersion"])
            {
                problem = "Conflict";
            }
            else
            {
                node["apiVersion"] = kind.ApiVersion;
                node["kind"] = kind.Kind;
                Fill(node, old);
                json = Write(kind, key, old, node);
            }
        }

        await Answer(context, kind, name, json, problem);
    }

    private async Task Patch(HttpContext context, ResourceKind kind, string ns, string name)
    {
        var body = Body(context);
        var isJsonPatch = context.Request.ContentType?.StartsWith("application/json-patch+json", StringComparison.Ordinal) == true;
        string? json = null;
        string? problem = null;
        string? detail = null;
        lock (store)
        {
            var key = Key(kind.Plural, ns, name);
            if (!objects.TryGetValue(key, out var old))
            {
                problem = "NotFound";
            }
            else
            {
                JsonObject? patched = null;
                try
                {
                    patched = isJsonPatch
                        ? JsonPatchApplier.Apply(JsonNode.Parse(old)!, Encoding.UTF8.GetBytes(body)).AsObject()
                        : MergePatch(JsonNode.Parse(old)!.AsObject(), JsonNode.Parse(body)!.AsObject());
                }
                catch (InvalidOperationException e)
                {
                    (problem, detail) = ("Invalid", e.Message);
                }

                if (patched is not null)
                {
                    var sent = isJsonPatch ? null : JsonNode.Parse(body)!["metadata"]?["resourceVersion"]?.GetValue<string>();
                    if (sent is not null && sent != (string?)JsonNode.Parse(old)!["metadata"]!["resourceVersion"])
                    {
                        problem = "Conflict";
                    }
                    else
                    {
                        Fill(patched, old);
                        json = Write(kind, key, old, patched);
                    }
                }
            }
        }

        await Answer(context, kind, name, json, problem, detail);
    }

    private async Task DeleteOne(HttpContext context, ResourceKind kind, string ns, string name)
    {
        var body = Body(context);
        var preconditions = body.Length > 0 ? JsonNode.Parse(body)?["preconditions"] : null;
        string? problem = null;
        lock (store)
        {
            var key = Key(kind.Plural, ns, name);
            if (!objects.TryGetValue(key, out var old))
            {
                problem = "NotFound";
            }
            else
            {
                var metadata = JsonNode.Parse(old)!["metadata"]!;
                if ((preconditions?["resourceVersion"]?.GetValue<string>() is { } version && version != (string?)metadata["resourceVersion"])
                    || (preconditions?["uid"]?.GetValue<string>() is { } uid && uid != (string?)metadata["uid"]))
                {
                    problem = "Conflict";
                }
                else
                {
                    Remove(kind, key);
                }
            }
        }

        await Answer(context, kind, name, problem is null ? "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Success\"}" : null, problem);
    }

    private static Task Answer(HttpContext context, ResourceKind kind, string name, string? json, string? problem, string? detail = null) => problem switch
    {
        null => WriteJson(context, 200, json!),
        "NotFound" => WriteStatus(context, HttpStatusCode.NotFound, $"{kind.Plural} \"{name}\" not found", "NotFound", name, kind.Plural),
        "Conflict" => WriteStatus(context, HttpStatusCode.Conflict,
            $"Operation cannot be fulfilled on {kind.Plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            "Conflict", name, kind.Plural),
        _ => WriteStatus(context, HttpStatusCode.UnprocessableEntity, $"the server rejected our request due to an error in our request: {detail}", "Invalid", name, kind.Plural),
    };

    /// <summary>RFC 7386: objects merge member by member, null removes, anything else replaces.</summary>
    private static JsonObject MergePatch(JsonObject target, JsonObject patch)
    {
        foreach (var (name, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(name);
            }
            else if (value is JsonObject patchObject && target[name] is JsonObject targetObject)
            {
                MergePatch(targetObject, patchObject);
            }
            else
            {
                target[name] = value.DeepClone();
            }
        }

        return target;
    }

    private async Task ListOrWatch(HttpContext context, ResourceKind kind, string? ns)
    {
        var labels = LabelSelector.Parse(context.Request.Query["labelSelector"].ToString());
        var fields = FieldSelector.Parse(context.Request.Query["fieldSelector"].ToString());
        if (context.Request.Query["watch"] == "true")
        {
            await Watch(context, kind, ns, labels, fields);
            return;
        }

        List<string> items;
        long version;
        lock (store)
        {
            var prefix = ns is null ? kind.Plural + "/" : Key(kind.Plural, ns, string.Empty);
            items = objects.Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal))
                .OrderBy(pair => pair.Key, StringComparer.Ordinal)
                .Select(pair => pair.Value)
                .Where(json => Matches(json, labels, fields))
                .ToList();
            version = resourceVersion;
        }

        await WriteJson(context, 200,
            $"{{\"apiVersion\":\"{kind.ApiVersion}\",\"kind\":\"{kind.Kind}List\",\"metadata\":{{\"resourceVersion\":\"{version.ToString(CultureInfo.InvariantCulture)}\"}},\"items\":[{string.Join(",", items)}]}}");
    }

    private static bool Matches(string json, LabelSelector labels, FieldSelector fields)
    {
        var node = JsonNode.Parse(json)!;
        return labels.Matches(Labels(node)) && fields.Matches(node);
    }

    private async Task Watch(HttpContext context, ResourceKind kind, string? ns, LabelSelector labels, FieldSelector fields)
    {
        var watcher = new Watcher(kind.Plural, ns, labels, fields);
        var from = context.Request.Query["resourceVersion"].ToString();
        var expired = false;
        lock (store)
        {
            if (from.Length == 0 || from == "0")
            {
                // "Start at most recent": the current objects as ADDED, then every change.
                var prefix = ns is null ? kind.Plural + "/" : Key(kind.Plural, ns, string.Empty);
                foreach (var (_, json) in objects.Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    watcher.Offer(new StoredEvent(0, kind.Plural, ns, "ADDED", json, null));
                }
            }
            else if (long.Parse(from, CultureInfo.InvariantCulture) < compactedBelow - 1)
            {
                expired = true;
            }
            else
            {
                var since = long.Parse(from, CultureInfo.InvariantCulture);
                foreach (var stored in history.Where(e => e.Version > since))
                {
                    watcher.Offer(stored);
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
            return;
        }

        await context.Response.Body.FlushAsync(context.RequestAborted);
        WatchStarted?.Invoke();
        try
        {
            await foreach (var line in watcher.Channel.Reader.ReadAllAsync(context.RequestAborted))
            {
                await context.Response.WriteAsync(line + "\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
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
            lock (store)
            {
                watchers.Remove(watcher);
            }
        }
    }

    private static Dictionary<string, string> Labels(JsonNode node)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node["metadata"]?["labels"] is JsonObject element)
        {
            foreach (var (key, value) in element)
            {
                labels[key] = value?.GetValue<string>() ?? string.Empty;
            }
        }

        return labels;
    }

    private static Task WriteJson(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }

    private static async Task WriteStatus(HttpContext context, HttpStatusCode code, string message, string? reason = null, string? name = null, string? kind = null)
    {
        context.Response.StatusCode = (int)code;
        context.Response.ContentType = "application/json";
        reason ??= code switch
        {
            HttpStatusCode.NotFound => "NotFound",
            HttpStatusCode.Forbidden => "Forbidden",
            HttpStatusCode.Conflict => "Conflict",
            HttpStatusCode.UnprocessableEntity => "Invalid",
            _ => "InternalError",
        };
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            kind = "Status",
            apiVersion = "v1",
            metadata = new { },
            status = "Failure",
            message,
            reason,
            details = new { name, kind },
            code = (int)code,
        }));
    }

    private sealed record ResourceKind(string Plural, string Prefix, string Kind, string ApiVersion, Type Model);

    /// <summary>One change, kept so a watch from an older resourceVersion is replayed without a gap.</summary>
    private sealed record StoredEvent(long Version, string Resource, string? Namespace, string Type, string Json, string? OldJson);

    private sealed record InjectedFailure(string Method, string PathPrefix, HttpStatusCode Status)
    {
        public int Remaining { get; set; }
    }

    private sealed record InjectedDelay(string Method, string PathPrefix, TimeSpan Delay)
    {
        public int Remaining { get; set; }
    }

    private sealed class Watcher(string resource, string? ns, LabelSelector labels, FieldSelector fields)
    {
        public Channel<string> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<string>();

        /// <summary>
        /// Translates a change into what this watch sees: an object that starts matching its selectors is ADDED,
        /// one that stops matching is DELETED, as the API server does for filtered watches.
        /// </summary>
        public void Offer(StoredEvent stored)
        {
            if (stored.Resource != resource || (ns is not null && stored.Namespace != ns))
            {
                return;
            }

            var matchesNow = stored.Type != "DELETED" && Matches(stored.Json, labels, fields);
            var matchedBefore = stored.OldJson is not null && Matches(stored.OldJson, labels, fields);
            var type = (matchedBefore, matchesNow, stored.Type) switch
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
                Channel.Writer.TryWrite($"{{\"type\":\"{type}\",\"object\":{stored.Json}}}");
            }
        }
    }

    private sealed class NamingHandler(string name) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation(ClientHeader, name);
            return base.SendAsync(request, cancellationToken);
        }
    }
}

/// <summary>One request the double received, with its body (Events, patches) for assertions.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string Body)
{
    /// <summary>The <see cref="KubeApiServerDouble.ClientHeader"/> the request carried, if any.</summary>
    public string? Client { get; init; }

    public string? ContentType { get; init; }
}

/// <summary>The equality and existence forms of label selectors (what Gatekeeper sends).</summary>
internal sealed record LabelSelector(IReadOnlyList<(string Key, string? Value, bool Negated)> Requirements)
{
    public static LabelSelector Parse(string text)
    {
        var requirements = new List<(string, string?, bool)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Contains("!=", StringComparison.Ordinal))
            {
                var pieces = part.Split("!=");
                requirements.Add((pieces[0].Trim(), pieces[1].Trim(), true));
            }
            else if (part.Contains('='))
            {
                var pieces = part.Split('=', StringSplitOptions.RemoveEmptyEntries);
                requirements.Add((pieces[0].Trim(), pieces[^1].Trim(), false));
            }
            else if (part.StartsWith('!'))
            {
                requirements.Add((part[1..], null, true));
            }
            else
            {
                requirements.Add((part, null, false));
            }
        }

        return new LabelSelector(requirements);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels) => Requirements.All(r => r switch
    {
        (var key, null, false) => labels.ContainsKey(key),
        (var key, null, true) => !labels.ContainsKey(key),
        (var key, var value, false) => labels.TryGetValue(key, out var actual) && actual == value,
        (var key, var value, true) => !labels.TryGetValue(key, out var actual) || actual != value,
    });
}

/// <summary>Field selectors as <c>a.b=value</c> and <c>a.b!=value</c>; a missing field reads as the empty string.</summary>
internal sealed record FieldSelector(IReadOnlyList<(string[] Path, string Value, bool Negated)> Requirements)
{
    public static FieldSelector Parse(string text)
    {
        var requirements = new List<(string[], string, bool)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var negated = part.Contains("!=", StringComparison.Ordinal);
            var pieces = negated ? part.Split("!=") : part.Split('=', 2);
            requirements.Add((pieces[0].Trim().Split('.'), pieces.Length > 1 ? pieces[1].Trim() : string.Empty, negated));
        }

        return new FieldSelector(requirements);
    }

    public bool Matches(JsonNode node) => Requirements.All(r =>
    {
        JsonNode? current = node;
        foreach (var segment in r.Path)
        {
            current = current?[segment];
        }

        var actual = current is JsonValue value && value.TryGetValue<string>(out var text) ? text : current?.ToJsonString() ?? string.Empty;
        return (actual == r.Value) != r.Negated;
    });
}
