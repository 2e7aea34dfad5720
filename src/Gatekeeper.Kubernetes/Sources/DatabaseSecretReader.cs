using System.Net;
using System.Text;
using Gatekeeper.Kubernetes.Annotations;
using k8s;
using k8s.Autorest;

namespace Gatekeeper.Kubernetes.Sources;

/// <summary>Either the database URL or one sentence naming the Secret and key that are wrong.</summary>
public sealed record SecretReadResult(SecretValue? Url, string? Problem)
{
    public static SecretReadResult Failed(string problem) => new(null, problem);
}

/// <summary>
/// Reads the database URL from the Secret a <c>gatekeeper.dev/*-secret</c> annotation names: the given key, or
/// <c>url</c> and then <c>uri</c> (CloudNativePG's app secrets) when none is given.
/// </summary>
public sealed class DatabaseSecretReader(KubernetesApi kubernetes)
{
    public async Task<SecretReadResult> ReadAsync(string @namespace, SecretKeyReference reference, string annotation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        IDictionary<string, byte[]>? data;
        try
        {
            var secret = await kubernetes.ReadNamespacedSecretAsync(reference.Name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
            data = secret.Data;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return SecretReadResult.Failed($"Secret {@namespace}/{reference.Name} named by annotation {annotation} does not exist");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            return SecretReadResult.Failed($"Gatekeeper may not read Secret {@namespace}/{reference.Name} (forbidden){NamespaceGrants.Hint(@namespace)}");
        }

        var keys = reference.Key is null ? SecretKeyReference.DefaultKeys : [reference.Key];
        foreach (var key in keys)
        {
            if (data is not null && data.TryGetValue(key, out var bytes) && bytes is { Length: > 0 })
            {
                var url = Encoding.UTF8.GetString(bytes).Trim();
                if (url.Length > 0)
                {
                    return new SecretReadResult(new SecretValue(url), null);
                }
            }
        }

        return SecretReadResult.Failed(reference.Key is null
            ? $"Secret {@namespace}/{reference.Name} has no non-empty key url or uri; name the key with {annotation}: {reference.Name}/<key>"
            : $"Secret {@namespace}/{reference.Name} has no non-empty key {reference.Key} (annotation {annotation})");
    }
}
