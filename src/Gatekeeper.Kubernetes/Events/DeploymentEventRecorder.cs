using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Events;

/// <summary>Normal or Warning, as <c>kubectl describe</c> shows them.</summary>
public enum EventSeverity
{
    Normal,
    Warning,
}

/// <summary>
/// Records a Kubernetes Event on a Deployment, so <c>kubectl describe deployment</c> tells what Gatekeeper decided
/// and why. Messages are the same person-readable sentences as the admission response, never a secret.
/// </summary>
public sealed class DeploymentEventRecorder(KubernetesApi kubernetes, TimeProvider timeProvider)
{
    /// <summary>The API server refuses Event messages above this length.</summary>
    public const int MaxMessageLength = 1024;

    public const string Component = "gatekeeper-webhook";

    public Task RecordAsync(string @namespace, string deployment, EventSeverity severity, string reason, string message, CancellationToken cancellationToken) =>
        RecordAsync(@namespace, deployment, uid: null, severity, reason, message, cancellationToken);

    /// <param name="uid">The Deployment's uid when it exists already (an UPDATE): <c>kubectl describe</c> selects Events by
    /// uid, so without it an Event on an existing Deployment would not show there. A rejected CREATE has none yet.</param>
    public async Task RecordAsync(string @namespace, string deployment, string? uid, EventSeverity severity, string reason, string message, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var body = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = deployment + ".", NamespaceProperty = @namespace },
            InvolvedObject = new V1ObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = deployment, NamespaceProperty = @namespace, Uid = uid },
            Type = severity.ToString(),
            Reason = reason,
            Message = message.Length > MaxMessageLength ? message[..(MaxMessageLength - 1)] + "…" : message,
            Source = new V1EventSource { Component = Component },
            ReportingComponent = "gatekeeper.dev/webhook",
            ReportingInstance = Environment.MachineName,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        await kubernetes.CreateNamespacedEventAsync(body, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
