using System.Security.Cryptography;
using System.Text.Json;
using Gatekeeper.Kubernetes.Admission;

namespace Gatekeeper.Kubernetes.Deployments;

/// <summary>
/// The <c>gatekeeper.dev/planning-id</c> annotation on a Deployment's metadata: how the validating call of an apply
/// recognises the object its own mutating call planned. The API server gives each webhook call its own request uid, so
/// only the object can carry the link; the id is random (128 bits), so it says nothing about the sources it stands for.
/// </summary>
public static class PlanningId
{
    /// <summary>A fresh id, never the same twice.</summary>
    public static string New() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The id a Deployment carries, or null.</summary>
    public static string? Read(JsonElement deployment) =>
        DeploymentObject.Descend(deployment, "metadata", "annotations", GatekeeperNames.PlanningId) is { ValueKind: JsonValueKind.String } id ? id.GetString() : null;

    /// <summary>Adds to <paramref name="patch"/> what makes the Deployment carry <paramref name="wanted"/> (null: no id); nothing when it already does.</summary>
    public static void AppendPatch(JsonPatchBuilder patch, JsonElement deployment, string? wanted)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var current = Read(deployment);
        if (current == wanted)
        {
            return;
        }

        if (wanted is null)
        {
            patch.Remove("metadata", "annotations", GatekeeperNames.PlanningId);
        }
        else if (DeploymentObject.Descend(deployment, "metadata", "annotations") is { ValueKind: JsonValueKind.Object })
        {
            // "add" on an existing object member replaces it (RFC 6902 4.1).
            patch.Add(wanted, "metadata", "annotations", GatekeeperNames.PlanningId);
        }
        else
        {
            patch.AddObject(new Dictionary<string, string>(StringComparer.Ordinal) { [GatekeeperNames.PlanningId] = wanted }, "metadata", "annotations");
        }
    }
}
