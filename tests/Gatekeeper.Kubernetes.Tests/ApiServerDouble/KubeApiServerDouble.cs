using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
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
/// An in-process double of the Kubernetes API server on a loopback Kestrel port: it serves the verbs Gatekeeper
/// uses (get and list ConfigMaps, get Secrets, list and watch Jobs, create Events) from objects the test puts
/// in, records every request, and can be told to fail. KubernetesClient talks to it over real HTTP, so the
/// client's URL building, serialization and watch parsing are exercised as in a cluster.
/// </summary>
public sealed class KubeApiServerDouble : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, string> objects = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly ConcurrentDictionary<string, HttpStatusCode> failures = new(StringComparer.Ordinal);
    private readonly List<Channel<string>> watchers = [];
    private readonly Lock watchLock = new();
    private long resourceVersion = 100;

    private KubeApiServerDouble(WebApplication app)
    {
        this.app = app;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyCollection<RecordedRequest> Requests => requests.ToArray();

    /// <summary>Raised when a watch connection has been accepted (tests wait for it instead of sleeping).</summary>
    public event Action? WatchStarted;

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

    public void Put(V1ConfigMap configMap) => PutObject("configmaps", configMap.Metadata.NamespaceProperty, configMap.Metadata.Name, configMap);

    public void Put(V1Secret secret) => PutObject("secrets", secret.Metadata.NamespaceProperty, secret.Metadata.Name, secret);

    /// <summary>Stores a Job and tells every open watch about it (ADDED or MODIFIED).</summary>
    public void Put(V1Job job)
    {
        var existed = objects.ContainsKey(Key("jobs", job.Metadata.NamespaceProperty, job.Metadata.Name));
        var json = PutObject("jobs", job.Metadata.NamespaceProperty, job.Metadata.Name, job);
        Broadcast($"{{\"type\":\"{(existed ? "MODIFIED" : "ADDED")}\",\"object\":{json}}}");
    }

    /// <summary>Makes every request whose path starts with <paramref name="pathPrefix"/> answer <paramref name="status"/>.</summary>
    public void Fail(string pathPrefix, HttpStatusCode status) => failures[pathPrefix] = status;

    public void Heal(string pathPrefix) => failures.TryRemove(pathPrefix, out _);

    /// <summary>Ends every open watch stream, as the API server does when a watch times out.</summary>
    public void EndWatches()
    {
        lock (watchLock)
        {
            foreach (var watcher in watchers)
            {
                watcher.Writer.TryComplete();
            }

            watchers.Clear();
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

    private string PutObject<T>(string resource, string ns, string name, T value)
    {
        var json = KubernetesJson.Serialize(value);
        // Stamp a resourceVersion the way the API server does, so clients can start watches from it.
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        node["metadata"]!["resourceVersion"] = Interlocked.Increment(ref resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var stamped = node.ToJsonString();
        objects[Key(resource, ns, name)] = stamped;
        return stamped;
    }

    private static string Key(string resource, string ns, string name) => $"{resource}/{ns}/{name}";

    private void Broadcast(string line)
    {
        lock (watchLock)
        {
            foreach (var watcher in watchers)
            {
                watcher.Writer.TryWrite(line);
            }
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

            requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? string.Empty, context.Request.QueryString.Value ?? string.Empty, body));
            foreach (var (prefix, status) in failures)
            {
                if ((context.Request.Path.Value ?? string.Empty).StartsWith(prefix, StringComparison.Ordinal))
                {
                    await WriteStatus(context, status, "injected failure");
                    return;
                }
            }

            await next(context);
        });

        app.MapGet("/api/v1/namespaces/{ns}/configmaps/{name}", (HttpContext c, string ns, string name) => Get(c, "configmaps", ns, name));
        app.MapGet("/api/v1/namespaces/{ns}/configmaps", (HttpContext c, string ns) => List(c, "configmaps", ns, "ConfigMapList"));
        app.MapGet("/api/v1/namespaces/{ns}/secrets/{name}", (HttpContext c, string ns, string name) => Get(c, "secrets", ns, name));
        app.MapGet("/apis/batch/v1/jobs", (HttpContext c) =>
            c.Request.Query["watch"] == "true" ? Watch(c) : List(c, "jobs", null, "JobList"));
        app.MapPost("/api/v1/namespaces/{ns}/events", async (HttpContext c, string ns) =>
        {
            var body = requests.Last(r => r.Method == "POST" && r.Path == c.Request.Path.Value).Body;
            c.Response.StatusCode = 201;
            c.Response.ContentType = "application/json";
            await c.Response.WriteAsync(body);
        });
        app.MapFallback(c => WriteStatus(c, HttpStatusCode.NotFound, $"the double does not serve {c.Request.Method} {c.Request.Path}"));
    }

    private async Task Get(HttpContext context, string resource, string ns, string name)
    {
        if (!objects.TryGetValue(Key(resource, ns, name), out var json))
        {
            await WriteStatus(context, HttpStatusCode.NotFound, $"{resource} \"{name}\" not found");
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json);
    }

    private async Task List(HttpContext context, string resource, string? ns, string listKind)
    {
        var selector = LabelSelector.Parse(context.Request.Query["labelSelector"].ToString());
        var prefix = ns is null ? $"{resource}/" : $"{resource}/{ns}/";
        var items = objects.Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => pair.Value)
            .Where(json => selector.Matches(Labels(json)))
            .ToList();
        var version = Interlocked.Read(ref resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            $"{{\"apiVersion\":\"v1\",\"kind\":\"{listKind}\",\"metadata\":{{\"resourceVersion\":\"{version}\"}},\"items\":[{string.Join(",", items)}]}}");
    }

    private async Task Watch(HttpContext context)
    {
        var selector = LabelSelector.Parse(context.Request.Query["labelSelector"].ToString());
        var channel = Channel.CreateUnbounded<string>();
        lock (watchLock)
        {
            watchers.Add(channel);
        }

        context.Response.ContentType = "application/json";
        await context.Response.StartAsync(context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        WatchStarted?.Invoke();
        try
        {
            await foreach (var line in channel.Reader.ReadAllAsync(context.RequestAborted))
            {
                using var document = JsonDocument.Parse(line);
                if (!selector.Matches(Labels(document.RootElement.GetProperty("object").GetRawText())))
                {
                    continue;
                }

                await context.Response.WriteAsync(line + "\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        finally
        {
            lock (watchLock)
            {
                watchers.Remove(channel);
            }
        }
    }

    private static Dictionary<string, string> Labels(string json)
    {
        using var document = JsonDocument.Parse(json);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (document.RootElement.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("labels", out var element)
            && element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                labels[property.Name] = property.Value.GetString() ?? string.Empty;
            }
        }

        return labels;
    }

    private static async Task WriteStatus(HttpContext context, HttpStatusCode code, string message)
    {
        context.Response.StatusCode = (int)code;
        context.Response.ContentType = "application/json";
        var reason = code switch
        {
            HttpStatusCode.NotFound => "NotFound",
            HttpStatusCode.Forbidden => "Forbidden",
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
            code = (int)code,
        }));
    }
}

/// <summary>One request the double received, with its body (Events, patches) for assertions.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string Body);

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
