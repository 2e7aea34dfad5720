using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// Tells people what the controller concluded: the <c>gatekeeper.dev/status</c> annotation on the Deployment and
/// Events that <c>kubectl describe deployment</c> lists (they carry the Deployment's uid, which describe matches on).
/// </summary>
public sealed class DeploymentReporter(IKubernetes kubernetes, TimeProvider timeProvider)
{
    public const string Component = "gatekeeper-controller";

    /// <summary>The API server refuses Event messages above this length.</summary>
    public const int MaxEventMessageLength = 1024;

    /// <summary>Writes the status with a merge patch of that one annotation; returns the Deployment as stored, or null when it is gone.</summary>
    public async Task<V1Deployment?> WriteStatusAsync(string @namespace, string deployment, DeploymentStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["metadata"] = new Dictionary<string, object> { ["annotations"] = new Dictionary<string, string> { [GatekeeperNames.Status] = status.Format() } },
        });
        try
        {
            return await kubernetes.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(body, V1Patch.PatchType.MergePatch), deployment, @namespace, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task RecordAsync(DeploymentFacts deployment, ControllerEvent @event, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(@event);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        var message = @event.Message.Length > MaxEventMessageLength ? @event.Message[..(MaxEventMessageLength - 1)] + "…" : @event.Message;
        var body = new Corev1Event
        {
            Metadata = new V1ObjectMeta { GenerateName = deployment.Name + ".", NamespaceProperty = deployment.Namespace },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = "apps/v1",
                Kind = "Deployment",
                Name = deployment.Name,
                NamespaceProperty = deployment.Namespace,
                Uid = deployment.Uid.Length > 0 ? deployment.Uid : null,
            },
            Type = @event.Severity.ToString(),
            Reason = @event.Reason,
            Message = message,
            Source = new V1EventSource { Component = Component },
            ReportingComponent = "gatekeeper.dev/controller",
            ReportingInstance = Environment.MachineName,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        await kubernetes.CoreV1.CreateNamespacedEventAsync(body, deployment.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
