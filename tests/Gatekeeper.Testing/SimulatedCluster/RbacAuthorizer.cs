using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// RBAC as kube-apiserver evaluates it, from the ClusterRoles, Roles and bindings in the store (those <c>helm template</c>
/// rendered from the chart, and any a scenario adds): a request is allowed when a ClusterRoleBinding, or a RoleBinding
/// in the request's namespace, binds a subject the user is (User, Group, ServiceAccount) to a role with a rule whose
/// verbs, apiGroups, resources (with subresources) and resourceNames all match. Members of system:masters are allowed
/// everything. Nothing is allowed by default.
/// </summary>
public sealed class RbacAuthorizer(ObjectStore store)
{
    public bool Allows(UserInfo user, RequestInfo request) => Allows(user, request.Verb, request.Resource.Group, request.ResourceWithSubresource, request.Namespace, request.Name);

    public bool Allows(UserInfo user, string verb, string group, string resource, string? ns, string? name)
    {
        if (user.IsAdmin)
        {
            return true;
        }

        foreach (var binding in All(ApiResources.ClusterRoleBindings, null))
        {
            if (Binds(binding, user) && RoleRules(binding, null).Any(rule => RuleAllows(rule, verb, group, resource, name)))
            {
                return true;
            }
        }

        if (ns is { Length: > 0 })
        {
            foreach (var binding in All(ApiResources.RoleBindings, ns))
            {
                if (Binds(binding, user) && RoleRules(binding, ns).Any(rule => RuleAllows(rule, verb, group, resource, name)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>kube-apiserver's forbidden message for this request and user.</summary>
    public static string ForbiddenMessage(UserInfo user, RequestInfo request) => request.Namespace is { Length: > 0 } ns
        ? $"User \"{user.Name}\" cannot {request.Verb} resource \"{request.ResourceWithSubresource}\" in API group \"{request.Resource.Group}\" in the namespace \"{ns}\""
        : $"User \"{user.Name}\" cannot {request.Verb} resource \"{request.ResourceWithSubresource}\" in API group \"{request.Resource.Group}\" at the cluster scope";

    private IEnumerable<JsonNode> All(ApiResource resource, string? ns) =>
        store.ReadAll(ObjectStore.Prefix(resource.StoreName, ns)).Select(json => JsonNode.Parse(json)!);

    private static bool Binds(JsonNode binding, UserInfo user) =>
        (binding["subjects"] as JsonArray ?? []).Any(subject => (string?)subject!["kind"] switch
        {
            "User" => (string?)subject["name"] == user.Name,
            "Group" => user.Groups.Contains((string?)subject["name"] ?? string.Empty),
            "ServiceAccount" => $"{UserInfo.ServiceAccountPrefix}{(string?)subject["namespace"]}:{(string?)subject["name"]}" == user.Name,
            _ => false,
        });

    /// <summary>The rules of a binding's roleRef: a ClusterRole, or a Role in the RoleBinding's own namespace.</summary>
    private IEnumerable<JsonNode> RoleRules(JsonNode binding, string? ns)
    {
        var kind = (string?)binding["roleRef"]?["kind"];
        var name = (string?)binding["roleRef"]?["name"] ?? string.Empty;
        var role = kind switch
        {
            "ClusterRole" => store.Read(ObjectStore.Key(ApiResources.ClusterRoles.StoreName, string.Empty, name)),
            "Role" when ns is not null => store.Read(ObjectStore.Key(ApiResources.Roles.StoreName, ns, name)),
            _ => null,
        };
        return role is null ? [] : (JsonNode.Parse(role)!["rules"] as JsonArray ?? []).Select(r => r!);
    }

    private static bool RuleAllows(JsonNode rule, string verb, string group, string resource, string? name)
    {
        var verbs = Strings(rule["verbs"]);
        var groups = Strings(rule["apiGroups"]);
        var resources = Strings(rule["resources"]);
        var names = Strings(rule["resourceNames"]);
        return (verbs.Contains("*") || verbs.Contains(verb))
            && (groups.Contains("*") || groups.Contains(group))
            && ResourceMatches(resources, resource)
            && (names.Count == 0 || (name is not null && names.Contains(name)));
    }

    /// <summary>rbac/v1 ResourceMatches: "*", the exact resource or resource/subresource, or "*/subresource".</summary>
    private static bool ResourceMatches(IReadOnlyList<string> rules, string requested)
    {
        foreach (var rule in rules)
        {
            if (rule == "*" || rule == requested)
            {
                return true;
            }

            var slash = requested.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0 && rule == "*" + requested[slash..])
            {
                return true;
            }
        }

        return false;
    }

    private static List<string> Strings(JsonNode? node) => (node as JsonArray)?.Select(v => v!.GetValue<string>()).ToList() ?? [];
}
