using System.Text.Json;

namespace Gatekeeper.Kubernetes.Admission;

/// <summary>admission.k8s.io/v1 operations.</summary>
public enum AdmissionOperation
{
    Create,
    Update,
    Delete,
    Connect,
}

public sealed record GroupVersionKind(string Group, string Version, string Kind);

public sealed record GroupVersionResource(string Group, string Version, string Resource);

/// <summary>Who asked: shown in logs, never used to decide.</summary>
public sealed record AdmissionUserInfo(string? Username, string? Uid, IReadOnlyList<string> Groups);

/// <summary>
/// An <c>AdmissionReview.request</c> of admission.k8s.io/v1 (KubernetesClient has no model for it). The
/// <see cref="JsonElement"/> members point into the request body's <see cref="JsonDocument"/> and live only as
/// long as it does: the handlers read what they need while the request is being answered.
/// </summary>
public sealed record AdmissionRequest(
    string Uid,
    GroupVersionKind Kind,
    GroupVersionResource Resource,
    string? SubResource,
    string? Name,
    string? Namespace,
    AdmissionOperation Operation,
    AdmissionUserInfo UserInfo,
    JsonElement? Object,
    JsonElement? OldObject,
    JsonElement? Options,
    bool DryRun);

/// <summary>The status of a denial: HTTP-like code and the message kubectl prints after "admission webhook … denied the request:".</summary>
public sealed record AdmissionStatus(int Code, string Message);

/// <summary>
/// An <c>AdmissionReview.response</c>: the uid echoed, the verdict, and for mutations a JSONPatch (raw JSON
/// bytes; written base64 as the API server wants).
/// </summary>
public sealed record AdmissionResponse(
    string Uid,
    bool Allowed,
    AdmissionStatus? Status,
    IReadOnlyList<string> Warnings,
    ReadOnlyMemory<byte>? Patch)
{
    public static AdmissionResponse Allow(string uid, IReadOnlyList<string>? warnings = null, ReadOnlyMemory<byte>? patch = null) =>
        new(uid, true, null, warnings ?? [], patch);

    public static AdmissionResponse Deny(string uid, int code, string message, IReadOnlyList<string>? warnings = null) =>
        new(uid, false, new AdmissionStatus(code, message), warnings ?? [], null);
}
