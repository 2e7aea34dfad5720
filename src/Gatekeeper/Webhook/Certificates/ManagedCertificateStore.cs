using System.Net;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Controller;
using Microsoft.Extensions.Logging;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Gatekeeper.Webhook.Certificates;

/// <summary>
/// Keeps Gatekeeper's certificates in the Secret it owns. Every replica may call it at once, with or without a leader:
/// the first create wins (409 AlreadyExists: read theirs), and every later write replaces the Secret at the
/// resourceVersion it was decided from (409 Conflict: read again and decide again), so two replicas never keep two
/// different CAs.
/// </summary>
public sealed class ManagedCertificateStore(KubernetesApi kubernetes, TimeProvider timeProvider, ILogger<ManagedCertificateStore> logger)
{
    private const int MaxAttempts = 4;

    public async Task<ManagedCertificates> ReconcileAsync(string @namespace, string name, CertificatePolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        for (var attempt = 1; ; attempt++)
        {
            V1Secret? secret;
            try
            {
                secret = await kubernetes.ReadNamespacedSecretAsync(name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                secret = null;
            }

            var current = ManagedCertificates.FromSecretData(secret?.Data);
            var step = CertificateRotation.Next(current, timeProvider.GetUtcNow(), policy);
            if (step.Change is null)
            {
                return step.Certificates;
            }

            try
            {
                if (secret is null)
                {
                    await kubernetes.CreateNamespacedSecretAsync(NewSecret(@namespace, name, step.Certificates), @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    secret.Data = step.Certificates.ToSecretData();
                    secret.Type ??= "kubernetes.io/tls";
                    // The resourceVersion read above guards the write: a replica that wrote in between makes this a 409.
                    await kubernetes.ReplaceNamespacedSecretAsync(secret, name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
                }

                Log.ManagedCertificateChanged(logger, @namespace, name, step.Change);
                return step.Certificates;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < MaxAttempts)
            {
                // Another replica wrote first: decide again from what it wrote.
            }
        }
    }

    private static V1Secret NewSecret(string @namespace, string name, ManagedCertificates certificates) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = @namespace,
            Labels = new Dictionary<string, string> { ["app.kubernetes.io/managed-by"] = MigrationJobBuilder.ManagedBy },
        },
        Type = "kubernetes.io/tls",
        Data = certificates.ToSecretData(),
    };
}
