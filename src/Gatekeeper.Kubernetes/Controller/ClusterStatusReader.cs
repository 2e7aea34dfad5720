using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>Where an opted-in Deployment's migration stands, as <c>gatekeeper cluster-status</c> prints it.</summary>
/// <param name="Job">The Job that speaks for the current plan (running, this attempt's, or one that succeeded), else the one the status names.</param>
/// <param name="JobState">Running, Succeeded, Failed, Deleted (named by the status but gone) or None.</param>
public sealed record RolloutRow(
    string Namespace,
    string Deployment,
    string? Plan,
    string? TargetVersion,
    string? Job,
    string JobState,
    int GatedPods,
    RolloutState? State,
    string? Reason,
    string? Message,
    DateTimeOffset? Since);

/// <summary>Reads opted-in Deployments, their migration Jobs and gated pods in one namespace or all: three lists, no watch.</summary>
public sealed class ClusterStatusReader(KubernetesApi kubernetes)
{
    public async Task<IReadOnlyList<RolloutRow>> ReadAsync(string? @namespace, CancellationToken cancellationToken)
    {
        var deployments = @namespace is null
            ? await kubernetes.ListDeploymentForAllNamespacesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)
            : await kubernetes.ListNamespacedDeploymentAsync(@namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        var jobs = @namespace is null
            ? await kubernetes.ListJobForAllNamespacesAsync(labelSelector: GatekeeperNames.PlanLabel, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await kubernetes.ListNamespacedJobAsync(@namespace, labelSelector: GatekeeperNames.PlanLabel, cancellationToken: cancellationToken).ConfigureAwait(false);
        var pods = @namespace is null
            ? await kubernetes.ListPodForAllNamespacesAsync(fieldSelector: ClusterWatch.UnscheduledPods, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await kubernetes.ListNamespacedPodAsync(@namespace, fieldSelector: ClusterWatch.UnscheduledPods, cancellationToken: cancellationToken).ConfigureAwait(false);

        var jobFacts = jobs.Items.Select(MigrationJobFacts.From).ToList();
        var gated = pods.Items.Select(GatedPod.From).OfType<GatedPod>().ToList();
        return deployments.Items
            .Where(DeploymentFacts.IsOptedIn)
            .Select(DeploymentFacts.From)
            .OrderBy(d => d.Namespace, StringComparer.Ordinal).ThenBy(d => d.Name, StringComparer.Ordinal)
            .Select(d => Row(d, jobFacts.Where(j => j.Namespace == d.Namespace).ToList(), gated))
            .ToList();
    }

    /// <summary>One row: pure, from what was listed.</summary>
    public static RolloutRow Row(DeploymentFacts deployment, IReadOnlyList<MigrationJobFacts> jobsInNamespace, IReadOnlyList<GatedPod> gated)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(jobsInNamespace);
        ArgumentNullException.ThrowIfNull(gated);
        var plan = deployment.Plan;
        var ofPlan = plan is null ? [] : jobsInNamespace.Where(j => j.IsForPlan(plan)).ToList();
        var job = ofPlan.FirstOrDefault(j => j.Phase == MigrationJobPhase.Running)
            ?? ofPlan.FirstOrDefault(j => j.Name == deployment.JobName)
            ?? ofPlan.FirstOrDefault(j => j.Phase == MigrationJobPhase.Succeeded);
        var status = deployment.Status;
        var (jobName, jobState) = job is not null ? (job.Name, job.Phase.ToString())
            : status?.Job is { } named && status.Plan == plan && plan is not null ? (named, "Deleted")
            : ((string?)null, "None");
        return new RolloutRow(
            deployment.Namespace,
            deployment.Name,
            plan,
            deployment.TargetVersion,
            jobName,
            jobState,
            gated.Count(p => p.Namespace == deployment.Namespace && plan is not null && p.Plan == plan),
            status?.State,
            status?.Reason,
            status?.Message,
            status?.Since);
    }
}
