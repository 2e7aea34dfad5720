using System.Diagnostics;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// The controller's spans: one per reconcile of a Deployment, whose context the migration Job receives in its
/// <c>TRACEPARENT</c> variable, so the Job's run (and its database calls) join the same trace. Span attributes carry
/// names and hashes, never URLs or credentials.
/// </summary>
public static class ControllerTracing
{
    public const string SourceName = "Gatekeeper.Controller";

    /// <summary>The W3C trace context variable the Job's runner reads (the OpenTelemetry convention for processes).</summary>
    public const string TraceParentVariable = "TRACEPARENT";

    public static ActivitySource Source { get; } = new(SourceName);

    /// <summary>The current span's W3C <c>traceparent</c>, or null when no span is recorded (tracing off).</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C, Recorded: true } current ? current.Id : null;
}
