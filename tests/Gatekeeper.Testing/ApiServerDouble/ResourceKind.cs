namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>One resource the double serves: its URL plural and prefix, its kind and apiVersion, and the client model type.</summary>
public sealed record ResourceKind(string Plural, string Prefix, string Kind, string ApiVersion, Type Model)
{
    /// <summary>False for cluster-scoped resources (Namespaces, ClusterRoles…), served without <c>/namespaces/{ns}</c>.</summary>
    public bool Namespaced { get; init; } = true;

    /// <summary>The API group ("" for the core group), as RBAC rules and admission rules name it.</summary>
    public string Group => ApiVersion.Contains('/', StringComparison.Ordinal) ? ApiVersion[..ApiVersion.IndexOf('/', StringComparison.Ordinal)] : string.Empty;

    /// <summary>The version part of <see cref="ApiVersion"/>.</summary>
    public string Version => ApiVersion.Contains('/', StringComparison.Ordinal) ? ApiVersion[(ApiVersion.IndexOf('/', StringComparison.Ordinal) + 1)..] : ApiVersion;
}
