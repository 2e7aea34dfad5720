using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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
/// ConfigMaps, Secrets, pods, Events, Deployments, ReplicaSets, Jobs, Leases and (cluster-scoped) webhook configurations from objects the test puts in;
/// it answers like the real one where Gatekeeper depends on it: 409 AlreadyExists on a second create, 409
/// Conflict on a stale resourceVersion, 422 when a patch's <c>test</c> fails, 410 Expired for a watch from a
/// compacted resourceVersion, watches replayed from a resourceVersion without gaps. It records every request
/// (with the <c>X-Test-Client</c> header, so tests tell two clients apart) and can be told to fail.
/// KubernetesClient talks to it over real HTTP, so the client's URL building, serialization and watch parsing are
/// exercised as in a cluster. The parts: <see cref="ObjectStore"/> (objects, resourceVersions, history),
/// <see cref="WatchHub"/> (watch streams and their events), <see cref="FaultInjector"/> (what it gets wrong on purpose).
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
        new("mutatingwebhookconfigurations", "/apis/admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1", typeof(V1MutatingWebhookConfiguration)) { Namespaced = false },
        new("validatingwebhookconfigurations", "/apis/admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1", typeof(V1ValidatingWebhookConfiguration)) { Namespaced = false },
    ];

    private readonly WebApplication app;
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private long generatedNames;
    private long arrivals;

    private KubeApiServerDouble(WebApplication app)
    {
        this.app = app;
        Watches = new WatchHub(Store);
        Store.Changed += change => Changed?.Invoke(change);
    }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Objects, resourceVersions and the change history.</summary>
    public ObjectStore Store { get; } = new();

    /// <summary>The open watch streams and their events.</summary>
    public WatchHub Watches { get; }

    /// <summary>What the double gets wrong on purpose.</summary>
    public FaultInjector Faults { get; } = new();

    public IReadOnlyCollection<RecordedRequest> Requests => requests.ToArray();

    /// <summary>Raised when a watch connection has been accepted (tests wait for it instead of sleeping).</summary>
    public event Action? WatchStarted
    {
        add => Watches.Started += value;
        remove => Watches.Started -= value;
    }

    /// <summary>Raised after every request has been answered (method, path, status), for tests that wait on a write.</summary>
    public event Action<RecordedRequest, int>? Answered;

    /// <summary>Raised for every stored change (under the store's lock: keep handlers short and never call back into the double).</summary>
    public event Action<StoredChange>? Changed;

    /// <summary>The clock that stamps creationTimestamp; tests that inject time into Gatekeeper set the same one here.</summary>
    public TimeProvider Clock
    {
        get => Store.Clock;
        set => Store.Clock = value;
    }

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

    /// <summary>Gatekeeper's own API client (what the product runs) pointed at this double.</summary>
    public Gatekeeper.Kubernetes.KubernetesApi CreateApi() => new(new KubernetesClientConfiguration { Host = BaseAddress.ToString() });

    /// <summary>Gatekeeper's own API client whose requests the double records under <paramref name="name"/>.</summary>
    public Gatekeeper.Kubernetes.KubernetesApi CreateApi(string name) =>
        new(new KubernetesClientConfiguration { Host = BaseAddress.ToString() }, new NamingHandler(name));

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
        var node = ToNode(kind, value);
        lock (Store.Gate)
        {
            var key = ObjectStore.Key(kind.Plural, value.Metadata.NamespaceProperty, value.Metadata.Name);
            var old = Store.Read(key);
            Store.Fill(node, old);
            return KubernetesJson.Deserialize<T>(Store.Write(kind.Plural, key, old, node));
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
        var node = ToNode(kind, value);
        lock (Store.Gate)
        {
            var key = ObjectStore.Key(kind.Plural, value.Metadata.NamespaceProperty, value.Metadata.Name);
            Store.Fill(node, Store.Read(key));
            Store.WriteUnannounced(key, node);
        }
    }

    public T? Get<T>(string ns, string name)
        where T : IKubernetesObject<V1ObjectMeta> =>
        Store.Read(ObjectStore.Key(KindOf(typeof(T)).Plural, ns, name)) is { } json ? KubernetesJson.Deserialize<T>(json) : default;

    public IReadOnlyList<T> List<T>(string? ns = null)
        where T : IKubernetesObject<V1ObjectMeta> =>
        Store.ReadAll(ObjectStore.Prefix(KindOf(typeof(T)).Plural, ns)).Select(json => KubernetesJson.Deserialize<T>(json)).ToList();

    /// <summary>Deletes a stored object (DELETED to every matching watch); false when there was none.</summary>
    public bool Delete<T>(string ns, string name)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var kind = KindOf(typeof(T));
        return Store.Remove(kind.Plural, ObjectStore.Key(kind.Plural, ns, name)) is not null;
    }

    /// <summary>Makes every request whose path starts with <paramref name="pathPrefix"/> answer <paramref name="status"/>.</summary>
    public void Fail(string pathPrefix, HttpStatusCode status) => Faults.Fail(pathPrefix, status);

    public void Heal(string pathPrefix) => Faults.Heal(pathPrefix);

    /// <summary>Makes the next <paramref name="times"/> requests with this method and path prefix answer <paramref name="status"/>.</summary>
    public void FailNext(string method, string pathPrefix, HttpStatusCode status, int times = 1) => Faults.FailNext(method, pathPrefix, status, times);

    /// <summary>
    /// Makes the next <paramref name="times"/> requests with this method and path prefix take effect but answer
    /// <paramref name="status"/>, as when the API server stored a write and its answer was lost (a 504 after the
    /// commit, a connection cut on the way back): the client cannot tell that the write happened.
    /// </summary>
    public void LoseAnswerNext(string method, string pathPrefix, HttpStatusCode status, int times = 1) => Faults.LoseAnswerNext(method, pathPrefix, status, times);

    /// <summary>
    /// Makes the next <paramref name="times"/> requests with this method and path prefix wait <paramref name="delay"/>
    /// on <see cref="Clock"/> before they are handled (recorded at once, so a test can wait for one to arrive). With a
    /// fake clock the test decides when a slow answer comes, by advancing it; no test sleeps through the delay.
    /// </summary>
    public void Slow(string method, string pathPrefix, TimeSpan delay, int times = int.MaxValue) => Faults.Slow(method, pathPrefix, delay, times);

    /// <inheritdoc cref="FaultInjector.BeforeNext"/>
    public void BeforeNext(string method, string pathPrefix, Action change) => Faults.BeforeNext(method, pathPrefix, change);

    /// <inheritdoc cref="FaultInjector.AnswerLateNext"/>
    public void AnswerLateNext(string method, string pathPrefix, TimeSpan delay, int times = 1) => Faults.AnswerLateNext(method, pathPrefix, delay, times);

    /// <summary>Ends every open watch stream, as the API server does when a watch times out.</summary>
    public void EndWatches() => Watches.EndAll();

    /// <summary>Forgets the event history, so a watch from any earlier resourceVersion gets 410 Expired (etcd compaction).</summary>
    public void CompactHistory() => Store.Compact();

    public IReadOnlyList<RecordedRequest> RequestsTo(string method, string pathPrefix) =>
        Requests.Where(r => r.Method == method && r.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList();

    /// <summary>
    /// Completes once <paramref name="condition"/> holds, checking it now and again after every stored change and every
    /// answered request (no polling, no sleep); fails with <paramref name="what"/> after <paramref name="patience"/>
    /// (<see cref="Patience.Default"/> when not given) of wall-clock time, which only a broken test reaches.
    /// </summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? patience = null)
    {
        var signal = new SemaphoreSlim(0);
        void Wake() => signal.Release();
        Action<StoredChange> onChange = _ => Wake();
        Action<RecordedRequest, int> onAnswer = (_, _) => Wake();
        Changed += onChange;
        Answered += onAnswer;
        try
        {
            using var timeout = new CancellationTokenSource(patience ?? Patience.Default);
            while (!condition())
            {
                try
                {
                    await signal.WaitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    if (condition())
                    {
                        return;
                    }

                    throw new TimeoutException($"timed out waiting until {what}");
                }
            }
        }
        finally
        {
            Changed -= onChange;
            Answered -= onAnswer;
        }
    }

    public async ValueTask DisposeAsync()
    {
        EndWatches();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private static ResourceKind KindOf(Type type) =>
        Kinds.FirstOrDefault(k => k.Model == type) ?? throw new NotSupportedException($"the double does not serve {type.Name}");

    private static JsonObject ToNode<T>(ResourceKind kind, T value)
    {
        var node = JsonNode.Parse(KubernetesJson.Serialize(value))!.AsObject();
        node["apiVersion"] = kind.ApiVersion;
        node["kind"] = kind.Kind;
        return node;
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
                Sequence = Interlocked.Increment(ref arrivals) - 1,
            };
            // An injected delay starts on the clock before the request is counted: a test that sees the request and then
            // advances the clock must find the delay's timer there (after it, the request waited for the client's own
            // 100 s timeout in real time: CI run 20).
            var delayed = Faults.DelayFor(context.Request.Method, path) is { } delay ? Task.Delay(delay, Clock, context.RequestAborted) : null;
            requests.Enqueue(recorded);
            OutputCapture.Record(OutputCapture.ApiRequests, "api server double", $"{recorded.Method} {path}{recorded.Query} [{recorded.Client}]\n{body}");
            context.Items[typeof(RecordedRequest)] = recorded;
            try
            {
                if (delayed is not null)
                {
                    try
                    {
                        await delayed;
                    }
                    catch (OperationCanceledException)
                    {
                        // The client gave up waiting; nothing is handled.
                        return;
                    }
                }

                Faults.ChangeBefore(context.Request.Method, path)?.Invoke();
                if (Faults.FailureFor(context.Request.Method, path) is { } injected)
                {
                    await WriteStatus(context, injected, "injected failure");
                    return;
                }

                if (Faults.LateAnswerFor(context.Request.Method, path) is { } late)
                {
                    // Handle the request for real (its watch events go out now), then hold the answer back. The hold starts on
                    // the clock first, so a test that advances the clock once it sees those events cannot pass it unstarted.
                    var answerAt = Task.Delay(late, Clock, context.RequestAborted);
                    var answer = context.Response.Body;
                    using var held = new MemoryStream();
                    context.Response.Body = held;
                    await next(context);
                    context.Response.Body = answer;
                    try
                    {
                        await answerAt;
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    held.Position = 0;
                    await held.CopyToAsync(answer, context.RequestAborted);
                    return;
                }

                if (Faults.LostAnswerFor(context.Request.Method, path) is { } lost)
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

        foreach (var kind in Kinds.Where(k => !k.Namespaced))
        {
            // Cluster-scoped objects are stored under the empty namespace.
            var collection = kind.Prefix + "/" + kind.Plural;
            app.MapGet(collection, (HttpContext c) => ListOrWatch(c, kind, null));
            app.MapPost(collection, (HttpContext c) => Create(c, kind, string.Empty));
            app.MapGet(collection + "/{name}", (HttpContext c, string name) => Read(c, kind, string.Empty, name));
            app.MapPut(collection + "/{name}", (HttpContext c, string name) => Replace(c, kind, string.Empty, name));
            app.MapPatch(collection + "/{name}", (HttpContext c, string name) => Patch(c, kind, string.Empty, name, statusOnly: false));
            app.MapDelete(collection + "/{name}", (HttpContext c, string name) => DeleteOne(c, kind, string.Empty, name));
        }

        foreach (var kind in Kinds.Where(k => k.Namespaced))
        {
            var collection = kind.Prefix + "/namespaces/{ns}/" + kind.Plural;
            app.MapGet(kind.Prefix + "/" + kind.Plural, (HttpContext c) => ListOrWatch(c, kind, null));
            app.MapGet(collection, (HttpContext c, string ns) => ListOrWatch(c, kind, ns));
            app.MapPost(collection, (HttpContext c, string ns) => Create(c, kind, ns));
            app.MapGet(collection + "/{name}", (HttpContext c, string ns, string name) => Read(c, kind, ns, name));
            app.MapPut(collection + "/{name}", (HttpContext c, string ns, string name) => Replace(c, kind, ns, name));
            app.MapPatch(collection + "/{name}", (HttpContext c, string ns, string name) => Patch(c, kind, ns, name, statusOnly: false));
            app.MapGet(collection + "/{name}/status", (HttpContext c, string ns, string name) => Read(c, kind, ns, name));
            app.MapPatch(collection + "/{name}/status", (HttpContext c, string ns, string name) => Patch(c, kind, ns, name, statusOnly: true));
            app.MapDelete(collection + "/{name}", (HttpContext c, string ns, string name) => DeleteOne(c, kind, ns, name));
        }

        app.MapFallback(c => WriteStatus(c, HttpStatusCode.NotFound, $"the double does not serve {c.Request.Method} {c.Request.Path}"));
    }

    private static RecordedRequest Recorded(HttpContext context) => (RecordedRequest)context.Items[typeof(RecordedRequest)]!;

    private static string Body(HttpContext context) => Recorded(context).Body;

    private async Task Read(HttpContext context, ResourceKind kind, string ns, string name)
    {
        if (Store.Read(ObjectStore.Key(kind.Plural, ns, name)) is not { } json)
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
        if (kind.Namespaced)
        {
            metadata["namespace"] = ns;
        }
        else
        {
            metadata.Remove("namespace");
        }

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
        string? json = null;
        lock (Store.Gate)
        {
            var key = ObjectStore.Key(kind.Plural, ns, name);
            if (Store.Read(key) is null)
            {
                Store.Fill(node, null);
                json = Store.Write(kind.Plural, key, null, node);
            }
        }

        if (json is null)
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
        lock (Store.Gate)
        {
            var key = ObjectStore.Key(kind.Plural, ns, name);
            if (Store.Read(key) is not { } old)
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
                Store.Fill(node, old);
                json = Store.Write(kind.Plural, key, old, node);
            }
        }

        await Answer(context, kind, name, json, problem);
    }

    /// <param name="statusOnly">The status subresource: only <c>.status</c> of the result is kept. The main resource
    /// keeps the stored status whatever the patch says, as the API server does for kinds with a status subresource.</param>
    private async Task Patch(HttpContext context, ResourceKind kind, string ns, string name, bool statusOnly)
    {
        var body = Body(context);
        var isJsonPatch = context.Request.ContentType?.StartsWith("application/json-patch+json", StringComparison.Ordinal) == true;
        string? json = null;
        string? problem = null;
        string? detail = null;
        lock (Store.Gate)
        {
            var key = ObjectStore.Key(kind.Plural, ns, name);
            if (Store.Read(key) is not { } old)
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
                        : Patches.Merge(JsonNode.Parse(old)!.AsObject(), JsonNode.Parse(body)!.AsObject());
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
                        var stored = JsonNode.Parse(old)!.AsObject();
                        if (statusOnly)
                        {
                            stored["status"] = patched["status"]?.DeepClone();
                            patched = stored;
                        }
                        else if (stored["status"] is { } storedStatus)
                        {
                            patched["status"] = storedStatus.DeepClone();
                        }
                        else
                        {
                            patched.Remove("status");
                        }

                        Store.Fill(patched, old);
                        json = Store.Write(kind.Plural, key, old, patched);
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
        lock (Store.Gate)
        {
            var key = ObjectStore.Key(kind.Plural, ns, name);
            if (Store.Read(key) is not { } old)
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
                    Store.Remove(kind.Plural, key);
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

    private async Task ListOrWatch(HttpContext context, ResourceKind kind, string? ns)
    {
        var labels = LabelSelector.Parse(context.Request.Query["labelSelector"].ToString());
        var fields = FieldSelector.Parse(context.Request.Query["fieldSelector"].ToString());
        if (context.Request.Query["watch"] == "true")
        {
            await Watches.ServeAsync(context, kind, ns, labels, fields, Recorded(context).Client);
            return;
        }

        List<string> items;
        long version;
        lock (Store.Gate)
        {
            items = Store.ReadAll(ObjectStore.Prefix(kind.Plural, ns)).Where(json => Selectors.Matches(json, labels, fields)).ToList();
            version = Store.Version;
        }

        await WriteJson(context, 200,
            $"{{\"apiVersion\":\"{kind.ApiVersion}\",\"kind\":\"{kind.Kind}List\",\"metadata\":{{\"resourceVersion\":\"{version.ToString(CultureInfo.InvariantCulture)}\"}},\"items\":[{string.Join(",", items)}]}}");
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

    private sealed class NamingHandler(string name) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation(ClientHeader, name);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
