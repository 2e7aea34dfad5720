using System.Net;

namespace Gatekeeper.Kubernetes.Sources;

/// <summary>
/// A database host as the application's pods resolve it. The URL in an application's Secret is written for pods in the
/// application's namespace, whose DNS search path starts with <c>&lt;namespace&gt;.svc</c>; Gatekeeper's webhook runs in
/// its own namespace, where a short name such as <c>postgres</c> finds nothing, or a Service of the same name in
/// Gatekeeper's namespace. Pure: no lookup happens here.
/// </summary>
public static class ClusterHostNames
{
    /// <summary>
    /// <c>postgres</c> → <c>postgres.shop.svc</c> for namespace <c>shop</c>. Names with a dot (<c>postgres.data</c>,
    /// <c>db.example.com</c>, <c>postgres.shop.svc.cluster.local</c>), absolute names (trailing dot), IP addresses and
    /// <c>localhost</c> are kept: the first three resolve the same from every namespace, and the last cannot be
    /// reached from another pod whatever Gatekeeper does.
    /// </summary>
    public static string InNamespace(string host, string @namespace)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        if (host.Length == 0 || host.Contains('.', StringComparison.Ordinal) || host.Contains(':', StringComparison.Ordinal)
            || IPAddress.TryParse(host, out _) || string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return host;
        }

        return $"{host}.{@namespace}.svc";
    }
}
