using System.Net;
using Gatekeeper.Controller;
using Gatekeeper.Databases;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Webhook.Certificates;
using Gatekeeper.Webhook.Rollouts;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prometheus;

namespace Gatekeeper.Webhook;

/// <summary>
/// Builds the webhook server: Kestrel on HTTPS only with the reloading certificate, the admission endpoints,
/// health, readiness and metrics. The one place where every handler is wired; `gatekeeper serve` and the tests
/// both start it through here.
/// </summary>
public static class WebhookHost
{
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The ASP.NET Core logging category whose being enabled makes the host trace and scope every request.</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// Kestrel's hard body limit: oversized bodies up to this are read and dropped so the client sees the 413;
    /// beyond it the connection is closed.
    /// </summary>
    public static long DrainLimit(WebhookOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Math.Max(options.MaxRequestBodyBytes * 4, 32L * 1024 * 1024);
    }

    /// <param name="settings">Configuration keys (<c>Webhook:Port</c>, …) that override files and environment.</param>
    /// <param name="configureServices">Replacements applied last (tests: the API double's client, a fake clock, a fresh metric registry).</param>
    /// <param name="flags">For <c>gatekeeper serve</c>: the options its flags set, as the user wrote them, so option errors name the flags.</param>
    public static WebApplication Build(IEnumerable<KeyValuePair<string, string?>> settings, Action<IServiceCollection>? configureServices = null, Action<ILoggingBuilder>? configureLogging = null,
        IReadOnlyDictionary<string, string>? flags = null)
    {
        // The slim builder: no hosting startup assemblies, IIS or EventLog; what is left is what the webhook uses.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(ControllerOptions.DownwardApiSettings(Environment.GetEnvironmentVariable));
        builder.Configuration.AddInMemoryCollection(settings);
        // A line per request would be one per pod created in the cluster; Gatekeeper logs its own decisions instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // This category only logs each request's start and end (Information and Debug), but while it is enabled at all the
        // host creates an Activity and a logging scope for every request, which the pod webhook paid for every pod.
        // Unhandled errors are logged by Kestrel's categories, which stay at Warning.
        builder.Logging.AddFilter(HostingDiagnosticsCategory, LogLevel.None);
        configureLogging?.Invoke(builder.Logging);
        builder.Services.AddGatekeeperWebhook(builder.Configuration[OtlpEndpointVariable]);
        if (flags is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>>(new WebhookOptionsValidator(flags)));
        }

        configureServices?.Invoke(builder.Services);

        builder.WebHost.ConfigureKestrel((_, kestrel) =>
        {
            var options = kestrel.ApplicationServices.GetRequiredService<IOptions<WebhookOptions>>().Value;
            // Resolved at the first handshake, not here: WebApplication builds its server while it is built, and `serve`
            // judges its options before it writes a development certificate (it then loads the certificate before it starts).
            var services = kestrel.ApplicationServices;
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = DrainLimit(options);
            kestrel.Listen(IPAddress.Parse(options.ListenAddress), options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(https => https.ServerCertificateSelector = (_, _) => services.GetRequiredService<IServingCertificate>().Current);
            });
        });

        AdmissionMetrics.LeavePerRequestRuntimeMetricsOff();
        var app = builder.Build();
        MapEndpoints(app);
        return app;
    }

    public static IServiceCollection AddGatekeeperWebhook(this IServiceCollection services, string? otlpEndpoint)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(Metrics.DefaultRegistry);
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<WebhookOptions>>().Value;
            var configuration = options.Kubeconfig is null && KubernetesClientConfiguration.IsInCluster()
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
            return new KubernetesApi(configuration);
        });
        services.AddGatekeeperKubernetes();
        // The serving certificate: Gatekeeper's own (kept in a Secret, the chart's default) or files (cert-manager).
        services.AddSingleton<ManagedServingCertificate>();
        services.AddSingleton<ManagedCertificateStore>();
        services.AddSingleton<WebhookCaBundlePatcher>();
        services.AddSingleton<ManagedCertificateRefresher>();
        services.AddHostedService(provider => provider.GetRequiredService<ManagedCertificateRefresher>());
        services.AddSingleton<IServingCertificate>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<WebhookOptions>>().Value;
            return options.ManagesCertificate
                ? provider.GetRequiredService<ManagedServingCertificate>()
                : new ReloadingServingCertificate(
                    options.TlsCertificateFile!, options.TlsKeyFile!, provider.GetRequiredService<TimeProvider>(), options.CertificateCheckInterval,
                    provider.GetRequiredService<ILogger<ReloadingServingCertificate>>());
        });
        services.AddSingleton<AdmissionMetrics>();
        services.AddSingleton<AdmissionEndpoint>();
        services.AddSingleton<ResilientCalls>();
        services.AddSingleton<PodMutation>();
        services.AddSingleton<DatabaseConnectionPools>();
        services.AddSingleton<IPlanningDatabase, EnginePlanningDatabase>();
        services.AddSingleton<PlanCache>();
        services.AddSingleton<DeploymentGates>();
        services.AddSingleton<DeclarativeRolloutPlanner>();
        services.AddSingleton<RolloutPlanner>();
        services.AddSingleton<PlanHandover>();
        services.AddSingleton<PlanReviewer>();
        services.AddSingleton<DeploymentDecisionRecorder>();
        services.AddSingleton<RollbackFinder>();
        services.AddSingleton<DeploymentMutation>();
        services.AddSingleton<DeploymentValidation>();
        services.AddSingleton<ValidateDeploymentsHandler>();
        services.AddHostedService<AppliedPlanWatcherService>();
        services.AddGatekeeperController();

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("gatekeeper"))
            .WithTracing(tracing =>
            {
                // Npgsql's spans come through its instrumentation package; MySqlConnector emits its own through an
                // ActivitySource of that name (statement, database, server; never the password). ASP.NET Core's own
                // request activity is not listened to: it cost every pod request an Activity. AdmissionEndpoint starts
                // the server span instead (continuing the caller's traceparent), for every Deployment request and for a
                // pod request only when its caller's trace is sampled.
                tracing.AddSource(WebhookTracing.SourceName, Kubernetes.Controller.ControllerTracing.SourceName, WebhookTracing.MySqlConnectorSourceName).AddNpgsql();
                // Export only where a collector is configured; otherwise spans cost next to nothing.
                if (!string.IsNullOrWhiteSpace(otlpEndpoint))
                {
                    tracing.AddOtlpExporter();
                }
            });
        return services;
    }

    /// <summary>
    /// Ready once the applied plans are known (the pod webhook never answers blind) and while the controller can run: a
    /// replica whose controller cannot run says why here, and a rollout of such a replica never replaces working ones.
    /// </summary>
    private static IResult Readiness(bool plansKnown, ControllerHealth controller, string? certificateNotReady)
    {
        if (certificateNotReady is not null)
        {
            return Results.Text($"not ready: {certificateNotReady}\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (!plansKnown)
        {
            return Results.Text("not ready: the applied plans of the opted-in Deployments have not been read yet\n", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var blocked = controller.Blocked;
        return blocked.Count == 0
            ? Results.Text("ok\n")
            : Results.Text("not ready: the controller cannot run: " + string.Join("; ", blocked.Select(b => $"{b.Key}: {b.Value}")) + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>The pod webhook's request delegate, its singletons resolved at the first request and then kept.</summary>
    private sealed class PodLane(IServiceProvider services)
    {
        private const string PodPath = "/mutate/pods";

        private AdmissionEndpoint? endpoint;
        private PodMutation? handler;

        public static bool Takes(HttpRequest request) =>
            HttpMethods.IsPost(request.Method) && request.Path.Value is PodPath && request.PathBase.Value is null or "";

        public Task HandleAsync(HttpContext context) =>
            (endpoint ??= services.GetRequiredService<AdmissionEndpoint>()).HandleAsync(context, handler ??= services.GetRequiredService<PodMutation>());
    }

    private static void MapEndpoints(WebApplication app)
    {
        // Plain request delegates over singletons from the root provider: no parameter binding and no request service scope
        // per request (the pod webhook answers every pod created in the cluster). Resolved per request, not here, so that
        // `serve` still judges options and the kubeconfig before anything is built.
        var services = app.Services;
        var pods = new PodLane(services);
        // POST /mutate/pods, which every pod created in the cluster pays, is answered before endpoint routing: matching it
        // among the routes (and the endpoint middleware) was about 1.5 % of its CPU. Any other spelling of the path (case,
        // a trailing slash) and any other method go on to routing, where the same route is mapped.
        app.Use(next => context => PodLane.Takes(context.Request) ? pods.HandleAsync(context) : next(context));
        app.UseRouting();
        app.MapPost("/mutate/deployments", context => services.GetRequiredService<AdmissionEndpoint>().HandleAsync(context, services.GetRequiredService<DeploymentMutation>()));
        app.MapPost("/validate/deployments", context => services.GetRequiredService<AdmissionEndpoint>().HandleAsync(context, services.GetRequiredService<ValidateDeploymentsHandler>()));
        app.MapPost("/mutate/pods", pods.HandleAsync);
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", ([FromServices] AppliedPlans plans, [FromServices] ControllerHealth controller, [FromServices] ManagedServingCertificate managed, [FromServices] IOptions<WebhookOptions> options) =>
            Readiness(plans.IsWarm || !options.Value.WatchDeployments, controller, options.Value.ManagesCertificate ? managed.NotReadyReason : null));
        app.MapMetrics("/metrics", app.Services.GetRequiredService<CollectorRegistry>());
    }
}
