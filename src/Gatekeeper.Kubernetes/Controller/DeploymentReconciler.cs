using System.Collections.Concurrent;
using System.Net;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Kubernetes.Pods;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// Carries out <see cref="MigrationDecisions"/>'s decisions for one Deployment or one gated pod: gathers the facts
/// from the <see cref="ClusterWatch"/>, asks for the decision, then creates the Job, marks the plan applied for the
/// pod webhook, releases pods, writes the status and records the Event, in that order.
/// </summary>
public sealed class DeploymentReconciler(
    MigrationJobClient jobs,
    PodUngater ungater,
    DeploymentReporter reporter,
    AppliedPlans appliedPlans,
    IMigrationControllerMetrics metrics,
    ILogger logger)
{
    /// <summary>Statuses the API server refused to store, by Deployment, so the same refusal is not asked for again and again.</summary>
    private readonly ConcurrentDictionary<string, string> refusedStatuses = new(StringComparer.Ordinal);

    /// <summary>A record another leader changed meanwhile is read again and decided afresh, at most this many times in a row.</summary>
    private const int MaxStatusConflicts = 3;

    /// <summary>
    /// Decides and acts for one Deployment; the outcome says when to look at it again without a change to see, or that
    /// the decision could not be written and the Deployment must be decided again after a back-off.
    /// </summary>
    public async Task<ReconcileOutcome> ReconcileAsync(V1Deployment deployment, ClusterWatch cluster, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(cluster);
        using var activity = ControllerTracing.Source.StartActivity("reconcile");
        activity?.SetTag("k8s.namespace.name", deployment.Metadata?.NamespaceProperty);
        activity?.SetTag("k8s.deployment.name", deployment.Metadata?.Name);
        for (var conflicts = 0; ; conflicts++)
        {
            var facts = DeploymentFacts.From(deployment);
            activity?.SetTag("gatekeeper.plan.release_key", facts.Plan);
            foreach (var remembered in facts.Status?.AppliedPlans ?? [])
            {
                // What the record remembers outlives the Jobs (their TTL); learning it adds, never removes.
                appliedPlans.MarkApplied(facts.Namespace, facts.Name, facts.Uid, remembered);
            }

            var jobsOfPlan = facts.Plan is { } plan ? cluster.JobsOfPlan(facts, plan, jobs.Signer) : [];
            var gated = facts.Plan is { } gatedPlan ? cluster.GatedPods(facts.Namespace, facts.Name, gatedPlan) : [];
            var detail = MigrationDecisions.JobToExplain(facts, jobsOfPlan) is { } failedJob
                ? await jobs.ExplainFailureAsync(facts.Namespace, failedJob, cancellationToken).ConfigureAwait(false)
                : null;
            var known = facts.Plan is not null && appliedPlans.IsApplied(facts.Namespace, facts.Name, facts.Uid, facts.Plan);
            var input = new ReconcileInput(facts, jobsOfPlan, known, gated, detail, now)
            {
                JobPod = await JobPodAsync(facts, jobsOfPlan, cluster, now, cancellationToken).ConfigureAwait(false),
            };
            var decision = MigrationDecisions.Decide(input);
            var (fresh, lookAgainAfter) = await ExecuteAsync(deployment, input, decision, cluster, now, cancellationToken).ConfigureAwait(false);
            if (fresh is null)
            {
                return ReconcileOutcome.Done(lookAgainAfter);
            }

            if (conflicts == MaxStatusConflicts)
            {
                // Dropping the key here would leave the decision unwritten until some later event or the resync (the
                // watch event of the conflicting write may already be spent on the copy read back): the queue decides
                // again after its back-off.
                return ReconcileOutcome.NotWritten($"the record changed under {MaxStatusConflicts + 1} decisions in a row");
            }

            // Another leader wrote the record since this one read it: decide again from what it says now.
            Log.StatusConflict(logger, facts.Namespace, facts.Name);
            cluster.Deployments.Remember(fresh);
            deployment = fresh;
        }
    }

    /// <summary>
    /// How the pod of the plan's running Job is doing, from the watched migration pods; when the Job has made no pod for
    /// a few seconds, its FailedCreate Events say why (a ResourceQuota, a LimitRange, an admission policy).
    /// </summary>
    private async Task<JobPodStart?> JobPodAsync(DeploymentFacts facts, IReadOnlyList<MigrationJobFacts> jobsOfPlan, ClusterWatch cluster, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (facts.Plan is null || jobsOfPlan.FirstOrDefault(j => j.Phase == MigrationJobPhase.Running) is not { } running)
        {
            return null;
        }

        var pods = cluster.PodsOfJob(facts.Namespace, running.Name);
        var start = JobPodStart.FromPods(running.Name, pods, now);
        if (pods.Count > 0 || running.Uid.Length == 0 || running.Created is not { } created || now - created < FailedCreateGrace)
        {
            return start;
        }

        return await jobs.ExplainMissingPodAsync(facts.Namespace, running, cancellationToken).ConfigureAwait(false) ?? start;
    }

    /// <summary>A Job's pod usually exists within a second of the Job; only after this long is its absence asked about.</summary>
    private static readonly TimeSpan FailedCreateGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Releases one gated pod when its plan is known applied for its own Deployment, or when that Deployment no longer
    /// opted in (its pods were stamped before the annotation was removed). A pod of a plan not yet applied stays gated.
    /// </summary>
    public async Task ReleaseIfAppliedAsync(GatedPod pod, ClusterWatch cluster, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(cluster);
        if (pod.Deployment is not { } name)
        {
            // No ReplicaSet made it, so no rollout waits for it; the pod webhook does not gate such pods.
            return;
        }

        if (cluster.Deployments.Get(pod.Namespace, name) is { } deployment)
        {
            if (appliedPlans.IsApplied(pod.Namespace, name, deployment.Metadata.Uid ?? string.Empty, pod.Plan))
            {
                await ReleaseAsync(pod, now, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        // Not among the opted-in Deployments this leader follows: ask the API server, which has the last word.
        if (await reporter.ReadDeploymentAsync(pod.Namespace, name, cancellationToken).ConfigureAwait(false) is { } current && !DeploymentFacts.IsOptedIn(current))
        {
            Log.PodOfOptedOutDeployment(logger, pod.Namespace, pod.Name, name);
            await ReleaseAsync(pod, now, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Carries out one decision: returns the Deployment as it is now when its record changed under the decision, and when
    /// to look again (the decision carried out may be another than the one given: a Job that could not be created).
    /// </summary>
    private async Task<Executed> ExecuteAsync(V1Deployment seen, ReconcileInput input, ReconcileDecision decision, ClusterWatch cluster, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var facts = input.Deployment;
        var recordEvent = true;
        if (decision.CreateJob is { } jobName)
        {
            var outcome = await jobs.LaunchAsync(facts, cancellationToken).ConfigureAwait(false);
            switch (outcome.Result)
            {
                case LaunchResult.Created:
                    cluster.Jobs.Remember(outcome.Job!);
                    Log.JobCreated(logger, facts.Namespace, jobName, facts.Name, Hashes.Short(facts.Plan!));
                    break;
                case LaunchResult.AlreadyExists when outcome.Job is { } squatter && !jobs.Signer.Created(squatter, facts.Uid):
                    // Someone else's Job holds the attempt's name: it proves nothing, and Gatekeeper's own cannot be created.
                    Log.JobNotGatekeepers(logger, facts.Namespace, jobName, facts.Name);
                    decision = MigrationDecisions.CannotCreate(input, StatusReasons.JobConflict,
                        $"Job {facts.Namespace}/{jobName} exists but Gatekeeper did not create it for this Deployment, so it proves nothing and blocks the migration; " +
                        $"delete it (kubectl -n {facts.Namespace} delete job {jobName}) and Gatekeeper starts its own");
                    break;
                case LaunchResult.AlreadyExists:
                    // Another leader (or this one before a restart) created it; the next decision looks at it.
                    recordEvent = false;
                    if (outcome.Job is { } existing && MigrationJobFacts.From(existing).IsForPlan(facts.Plan!))
                    {
                        cluster.Jobs.Remember(existing);
                    }

                    Log.JobAlreadyExists(logger, facts.Namespace, jobName);
                    break;
                case LaunchResult.Blocked:
                    Log.JobBlocked(logger, facts.Namespace, facts.Name, outcome.Reason!, outcome.Problem!);
                    // Nothing watches the ConfigMaps and Secrets a Job mounts: their arrival or repair is looked for again
                    // every SourceCheckInterval, not only at the next resync.
                    decision = MigrationDecisions.CannotCreate(input, outcome.Reason!, outcome.Problem!) with { LookAgainAfter = MigrationDecisions.SourceCheckInterval };
                    break;
            }
        }

        if (decision.MarkPlanApplied && facts.Plan is { } plan)
        {
            appliedPlans.MarkApplied(facts.Namespace, facts.Name, facts.Uid, plan);
        }

        foreach (var pod in decision.Release)
        {
            await ReleaseAsync(pod, now, cancellationToken).ConfigureAwait(false);
        }

        if (decision.Status is { } status)
        {
            var key = $"{facts.Namespace}/{facts.Name}";
            var signature = $"{status.State}|{status.Reason}|{status.Plan}|{status.Job}|{status.Message}";
            if (refusedStatuses.TryGetValue(key, out var refused) && refused == signature)
            {
                return new Executed(null, decision.LookAgainAfter);
            }

            try
            {
                var write = await reporter.WriteStatusAsync(seen, status, cancellationToken).ConfigureAwait(false);
                if (write.Conflicted)
                {
                    return new Executed(write.Fresh, null);
                }

                if (write.Written is not { } written)
                {
                    return new Executed(null, decision.LookAgainAfter);
                }

                refusedStatuses.TryRemove(key, out _);

                // The next decision must see this status, not the one before it, or it would report the same change twice.
                cluster.Deployments.Remember(written);
                Log.StatusWritten(logger, facts.Namespace, facts.Name, status.State.ToString(), status.Reason);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Forbidden)
            {
                // RBAC or a policy refused the write. Asking again cannot help until the Deployment changes; the Event
                // below still tells people, once.
                refusedStatuses[key] = signature;
                Log.StatusRefused(logger, facts.Namespace, facts.Name, (int)e.Response.StatusCode);
            }
        }

        if (decision.Finished is { } finished)
        {
            metrics.JobFinished(facts.Namespace, facts.Name, finished.Result, finished.Duration);
        }

        if (decision.CannotStart is { } category)
        {
            metrics.JobCannotStart(facts.Namespace, facts.Name, category);
            Log.JobCannotStart(logger, facts.Namespace, input.JobPod?.Job ?? string.Empty, input.JobPod?.Reason ?? category);
        }

        if (decision.Event is { } @event && recordEvent)
        {
            try
            {
                await reporter.RecordAsync(facts, @event, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e)
            {
                // An Event is for people; losing one must not hold the controller back.
                Log.ControllerEventNotRecorded(logger, @event.Reason, facts.Namespace, facts.Name, $"HTTP {(int)e.Response.StatusCode}");
            }
        }

        return new Executed(null, decision.LookAgainAfter);
    }

    private async Task ReleaseAsync(GatedPod pod, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var outcome = await ungater.ReleaseAsync(pod, cancellationToken).ConfigureAwait(false);
        if (outcome == ReleaseOutcome.Released)
        {
            var waited = now > pod.CreatedAt ? now - pod.CreatedAt : TimeSpan.Zero;
            metrics.PodReleased(pod.Namespace, waited);
            Log.PodReleased(logger, pod.Namespace, pod.Name, Hashes.Short(pod.Plan), Math.Round(waited.TotalSeconds, 1));
        }
        else
        {
            Log.PodNotReleased(logger, pod.Namespace, pod.Name, outcome.ToString());
        }
    }
}

/// <summary>How one reconcile of a Deployment ended.</summary>
/// <param name="LookAgainAfter">Look again after this long even without a change (null: at the next change).</param>
/// <param name="NotWrittenBecause">Set when the decision could not be written: the Deployment is decided again after a back-off.</param>
public sealed record ReconcileOutcome(TimeSpan? LookAgainAfter, string? NotWrittenBecause)
{
    public static ReconcileOutcome Done(TimeSpan? lookAgainAfter) => new(lookAgainAfter, null);

    public static ReconcileOutcome NotWritten(string because) => new(null, because);
}

/// <summary>What carrying out a decision left: the Deployment as it is now when its record changed under it, and when to look again.</summary>
internal readonly record struct Executed(V1Deployment? Fresh, TimeSpan? LookAgainAfter);
