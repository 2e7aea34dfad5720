using System.Diagnostics;
using Gatekeeper.Kubernetes.Controller;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gatekeeper.Cli;

/// <summary>
/// The migration Job's span: when the controller passed its reconcile span's context (<c>TRACEPARENT</c>) and an
/// exporter endpoint (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>), the run and its database calls are exported as children of
/// that span, so one apply is one trace. Without both, nothing is recorded and nothing is sent.
/// </summary>
internal sealed class RunnerTracing : IDisposable
{
    public const string SourceName = "Gatekeeper.Runner";

    private static readonly ActivitySource Source = new(SourceName);

    private readonly TracerProvider? provider;
    private readonly Activity? activity;

    private RunnerTracing(TracerProvider? provider, Activity? activity)
    {
        this.provider = provider;
        this.activity = activity;
    }

    /// <summary>Starts the run's span, a child of the <c>TRACEPARENT</c> the Job was given.</summary>
    public static RunnerTracing Start(string command)
    {
        var traceParent = Environment.GetEnvironmentVariable(ControllerTracing.TraceParentVariable);
        var endpoint = Environment.GetEnvironmentVariable(Webhook.WebhookHost.OtlpEndpointVariable);
        if (string.IsNullOrWhiteSpace(traceParent) || string.IsNullOrWhiteSpace(endpoint)
            || !ActivityContext.TryParse(traceParent, null, out var parent))
        {
            return new RunnerTracing(null, null);
        }

        var provider = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(resource => resource.AddService("gatekeeper-runner"))
            .AddSource(SourceName, Webhook.WebhookTracing.MySqlConnectorSourceName)
            .AddNpgsql()
            .AddOtlpExporter()
            .Build();
        var activity = Source.StartActivity(command, ActivityKind.Internal, parent);
        return new RunnerTracing(provider, activity);
    }

    public void Dispose()
    {
        activity?.Dispose();
        // Flushes the spans before the short-lived process exits.
        provider?.Dispose();
    }
}
