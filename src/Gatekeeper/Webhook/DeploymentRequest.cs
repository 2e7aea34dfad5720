using System.Text.Json;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Deployments;

namespace Gatekeeper.Webhook;

/// <summary>The parts of a Deployment admission request both Deployment webhooks read.</summary>
public sealed record DeploymentRequest(
    AdmissionRequest Admission,
    string Namespace,
    string Name,
    JsonElement Object,
    JsonElement? OldObject,
    IReadOnlyDictionary<string, string> Annotations)
{
    /// <summary>
    /// Null when the request is none of Gatekeeper's business (not a Deployment, not a CREATE or UPDATE, not opted
    /// in): the caller admits it at once.
    /// </summary>
    public static DeploymentRequest? From(AdmissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Kind is not { Group: "apps", Kind: "Deployment" }
            || request.Operation is not (AdmissionOperation.Create or AdmissionOperation.Update)
            || request.Object is not { } obj)
        {
            return null;
        }

        var annotations = DeploymentObject.Annotations(obj);
        if (!MigrationAnnotationParser.IsOptedIn(annotations))
        {
            return null;
        }

        var name = DeploymentObject.Name(obj) ?? request.Name ?? DeploymentObject.GenerateName(obj) ?? string.Empty;
        return new DeploymentRequest(request, request.Namespace ?? "default", name, obj, request.OldObject, annotations);
    }

    /// <summary>
    /// A Deployment that does not opt in (any more) but whose pod template still carries Gatekeeper's stamps: the
    /// annotation was removed, or the manifest was copied from a cluster. Its pods would be held by the pod webhook
    /// for a plan nobody runs, so the stamps go (which rolls the pods out once, without them). Null for anything else.
    /// The webhook configuration sends such Deployments here by matching the old object and the stamps too.
    /// </summary>
    public static AdmissionResponse? OptedOut(AdmissionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Kind is not { Group: "apps", Kind: "Deployment" }
            || request.Operation is not (AdmissionOperation.Create or AdmissionOperation.Update)
            || request.Object is not { } obj
            || MigrationAnnotationParser.IsOptedIn(DeploymentObject.Annotations(obj)))
        {
            return null;
        }

        var patch = new JsonPatchBuilder();
        PlanStamp.AppendPatch(patch, obj, PlanStamp.None);
        if (patch.Count == 0)
        {
            return null;
        }

        // The planning id goes with the stamps: nothing plans for this Deployment any more.
        PlanningId.AppendPatch(patch, obj, null);
        var removal = patch.Build();

        var name = DeploymentObject.Name(obj) ?? request.Name ?? string.Empty;
        return AdmissionResponse.Allow(request.Uid, [
            $"gatekeeper: {request.Namespace}/{name} does not opt in (neither {GatekeeperNames.Migrations} nor {GatekeeperNames.Schema} is set): removed the {GatekeeperNames.Plan} and " +
            $"{GatekeeperNames.TargetVersion} stamps from its pod template, so its new pods are not held for a migration (this rolls the pods once)",
        ], removal);
    }

    /// <summary>
    /// An UPDATE whose pod template is the old one apart from Gatekeeper's stamps: no rollout follows, so there is
    /// nothing to plan and the old stamps stay.
    /// </summary>
    /// <summary>An update that adds the opt-in to a Deployment that did not have it (its template may well be unchanged).</summary>
    public bool OptedInNow =>
        Admission.Operation == AdmissionOperation.Update && OldObject is { } old && !MigrationAnnotationParser.IsOptedIn(DeploymentObject.Annotations(old));

    public bool TemplateUnchanged =>
        Admission.Operation == AdmissionOperation.Update && OldObject is { } old && PlanStamp.TemplatesEqualIgnoringStamps(Object, old);
}
