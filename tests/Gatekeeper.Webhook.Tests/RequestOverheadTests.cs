using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gatekeeper.Tests.ApiServerDouble;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// What the server does around each request besides answering it (issue 13: the pod webhook's CPU per request): no span
/// per pod unless the caller's trace is sampled, no request Activity or logging scope from the host, no per-request
/// runtime meters; while Deployment requests keep their server span and server errors are still logged.
/// </summary>
public sealed class RequestOverheadTests : IAsyncLifetime
{
    private KubeApiServerDouble api = null!;
    private TestWebhook webhook = null!;

    public async Task InitializeAsync()
    {
        api = await KubeApiServerDouble.StartAsync();
        webhook = await TestWebhook.StartAsync(api, configureServices: services => services.AddSingleton<ILoggerProvider, CountingLoggerProvider>());
    }

    public async Task DisposeAsync()
    {
        await webhook.DisposeAsync();
        await api.DisposeAsync();
    }

    private async Task PostPodAsync(string? traceParent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mutate/pods")
        {
            Content = new StringContent(AdmissionReviewBodies.Review("CREATE", AdmissionReviewBodies.Pod("team-a", "shop", null))),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (traceParent is not null)
        {
            request.Headers.Add("traceparent", traceParent);
        }

        using var response = await webhook.Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_pod_request_gets_a_server_span_only_when_its_callers_trace_is_sampled()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == WebhookTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                {
                    stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var sampled = ActivityTraceId.CreateRandom();
        var unsampled = ActivityTraceId.CreateRandom();

        await PostPodAsync(null);
        await PostPodAsync($"00-{unsampled}-{ActivitySpanId.CreateRandom()}-00");
        await PostPodAsync($"00-{sampled}-{ActivitySpanId.CreateRandom()}-01");

        // The span ends before the answer leaves (Kestrel flushes it when the request delegate has returned).
        List<Activity> pods;
        lock (stopped)
        {
            // Other tests run beside this one; none of them sends a traceparent, so every pod span here is one of these.
            pods = [.. stopped.Where(a => (a.GetTagItem("gatekeeper.webhook") as string) == "mutate-pods")];
        }

        var span = Assert.Single(pods);
        Assert.Equal(sampled, span.TraceId);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal("POST /mutate/pods", span.OperationName);
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
    }

    // The pod webhook answers at once when the whole body came with the headers; a body still arriving, or sent without a
    // length, takes the path that waits for it, with the same answer.
    [Fact]
    public async Task A_pod_body_that_arrives_in_pieces_or_without_a_length_is_answered_as_the_same_body_sent_whole()
    {
        var pod = Encoding.UTF8.GetBytes(AdmissionReviewBodies.Review("CREATE",
            AdmissionReviewBodies.Pod("team-a", "shop", new Dictionary<string, string> { ["gatekeeper.dev/plan"] = "p1" }), uid: "0b6f6d0e-1111-4222-8333-444455556666"));
        var notJson = Encoding.UTF8.GetBytes("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",}}");

        foreach (var (body, status) in new[] { (pod, HttpStatusCode.OK), (notJson, HttpStatusCode.BadRequest) })
        {
            var whole = await PostPodBodyAsync(new ByteArrayContent(body), status);
            Assert.Equal(whole, await PostPodBodyAsync(new PausingContent(body, knownLength: true), status));
            Assert.Equal(whole, await PostPodBodyAsync(new PausingContent(body, knownLength: false), status));
        }
    }

    // POST /mutate/pods is answered before endpoint routing; the path spelled otherwise still reaches the same route there,
    // and other methods still get routing's 405.
    [Fact]
    public async Task The_pod_webhook_answers_its_path_however_it_is_spelled_and_other_methods_get_405()
    {
        var pod = Encoding.UTF8.GetBytes(AdmissionReviewBodies.Review("CREATE",
            AdmissionReviewBodies.Pod("team-a", "shop", new Dictionary<string, string> { ["gatekeeper.dev/plan"] = "p1" }), uid: "0b6f6d0e-1111-4222-8333-444455556666"));

        var answer = await PostPodBodyAsync(new ByteArrayContent(pod), HttpStatusCode.OK);
        Assert.Contains("0b6f6d0e-1111-4222-8333-444455556666", answer, StringComparison.Ordinal);
        foreach (var path in new[] { "/mutate/pods/", "/Mutate/Pods" })
        {
            Assert.Equal(answer, await PostPodBodyAsync(new ByteArrayContent(pod), HttpStatusCode.OK, path));
        }

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Put })
        {
            using var request = new HttpRequestMessage(method, "/mutate/pods") { Content = new ByteArrayContent(pod) };
            using var response = await webhook.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        }
    }

    private async Task<string> PostPodBodyAsync(HttpContent content, HttpStatusCode expected, string path = "/mutate/pods")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await webhook.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {text}");
        return text;
    }

    /// <summary>Sends half the body, waits, then the rest; without a known length the body goes chunked.</summary>
    private sealed class PausingContent(byte[] body, bool knownLength) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(body.AsMemory(0, body.Length / 2));
            await stream.FlushAsync();
            await Task.Delay(50);
            await stream.WriteAsync(body.AsMemory(body.Length / 2));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return knownLength;
        }
    }

    [Fact]
    public void The_host_neither_traces_nor_scopes_each_request_for_its_log_but_server_errors_are_still_logged()
    {
        var factory = webhook.Services.GetRequiredService<ILoggerFactory>();

        // While this category is enabled at any level, ASP.NET Core creates an Activity and a logging scope per request.
        Assert.False(factory.CreateLogger(WebhookHost.HostingDiagnosticsCategory).IsEnabled(LogLevel.Critical));
        Assert.True(factory.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").IsEnabled(LogLevel.Warning));
        Assert.True(factory.CreateLogger("Gatekeeper.Webhook.AdmissionEndpoint").IsEnabled(LogLevel.Warning));
        Assert.True(webhook.Services.GetServices<ILoggerProvider>().OfType<CountingLoggerProvider>().Single().Created > 0, "the test's log provider was not used");
    }

    [Fact]
    public void Per_request_runtime_meters_are_not_exported_and_connection_and_client_meters_are()
    {
        using var hosting = new Meter("Microsoft.AspNetCore.Hosting");
        using var routing = new Meter("Microsoft.AspNetCore.Routing");
        using var pool = new Meter("Microsoft.AspNetCore.MemoryPool");
        using var kestrel = new Meter("Microsoft.AspNetCore.Server.Kestrel");
        using var client = new Meter("System.Net.Http");

        Assert.False(AdmissionMetrics.IsExportedMeterInstrument(hosting.CreateHistogram<double>("http.server.request.duration")));
        Assert.False(AdmissionMetrics.IsExportedMeterInstrument(routing.CreateCounter<long>("aspnetcore.routing.match_attempts")));
        Assert.False(AdmissionMetrics.IsExportedMeterInstrument(pool.CreateUpDownCounter<long>("aspnetcore.memory_pool.pooled")));
        Assert.False(AdmissionMetrics.IsExportedMeterInstrument(kestrel.CreateUpDownCounter<long>("kestrel.queued_requests")));
        Assert.True(AdmissionMetrics.IsExportedMeterInstrument(kestrel.CreateUpDownCounter<long>("kestrel.active_connections")));
        Assert.True(AdmissionMetrics.IsExportedMeterInstrument(client.CreateHistogram<double>("http.client.request.duration")));
        Assert.True(AdmissionMetrics.IsExportedEventSource("System.Runtime"));
        Assert.False(AdmissionMetrics.IsExportedEventSource("Microsoft.AspNetCore.Hosting"));
    }

    private sealed class CountingLoggerProvider : ILoggerProvider
    {
        private int created;

        public int Created => created;

        public ILogger CreateLogger(string categoryName)
        {
            Interlocked.Increment(ref created);
            return new NothingLogger();
        }

        public void Dispose()
        {
        }

        private sealed class NothingLogger : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
            }
        }
    }
}
