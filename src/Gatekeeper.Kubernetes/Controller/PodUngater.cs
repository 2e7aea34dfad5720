using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

public enum ReleaseOutcome
{
    /// <summary>The gate was removed: the scheduler may place the pod now.</summary>
    Released,
    /// <summary>Someone else removed it first.</summary>
    NotGated,
    /// <summary>The pod no longer exists.</summary>
    Gone,
    /// <summary>The pod now names another plan: it is not this plan's to release.</summary>
    PlanChanged,
}

/// <summary>
/// Removes Gatekeeper's scheduling gate from a pod whose plan is applied. The JSON patch tests the plan annotation
/// and the gate's name at its index before removing it, so a concurrent change (another gate removed first, the
/// pod replaced) fails the patch with 422 instead of removing the wrong gate; then the pod is read again.
/// </summary>
public sealed class PodUngater(KubernetesApi kubernetes)
{
    private const int MaxAttempts = 4;

    /// <summary>The guarded patch for a pod as last seen.</summary>
    public static byte[] BuildPatch(GatedPod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var gate = $"/spec/schedulingGates/{pod.GateIndex}";
            writer.WriteStartArray();
            Operation(writer, "test", "/metadata/annotations/" + Escape(GatekeeperNames.Plan), pod.Plan);
            Operation(writer, "test", gate + "/name", GatekeeperNames.MigrationSchedulingGate);
            Operation(writer, "remove", gate, null);
            writer.WriteEndArray();
        }

        return buffer.ToArray();
    }

    public async Task<ReleaseOutcome> ReleaseAsync(GatedPod pod, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var current = pod;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var patch = new V1Patch(Encoding.UTF8.GetString(BuildPatch(current)), V1Patch.PatchType.JsonPatch);
                await kubernetes.PatchNamespacedPodAsync(patch, current.Name, current.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                return ReleaseOutcome.Released;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return ReleaseOutcome.Gone;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.UnprocessableEntity or HttpStatusCode.Conflict && attempt < MaxAttempts)
            {
                // The pod changed since it was seen: look again and decide afresh.
            }

            V1Pod fresh;
            try
            {
                fresh = await kubernetes.ReadNamespacedPodAsync(current.Name, current.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return ReleaseOutcome.Gone;
            }

            if (fresh.Metadata.Uid is { Length: > 0 } uid && pod.Uid.Length > 0 && uid != pod.Uid)
            {
                return ReleaseOutcome.Gone;
            }

            if (GatedPod.From(fresh) is not { } gated)
            {
                return ReleaseOutcome.NotGated;
            }

            if (gated.Plan != pod.Plan)
            {
                return ReleaseOutcome.PlanChanged;
            }

            current = gated;
        }
    }

    private static void Operation(Utf8JsonWriter writer, string op, string path, string? value)
    {
        writer.WriteStartObject();
        writer.WriteString("op", op);
        writer.WriteString("path", path);
        if (value is not null)
        {
            writer.WriteString("value", value);
        }

        writer.WriteEndObject();
    }

    /// <summary>RFC 6901: '~' and '/' inside a key are written as ~0 and ~1.</summary>
    private static string Escape(string key) => key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
