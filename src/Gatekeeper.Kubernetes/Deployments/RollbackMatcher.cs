using System.Text.Json;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Pods;
using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Deployments;

/// <summary>A pod template the Deployment already ran: the ReplicaSet holding it, and the stamps it ran with.</summary>
/// <param name="Revision">The Deployment controller's <c>deployment.kubernetes.io/revision</c> of that ReplicaSet.</param>
public sealed record RollbackTarget(string ReplicaSet, string? Revision, PlanStamp Stamps)
{
    /// <summary>The warning <c>kubectl</c> prints for the rollback.</summary>
    public string Warning(string subject)
    {
        var revision = Revision is null ? string.Empty : $" (revision {Revision})";
        var plan = Stamps.Plan is { } hash
            ? $"whose plan {Hashes.Short(hash)} is already applied{(Stamps.TargetVersion is { } target ? $" (target version {target})" : string.Empty)}"
            : "which had no migration to wait for";
        return $"gatekeeper: {subject} returns to the pod template of ReplicaSet {ReplicaSet}{revision}, {plan}: " +
               "admitted without planning and without the database; migrations applied since stay (the older code runs on the newer schema)";
    }
}

/// <summary>An update's pod template as <see cref="RollbackMatcher"/> compares it: its fingerprint without stamps, and its containers.</summary>
public sealed record IncomingTemplate(string Fingerprint, string Containers);

/// <summary>
/// Recognises a rollback (<c>kubectl rollout undo</c>, <c>helm rollback</c>, <c>helm upgrade --atomic</c>, a GitOps sync
/// to an older commit): an update whose pod template, apart from Gatekeeper's stamps, is the template of one of this
/// Deployment's own ReplicaSets, whose plan (if it had one) the Deployment's record names as applied. Such a rollout
/// needs no migration and must not depend on the database: a webhook that blocks recovery during an incident gets
/// uninstalled. A stamp alone proves nothing (it can be copied onto any template); the whole template must have run.
/// </summary>
public static class RollbackMatcher
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";

    /// <summary>The most recent such ReplicaSet, or null when the template never ran or its plan is not known applied.</summary>
    public static RollbackTarget? Find(JsonElement deployment, IEnumerable<V1ReplicaSet> replicaSets, string deploymentUid, IReadOnlyList<string> appliedPlans) =>
        Incoming(deployment) is { } incoming ? Find(incoming, replicaSets, deploymentUid, appliedPlans) : null;

    /// <summary>What a ReplicaSet's template is compared with: the incoming template without stamps; null when the Deployment has none.</summary>
    public static IncomingTemplate? Incoming(JsonElement deployment)
    {
        if (DeploymentObject.Descend(deployment, "spec", "template") is not { ValueKind: JsonValueKind.Object } raw)
        {
            return null;
        }

        var template = raw.Deserialize(KubernetesModelJson.Default.V1PodTemplateSpec)!;
        return new IncomingTemplate(Unstamped(template).Fingerprint, Containers(template));
    }

    /// <inheritdoc cref="Find(JsonElement, IEnumerable{V1ReplicaSet}, string, IReadOnlyList{string})"/>
    public static RollbackTarget? Find(IncomingTemplate incoming, IEnumerable<V1ReplicaSet> replicaSets, string deploymentUid, IReadOnlyList<string> appliedPlans)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        ArgumentNullException.ThrowIfNull(replicaSets);
        ArgumentNullException.ThrowIfNull(appliedPlans);
        if (string.IsNullOrEmpty(deploymentUid))
        {
            return null;
        }

        RollbackTarget? best = null;
        long bestRevision = -1;
        foreach (var replicaSet in replicaSets)
        {
            if (replicaSet.Metadata?.OwnerReferences?.Any(o => o.Controller == true && o.Uid == deploymentUid) != true || replicaSet.Spec?.Template is null
                // Equal templates have equal containers: most of a Deployment's ReplicaSets differ in an image, and are
                // passed over here without the copy and canonical JSON a fingerprint costs.
                || Containers(replicaSet.Spec.Template) != incoming.Containers)
            {
                continue;
            }

            var (fingerprint, stamps) = Unstamped(replicaSet.Spec.Template, dropTemplateHash: true);
            if (fingerprint != incoming.Fingerprint || (stamps.Plan is { } plan && !appliedPlans.Contains(plan, StringComparer.Ordinal)))
            {
                continue;
            }

            var revisionText = replicaSet.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var text) == true ? text : null;
            var revision = long.TryParse(revisionText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
            if (best is null || revision > bestRevision)
            {
                best = new RollbackTarget(replicaSet.Metadata.Name, revisionText, stamps);
                bestRevision = revision;
            }
        }

        return best;
    }

    /// <summary>The containers' names and images in order, which no stamp and no controller label touches.</summary>
    private static string Containers(V1PodTemplateSpec template) =>
        template.Spec?.Containers is { } containers ? string.Join('\n', containers.Select(c => c.Name + "\0" + c.Image)) : string.Empty;

    /// <summary>
    /// The template's fingerprint without Gatekeeper's stamps (and without the pod-template-hash label the Deployment
    /// controller adds to a ReplicaSet's copy), and the stamps it carried.
    /// </summary>
    private static (string Fingerprint, PlanStamp Stamps) Unstamped(V1PodTemplateSpec template, bool dropTemplateHash = false)
    {
        var copy = JsonSerializer.SerializeToElement(template, KubernetesModelJson.Default.V1PodTemplateSpec).Deserialize(KubernetesModelJson.Default.V1PodTemplateSpec)!;
        copy.Metadata ??= new V1ObjectMeta();
        var annotations = copy.Metadata.Annotations;
        var stamps = new PlanStamp(
            annotations is not null && annotations.TryGetValue(GatekeeperNames.Plan, out var plan) ? plan : null,
            annotations is not null && annotations.TryGetValue(GatekeeperNames.TargetVersion, out var target) ? target : null);
        annotations?.Remove(GatekeeperNames.Plan);
        annotations?.Remove(GatekeeperNames.TargetVersion);
        if (dropTemplateHash)
        {
            copy.Metadata.Labels?.Remove(PodOwner.TemplateHashLabel);
        }

        // An empty map and no map are the same template.
        if (copy.Metadata.Annotations is { Count: 0 })
        {
            copy.Metadata.Annotations = null;
        }

        if (copy.Metadata.Labels is { Count: 0 })
        {
            copy.Metadata.Labels = null;
        }

        return (MigrationJobNames.TemplateFingerprint(copy), stamps);
    }
}
