using System.Buffers;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>How a status write ended.</summary>
/// <param name="Written">The Deployment as stored after the write.</param>
/// <param name="Fresh">When the record changed since it was read: the Deployment as it is now, to decide again from.</param>
public sealed record StatusWrite(V1Deployment? Written, V1Deployment? Fresh)
{
    public static StatusWrite Gone { get; } = new(null, null);

    public bool Conflicted => Fresh is not null;
}

/// <summary>
/// Tells people what the controller concluded: the <see cref="DeploymentRecord"/> conditions in the Deployment's status
/// and Events that <c>kubectl describe deployment</c> lists (they carry the Deployment's uid, which describe matches on).
/// </summary>
public sealed class DeploymentReporter(KubernetesApi kubernetes, TimeProvider timeProvider)
{
    public const string Component = "gatekeeper-controller";

    /// <summary>The API server refuses Event messages above this length.</summary>
    public const int MaxEventMessageLength = 1024;

    /// <summary>
    /// Writes the status decided from <paramref name="seen"/> with a guarded JSON patch of the status subresource.
    /// When the record changed since (another leader wrote in between), nothing is written and the Deployment as it
    /// is now comes back, so the caller decides again instead of dropping what the other wrote.
    /// </summary>
    public async Task<StatusWrite> WriteStatusAsync(V1Deployment seen, DeploymentStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(seen);
        ArgumentNullException.ThrowIfNull(status);
        var ns = seen.Metadata.NamespaceProperty;
        var name = seen.Metadata.Name;
        var patch = new V1Patch(DeploymentRecord.BuildPatch(seen, status, timeProvider.GetUtcNow()), V1Patch.PatchType.JsonPatch);
        try
        {
            var written = await kubernetes.PatchNamespacedDeploymentStatusAsync(patch, name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new StatusWrite(written, null);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return StatusWrite.Gone;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity)
        {
            // A failed test operation (422) or a stale resourceVersion (409): the record is not what the decision saw.
            try
            {
                var fresh = await kubernetes.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new StatusWrite(null, fresh);
            }
            catch (HttpOperationException read) when (read.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return StatusWrite.Gone;
            }
        }
    }

    /// <summary>The Deployment as the API server has it now, or null when there is none.</summary>
    public async Task<V1Deployment?> ReadDeploymentAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await kubernetes.ReadNamespacedDeploymentAsync(name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
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
        await kubernetes.CreateNamespacedEventAsync(body, deployment.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
