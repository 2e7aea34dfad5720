using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatekeeper.Webhook.Certificates;

/// <summary>
/// The certificates Gatekeeper manages for its own webhook, as kept in the Secret it owns: the trust bundle the webhook
/// configurations carry as their caBundle (every CA still trusted, newest first: during a CA rotation the old and the
/// new one), the CA that signs now with its key, and the serving certificate with its key. The Secret keeps the
/// <c>kubernetes.io/tls</c> shape (<c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>), so a ServiceMonitor or a person reads
/// it as they would read cert-manager's.
/// </summary>
public sealed record ManagedCertificates(string CaBundlePem, string SigningCertificatePem, string SigningKeyPem, string CertificatePem, string KeyPem)
{
    public const string CaBundleKey = "ca.crt";
    public const string SigningCertificateKey = "ca-signing.crt";
    public const string SigningKeyKey = "ca-signing.key";
    public const string CertificateKey = "tls.crt";
    public const string KeyKey = "tls.key";

    /// <summary>What a webhook configuration's <c>clientConfig.caBundle</c> holds: the bundle's PEM bytes.</summary>
    public byte[] CaBundle => Encoding.ASCII.GetBytes(CaBundlePem);

    /// <summary>The certificates in a Secret's data; null when a key is missing or empty (then they are made anew).</summary>
    public static ManagedCertificates? FromSecretData(IDictionary<string, byte[]>? data)
    {
        if (data is null)
        {
            return null;
        }

        string? Text(string key) => data.TryGetValue(key, out var bytes) && bytes is { Length: > 0 } ? Encoding.ASCII.GetString(bytes) : null;
        return Text(CaBundleKey) is { } bundle && Text(SigningCertificateKey) is { } signing && Text(SigningKeyKey) is { } signingKey
            && Text(CertificateKey) is { } certificate && Text(KeyKey) is { } key
            ? new ManagedCertificates(bundle, signing, signingKey, certificate, key)
            : null;
    }

    public Dictionary<string, byte[]> ToSecretData() => new(StringComparer.Ordinal)
    {
        [CaBundleKey] = Encoding.ASCII.GetBytes(CaBundlePem),
        [SigningCertificateKey] = Encoding.ASCII.GetBytes(SigningCertificatePem),
        [SigningKeyKey] = Encoding.ASCII.GetBytes(SigningKeyPem),
        [CertificateKey] = Encoding.ASCII.GetBytes(CertificatePem),
        [KeyKey] = Encoding.ASCII.GetBytes(KeyPem),
    };

    /// <summary>The serving certificate with its key, usable by Kestrel.</summary>
    public X509Certificate2 LoadServingCertificate()
    {
        using var ephemeral = X509Certificate2.CreateFromPem(CertificatePem, KeyPem);
        // Re-imported so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The CAs of the trust bundle, newest first as written.</summary>
    public static List<X509Certificate2> ReadBundle(string pem)
    {
        var bundle = new X509Certificate2Collection();
        try
        {
            bundle.ImportFromPem(pem);
        }
        catch (CryptographicException)
        {
            return [];
        }

        return [.. bundle];
    }
}
