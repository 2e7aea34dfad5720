using System.Security.Cryptography;
using System.Text;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// Tells the migration Jobs Gatekeeper created from look-alikes. A Job's success releases pods, and anyone who may
/// create a Job (in the Deployment's namespace or any other) could give one the same labels; so every Job Gatekeeper
/// creates carries a label only Gatekeeper can compute: an HMAC, under a key kept in a Secret in Gatekeeper's own
/// namespace, of the namespace, the Deployment's uid, the plan and the Job's name. A Job counts only when it sits in
/// the Deployment's namespace, names that Deployment's uid as its owner, and carries the right signature.
/// </summary>
public sealed class MigrationJobSigner
{
    /// <summary>The label carrying the signature (40 hex characters: 160 bits of HMAC-SHA256).</summary>
    public const string Label = GatekeeperNames.Prefix + "signature";

    /// <summary>Keys shorter than this are refused: the signature is only as strong as the key.</summary>
    public const int MinKeyLength = 32;

    private const int SignatureLength = 40;
    private readonly byte[] key;

    public MigrationJobSigner(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < MinKeyLength)
        {
            throw new ArgumentException($"a Job signing key needs at least {MinKeyLength} bytes", nameof(key));
        }

        this.key = [.. key];
    }

    /// <summary>A fresh random key, for the Secret Gatekeeper creates when there is none.</summary>
    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(MinKeyLength);

    public string Sign(string @namespace, string deploymentUid, string plan, string job)
    {
        var text = $"gatekeeper-migration-job/v1\n{@namespace}\n{deploymentUid}\n{plan}\n{job}";
        return Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)))[..SignatureLength];
    }

    /// <summary>True when Gatekeeper created <paramref name="job"/> for the Deployment with <paramref name="deploymentUid"/>.</summary>
    public bool Created(V1Job job, string deploymentUid)
    {
        ArgumentNullException.ThrowIfNull(job);
        var metadata = job.Metadata;
        if (string.IsNullOrEmpty(deploymentUid) || metadata?.Name is not { } name || metadata.NamespaceProperty is not { } ns
            || metadata.OwnerReferences?.Any(o => o.Kind == "Deployment" && o.Uid == deploymentUid) != true
            || metadata.Labels is null || !metadata.Labels.TryGetValue(Label, out var signature)
            || MigrationJobFacts.PlanOf(job) is not { } plan)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(signature), Encoding.ASCII.GetBytes(Sign(ns, deploymentUid, plan, name)));
    }
}
