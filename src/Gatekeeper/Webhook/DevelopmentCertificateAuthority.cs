using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatekeeper.Webhook;

/// <summary>The PEM files of a throwaway CA and the serving certificate it signed.</summary>
public sealed record DevelopmentCertificates(string CaCertificatePem, string CertificatePem, string KeyPem)
{
    /// <summary>What a webhook configuration's <c>clientConfig.caBundle</c> takes: the CA's PEM in base64.</summary>
    public string CaBundle => Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(CaCertificatePem));

    /// <summary>Writes ca.crt, tls.crt and tls.key (the names cert-manager uses) and returns the two serving paths.</summary>
    public (string CertificateFile, string KeyFile) WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var certificateFile = Path.Combine(directory, "tls.crt");
        var keyFile = Path.Combine(directory, "tls.key");
        File.WriteAllText(Path.Combine(directory, "ca.crt"), CaCertificatePem);
        File.WriteAllText(certificateFile, CertificatePem);
        File.WriteAllText(keyFile, KeyPem);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return (certificateFile, keyFile);
    }
}

/// <summary>
/// Makes a self-signed CA and a serving certificate for development and tests (kind clusters without
/// cert-manager): the caBundle to paste into the webhook configurations is printed at start.
/// </summary>
public static class DevelopmentCertificateAuthority
{
    public static DevelopmentCertificates Create(IEnumerable<string> dnsNames, TimeProvider timeProvider, TimeSpan? validity = null)
    {
        ArgumentNullException.ThrowIfNull(dnsNames);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var now = timeProvider.GetUtcNow();
        var notAfter = now + (validity ?? TimeSpan.FromDays(365));

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Gatekeeper development CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), notAfter);

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var names = dnsNames.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var request = new CertificateRequest($"CN={(names.Count > 0 ? names[0] : "localhost")}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        foreach (var name in names)
        {
            san.AddDnsName(name);
        }

        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var certificate = request.Create(ca, now.AddMinutes(-5), notAfter.AddMinutes(-1), serial);

        return new DevelopmentCertificates(ca.ExportCertificatePem(), certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }
}
