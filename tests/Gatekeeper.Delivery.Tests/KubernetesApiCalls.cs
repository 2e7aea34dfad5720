using System.Text.RegularExpressions;

namespace Gatekeeper.Delivery.Tests;

/// <summary>One RBAC permission: a verb on a resource (with its subresource, e.g. "pods/status") of an API group.</summary>
public sealed record Permission(string ApiGroup, string Resource, string Verb)
{
    public override string ToString() => $"{Verb} {(ApiGroup.Length == 0 ? "core" : ApiGroup)}/{Resource}";
}

/// <summary>A Kubernetes API call found in the product's sources, and the permission it needs.</summary>
public sealed record KubernetesApiCall(string File, int Line, string Method, Permission Needs);

/// <summary>
/// Finds the Kubernetes API calls the product makes through Gatekeeper's KubernetesApi or KubernetesClient's generated
/// operations (<c>ReadNamespacedSecretAsync</c>, <c>CoreV1.ReadNamespacedSecretAsync</c>, <c>WatchList…</c>, a
/// <c>List…WithHttpMessagesAsync(…, watch: true)</c>) and its leader election (<c>LeaseLock</c>), so RBAC can be held
/// to them. Operation names follow KubernetesClient's OpenAPI naming, which is what makes a scan possible.
/// </summary>
public static partial class KubernetesApiCalls
{
    // Kind → API group, for the kinds Gatekeeper has reason to touch. An unknown kind fails the scan, so a new call
    // is looked at rather than silently ignored.
    private static readonly Dictionary<string, string> GroupOfKind = new(StringComparer.Ordinal)
    {
        ["ConfigMap"] = "", ["Secret"] = "", ["Pod"] = "", ["Event"] = "", ["ServiceAccount"] = "", ["Service"] = "",
        ["Endpoints"] = "", ["PersistentVolumeClaim"] = "",
        ["Deployment"] = "apps", ["ReplicaSet"] = "apps", ["StatefulSet"] = "apps", ["DaemonSet"] = "apps",
        ["Job"] = "batch", ["CronJob"] = "batch",
        ["Lease"] = "coordination.k8s.io",
        ["MutatingWebhookConfiguration"] = "admissionregistration.k8s.io", ["ValidatingWebhookConfiguration"] = "admissionregistration.k8s.io",
    };

    private static readonly Dictionary<string, string> GroupOfProperty = new(StringComparer.Ordinal)
    {
        ["CoreV1"] = "", ["AppsV1"] = "apps", ["BatchV1"] = "batch", ["CoordinationV1"] = "coordination.k8s.io", ["EventsV1"] = "events.k8s.io",
        ["AdmissionregistrationV1"] = "admissionregistration.k8s.io",
    };

    public static IReadOnlyList<KubernetesApiCall> InProductSources() =>
        RepositoryFiles.ProductSources()
            .SelectMany(path => Scan(Path.GetRelativePath(RepositoryFiles.Root, path).Replace('\\', '/'), File.ReadAllText(path)))
            .ToList();

    /// <summary>The calls in one source text.</summary>
    public static IReadOnlyList<KubernetesApiCall> Scan(string relative, string text)
    {
        var calls = new List<KubernetesApiCall>();
        foreach (Match match in Operation().Matches(text))
        {
            // A call goes through a receiver (kubernetes.ReadNamespacedSecretAsync, client.CoreV1.…); a name with none
            // before it is the operation's declaration in KubernetesApi, which needs nothing until something calls it.
            if (!IsCalledThroughReceiver(text, match.Index))
            {
                continue;
            }

            var line = text[..match.Index].Count(c => c == '\n') + 1;
            var kind = match.Groups["namespaced"].Success ? match.Groups["namespaced"].Value
                : match.Groups["cluster"].Success ? match.Groups["cluster"].Value : match.Groups["all"].Value;
            var group = match.Groups["group"].Success
                ? GroupOfProperty[match.Groups["group"].Value]
                : GroupOfKind.TryGetValue(kind, out var known) ? known
                : throw new InvalidOperationException($"{relative}:{line}: {match.Value.TrimEnd('(')} touches kind {kind}, which KubernetesApiCalls does not know; add its API group.");
            var resource = Plural(kind) + (match.Groups["status"].Success ? "/status" : string.Empty);
            var verb = match.Groups["verb"].Value switch
            {
                "Read" => "get",
                "List" => "list",
                "WatchList" => "watch",
                "Create" => "create",
                "Patch" => "patch",
                "Replace" => "update",
                "Delete" => "delete",
                "DeleteCollection" => "deletecollection",
                var other => throw new InvalidOperationException($"unexpected verb {other}"),
            };
            var method = match.Value.TrimEnd('(', ' ');
            calls.Add(new KubernetesApiCall(relative, line, method, new Permission(group, resource, verb)));

            // A list call that turns into a watch: List…Async(…, watch: true), as KubernetesClient watches are opened.
            if (verb == "list" && WatchArgument().IsMatch(ArgumentsAfter(text, match.Index + match.Length)))
            {
                calls.Add(new KubernetesApiCall(relative, line, method + "(watch: true)", new Permission(group, resource, "watch")));
            }
        }

        foreach (Match match in LeaseLock().Matches(text))
        {
            var line = text[..match.Index].Count(c => c == '\n') + 1;
            // KubernetesClient's LeaseLock reads the Lease, creates it when missing, and replaces it to take or renew it.
            foreach (var verb in new[] { "get", "create", "update" })
            {
                calls.Add(new KubernetesApiCall(relative, line, "new LeaseLock", new Permission("coordination.k8s.io", "leases", verb)));
            }
        }

        return calls;
    }

    private static bool IsCalledThroughReceiver(string text, int index)
    {
        var before = index - 1;
        while (before >= 0 && char.IsWhiteSpace(text[before]))
        {
            before--;
        }

        return before >= 0 && text[before] == '.';
    }

    private static string Plural(string kind) => kind switch
    {
        "Endpoints" => "endpoints",
        _ => kind.ToLowerInvariant() + "s",
    };

    /// <summary>The argument list that starts at <paramref name="start"/> (just after the opening parenthesis).</summary>
    private static string ArgumentsAfter(string text, int start)
    {
        var depth = 1;
        for (var i = start; i < text.Length; i++)
        {
            depth += text[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (depth == 0)
            {
                return text[start..i];
            }
        }

        return text[start..];
    }

    [GeneratedRegex(@"(?:\b(?<group>CoreV1|AppsV1|BatchV1|CoordinationV1|EventsV1|AdmissionregistrationV1)\s*\.\s*)?\b(?<verb>WatchList|DeleteCollection|Read|List|Create|Patch|Replace|Delete)(?:Namespaced(?<namespaced>[A-Z]\w*?)|(?<all>[A-Z]\w*?)ForAllNamespaces|(?<cluster>MutatingWebhookConfiguration|ValidatingWebhookConfiguration))(?<status>Status)?(?:WithHttpMessages)?Async\s*\(")]
    private static partial Regex Operation();

    [GeneratedRegex(@"\bwatch\s*:\s*true\b")]
    private static partial Regex WatchArgument();

    [GeneratedRegex(@"\bnew\s+LeaseLock\s*\(")]
    private static partial Regex LeaseLock();
}
