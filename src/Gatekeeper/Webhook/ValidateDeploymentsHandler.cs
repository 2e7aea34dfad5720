using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Deployments;

namespace Gatekeeper.Webhook;

/// <summary>
/// <c>POST /validate/deployments</c>: decides (<see cref="DeploymentValidation"/>), records the decision
/// (<see cref="DeploymentDecisionRecorder"/>), and answers: a deny with a message a person can act on, or an allow with
/// warnings. A <c>dryRun</c> request gets the same verdict with no side effect.
/// </summary>
public sealed class ValidateDeploymentsHandler(DeploymentValidation validation, DeploymentDecisionRecorder recorder) : IAdmissionHandler
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
        if (await validation.DecideAsync(deployment, parsed, cancellationToken).ConfigureAwait(false) is not { } decision)
        {
            return AdmissionResponse.Allow(request.Uid, parsed.Warnings);
        }

        var verdict = decision.Verdict with { Warnings = [.. parsed.Warnings, .. decision.Verdict.Warnings] };
        await recorder.RecordAsync(deployment, verdict, decision.Rollout, Webhook, cancellationToken).ConfigureAwait(false);
        return verdict.Allowed
            ? AdmissionResponse.Allow(request.Uid, verdict.Warnings)
            : AdmissionResponse.Deny(request.Uid, DeploymentValidation.StatusCodeFor(verdict.Reason), verdict.Message!, verdict.Warnings);
    }
}
