using System.Buffers;
using Gatekeeper.Kubernetes.Admission;

namespace Gatekeeper.Webhook;

/// <summary>
/// One webhook's decision logic: takes a parsed request, returns the response. Expected outcomes (deny, allow
/// with warnings, patch) are values; an exception means a bug or an outage the handler could not classify, and
/// <see cref="AdmissionEndpoint"/> turns it into a clear deny (or an allow where the namespace fails open).
/// </summary>
public interface IAdmissionHandler
{
    /// <summary>The metric and log label: mutate-deployments, validate-deployments, mutate-pods.</summary>
    string Webhook { get; }

    /// <summary>Whether an unexpected failure admits the object (pods: a missing gate is repaired by nobody, so no).</summary>
    bool FailsClosed { get; }

    /// <summary>Whether it calls the API server or a database, and so runs under the request budget (pods answer from memory).</summary>
    bool CallsOut { get; }

    ValueTask<AdmissionResponse> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// A handler that can also answer straight from the request body's bytes, without the parsed request: the pod webhook,
/// which answers every pod created in the cluster. <see cref="AdmissionEndpoint"/> tries this first and uses
/// <see cref="IAdmissionHandler.AdmitAsync"/> on the parsed request when it declines.
/// </summary>
public interface IInPlaceAdmissionHandler : IAdmissionHandler
{
    /// <summary>
    /// Writes the whole AdmissionReview answer into <paramref name="output"/> and returns the decision for the metric
    /// (allowed, patched, denied), or returns null, having written nothing, when the body needs the full reader (any body
    /// it would refuse, and odd ones).
    /// </summary>
    string? TryAnswerInPlace(ReadOnlySequence<byte> body, IBufferWriter<byte> output);
}
