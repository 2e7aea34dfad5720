using Microsoft.AspNetCore.Http;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// What a request asks for, read from its method and URL as the API server's RequestInfoFactory does: the verb
/// (get, list, watch, create, update, patch, delete, deletecollection), the resource and subresource, namespace and
/// name. RBAC and admission both decide on these.
/// </summary>
public sealed record RequestInfo(string Verb, ApiResource Resource, string? Subresource, string? Namespace, string? Name)
{
    /// <summary>Reads a resource request; null when the path names nothing the simulated cluster serves.</summary>
    public static RequestInfo? Parse(HttpRequest request)
    {
        var segments = (request.Path.Value ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        string group;
        string version;
        int rest;
        if (segments is ["api", var coreVersion, ..])
        {
            (group, version, rest) = (string.Empty, coreVersion, 2);
        }
        else if (segments is ["apis", var g, var v, ..])
        {
            (group, version, rest) = (g, v, 3);
        }
        else
        {
            return null;
        }

        var parts = segments[rest..];
        string? ns = null;
        if (parts is ["namespaces", var n, var plural, ..] && !(group.Length == 0 && parts.Length == 3 && IsNamespaceSubresource(plural)))
        {
            ns = n;
            parts = parts[2..];
        }

        if (parts.Length == 0 || ApiResources.ForPath(group, version, parts[0]) is not { } resource)
        {
            return null;
        }

        var name = parts.Length > 1 ? parts[1] : null;
        var subresource = parts.Length > 2 ? parts[2] : null;
        if (parts.Length > 3 || (subresource is not null && !resource.Subresources.Contains(subresource)))
        {
            return null;
        }

        var watch = request.Query["watch"] is var w && (w == "true" || w == "1");
        var verb = request.Method switch
        {
            "GET" or "HEAD" when name is null => watch ? "watch" : "list",
            "GET" or "HEAD" => "get",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" when name is null => "deletecollection",
            "DELETE" => "delete",
            _ => "unknown",
        };
        return new RequestInfo(verb, resource, subresource, ns, name);
    }

    /// <summary>"namespaces/x/status" is the namespace's own subresource, not a resource named "status" in it.</summary>
    private static bool IsNamespaceSubresource(string segment) => segment is "status" or "finalize";

    /// <summary><c>deployments/status</c> when a subresource is named: the string RBAC rules and messages use.</summary>
    public string ResourceWithSubresource => Subresource is null ? Resource.Plural : $"{Resource.Plural}/{Subresource}";
}
