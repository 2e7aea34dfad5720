using System.Collections.Concurrent;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>Why the controller cannot do its work; the <c>reason</c> label of <c>gatekeeper_controller_blocked</c>.</summary>
public static class ControllerBlockReasons
{
    /// <summary>No image for the migration Jobs is configured (<c>Controller:Image</c>; the chart sets it).</summary>
    public const string ImageNotConfigured = "ImageNotConfigured";

    /// <summary>Gatekeeper's own namespace is not known (<c>Controller:Namespace</c>, or the downward API's POD_NAMESPACE).</summary>
    public const string NamespaceUnknown = "NamespaceUnknown";

    /// <summary>The Secret with the Job signing key can be neither read nor created.</summary>
    public const string SigningKeyUnavailable = "SigningKeyUnavailable";

    /// <summary>The API server refuses the Lease (RBAC in Gatekeeper's own namespace).</summary>
    public const string LeaseForbidden = "LeaseForbidden";

    /// <summary>The API server refuses to list or watch what the controller follows (RBAC across namespaces).</summary>
    public const string WatchForbidden = "WatchForbidden";

    public static IReadOnlyList<string> All { get; } = [ImageNotConfigured, NamespaceUnknown, SigningKeyUnavailable, LeaseForbidden, WatchForbidden];
}

/// <summary>
/// Whether the controller can run, and if not, why, in one sentence per reason. A replica whose controller cannot run
/// is not ready (so a bad upgrade never replaces working replicas), exports <c>gatekeeper_controller_blocked</c> with
/// the reason, and the alert <c>GatekeeperControllerCannotRun</c> fires: without a controller no migration Job starts
/// and no pod of a new plan is released.
/// </summary>
public sealed class ControllerHealth
{
    private readonly ConcurrentDictionary<string, string> blocked = new(StringComparer.Ordinal);

    /// <summary>Raised after a reason appears or goes.</summary>
    public event Action? Changed;

    public bool CanRun => blocked.IsEmpty;

    /// <summary>The reasons the controller cannot run now, with what to do about each.</summary>
    public IReadOnlyDictionary<string, string> Blocked => new Dictionary<string, string>(blocked, StringComparer.Ordinal);

    public void Block(string reason, string message)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        var added = !blocked.TryGetValue(reason, out var previous) || previous != message;
        blocked[reason] = message;
        if (added)
        {
            Changed?.Invoke();
        }
    }

    public void Clear(string reason)
    {
        if (blocked.TryRemove(reason, out _))
        {
            Changed?.Invoke();
        }
    }
}
