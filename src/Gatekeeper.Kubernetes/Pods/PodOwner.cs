namespace Gatekeeper.Kubernetes.Pods;

/// <summary>
/// Finds the Deployment a pod belongs to without asking the API server: the Deployment controller names each
/// ReplicaSet <c>&lt;deployment&gt;-&lt;pod-template-hash&gt;</c> and puts that hash on its pods as a label, and the
/// ReplicaSet controller makes itself the pod's controlling owner.
/// </summary>
public static class PodOwner
{
    /// <summary>The label the Deployment controller puts on every pod (and ReplicaSet) of one pod template.</summary>
    public const string TemplateHashLabel = "pod-template-hash";

    /// <summary>The Deployment's name from its ReplicaSet's name and the pod template hash; empty when they do not fit together.</summary>
    public static ReadOnlySpan<char> DeploymentName(ReadOnlySpan<char> replicaSet, ReadOnlySpan<char> templateHash)
    {
        if (templateHash.IsEmpty || replicaSet.Length < templateHash.Length + 2
            || !replicaSet.EndsWith(templateHash, StringComparison.Ordinal) || replicaSet[^(templateHash.Length + 1)] != '-')
        {
            return default;
        }

        return replicaSet[..^(templateHash.Length + 1)];
    }

    /// <summary>The Deployment of a pod as the models give it, or null when no ReplicaSet of a Deployment made it.</summary>
    public static string? DeploymentName(k8s.Models.V1ObjectMeta? metadata)
    {
        var owner = metadata?.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "ReplicaSet");
        if (owner?.Name is not { } replicaSet || metadata!.Labels is null || !metadata.Labels.TryGetValue(TemplateHashLabel, out var hash))
        {
            return null;
        }

        var name = DeploymentName(replicaSet, hash);
        return name.IsEmpty ? null : name.ToString();
    }
}
