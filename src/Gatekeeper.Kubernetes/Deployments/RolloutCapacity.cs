using System.Globalization;
using System.Text.Json;

namespace Gatekeeper.Kubernetes.Deployments;

/// <summary>What a Deployment whose pending migration would cost capacity or trip its progress deadline gets: a warning or a denial.</summary>
public enum CapacityPolicy
{
    Warn,
    Deny,
}

/// <summary>A <c>maxUnavailable</c> or <c>maxSurge</c> value: a count, or a percentage of the replicas.</summary>
public readonly record struct IntOrPercent(int Value, bool IsPercent)
{
    /// <summary>The value as the Deployment controller resolves it against <paramref name="replicas"/> (percentages rounded up or down).</summary>
    public int Resolve(int replicas, bool roundUp)
    {
        if (!IsPercent)
        {
            return Value;
        }

        var scaled = (long)Value * replicas;
        return (int)(roundUp ? (scaled + 99) / 100 : scaled / 100);
    }

    public override string ToString() => IsPercent ? $"{Value.ToString(CultureInfo.InvariantCulture)}%" : Value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Null when the value is neither a non-negative integer nor a string <c>N%</c> (the API server refuses such a Deployment itself).</summary>
    public static IntOrPercent? Parse(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.TryGetInt32(out var count) && count >= 0 ? new IntOrPercent(count, false) : null;
        }

        if (value.ValueKind == JsonValueKind.String && value.GetString() is { } text)
        {
            text = text.Trim();
            if (text.EndsWith('%') && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var percent))
            {
                return new IntOrPercent(percent, true);
            }
        }

        return null;
    }
}

/// <summary>
/// The parts of a Deployment's spec that decide how many pods serve while its migration runs and when the rollout is
/// declared failed. Unset fields get the API server's defaults (replicas 1, RollingUpdate with 25 %/25 %,
/// progressDeadlineSeconds 600): the validating webhook sees them filled in, but the mutating webhook and hand-written
/// AdmissionReviews may not.
/// </summary>
/// <param name="MaxUnavailable">Null for Recreate, or when the value cannot be read (the API server refuses it anyway).</param>
public sealed record RolloutShape(int Replicas, bool Recreate, IntOrPercent? MaxUnavailable, IntOrPercent? MaxSurge, int ProgressDeadlineSeconds, bool Paused)
{
    public const int DefaultReplicas = 1;
    public const int DefaultProgressDeadlineSeconds = 600;
    public static IntOrPercent DefaultMaxUnavailable { get; } = new(25, true);
    public static IntOrPercent DefaultMaxSurge { get; } = new(25, true);

    public static RolloutShape Read(JsonElement deployment)
    {
        var replicas = DeploymentObject.Descend(deployment, "spec", "replicas") is { ValueKind: JsonValueKind.Number } r && r.TryGetInt32(out var count) ? count : DefaultReplicas;
        var type = DeploymentObject.Descend(deployment, "spec", "strategy", "type") is { ValueKind: JsonValueKind.String } t ? t.GetString() : null;
        var recreate = string.Equals(type, "Recreate", StringComparison.Ordinal);
        var deadline = DeploymentObject.Descend(deployment, "spec", "progressDeadlineSeconds") is { ValueKind: JsonValueKind.Number } d && d.TryGetInt32(out var seconds)
            ? seconds
            : DefaultProgressDeadlineSeconds;
        var paused = DeploymentObject.Descend(deployment, "spec", "paused") is { ValueKind: JsonValueKind.True };
        if (recreate)
        {
            return new RolloutShape(replicas, true, null, null, deadline, paused);
        }

        return new RolloutShape(replicas, false,
            Field("maxUnavailable", DefaultMaxUnavailable), Field("maxSurge", DefaultMaxSurge), deadline, paused);

        IntOrPercent? Field(string name, IntOrPercent fallback) =>
            DeploymentObject.Descend(deployment, "spec", "strategy", "rollingUpdate", name) is { ValueKind: not JsonValueKind.Null } value
                ? IntOrPercent.Parse(value)
                : fallback;
    }

    /// <summary>
    /// How many old pods the Deployment controller may stop during a rollout, resolved as it does: maxUnavailable
    /// rounded down, maxSurge rounded up, and 1 when both come to 0 (a rollout must make progress). Null when unreadable.
    /// </summary>
    public int? Unavailable
    {
        get
        {
            if (Recreate)
            {
                return Replicas;
            }

            if (MaxUnavailable is not { } unavailable || MaxSurge is not { } surge)
            {
                return null;
            }

            var down = unavailable.Resolve(Replicas, roundUp: false);
            var up = surge.Resolve(Replicas, roundUp: true);
            return Math.Min(Replicas, down == 0 && up == 0 ? 1 : down);
        }
    }
}

/// <summary>The capacity judgement of one admission: warnings to give, or the denial when the policy says deny.</summary>
public sealed record CapacityJudgement(IReadOnlyList<string> Problems, string? Denial)
{
    public static CapacityJudgement Fine { get; } = new([], null);
}

/// <summary>
/// What a pending migration does to a Deployment's serving capacity and to its progress deadline, as pure decisions.
/// New pods wait behind the scheduling gate until the migration Job succeeds, and the Deployment controller does not
/// know why: with <c>Recreate</c> it stops every old pod first, with <c>maxUnavailable</c> above 0 it stops that many,
/// and after <c>progressDeadlineSeconds</c> without a new available pod it declares the rollout failed.
/// </summary>
public static class RolloutCapacity
{
    public static CapacityJudgement Judge(RolloutShape shape, TimeSpan jobTimeout, CapacityPolicy policy, string subject)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Replicas <= 0)
        {
            // Nothing serves and nothing waits: no pod to lose, no rollout to time out.
            return CapacityJudgement.Fine;
        }

        var problems = new List<string>();
        if (shape.Recreate)
        {
            problems.Add($"gatekeeper: {subject} uses strategy Recreate, so its {Pods(shape.Replicas)} stop before the new ones start, and those wait for the migration Job: " +
                         "nothing serves while it runs (and until a fix if it fails); use strategy RollingUpdate with maxUnavailable: 0 to keep the old pods serving during migrations");
        }
        else if (shape.Unavailable is > 0 and var down)
        {
            var serving = shape.Replicas - down;
            var setting = shape.MaxUnavailable!.Value.Resolve(shape.Replicas, roundUp: false) == 0
                ? $"maxUnavailable {shape.MaxUnavailable} with maxSurge {shape.MaxSurge} (both 0, so Kubernetes stops 1)"
                : $"maxUnavailable {shape.MaxUnavailable} (of {shape.Replicas} replicas: {down})";
            problems.Add($"gatekeeper: {subject} has {setting}, so the Deployment controller stops {Pods(down)} while the new ones wait for the migration Job: " +
                         $"{serving} of {shape.Replicas} serve until it succeeds (and until a fix if it fails); set maxUnavailable: 0 and maxSurge: 1 or more to keep all {shape.Replicas} serving");
        }

        if (jobTimeout > TimeSpan.FromSeconds(shape.ProgressDeadlineSeconds))
        {
            var needed = (long)Math.Ceiling(jobTimeout.TotalSeconds);
            problems.Add($"gatekeeper: {subject}'s migration Job may run {Controller.FailureMessages.Duration(jobTimeout)} ({GatekeeperNames.JobTimeout}) but progressDeadlineSeconds is " +
                         $"{shape.ProgressDeadlineSeconds}, so a longer migration marks the Deployment ProgressDeadlineExceeded (Argo CD shows Degraded, helm --wait times out and " +
                         $"--atomic rolls back); set progressDeadlineSeconds to {needed} or more, or lower {GatekeeperNames.JobTimeout}");
        }

        if (problems.Count == 0)
        {
            return CapacityJudgement.Fine;
        }

        return policy switch
        {
            CapacityPolicy.Warn => new CapacityJudgement(problems, null),
            CapacityPolicy.Deny => new CapacityJudgement(problems,
                $"gatekeeper: {subject} is refused because its capacity policy is deny ({GatekeeperNames.CapacityPolicy}) and its pending migration would hurt the rollout\n" +
                string.Concat(problems.Select(p => $"  {p["gatekeeper: ".Length..]}\n")) +
                $"To proceed: change the Deployment as said above, or set {GatekeeperNames.CapacityPolicy}: warn to accept it."),
            _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown capacity policy"),
        };
    }

    private static string Pods(int count) => count == 1 ? "1 old pod" : $"{count} old pods";
}
