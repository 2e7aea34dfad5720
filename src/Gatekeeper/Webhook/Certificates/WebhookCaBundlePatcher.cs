using System.Text;
using System.Text.Json;
using Gatekeeper.Kubernetes;
using k8s;
using k8s.Models;

namespace Gatekeeper.Webhook.Certificates;

/// <summary>
/// Writes the caBundle into Gatekeeper's own MutatingWebhookConfiguration and ValidatingWebhookConfiguration (one name,
/// read and patched by that name only: RBAC grants nothing else). Only webhooks whose bundle differs are patched, each
/// guarded by a test of its name, so a configuration changed in between (a helm upgrade) makes the patch fail and the
/// next round reads it again. The chart renders no caBundle, so <c>helm template</c> stays the same and a GitOps tool
/// does not take it away again (it owns no such field).
/// </summary>
public sealed class WebhookCaBundlePatcher(KubernetesApi kubernetes)
{
    /// <summary>Returns how many webhooks were patched (0: every one already trusted the bundle).</summary>
    public async Task<int> PatchAsync(string configurationName, byte[] caBundle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caBundle);
        var mutating = await kubernetes.ReadMutatingWebhookConfigurationAsync(configurationName, cancellationToken: cancellationToken).ConfigureAwait(false);
        var patched = 0;
        if (BuildPatch(mutating.Webhooks?.Select(w => (w.Name, w.ClientConfig?.CaBundle)).ToList() ?? [], caBundle) is { } mutatingPatch)
        {
            await kubernetes.PatchMutatingWebhookConfigurationAsync(new V1Patch(mutatingPatch.Json, V1Patch.PatchType.JsonPatch), configurationName, cancellationToken: cancellationToken).ConfigureAwait(false);
            patched += mutatingPatch.Count;
        }

        var validating = await kubernetes.ReadValidatingWebhookConfigurationAsync(configurationName, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (BuildPatch(validating.Webhooks?.Select(w => (w.Name, w.ClientConfig?.CaBundle)).ToList() ?? [], caBundle) is { } validatingPatch)
        {
            await kubernetes.PatchValidatingWebhookConfigurationAsync(new V1Patch(validatingPatch.Json, V1Patch.PatchType.JsonPatch), configurationName, cancellationToken: cancellationToken).ConfigureAwait(false);
            patched += validatingPatch.Count;
        }

        return patched;
    }

    /// <summary>A JSON patch setting the caBundle of every webhook that does not hold it yet; null when none.</summary>
    public static (string Json, int Count)? BuildPatch(IReadOnlyList<(string Name, byte[]? CaBundle)> webhooks, byte[] caBundle)
    {
        ArgumentNullException.ThrowIfNull(webhooks);
        using var buffer = new MemoryStream();
        var count = 0;
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            for (var i = 0; i < webhooks.Count; i++)
            {
                if (webhooks[i].CaBundle is { } existing && existing.AsSpan().SequenceEqual(caBundle))
                {
                    continue;
                }

                count++;
                writer.WriteStartObject();
                writer.WriteString("op", "test");
                writer.WriteString("path", $"/webhooks/{i}/name");
                writer.WriteString("value", webhooks[i].Name);
                writer.WriteEndObject();
                writer.WriteStartObject();
                // add replaces a value that is there and creates one that is not.
                writer.WriteString("op", "add");
                writer.WriteString("path", $"/webhooks/{i}/clientConfig/caBundle");
                writer.WriteBase64String("value", caBundle);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return count == 0 ? null : (Encoding.UTF8.GetString(buffer.ToArray()), count);
    }
}
