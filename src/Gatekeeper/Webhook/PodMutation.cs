using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Kubernetes.Pods;

namespace Gatekeeper.Webhook;

/// <summary>
/// <c>POST /mutate/pods</c>: holds a new pod with the <c>gatekeeper.dev/migration</c> scheduling gate until its
/// plan is applied for its Deployment. Answers from memory only; no API or database call per pod.
/// </summary>
public sealed class PodMutation(AppliedPlans appliedPlans) : IAdmissionHandler
{
    public string Webhook => "mutate-pods";

    public bool FailsClosed => true;

    public bool CallsOut => false;

    public ValueTask<AdmissionResponse> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Object is not { } pod)
        {
            return ValueTask.FromResult(AdmissionResponse.Allow(request.Uid));
        }

        var decision = PodGate.Decide(request.Operation == AdmissionOperation.Create, request.Namespace ?? string.Empty, pod, appliedPlans);
        return ValueTask.FromResult(decision.Verdict == PodGateVerdict.Gate
            ? AdmissionResponse.Allow(request.Uid, patch: decision.Patch)
            : AdmissionResponse.Allow(request.Uid));
    }
}
