using System.Net;
using Gatekeeper.Webhook.Certificates;

namespace Gatekeeper.Webhook;

/// <summary>The PEM files of a throwaway CA and the serving certificate it signed.</summary>
public sealed record DevelopmentCertificates(string CaCertificatePem, string CertificatePem, string KeyPem)
{
    /// <summary>What a webhook configuration's <c>clientConfig.caBundle</c> takes: the CA's PEM in base64.</summary>
    public string CaBundle => Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(CaCertificatePem));

    public const string CertificateFileName = "tls.crt";

    public const string KeyFileName = "tls.key";

    /// <summary>Writes ca.crt, tls.crt and tls.key (the names cert-manager uses) and returns the two serving paths.</summary>
    public (string CertificateFile, string KeyFile) WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var certificateFile = Path.Combine(directory, CertificateFileName);
        var keyFile = Path.Combine(directory, KeyFileName);
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

        using var ca = CertificateIssuer.NewCa("CN=Gatekeeper development CA", now.AddMinutes(-5), notAfter);
        // localhost and both loopbacks: a port-forward or a test reaches the webhook by them.
        var (certificatePem, keyPem) = CertificateIssuer.IssueServing(
            ca, CertificateIssuer.DistinctNames(dnsNames.Append("localhost")), [IPAddress.Loopback, IPAddress.IPv6Loopback], now.AddMinutes(-5), notAfter.AddMinutes(-1));

        return new DevelopmentCertificates(ca.ExportCertificatePem(), certificatePem, keyPem);
    }
}
