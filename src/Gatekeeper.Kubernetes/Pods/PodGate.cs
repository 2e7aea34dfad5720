using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Gatekeeper.Kubernetes.Pods;

public enum PodGateVerdict
{
    /// <summary>The pod carries no plan stamp: not Gatekeeper's business.</summary>
    NotManaged,
    /// <summary>The pod carries a plan stamp but no ReplicaSet made it (a copy, a bare pod): it is no rollout's pod.</summary>
    NotARolloutPod,
    /// <summary>Its plan is known to be applied for its Deployment: schedule it.</summary>
    PlanApplied,
    /// <summary>The gate is already there (a re-sent request).</summary>
    AlreadyGated,
    /// <summary>Only CREATE can add a scheduling gate; other operations pass.</summary>
    NotACreate,
    /// <summary>Its plan is not known to be applied: hold it with the scheduling gate.</summary>
    Gate,
}

/// <summary>The verdict and, for <see cref="PodGateVerdict.Gate"/>, the patch adding the gate (a shared, read-only buffer).</summary>
public readonly record struct PodGateDecision(PodGateVerdict Verdict, ReadOnlyMemory<byte> Patch);

/// <summary>
/// Decides whether a new pod waits for its migration plan. This runs on every pod of every opted-in
/// Deployment, so it reads the pod in place and answers from <see cref="AppliedPlans"/> without allocating:
/// the patches are two constant buffers. A plan counts as applied only for the pod's own Deployment, found from the
/// ReplicaSet that owns the pod (the Deployment controller names it after the Deployment and the pod template hash).
/// </summary>
public static class PodGate
{
    // schedulingGates can only be added when a pod is created, so gating happens at pod CREATE; a pod whose plan is
    // unknown is gated (the safe fallback) and the controller removes the gate once the plan's Job has succeeded.
    private static readonly byte[] AddGateList = Encoding.UTF8.GetBytes(
        "[{\"op\":\"add\",\"path\":\"/spec/schedulingGates\",\"value\":[{\"name\":\"" + GatekeeperNames.MigrationSchedulingGate + "\"}]}]");

    private static readonly byte[] AppendGate = Encoding.UTF8.GetBytes(
        "[{\"op\":\"add\",\"path\":\"/spec/schedulingGates/-\",\"value\":{\"name\":\"" + GatekeeperNames.MigrationSchedulingGate + "\"}}]");

    private static readonly byte[] PlanAnnotationUtf8 = Encoding.UTF8.GetBytes(GatekeeperNames.Plan);
    private static readonly byte[] GateNameUtf8 = Encoding.UTF8.GetBytes(GatekeeperNames.MigrationSchedulingGate);
    private static readonly byte[] TemplateHashLabelUtf8 = Encoding.UTF8.GetBytes(PodOwner.TemplateHashLabel);

    /// <param name="namespace">The request's namespace (a pod being created may not carry it yet).</param>
    public static PodGateDecision Decide(bool isCreate, string @namespace, JsonElement pod, AppliedPlans appliedPlans)
    {
        ArgumentNullException.ThrowIfNull(@namespace);
        ArgumentNullException.ThrowIfNull(appliedPlans);
        if (pod.ValueKind != JsonValueKind.Object
            || !pod.TryGetProperty("metadata"u8, out var metadata) || metadata.ValueKind != JsonValueKind.Object
            || !metadata.TryGetProperty("annotations"u8, out var annotations) || annotations.ValueKind != JsonValueKind.Object
            || !annotations.TryGetProperty(PlanAnnotationUtf8, out var plan) || plan.ValueKind != JsonValueKind.String)
        {
            return new PodGateDecision(PodGateVerdict.NotManaged, default);
        }

        if (!isCreate)
        {
            return new PodGateDecision(PodGateVerdict.NotACreate, default);
        }

        Span<char> ownerBuffer = stackalloc char[MaxName];
        Span<char> hashBuffer = stackalloc char[MaxName];
        Span<char> planBuffer = stackalloc char[MaxName];
        var deployment = DeploymentOf(metadata, ownerBuffer, hashBuffer);
        if (deployment.IsEmpty)
        {
            return new PodGateDecision(PodGateVerdict.NotARolloutPod, default);
        }

        if (appliedPlans.Standing(@namespace, deployment, Chars(plan, planBuffer)) == PlanStanding.Applied)
        {
            return new PodGateDecision(PodGateVerdict.PlanApplied, default);
        }

        var hasGateList = false;
        if (pod.TryGetProperty("spec"u8, out var spec) && spec.ValueKind == JsonValueKind.Object
            && spec.TryGetProperty("schedulingGates"u8, out var gates) && gates.ValueKind == JsonValueKind.Array)
        {
            hasGateList = true;
            foreach (var gate in gates.EnumerateArray())
            {
                if (gate.ValueKind == JsonValueKind.Object && gate.TryGetProperty("name"u8, out var name)
                    && name.ValueKind == JsonValueKind.String && name.ValueEquals(GateNameUtf8))
                {
                    return new PodGateDecision(PodGateVerdict.AlreadyGated, default);
                }
            }
        }

        return new PodGateDecision(PodGateVerdict.Gate, hasGateList ? AppendGate : AddGateList);
    }

    /// <summary>
    /// The same decision from the members <see cref="Admission.PodReviewReader"/> read while streaming the request body,
    /// in the same order as <see cref="Decide(bool, string, JsonElement, AppliedPlans)"/> looks at them.
    /// </summary>
    /// <param name="namespace">The request's namespace, empty when it has none.</param>
    public static PodGateDecision Decide(bool isCreate, ReadOnlySpan<char> @namespace, scoped in Admission.PodFacts pod, AppliedPlans appliedPlans)
    {
        ArgumentNullException.ThrowIfNull(appliedPlans);
        if (!pod.HasPlan)
        {
            return new PodGateDecision(PodGateVerdict.NotManaged, default);
        }

        if (!isCreate)
        {
            return new PodGateDecision(PodGateVerdict.NotACreate, default);
        }

        var deployment = pod.HasOwner ? PodOwner.DeploymentName(pod.Owner, pod.HasTemplateHash ? pod.TemplateHash : default) : default;
        if (deployment.IsEmpty)
        {
            return new PodGateDecision(PodGateVerdict.NotARolloutPod, default);
        }

        if (appliedPlans.Standing(@namespace, deployment, pod.Plan) == PlanStanding.Applied)
        {
            return new PodGateDecision(PodGateVerdict.PlanApplied, default);
        }

        return pod.AlreadyGated
            ? new PodGateDecision(PodGateVerdict.AlreadyGated, default)
            : new PodGateDecision(PodGateVerdict.Gate, pod.HasGateList ? AppendGate : AddGateList);
    }

    /// <summary>Object names are at most 253 characters; a longer value is not a name.</summary>
    private const int MaxName = 256;

    /// <summary>The Deployment that made the pod (through its ReplicaSet), or empty when no ReplicaSet made it.</summary>
    private static ReadOnlySpan<char> DeploymentOf(JsonElement metadata, Span<char> ownerBuffer, Span<char> hashBuffer)
    {
        if (!metadata.TryGetProperty("ownerReferences"u8, out var owners) || owners.ValueKind != JsonValueKind.Array)
        {
            return default;
        }

        foreach (var owner in owners.EnumerateArray())
        {
            if (owner.ValueKind == JsonValueKind.Object
                && owner.TryGetProperty("controller"u8, out var controller) && controller.ValueKind == JsonValueKind.True
                && owner.TryGetProperty("kind"u8, out var kind) && kind.ValueKind == JsonValueKind.String && kind.ValueEquals("ReplicaSet"u8)
                && owner.TryGetProperty("name"u8, out var name) && name.ValueKind == JsonValueKind.String)
            {
                var hash = metadata.TryGetProperty("labels"u8, out var labels) && labels.ValueKind == JsonValueKind.Object
                    && labels.TryGetProperty(TemplateHashLabelUtf8, out var label) && label.ValueKind == JsonValueKind.String
                    ? Chars(label, hashBuffer)
                    : default;
                return PodOwner.DeploymentName(Chars(name, ownerBuffer), hash);
            }
        }

        return default;
    }

    /// <summary>A short string value as characters, transcoded on the caller's stack (raw bytes need no unescaping unless they hold a backslash).</summary>
    private static ReadOnlySpan<char> Chars(JsonElement value, Span<char> buffer)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw.Length >= 2 && raw.Length - 2 <= buffer.Length && raw.IndexOf((byte)'\\') < 0)
        {
            var written = Encoding.UTF8.GetChars(raw[1..^1], buffer);
            return buffer[..written];
        }

        return value.GetString().AsSpan();
    }
}
