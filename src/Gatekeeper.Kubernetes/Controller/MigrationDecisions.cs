using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Kubernetes.Events;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>Everything one reconcile of one Deployment looks at.</summary>
/// <param name="JobsOfPlan">Migration Jobs in the Deployment's namespace that carry its plan (any attempt, any Deployment).</param>
/// <param name="PlanKnownApplied">True when this replica knows the plan applied (a Job somewhere succeeded).</param>
/// <param name="GatedPodsOfPlan">Pods in the namespace held by Gatekeeper's gate for this plan.</param>
/// <param name="FailureDetail">What the failed Job's pod said, read when the failure is new (see <see cref="MigrationDecisions.JobToExplain"/>).</param>
public sealed record ReconcileInput(
    DeploymentFacts Deployment,
    IReadOnlyList<MigrationJobFacts> JobsOfPlan,
    bool PlanKnownApplied,
    IReadOnlyList<GatedPod> GatedPodsOfPlan,
    string? FailureDetail,
    DateTimeOffset Now)
{
    /// <summary>How the pod of the running Job of this plan is doing (null when no Job of the plan runs).</summary>
    public JobPodStart? JobPod { get; init; }
}

/// <summary>An Event for <c>kubectl describe deployment</c>.</summary>
public sealed record ControllerEvent(EventSeverity Severity, string Reason, string Message);

public enum MigrationJobResult
{
    Succeeded,
    Failed,
}

/// <summary>A Job whose end this reconcile reports (once: with the status transition), for the metrics.</summary>
public sealed record FinishedJob(string Job, MigrationJobResult Result, TimeSpan? Duration);

/// <summary>What to do for one Deployment. The executor does it in this order: create the Job, mark the plan applied,
/// release the pods, write the status, record the Event (after a create, only when the create succeeded).</summary>
/// <param name="CreateJob">The name of the Job to create, or null.</param>
/// <param name="Status">The status to write, or null when the one on the Deployment already says it.</param>
public sealed record ReconcileDecision(
    string? CreateJob,
    bool MarkPlanApplied,
    IReadOnlyList<GatedPod> Release,
    DeploymentStatus? Status,
    ControllerEvent? Event,
    FinishedJob? Finished)
{
    public static ReconcileDecision Nothing { get; } = new(null, false, [], null, null, null);

    /// <summary>Look at the Deployment again after this long even when nothing changes (a Job's pod that has not started yet).</summary>
    public TimeSpan? LookAgainAfter { get; init; }

    /// <summary>The <see cref="JobPodStart.Category"/> of a Job that newly cannot start its pod, for the metric.</summary>
    public string? CannotStart { get; init; }
}

/// <summary>
/// The controller's decisions as pure functions: which Job to create, which pods to release, what to report.
/// Safety rests on three rules. A pod is released only when its plan is applied (a Job for it succeeded, or the
/// controller recorded so). At most one Job per attempt exists (the name is derived from the attempt, and a Job
/// for the plan that still runs is waited for, whichever attempt started it). A failed attempt is not run again
/// by itself: only a new plan, a new pod template or a bumped <c>gatekeeper.dev/retry</c> make a new attempt.
/// </summary>
public static class MigrationDecisions
{
    public static ReconcileDecision Decide(ReconcileInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var deployment = input.Deployment;
        if (deployment.Annotations.Annotations is null)
        {
            var problems = string.Join("; ", deployment.Annotations.Problems.Select(p => p.Message));
            return Report(input, RolloutState.Stalled, StatusReasons.AnnotationInvalid,
                $"the gatekeeper.dev annotations cannot be used: {problems}", deployment.Plan, job: null, EventSeverity.Warning);
        }

        if (deployment.Plan is not { } plan)
        {
            return Report(input, RolloutState.Ready, StatusReasons.UpToDate, "no migration is pending for this pod template", plan: null, job: null, severity: null);
        }

        var name = deployment.JobName!;
        var jobs = input.JobsOfPlan.Where(j => j.IsForPlan(plan)).ToList();
        var succeeded = jobs.Where(j => j.Phase == MigrationJobPhase.Succeeded).OrderByDescending(j => j.FinishTime).FirstOrDefault();
        var recordedApplied = deployment.Status is { } recorded
            && ((recorded.Reason == StatusReasons.Applied && recorded.Plan == plan) || recorded.AppliedPlans.Contains(plan, StringComparer.Ordinal));
        if (input.PlanKnownApplied || succeeded is not null || recordedApplied)
        {
            return Applied(input, plan, succeeded);
        }

        if (jobs.FirstOrDefault(j => j.Phase == MigrationJobPhase.Running) is { } running)
        {
            var pod = input.JobPod is { } known && known.Job == running.Name ? known : null;
            if (pod is { Reason: { } stuck })
            {
                return NotStarting(input, plan, running, stuck, pod.Message ?? string.Empty) with { LookAgainAfter = StartCheckInterval };
            }

            var waiting = Report(input, RolloutState.Reconciling, StatusReasons.Migrating, Migrating(running.Name, plan, deployment.TargetVersion),
                plan, running.Name, EventSeverity.Normal, StatusReasons.MigrationStarted);
            // Until its pod runs, a Job can get stuck where nothing changes (no pod created, an image that never pulls).
            return pod is { PodStarted: true } ? waiting : waiting with { LookAgainAfter = StartCheckInterval };
        }

        var current = jobs.FirstOrDefault(j => j.Name == name);
        if (current is { Phase: MigrationJobPhase.Failed })
        {
            return Failed(input, plan, current);
        }

        if (deployment.Status is { Reason: StatusReasons.MigrationFailed } failed && failed.Job == name && failed.Plan == plan)
        {
            // The failed Job is gone (its TTL, or a person): the failure stands until the attempt changes.
            return ReconcileDecision.Nothing;
        }

        if (deployment.Paused)
        {
            // A paused Deployment makes no ReplicaSet for its new template, so no pod waits for this plan yet; running it
            // now would change the database under a rollout that may never come. The resume starts the Job.
            return Report(input, RolloutState.Reconciling, StatusReasons.Paused,
                $"the Deployment is paused: plan {Hashes.Short(plan)}{Target(deployment.TargetVersion)} is applied by Job {name} when it is resumed (kubectl rollout resume), " +
                "and its new pods wait for that Job", plan, job: null, EventSeverity.Normal);
        }

        var restarted = deployment.Status is { Reason: StatusReasons.Migrating } migrating && migrating.Job == name && migrating.Plan == plan;
        var status = Status(input, RolloutState.Reconciling, StatusReasons.Migrating, Migrating(name, plan, deployment.TargetVersion), plan, name);
        var message = restarted
            ? $"Job {name} disappeared before it finished; started it again to apply plan {Hashes.Short(plan)}"
            : $"Started Job {name} to apply plan {Hashes.Short(plan)}{Target(deployment.TargetVersion)}";
        return new ReconcileDecision(name, false, [], status.SameAs(deployment.Status) ? null : status,
            new ControllerEvent(EventSeverity.Normal, StatusReasons.MigrationStarted, message), null);
    }

    /// <summary>
    /// The Job of the current attempt when it failed and the Deployment's status does not say so yet: its pod's
    /// termination message is worth one read, to name the failing migration and the database's message.
    /// </summary>
    public static string? JobToExplain(DeploymentFacts deployment, IReadOnlyList<MigrationJobFacts> jobsOfPlan)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(jobsOfPlan);
        if (deployment.JobName is not { } name || deployment.Annotations.Annotations is null)
        {
            return null;
        }

        var current = jobsOfPlan.FirstOrDefault(j => j.Name == name);
        if (current is not { Phase: MigrationJobPhase.Failed } || jobsOfPlan.Any(j => j.Phase != MigrationJobPhase.Failed && j.IsForPlan(deployment.Plan!)))
        {
            return null;
        }

        return deployment.Status is { Reason: StatusReasons.MigrationFailed } recorded && recorded.Job == name ? null : name;
    }

    /// <summary>The Job could not be created (a source it mounts is missing, or another Job holds its name): held until a person fixes it.</summary>
    public static ReconcileDecision CannotCreate(ReconcileInput input, string reason, string message)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Report(input, RolloutState.Stalled, reason, message, input.Deployment.Plan, input.Deployment.JobName, EventSeverity.Warning);
    }

    private static ReconcileDecision Applied(ReconcileInput input, string plan, MigrationJobFacts? succeeded)
    {
        var deployment = input.Deployment;
        var previous = deployment.Status;
        var job = succeeded?.Name ?? (previous is { Reason: StatusReasons.Applied } && previous.Plan == plan ? previous.Job : null);
        var status = Status(input, RolloutState.Ready, StatusReasons.Applied,
            $"plan {Hashes.Short(plan)} is applied{Target(deployment.TargetVersion)}; pods of this plan are released", plan, job).Remembering(plan);
        var transition = !status.SameConclusion(previous);
        ControllerEvent? @event = null;
        FinishedJob? finished = null;
        if (transition)
        {
            var pods = input.GatedPodsOfPlan.Count;
            var release = pods == 0 ? string.Empty : $"; releasing {pods} gated pod{(pods == 1 ? string.Empty : "s")}";
            @event = new ControllerEvent(EventSeverity.Normal, StatusReasons.MigrationSucceeded, succeeded is not null
                ? $"Job {succeeded.Name} applied plan {Hashes.Short(plan)}{Took(succeeded.Duration)}{release}"
                : $"Plan {Hashes.Short(plan)} is already applied{release}");
            finished = succeeded is null ? null : new FinishedJob(succeeded.Name, MigrationJobResult.Succeeded, succeeded.Duration);
        }

        return new ReconcileDecision(null, true, input.GatedPodsOfPlan, status.SameAs(previous) ? null : status, @event, finished);
    }

    /// <summary>How often a running Job whose pod has not started is looked at again: well within the minute people wait to learn why.</summary>
    public static TimeSpan StartCheckInterval { get; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often a Job that could not be created because a ConfigMap or Secret it mounts is missing or invalid is tried
    /// again: nothing watches those, and a person who creates or fixes one should not wait for the resync.
    /// </summary>
    public static TimeSpan SourceCheckInterval { get; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The running Job's pod cannot start. Gatekeeper reports it and leaves the Job be: the pod has applied nothing, the
    /// kubelet and the Job controller retry on their own, so fixing the cause (a pull secret, the quota) lets the same
    /// Job run; only its deadline ends it.
    /// </summary>
    private static ReconcileDecision NotStarting(ReconcileInput input, string plan, MigrationJobFacts job, string reason, string detail)
    {
        var category = JobPodStart.Category(reason);
        var previous = input.Deployment.Status;
        var timeout = input.Deployment.Annotations.Annotations!.JobTimeout;
        var words = $"Job {job.Name} cannot start its pod ({category}): {reason}: {FailureMessages.Clean(detail)}";
        var message = $"{words}. Pods of plan {Hashes.Short(plan)} stay gated while the old pods keep serving; {JobPodStart.Remedy(reason)}. "
            + $"The Job keeps trying until its {FailureMessages.Duration(timeout)} deadline ({GatekeeperNames.JobTimeout}), so the migration runs once that is fixed";
        var status = Status(input, RolloutState.Stalled, StatusReasons.JobNotStarting, message, plan, job.Name);
        if (status.SameConclusion(previous) && previous!.Message.Contains($"({category})", StringComparison.Ordinal))
        {
            // Said already; ErrImagePull and ImagePullBackOff take turns, and the first words (the registry's) stay.
            return ReconcileDecision.Nothing;
        }

        return new ReconcileDecision(null, false, [], status, new ControllerEvent(EventSeverity.Warning, StatusReasons.JobNotStarting, $"{words}; {JobPodStart.Remedy(reason)}"), null)
        {
            CannotStart = category,
        };
    }

    private static ReconcileDecision Failed(ReconcileInput input, string plan, MigrationJobFacts job)
    {
        var deployment = input.Deployment;
        var previous = deployment.Status;
        if (previous is { Reason: StatusReasons.MigrationFailed } && previous.Job == job.Name && previous.Plan == plan)
        {
            // Already reported with the pod's own words; nothing new to say.
            return ReconcileDecision.Nothing;
        }

        var detail = input.FailureDetail ?? FailureMessages.FromCondition(job.ConditionReason, job.ConditionMessage, deployment.Annotations.Annotations!.JobTimeout);
        var message = $"Job {job.Name} failed to apply plan {Hashes.Short(plan)}: {detail}. Pods of this plan stay gated while the old pods keep serving; "
            + NextStep(deployment, plan, detail);
        var status = Status(input, RolloutState.Stalled, StatusReasons.MigrationFailed, message, plan, job.Name);
        return new ReconcileDecision(null, false, [], status,
            new ControllerEvent(EventSeverity.Warning, StatusReasons.MigrationFailed, $"Job {job.Name} failed to apply plan {Hashes.Short(plan)}: {detail}"),
            new FinishedJob(job.Name, MigrationJobResult.Failed, job.Duration));
    }

    /// <summary>
    /// What a person does after a failed attempt. The attempt runs the plan stamped at admission, and the Job refuses any
    /// other (<c>--expect-plan</c>): once the files are fixed, only a new rollout (which the webhook plans again) runs
    /// them; a retry (<see cref="GatekeeperNames.Retry"/>) runs the same plan again, which helps only when nothing in the
    /// files had to change, and is not offered when the Job said the plan no longer matches.
    /// </summary>
    private static string NextStep(DeploymentFacts deployment, string plan, string detail)
    {
        var rollout = $"kubectl -n {deployment.Namespace} rollout restart deployment/{deployment.Name}";
        return PlanVerdictMessages.IsPlanChanged(detail)
            ? $"the migrations or the database changed since plan {Hashes.Short(plan)} was admitted, so it cannot run again as it is: roll out again ({rollout}) and Gatekeeper plans what is there now"
            : $"fix the migration file and roll out again ({rollout}), which plans the fixed files; only if nothing in the files has to change "
                + $"(the database was unreachable, a lock timed out, the data was corrected in the database) change the {GatekeeperNames.Retry} annotation to run this same plan again";
    }

    private static ReconcileDecision Report(ReconcileInput input, RolloutState state, string reason, string message, string? plan, string? job,
        EventSeverity? severity, string? eventReason = null)
    {
        var previous = input.Deployment.Status;
        var status = Status(input, state, reason, message, plan, job);
        if (status.SameAs(previous))
        {
            return ReconcileDecision.Nothing;
        }

        var @event = severity is { } level && !status.SameConclusion(previous) ? new ControllerEvent(level, eventReason ?? reason, message) : null;
        return new ReconcileDecision(null, false, [], status, @event, null);
    }

    /// <summary>
    /// A new status that keeps the remembered applied plans; its <see cref="DeploymentStatus.Since"/> stays when only the
    /// message changed.
    /// </summary>
    private static DeploymentStatus Status(ReconcileInput input, RolloutState state, string reason, string message, string? plan, string? job)
    {
        var previous = input.Deployment.Status;
        var status = new DeploymentStatus(state, reason, DeploymentStatus.Cut(message), plan, job, input.Now) { AppliedPlans = previous?.AppliedPlans ?? [] };
        return status.SameConclusion(previous) ? status with { Since = previous!.Since } : status;
    }

    private static string Migrating(string job, string plan, string? target) => $"Job {job} is applying plan {Hashes.Short(plan)}{Target(target)}";

    /// <summary>The first 12 characters of a plan hash, as people quote it.</summary>

    private static string Target(string? version) => version is null ? string.Empty : $" (target version {version})";

    private static string Took(TimeSpan? duration) => duration is { } value ? $" in {FailureMessages.Duration(value)}" : string.Empty;
}
