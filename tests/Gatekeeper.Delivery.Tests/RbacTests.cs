using System.Text.RegularExpressions;

namespace Gatekeeper.Delivery.Tests;

/// <summary>
/// The chart's RBAC is exactly what the code calls: every Kubernetes API call in src/ is granted, nothing else is,
/// and docs/operations.md explains every grant. Judged on manifests/install.yaml (the default install).
/// </summary>
public sealed partial class RbacTests
{
    [Fact]
    public void Every_Kubernetes_call_the_code_makes_is_granted()
    {
        var calls = KubernetesApiCalls.InProductSources();
        Assert.True(calls.Count > 0, "No Kubernetes API call was found under src/: the webhook and controller sources must be on this branch.");
        var granted = Granted();
        var missing = calls.Where(call => !granted.Contains(call.Needs))
            .Select(call => $"{call.Needs} for {call.Method} at {call.File}:{call.Line}")
            .ToList();
        Assert.True(missing.Count == 0, $"The code makes Kubernetes calls the chart does not allow: {string.Join("; ", missing)}.");
    }

    [Fact]
    public void Nothing_is_granted_that_the_code_does_not_call()
    {
        var needed = KubernetesApiCalls.InProductSources().Select(call => call.Needs).ToHashSet();
        var unused = Granted().Where(permission => !needed.Contains(permission)).Select(p => p.ToString()).Order(StringComparer.Ordinal).ToList();
        Assert.True(unused.Count == 0,
            $"The chart grants permissions no code under src/ uses (least privilege: remove them, or the call that needs them is not merged yet): {string.Join("; ", unused)}.");
    }

    [Fact]
    public void Cluster_wide_calls_are_granted_through_a_ClusterRoleBinding()
    {
        var clusterWide = GrantedBy("ClusterRoleBinding");
        var missing = KubernetesApiCalls.InProductSources()
            .Where(call => call.Method.Contains("ForAllNamespaces", StringComparison.Ordinal) && !clusterWide.Contains(call.Needs))
            .Select(call => $"{call.Needs} for {call.Method} at {call.File}:{call.Line}")
            .ToList();
        Assert.True(missing.Count == 0, $"Calls across all namespaces need a ClusterRoleBinding: {string.Join("; ", missing)}.");
    }

    [Fact]
    public void The_default_install_binds_no_ClusterRole_that_reads_Secrets()
    {
        var readers = InstallManifest.OfKind("ClusterRole")
            .Where(role => role.ListAt("rules").Any(rule => rule.ListAt("resources").Strings().Contains("secrets")))
            .Select(role => role.StringAt("metadata", "name")!)
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(readers);
        var bound = InstallManifest.OfKind("ClusterRoleBinding").Where(b => readers.Contains(b.StringAt("roleRef", "name")!)).Select(b => b.StringAt("metadata", "name")).ToList();
        Assert.True(bound.Count == 0, $"ClusterRoleBindings that let Gatekeeper read Secrets in every namespace: {string.Join(", ", bound)}.");
        // Nor anywhere else by default: no namespace is listed in sourceNamespaces.
        Assert.DoesNotContain(InstallManifest.OfKind("RoleBinding"), b => readers.Contains(b.StringAt("roleRef", "name")!));
    }

    [Fact]
    public void The_operations_guide_lists_every_grant_and_only_those()
    {
        var documented = DocumentedPermissions();
        Assert.NotEmpty(documented);
        var granted = Granted();
        Assert.True(granted.SetEquals(documented),
            $"docs/operations.md's RBAC table and the chart differ. Only in the chart: {string.Join("; ", granted.Except(documented))}. Only in the guide: {string.Join("; ", documented.Except(granted))}.");
    }

    [Fact]
    public void The_call_scanner_maps_client_operations_to_permissions()
    {
        const string source = """
            var secret = await client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: ct);
            var jobs = kubernetes.BatchV1.WatchListJobForAllNamespacesAsync(labelSelector: selector);
            using var pods = await client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(
                ns, labelSelector: Selector(plan), watch: true, cancellationToken: ct);
            await client.AppsV1.PatchNamespacedDeploymentStatusAsync(patch, name, ns);
            await client.EventsV1.CreateNamespacedEventAsync(body, ns);
            await client.BatchV1.DeleteNamespacedJobAsync(name, ns, propagationPolicy: "Background");
            var lease = new LeaseLock(client, ns, "gatekeeper", identity);
            var sets = await kubernetes.ListNamespacedReplicaSetAsync(ns, labelSelector: selector, cancellationToken: ct);
            public Task<V1Secret> CreateNamespacedSecretAsync(V1Secret body, string namespaceParameter) =>
            """;
        var needs = KubernetesApiCalls.Scan("Sample.cs", source).Select(call => call.Needs.ToString()).Order(StringComparer.Ordinal);
        Assert.Equal(
            [
                "create coordination.k8s.io/leases", "create events.k8s.io/events", "delete batch/jobs", "get coordination.k8s.io/leases",
                "get core/secrets", "list apps/replicasets", "list core/pods", "patch apps/deployments/status", "update coordination.k8s.io/leases",
                "watch batch/jobs", "watch core/pods",
            ],
            needs);
    }

    private sealed record Rule(IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources, IReadOnlyList<string> Verbs);

    private static IEnumerable<Rule> Rules() =>
        InstallManifest.OfKind("ClusterRole").Concat(InstallManifest.OfKind("Role"))
            .SelectMany(role => role.ListAt("rules"))
            .Select(rule => new Rule(rule.ListAt("apiGroups").Strings().ToList(), rule.ListAt("resources").Strings().ToList(), rule.ListAt("verbs").Strings().ToList()));

    private static HashSet<Permission> Expand(IEnumerable<Rule> rules) =>
        rules.SelectMany(rule => rule.ApiGroups.SelectMany(group => rule.Resources.SelectMany(resource => rule.Verbs.Select(verb => new Permission(group, resource, verb)))))
            .ToHashSet();

    /// <summary>
    /// Permissions of the roles bound to Gatekeeper's ServiceAccount, and of the ClusterRole the chart binds in each
    /// namespace listed in sourceNamespaces (none in the default install, but every opted-in namespace gets it).
    /// </summary>
    private static HashSet<Permission> Granted()
    {
        var granted = GrantedBy("ClusterRoleBinding", "RoleBinding");
        var sources = InstallManifest.OfKind("ClusterRole").Single(r => r.StringAt("metadata", "name")!.EndsWith("-sources", StringComparison.Ordinal));
        granted.UnionWith(Expand(sources.ListAt("rules").Select(rule =>
            new Rule(rule.ListAt("apiGroups").Strings().ToList(), rule.ListAt("resources").Strings().ToList(), rule.ListAt("verbs").Strings().ToList()))));
        return granted;
    }

    private static HashSet<Permission> GrantedBy(params string[] bindingKinds)
    {
        var account = InstallManifest.Single("Deployment").StringAt("spec", "template", "spec", "serviceAccountName");
        var roles = InstallManifest.OfKind("ClusterRole").Concat(InstallManifest.OfKind("Role"))
            .ToDictionary(r => (r.StringAt("kind")!, r.StringAt("metadata", "name")!));
        var rules = new List<Rule>();
        foreach (var binding in bindingKinds.SelectMany(InstallManifest.OfKind))
        {
            var boundToGatekeeper = binding.ListAt("subjects").Any(s =>
                s.StringAt("kind") == "ServiceAccount" && s.StringAt("name") == account && s.StringAt("namespace") == InstallManifest.Namespace);
            if (!boundToGatekeeper)
            {
                continue;
            }

            var role = roles[(binding.StringAt("roleRef", "kind")!, binding.StringAt("roleRef", "name")!)];
            rules.AddRange(role.ListAt("rules").Select(rule =>
                new Rule(rule.ListAt("apiGroups").Strings().ToList(), rule.ListAt("resources").Strings().ToList(), rule.ListAt("verbs").Strings().ToList())));
        }

        return Expand(rules);
    }

    /// <summary>
    /// Rows of the guide's permission table: | component | API group | resource | verbs | scope | why |, with the group
    /// written "core" for the core group and verbs comma separated in backticks or plain.
    /// </summary>
    private static HashSet<Permission> DocumentedPermissions()
    {
        var guide = RepositoryFiles.ReadText("docs/operations.md");
        var permissions = new HashSet<Permission>();
        foreach (Match row in PermissionRow().Matches(guide))
        {
            var group = row.Groups["group"].Value.Trim('`', ' ');
            group = group == "core" ? string.Empty : group;
            var resource = row.Groups["resource"].Value.Trim('`', ' ');
            foreach (var verb in row.Groups["verbs"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                permissions.Add(new Permission(group, resource, verb.Trim('`')));
            }
        }

        return permissions;
    }

    [GeneratedRegex(@"^\|\s*(?<component>webhook|controller)\s*\|(?<group>[^|]+)\|(?<resource>[^|]+)\|(?<verbs>[^|]+)\|", RegexOptions.Multiline)]
    private static partial Regex PermissionRow();
}
