namespace Gatekeeper.Kubernetes.Sources;

/// <summary>
/// What a 403 on a Secret or ConfigMap of an application namespace means under the chart's least-privilege default:
/// Gatekeeper reads them only in the namespaces listed for it (a RoleBinding in each), so the fix is to list the
/// namespace, not to widen the grant.
/// </summary>
public static class NamespaceGrants
{
    /// <summary>The chart value that lists the namespaces whose Secrets and ConfigMaps Gatekeeper may read.</summary>
    public const string ChartValue = "sourceNamespaces";

    public static string Hint(string @namespace) =>
        $"; Gatekeeper reads Secrets and ConfigMaps only in the namespaces it is given: add {@namespace} to the chart's {ChartValue} (helm upgrade), or grant its ServiceAccount get on them there";
}
