using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>Who made a request, as the authenticator hands it to RBAC and to admission webhooks (userInfo).</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups, string Uid)
{
    public const string ServiceAccountPrefix = "system:serviceaccount:";

    /// <summary>The cluster's administrator (what <c>kubectl</c> on an admin kubeconfig is).</summary>
    public static UserInfo Admin { get; } = new("kubernetes-admin", ["kubeadm:cluster-admins", "system:masters", "system:authenticated"], "admin");

    public static UserInfo ServiceAccount(string ns, string name) =>
        new($"{ServiceAccountPrefix}{ns}:{name}", ["system:serviceaccounts", $"system:serviceaccounts:{ns}", "system:authenticated"], $"sa-{ns}-{name}");

    /// <summary>A person with only the rights the scenario's RBAC objects give them.</summary>
    public static UserInfo Person(string name, params string[] groups) => new(name, [.. groups, "system:authenticated"], $"user-{name}");

    /// <summary>A built-in controller (kube-controller-manager's service accounts in kube-system).</summary>
    public static UserInfo Controller(string name) => ServiceAccount("kube-system", name);

    public bool IsAdmin => Groups.Contains("system:masters");
}

/// <summary>Bearer tokens and the users they stand for (the API server's token authenticator).</summary>
public sealed class TokenAuthenticator
{
    private readonly ConcurrentDictionary<string, UserInfo> users = new(StringComparer.Ordinal);

    /// <summary>A new token that authenticates as <paramref name="user"/>.</summary>
    public string Issue(UserInfo user)
    {
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        users[token] = user;
        return token;
    }

    public void Revoke(string token) => users.TryRemove(token, out _);

    /// <summary>The user of an <c>Authorization: Bearer</c> header; null when there is none or it is unknown (401).</summary>
    public UserInfo? Authenticate(string? authorization) =>
        authorization is { } header && header.StartsWith("Bearer ", StringComparison.Ordinal) && users.TryGetValue(header[7..].Trim(), out var user)
            ? user
            : null;
}
