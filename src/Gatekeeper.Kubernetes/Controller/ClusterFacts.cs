using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Pods;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>What the controller needs to know about an opted-in Deployment, read once from the object.</summary>
/// <param name="Plan">The plan hash stamped on the pod template (null: nothing pending).</param>
/// <param name="Retry">The <c>gatekeeper.dev/retry</c> value a person bumps to run a failed plan again.</param>
/// <param name="TemplateFingerprint">A hash of the pod template: a new rollout is a new attempt.</param>
/// <param name="Status">What the controller recorded last (the memory of every replica across restarts), null when none or unreadable.</param>
public sealed record DeploymentFacts(
    string Namespace,
    string Name,
    string Uid,
    MigrationAnnotationsParseResult Annotations,
    string? Plan,
    string? TargetVersion,
    string? Retry,
    string TemplateFingerprint,
    DeploymentStatus? Status)
{
    /// <summary>
    /// <c>spec.paused</c>: the Deployment controller makes no ReplicaSet for a new template until it is resumed, so no pod
    /// of the plan exists or waits, and the migration waits for the rollout too.
    /// </summary>
    public bool Paused { get; init; }

    /// <summary>The Job this attempt runs in (null when nothing is pending).</summary>
    public string? JobName => Plan is null ? null : MigrationJobNames.For(Name, Plan, Retry, TemplateFingerprint);

    public static bool IsOptedIn(V1Deployment deployment) =>
        deployment?.Metadata?.Annotations is { } annotations && GatekeeperNames.OptIns.Any(annotations.ContainsKey);

    public static DeploymentFacts From(V1Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var metadata = deployment.Metadata;
        var annotations = metadata.Annotations is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(metadata.Annotations, StringComparer.Ordinal);
        var template = deployment.Spec?.Template;
        var templateAnnotations = template?.Metadata?.Annotations;
        return new DeploymentFacts(
            metadata.NamespaceProperty,
            metadata.Name,
            metadata.Uid ?? string.Empty,
            MigrationAnnotationParser.Parse(annotations),
            NonEmpty(templateAnnotations, GatekeeperNames.Plan),
            NonEmpty(templateAnnotations, GatekeeperNames.TargetVersion),
            annotations.GetValueOrDefault(GatekeeperNames.Retry),
            MigrationJobNames.TemplateFingerprint(template),
            DeploymentRecord.Read(deployment))
        {
            Paused = deployment.Spec?.Paused == true,
        };
    }

    private static string? NonEmpty(IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}

public enum MigrationJobPhase
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>A migration Job as the controller sees it.</summary>
/// <param name="Plan">The full plan hash (annotation), else the label's 63 characters.</param>
/// <param name="ConditionReason">The Failed condition's reason (BackoffLimitExceeded, DeadlineExceeded, PodFailurePolicy).</param>
public sealed record MigrationJobFacts(
    string Namespace,
    string Name,
    string? Plan,
    MigrationJobPhase Phase,
    DateTimeOffset? StartTime,
    DateTimeOffset? FinishTime,
    string? ConditionReason,
    string? ConditionMessage)
{
    /// <summary>The Job's uid (its Events name it), empty when unknown.</summary>
    public string Uid { get; init; } = string.Empty;

    /// <summary>When the Job was created.</summary>
    public DateTimeOffset? Created { get; init; }

    public TimeSpan? Duration => StartTime is { } start && FinishTime is { } finish && finish >= start ? finish - start : null;

    public bool IsForPlan(string plan) =>
        Plan is not null && GatekeeperNames.PlanLabelValue(Plan) == GatekeeperNames.PlanLabelValue(plan);

    public static MigrationJobFacts From(V1Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var failed = job.Status?.Conditions?.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True");
        var complete = job.Status?.Conditions?.FirstOrDefault(c => c.Type == "Complete" && c.Status == "True");
        var phase = failed is not null ? MigrationJobPhase.Failed
            : Succeeded(job) ? MigrationJobPhase.Succeeded
            : MigrationJobPhase.Running;
        DateTimeOffset? finish = phase switch
        {
            MigrationJobPhase.Succeeded => Utc(job.Status?.CompletionTime ?? complete?.LastTransitionTime),
            MigrationJobPhase.Failed => Utc(failed?.LastTransitionTime),
            _ => null,
        };
        return new MigrationJobFacts(
            job.Metadata.NamespaceProperty,
            job.Metadata.Name,
            PlanOf(job),
            phase,
            Utc(job.Status?.StartTime),
            finish,
            failed?.Reason,
            failed?.Message)
        {
            Uid = job.Metadata.Uid ?? string.Empty,
            Created = Utc(job.Metadata.CreationTimestamp),
        };
    }

    /// <summary>The full hash from the Job's annotation when present, else the (truncated) label.</summary>
    public static string? PlanOf(V1Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Metadata?.Annotations is { } annotations && annotations.TryGetValue(GatekeeperNames.Plan, out var full) && !string.IsNullOrEmpty(full))
        {
            return full;
        }

        return job.Metadata?.Labels is { } labels && labels.TryGetValue(GatekeeperNames.PlanLabel, out var label) && !string.IsNullOrEmpty(label)
            ? label
            : null;
    }

    public static bool Succeeded(V1Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Status is null)
        {
            return false;
        }

        if (job.Status.Conditions?.Any(c => c.Type == "Complete" && c.Status == "True") == true)
        {
            return true;
        }

        // A Job that has not set its Complete condition yet but has a succeeded pod and no failure condition.
        return job.Status.Succeeded > 0 && job.Status.Conditions?.Any(c => c.Type == "Failed" && c.Status == "True") != true;
    }

    private static DateTimeOffset? Utc(DateTime? time) =>
        time is { } value ? new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc)) : null;
}

/// <summary>A pod held by Gatekeeper's scheduling gate, with where the gate sits in its list (for the guarded patch).</summary>
/// <param name="Deployment">The Deployment whose ReplicaSet made the pod (<see cref="PodOwner"/>), null for a pod no ReplicaSet made.</param>
public sealed record GatedPod(string Namespace, string Name, string Uid, string Plan, int GateIndex, DateTimeOffset CreatedAt, string? Deployment)
{
    /// <summary>The pod as a gated pod, or null when it carries no plan or no Gatekeeper gate.</summary>
    public static GatedPod? From(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        if (pod.Metadata?.Annotations is not { } annotations
            || !annotations.TryGetValue(GatekeeperNames.Plan, out var plan) || string.IsNullOrEmpty(plan)
            || pod.Spec?.SchedulingGates is not { Count: > 0 } gates)
        {
            return null;
        }

        for (var i = 0; i < gates.Count; i++)
        {
            if (gates[i]?.Name == GatekeeperNames.MigrationSchedulingGate)
            {
                var created = pod.Metadata.CreationTimestamp is { } time
                    ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc))
                    : DateTimeOffset.UnixEpoch;
                return new GatedPod(pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Metadata.Uid ?? string.Empty, plan, i, created, PodOwner.DeploymentName(pod.Metadata));
            }
        }

        return null;
    }
}

/// <summary>Reads labels and annotations, which the models expose as <see cref="IDictionary{TKey, TValue}"/> (maybe null).</summary>
internal static class MetadataMaps
{
    public static string? ValueOf(this IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;
}
