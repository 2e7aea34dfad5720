using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Gatekeeper.Kubernetes.Pods;

public enum PodGateVerdict
{
    /// <summary>The pod carries no plan stamp: not Gatekeeper's business.</summary>
    NotManaged,
    /// <summary>Its plan is known to be applied: schedule it.</summary>
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
/// the patches are two constant buffers.
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

    public static PodGateDecision Decide(bool isCreate, JsonElement pod, AppliedPlans appliedPlans)
    {
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

        if (IsApplied(plan, appliedPlans))
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

    private static bool IsApplied(JsonElement plan, AppliedPlans appliedPlans)
    {
        // The raw bytes of a hex hash need no unescaping; transcode them on the stack instead of allocating a string.
        var raw = JsonMarshal.GetRawUtf8Value(plan);
        if (raw.Length >= 2 && raw.Length <= 130 && raw.IndexOf((byte)'\\') < 0)
        {
            Span<char> chars = stackalloc char[128];
            var written = Encoding.UTF8.GetChars(raw[1..^1], chars);
            return appliedPlans.IsApplied(chars[..written]);
        }

        return appliedPlans.IsApplied(plan.GetString());
    }
}
