using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// Names migration Jobs so that every replica, before and after a restart, derives the same name for the same
/// attempt: a second create then answers AlreadyExists instead of starting a second run. An attempt is the plan,
/// the <c>gatekeeper.dev/retry</c> value and the pod template: a failed plan runs again only when a person bumps
/// the retry annotation or changes the Deployment's pod template (a new rollout).
/// </summary>
public static class MigrationJobNames
{
    public const string Prefix = "gk-migrate-";

    /// <summary>Job names become the <c>job-name</c> label of their pods, and label values hold at most 63 characters.</summary>
    public const int MaxLength = 63;

    private const int HashLength = 10;

    public static string For(string deployment, string planHash, string? retry, string templateFingerprint)
    {
        ArgumentException.ThrowIfNullOrEmpty(deployment);
        ArgumentException.ThrowIfNullOrEmpty(planHash);
        ArgumentNullException.ThrowIfNull(templateFingerprint);
        // A stamp written before plan hash version 3 keeps the name it always had, so an upgrade of Gatekeeper never runs
        // its Job again. A version 3 release key is named under v2: should a replica of the older version (during a rolling
        // upgrade of Gatekeeper) have made an attempt for it, its migrate cannot read that key and refuses; the newer
        // controller's own attempt has another name, so it runs instead of inheriting that refusal.
        var scheme = Core.Planning.PlanKeys.IsReleaseKey(planHash) ? "v2" : "v1";
        var hash = Sha256Hex($"gatekeeper-migration-job/{scheme}\n{planHash}\n{retry}\n{templateFingerprint}")[..HashLength];
        var stem = DnsLabelStem(deployment, MaxLength - Prefix.Length - 1 - HashLength);
        return stem.Length == 0 ? Prefix + hash : $"{Prefix}{stem}-{hash}";
    }

    /// <summary>
    /// A short hash of the pod template as the API server stores it, with object members sorted so the same
    /// template always gives the same value.
    /// </summary>
    public static string TemplateFingerprint(V1PodTemplateSpec? template)
    {
        if (template is null)
        {
            return string.Empty;
        }

        var canonical = Canonical(System.Text.Json.JsonSerializer.SerializeToNode(template, KubernetesModelJson.Default.V1PodTemplateSpec));
        return Sha256Hex(canonical?.ToJsonString() ?? string.Empty)[..16];
    }

    /// <summary>A Deployment name as a label value: itself when it fits, else a cut prefix and a hash of the whole.</summary>
    public static string DeploymentLabelValue(string deployment)
    {
        ArgumentException.ThrowIfNullOrEmpty(deployment);
        if (deployment.Length <= GatekeeperNames.MaxLabelValueLength)
        {
            return deployment;
        }

        var hash = Sha256Hex(deployment)[..HashLength];
        var stem = deployment[..(GatekeeperNames.MaxLabelValueLength - HashLength - 1)].TrimEnd('-', '.');
        return $"{stem}-{hash}";
    }

    /// <summary>Lower-case letters, digits and '-' only (a DNS label), at most <paramref name="maxLength"/>, no '-' at either end.</summary>
    private static string DnsLabelStem(string name, int maxLength)
    {
        var builder = new StringBuilder(Math.Min(name.Length, maxLength));
        foreach (var c in name.ToLowerInvariant())
        {
            if (builder.Length == maxLength)
            {
                break;
            }

            builder.Append(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) ? c : '-');
        }

        return builder.ToString().Trim('-');
    }

    private static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => KeyValuePair.Create(pair.Key, Canonical(pair.Value)))),
        JsonArray array => new JsonArray(array.Select(Canonical).ToArray()),
        _ => node?.DeepClone(),
    };

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
