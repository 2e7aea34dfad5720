using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// Whether the pod of a running migration Job got going, and when it cannot, why: what its container status, its
/// scheduling condition or the Job's FailedCreate Event says. A pod that cannot pull its image, misses a Secret it
/// mounts, fits no node or is refused by a ResourceQuota or an admission policy applies nothing, yet the Job only
/// fails at its deadline (30 min by default): this says so within a resync.
/// </summary>
/// <param name="Job">The running Job it is about.</param>
/// <param name="PodStarted">True once a container of the Job's pod ran (running or ended): nothing to watch for any more.</param>
/// <param name="Reason">The Kubernetes reason (ErrImagePull, ImagePullBackOff, CreateContainerConfigError, Unschedulable, FailedCreate…), null while nothing is wrong.</param>
/// <param name="Message">What Kubernetes said with it.</param>
public sealed record JobPodStart(string Job, bool PodStarted, string? Reason, string? Message)
{
    /// <summary>Waiting reasons of a container that will not start without a change (the kubelet only retries them).</summary>
    private static readonly HashSet<string> StuckWaitingReasons = new(StringComparer.Ordinal)
    {
        "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError",
    };

    /// <summary>A pod waits this long as Unschedulable before it is reported: a cluster autoscaler often adds a node within it.</summary>
    public static TimeSpan UnschedulableGrace { get; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The reason as a metric label, from a short fixed list: ImagePull, CreateContainerConfigError,
    /// CreateContainerError, Unschedulable, FailedCreate or Other.
    /// </summary>
    public static string Category(string reason) => reason switch
    {
        "ErrImagePull" or "ImagePullBackOff" or "InvalidImageName" or "ErrImageNeverPull" => "ImagePull",
        "CreateContainerConfigError" or "CreateContainerError" or "Unschedulable" or "FailedCreate" => reason,
        _ => "Other",
    };

    /// <summary>What a person can do about it, by <see cref="Category"/>.</summary>
    public static string Remedy(string reason) => Category(reason) switch
    {
        "ImagePull" => "give the Job's pod a pull secret for the image in this namespace (chart value controller.imagePullSecrets) or correct the image",
        "CreateContainerConfigError" or "CreateContainerError" => "create the Secret, ConfigMap or key the pod mounts, or correct the Job's pod settings (chart controller: values)",
        "Unschedulable" => "make a node fit the Job's pod (chart values controller.nodeSelector, tolerations, affinity and resources.requests)",
        "FailedCreate" => "satisfy the ResourceQuota, LimitRange or admission policy that refused it (chart values controller.resources, podLabels, podAnnotations)",
        _ => "see kubectl describe on the Job and its pod",
    };

    /// <summary>What the Job's pods say: the first stuck one's reason, or whether one started.</summary>
    public static JobPodStart FromPods(string job, IEnumerable<V1Pod> pods, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(pods);
        var started = false;
        foreach (var pod in pods)
        {
            if (pod.Metadata?.DeletionTimestamp is not null)
            {
                continue;
            }

            var statuses = (pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.ContainerStatuses ?? []).ToList();
            if (pod.Status?.Phase is "Running" or "Succeeded" or "Failed" || statuses.Any(s => s.State?.Running is not null || s.State?.Terminated is not null))
            {
                started = true;
                continue;
            }

            if (statuses.Select(s => s.State?.Waiting).FirstOrDefault(w => w?.Reason is { } reason && StuckWaitingReasons.Contains(reason)) is { } waiting)
            {
                return new JobPodStart(job, false, waiting.Reason, waiting.Message ?? string.Empty);
            }

            if (pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False" && c.Reason == "Unschedulable") is { } unschedulable
                && (unschedulable.LastTransitionTime is not { } since || now - new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc)) >= UnschedulableGrace))
            {
                return new JobPodStart(job, false, "Unschedulable", unschedulable.Message ?? string.Empty);
            }
        }

        return new JobPodStart(job, started, null, null);
    }
}
