using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Deployments;
using Gatekeeper.Kubernetes.Events;
using Gatekeeper.Webhook.Planning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Webhook;

/// <summary>
/// <c>POST /validate/deployments</c>: lints and dry-runs the plan the mutating step stamped, and denies with a
/// message a person can act on, or admits with warnings. A <c>dryRun</c> request gets the same verdict with no side
/// effect (no Event, no metric of a decision that was not made).
/// </summary>
public sealed class DeploymentValidation(
    RolloutPlanner planner,
    PlanJudge judge,
    DeploymentDecisionRecorder recorder,
    IOptions<WebhookOptions> options,
    TimeProvider timeProvider) : IAdmissionHandler
{
    public string Webhook => "validate-deployments";

    public bool FailsClosed => true;

    public bool CallsOut => true;

    public async ValueTask<AdmissionResponse> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (DeploymentRequest.From(request) is not { } deployment)
        {
            return AdmissionResponse.Allow(request.Uid);
        }

        using var activity = WebhookTracing.Source.StartActivity("admission " + Webhook);
        activity?.SetTag("k8s.namespace.name", deployment.Namespace);
        activity?.SetTag("k8s.deployment.name", deployment.Name);
        activity?.SetTag("gatekeeper.dry_run_request", request.DryRun);
        var parsed = MigrationAnnotationParser.Parse(deployment.Annotations);
        if (parsed.Annotations is not { } annotations)
        {
            return await RecordAsync(deployment, PlanVerdict.Deny(PlanFailureReasons.AnnotationInvalid, AnnotationMessage(deployment, parsed), []), null, cancellationToken).ConfigureAwait(false);
        }

        var stamp = PlanStamp.Read(deployment.Object);
        if (deployment.TemplateUnchanged && stamp == PlanStamp.Read(deployment.OldObject!.Value))
        {
            // No rollout follows this update, so no migration runs for it.
            return AdmissionResponse.Allow(request.Uid, parsed.Warnings);
        }

        var deadline = AdmissionDeadline.From(options.Value, timeProvider);
        var outcome = await planner.PlanAsync(deployment.Namespace, annotations, deadline, cancellationToken).ConfigureAwait(false);
        PlanVerdict verdict;
        if (outcome.Failure is { } failure)
        {
            verdict = PlanVerdict.Deny(failure.Reason, $"gatekeeper: cannot plan {deployment.Namespace}/{deployment.Name}: {failure.Message}", [], failure.Undecidable);
        }
        else
        {
            var plan = outcome.Planned!.Cached.Plan;
            var expected = plan.IsEmpty ? null : plan.Hash;
            verdict = stamp.Plan != expected
                ? PlanVerdict.Deny(RejectionReasons.StaleStamp,
                    $"gatekeeper: the pod template of {deployment.Namespace}/{deployment.Name} carries plan {stamp.Plan ?? "(none)"} but the plan is now {expected ?? "(none)"}; " +
                    "the database or the migrations changed during the apply, apply again", [])
                : await judge.JudgeAsync(deployment, annotations, outcome.Planned, deadline, cancellationToken).ConfigureAwait(false);
        }

        if (!verdict.Allowed && verdict.Undecidable && options.Value.FailsOpenIn(deployment.Namespace))
        {
            verdict = PlanVerdict.Allow([$"gatekeeper: admitted without a check because the namespace fails open: {verdict.Message}"]);
        }

        return await RecordAsync(deployment, verdict with { Warnings = [.. parsed.Warnings, .. verdict.Warnings] }, outcome.Planned, cancellationToken).ConfigureAwait(false);
    }

    private async Task<AdmissionResponse> RecordAsync(DeploymentRequest deployment, PlanVerdict verdict, PlannedRollout? rollout, CancellationToken cancellationToken)
    {
        await recorder.RecordAsync(deployment, verdict, rollout, Webhook, cancellationToken).ConfigureAwait(false);
        return verdict.Allowed
            ? AdmissionResponse.Allow(deployment.Admission.Uid, verdict.Warnings)
            : AdmissionResponse.Deny(deployment.Admission.Uid, StatusCodeFor(verdict.Reason), verdict.Message!, verdict.Warnings);
    }

    internal static string AnnotationMessage(DeploymentRequest deployment, MigrationAnnotationsParseResult parsed) =>
        $"gatekeeper: the annotations of {deployment.Namespace}/{deployment.Name} cannot be used\n" +
        string.Concat(parsed.Problems.Select(p => $"  {p.Message}\n")) +
        "To proceed: correct the annotation values above (see the annotation table in Gatekeeper's README).";

    /// <summary>403 for a plan judged unsafe, 422 for configuration a person must fix, 503 when Gatekeeper could not decide.</summary>
    internal static int StatusCodeFor(string reason) => reason switch
    {
        PlanFailureReasons.DatabaseUnreachable or PlanFailureReasons.KubernetesUnreachable => 503,
        PlanFailureReasons.AnnotationInvalid or PlanFailureReasons.SourceInvalid or PlanFailureReasons.SecretInvalid => 422,
        _ => 403,
    };
}

/// <summary>
/// The side effects of a real (not dry-run) Deployment decision: the rejection and pending-migration metrics, a log
/// line, and an Event on the Deployment. A failure to record an Event never changes the verdict.
/// </summary>
public sealed class DeploymentDecisionRecorder(AdmissionMetrics metrics, DeploymentEventRecorder events, ILogger<DeploymentDecisionRecorder> logger)
{
    public async Task RecordAsync(DeploymentRequest deployment, PlanVerdict verdict, PlannedRollout? rollout, string webhook, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(verdict);
        var admission = deployment.Admission;
        Log.DeploymentDecision(logger, webhook, verdict.Allowed ? "admitted" : "denied", deployment.Namespace, deployment.Name,
            admission.Operation.ToString(), admission.DryRun, admission.UserInfo.Username ?? string.Empty, verdict.Reason);
        if (admission.DryRun)
        {
            return;
        }

        var pending = rollout?.Cached.Plan.Pending.Count ?? 0;
        if (verdict.Allowed)
        {
            metrics.RecordPending(deployment.Namespace, deployment.Name, pending);
        }
        else
        {
            metrics.RecordRejection(deployment.Namespace, deployment.Name, verdict.Reason);
        }

        if (verdict.Allowed && pending == 0)
        {
            return;
        }

        try
        {
            await events.RecordAsync(deployment.Namespace, deployment.Name, ExistingUid(deployment),
                verdict.Allowed ? EventSeverity.Normal : EventSeverity.Warning,
                verdict.Allowed ? "Planned" : "PlanRejected",
                verdict.Allowed ? verdict.Warnings.FirstOrDefault(w => w.StartsWith("gatekeeper: plan", StringComparison.Ordinal)) ?? "planned" : verdict.Message!,
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.EventNotRecorded(logger, verdict.Reason, deployment.Namespace, deployment.Name, e.GetType().Name);
        }
    }

    private static string? ExistingUid(DeploymentRequest deployment) =>
        deployment.OldObject is { } old && old.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("uid", out var uid)
            ? uid.GetString()
            : null;
}
