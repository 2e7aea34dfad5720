using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// Keeps the key that signs migration Jobs in a Secret in Gatekeeper's own namespace, which no application namespace
/// can read: the first replica to start creates it with a random key, every other replica (and every later start)
/// reads the same one. The chart does not render it, so <c>helm template</c> stays the same on every run.
/// </summary>
public sealed class JobSigningKeyStore(KubernetesApi kubernetes)
{
    /// <summary>The Secret's key holding the signing key (32 random bytes).</summary>
    public const string KeyName = "job-signing-key";

    private const int MaxAttempts = 3;

    public async Task<MigrationJobSigner> LoadOrCreateAsync(string @namespace, string secretName, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var secret = await kubernetes.ReadNamespacedSecretAsync(secretName, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (secret.Data?.TryGetValue(KeyName, out var key) == true && key.Length >= MigrationJobSigner.MinKeyLength)
                {
                    return new MigrationJobSigner(key);
                }

                throw new InvalidOperationException(
                    $"Secret {@namespace}/{secretName} has no key {KeyName} of at least {MigrationJobSigner.MinKeyLength} bytes; delete it and Gatekeeper creates a new one");
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                // The first start of the first replica: make the key.
            }

            var fresh = MigrationJobSigner.NewKey();
            try
            {
                await kubernetes.CreateNamespacedSecretAsync(new V1Secret
                {
                    Metadata = new V1ObjectMeta
                    {
                        Name = secretName,
                        NamespaceProperty = @namespace,
                        Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = MigrationJobBuilder.ManagedBy },
                    },
                    Type = "Opaque",
                    Data = new Dictionary<string, byte[]> { [KeyName] = fresh },
                }, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new MigrationJobSigner(fresh);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < MaxAttempts)
            {
                // Another replica created it first: read theirs.
            }
        }
    }
}
