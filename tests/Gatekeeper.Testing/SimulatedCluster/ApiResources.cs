namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>One resource the simulated API server serves, as discovery would describe it.</summary>
public sealed record ApiResource(string Group, string Version, string Plural, string Kind, bool Namespaced, params string[] Subresources)
{
    /// <summary><c>v1</c> or <c>group/version</c>.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The URL prefix: <c>/api/v1</c> or <c>/apis/group/version</c>.</summary>
    public string Prefix => Group.Length == 0 ? "/api/v1" : $"/apis/{Group}/{Version}";

    /// <summary>The store key's resource part, unique across groups (<c>events</c> exists in two).</summary>
    public string StoreName => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public override string ToString() => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}

/// <summary>The resources of the simulated cluster: what Gatekeeper, its chart and the scenarios use, and no more.</summary>
public static class ApiResources
{
    public static readonly ApiResource Namespaces = new("", "v1", "namespaces", "Namespace", false, "status");
    public static readonly ApiResource Nodes = new("", "v1", "nodes", "Node", false, "status");
    public static readonly ApiResource ConfigMaps = new("", "v1", "configmaps", "ConfigMap", true);
    public static readonly ApiResource Secrets = new("", "v1", "secrets", "Secret", true);
    public static readonly ApiResource Pods = new("", "v1", "pods", "Pod", true, "status", "binding", "log", "eviction");
    public static readonly ApiResource Events = new("", "v1", "events", "Event", true);
    public static readonly ApiResource ServiceAccounts = new("", "v1", "serviceaccounts", "ServiceAccount", true, "token");
    public static readonly ApiResource Services = new("", "v1", "services", "Service", true, "status");
    public static readonly ApiResource Endpoints = new("", "v1", "endpoints", "Endpoints", true);
    public static readonly ApiResource ResourceQuotas = new("", "v1", "resourcequotas", "ResourceQuota", true, "status");
    public static readonly ApiResource Deployments = new("apps", "v1", "deployments", "Deployment", true, "status", "scale");
    public static readonly ApiResource ReplicaSets = new("apps", "v1", "replicasets", "ReplicaSet", true, "status", "scale");
    public static readonly ApiResource Jobs = new("batch", "v1", "jobs", "Job", true, "status");
    public static readonly ApiResource Leases = new("coordination.k8s.io", "v1", "leases", "Lease", true);
    public static readonly ApiResource EventsV1 = new("events.k8s.io", "v1", "events", "Event", true);
    public static readonly ApiResource ClusterRoles = new("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false);
    public static readonly ApiResource ClusterRoleBindings = new("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false);
    public static readonly ApiResource Roles = new("rbac.authorization.k8s.io", "v1", "roles", "Role", true);
    public static readonly ApiResource RoleBindings = new("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true);
    public static readonly ApiResource MutatingWebhookConfigurations =
        new("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false);
    public static readonly ApiResource ValidatingWebhookConfigurations =
        new("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false);
    public static readonly ApiResource PodDisruptionBudgets = new("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, "status");
    public static readonly ApiResource PriorityClasses = new("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false);
    public static readonly ApiResource NetworkPolicies = new("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true);

    public static IReadOnlyList<ApiResource> All { get; } =
    [
        Namespaces, Nodes, ConfigMaps, Secrets, Pods, Events, ServiceAccounts, Services, Endpoints, ResourceQuotas, Deployments,
        ReplicaSets, Jobs, Leases, EventsV1, ClusterRoles, ClusterRoleBindings, Roles, RoleBindings, MutatingWebhookConfigurations,
        ValidatingWebhookConfigurations, PodDisruptionBudgets, PriorityClasses, NetworkPolicies,
    ];

    /// <summary>The resource a manifest's apiVersion and kind name; null when the simulated cluster does not serve it.</summary>
    public static ApiResource? ForKind(string apiVersion, string kind) => All.FirstOrDefault(r => r.ApiVersion == apiVersion && r.Kind == kind);

    /// <summary>The resource a URL names by group, version and plural.</summary>
    public static ApiResource? ForPath(string group, string version, string plural) =>
        All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Plural == plural);
}
