using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gatekeeper.Webhook.Certificates;

/// <summary>How long Gatekeeper's own CA and serving certificate live, and which names the certificate is for.</summary>
/// <param name="DnsNames">The webhook Service's names (<c>name.namespace.svc</c>, the name the API server dials).</param>
/// <param name="CaValidity">A new CA is made when a third of this remains.</param>
/// <param name="ServingValidity">A new serving certificate is issued when a third of this remains.</param>
/// <param name="Overlap">
/// How long a new CA is trusted (in the caBundle) before the serving certificate it signs is used: the time the API
/// servers and the other replicas need to see the new bundle.
/// </param>
public sealed record CertificatePolicy(IReadOnlyList<string> DnsNames, TimeSpan CaValidity, TimeSpan ServingValidity, TimeSpan Overlap)
{
    public TimeSpan CaRenewBefore => CaValidity / 3;

    public TimeSpan ServingRenewBefore => ServingValidity / 3;
}

/// <summary>The certificates to keep, and what changed (null: nothing, nothing is written).</summary>
public sealed record RotationStep(ManagedCertificates Certificates, string? Change);

/// <summary>
/// Decides what Gatekeeper's own certificates become at a moment, from what the Secret holds (pure apart from the
/// randomness of new keys; time is passed in). The rotation never leaves a moment in which a served certificate is not
/// trusted by the caBundle:
/// <list type="number">
/// <item>a new CA is added to the bundle beside the old one, and the serving certificate stays as it is;</item>
/// <item>once the new CA has been trusted for <see cref="CertificatePolicy.Overlap"/>, the serving certificate is
/// re-issued by it;</item>
/// <item>the old CA leaves the bundle when it expires (nothing it signed is served any more).</item>
/// </list>
/// </summary>
public static class CertificateRotation
{
    /// <summary>Certificates start a little in the past, so a node whose clock is behind accepts them at once.</summary>
    public static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    public static RotationStep Next(ManagedCertificates? current, DateTimeOffset now, CertificatePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (current is null || Parse(current) is not { } parsed)
        {
            // First start, or a Secret someone emptied or broke: a new CA and certificate. CAs of a readable old
            // bundle stay trusted until they expire, so replicas still serving an older certificate keep working.
            var bundle = current is null ? [] : ManagedCertificates.ReadBundle(current.CaBundlePem).Where(c => c.NotAfter.ToUniversalTime() > now.UtcDateTime).ToList();
            using var ca = NewCa(now, policy);
            return new RotationStep(Issue(ca, ca, [ca, .. bundle], now, policy), current is null ? "created a CA and a serving certificate" : "the Secret's certificates were unreadable: made a new CA and serving certificate");
        }

        using (parsed)
        {
            var changes = new List<string>();
            var signing = parsed.Signing;
            var trusted = parsed.Bundle.Where(c => c.NotAfter.ToUniversalTime() > now.UtcDateTime).ToList();
            if (trusted.Count < parsed.Bundle.Count)
            {
                changes.Add("removed an expired CA from the caBundle");
            }

            if (!trusted.Any(c => c.RawData.AsSpan().SequenceEqual(signing.RawData)))
            {
                trusted.Insert(0, signing);
                changes.Add("put the signing CA back into the caBundle");
            }

            X509Certificate2? renewedCa = null;
            if (Remaining(signing, now) < policy.CaRenewBefore)
            {
                renewedCa = NewCa(now, policy);
                signing = renewedCa;
                trusted.Insert(0, renewedCa);
                changes.Add($"made a new CA (the old one expires {parsed.Signing.NotAfter.ToUniversalTime():u}); both are trusted until then");
            }

            try
            {
                var reason = ReissueReason(parsed, signing, now, policy, caJustRenewed: renewedCa is not null);
                if (reason is not null)
                {
                    changes.Add(reason);
                    // A certificate due while the new CA is not yet trusted everywhere comes from the old CA, which is
                    // valid for a third of its life still; the switch to the new CA follows after the overlap.
                    var issuer = renewedCa is not null ? parsed.Signing : signing;
                    return new RotationStep(Issue(issuer, signing, trusted, now, policy), string.Join("; ", changes));
                }

                if (changes.Count == 0)
                {
                    return new RotationStep(current, null);
                }

                var keyPem = renewedCa is null ? current.SigningKeyPem : ExportKey(renewedCa);
                return new RotationStep(
                    current with { CaBundlePem = Bundle(trusted), SigningCertificatePem = signing.ExportCertificatePem(), SigningKeyPem = keyPem },
                    string.Join("; ", changes));
            }
            finally
            {
                renewedCa?.Dispose();
            }
        }
    }

    /// <summary>True when <paramref name="certificate"/> was signed by <paramref name="ca"/>.</summary>
    public static bool IssuedBy(X509Certificate2 certificate, X509Certificate2 ca)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(ca);
        var authority = certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier;
        var subject = ca.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes;
        return certificate.IssuerName.RawData.AsSpan().SequenceEqual(ca.SubjectName.RawData)
            && authority is { } a && subject is { } s && a.Span.SequenceEqual(s.Span);
    }

    private static string? ReissueReason(ParsedCertificates parsed, X509Certificate2 signing, DateTimeOffset now, CertificatePolicy policy, bool caJustRenewed)
    {
        var serving = parsed.Serving;
        // At a CA rotation, a certificate that falls due within the overlap is renewed now (from the old CA): after the
        // rotation only the new CA's key is kept.
        var due = caJustRenewed ? policy.ServingRenewBefore + policy.Overlap : policy.ServingRenewBefore;
        if (Remaining(serving, now) < due)
        {
            return $"issued a new serving certificate (the old one expires {serving.NotAfter.ToUniversalTime():u})";
        }

        var names = DnsNames(serving);
        if (policy.DnsNames.Any(n => !names.Contains(n)))
        {
            return "issued a new serving certificate for the Service's names " + string.Join(", ", policy.DnsNames);
        }

        if (!caJustRenewed && !IssuedBy(serving, signing) && now - (signing.NotBefore.ToUniversalTime() + Backdate) >= policy.Overlap)
        {
            return "issued the serving certificate from the new CA (trusted since " + (signing.NotBefore.ToUniversalTime() + Backdate).ToString("u", System.Globalization.CultureInfo.InvariantCulture) + ")";
        }

        return null;
    }

    private static TimeSpan Remaining(X509Certificate2 certificate, DateTimeOffset now) => new DateTimeOffset(certificate.NotAfter.ToUniversalTime()) - now;

    private static HashSet<string> DnsNames(X509Certificate2 certificate)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var extension in certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>())
        {
            names.UnionWith(extension.EnumerateDnsNames());
        }

        return names;
    }

    private static X509Certificate2 NewCa(DateTimeOffset now, CertificatePolicy policy) =>
        // The time in the name tells CAs apart in the bundle and in the issuer of a served certificate.
        CertificateIssuer.NewCa($"CN=Gatekeeper webhook CA {now.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}", now - Backdate, now + policy.CaValidity);

    /// <param name="ca">Signs the serving certificate.</param>
    /// <param name="signing">The CA kept (with its key) to sign the next ones.</param>
    private static ManagedCertificates Issue(X509Certificate2 ca, X509Certificate2 signing, IReadOnlyList<X509Certificate2> trusted, DateTimeOffset now, CertificatePolicy policy)
    {
        // Never beyond the CA: a certificate outliving its issuer is not trusted for its last part.
        var notAfter = new DateTimeOffset(Min(now + policy.ServingValidity, new DateTimeOffset(ca.NotAfter.ToUniversalTime())).UtcDateTime);
        // Loopback too: the kubelet's probes and a port-forward reach the pod by address.
        var (certificatePem, keyPem) = CertificateIssuer.IssueServing(ca, CertificateIssuer.DistinctNames(policy.DnsNames), [IPAddress.Loopback], now - Backdate, notAfter);
        return new ManagedCertificates(Bundle(trusted), signing.ExportCertificatePem(), ExportKey(signing), certificatePem, keyPem);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static string ExportKey(X509Certificate2 ca)
    {
        using var key = ca.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the CA has no private key");
        return key.ExportPkcs8PrivateKeyPem();
    }

    private static string Bundle(IEnumerable<X509Certificate2> trusted)
    {
        var text = new StringBuilder();
        foreach (var ca in trusted.DistinctBy(c => Convert.ToHexString(c.RawData)))
        {
            text.Append(ca.ExportCertificatePem()).Append('\n');
        }

        return text.ToString();
    }

    private static ParsedCertificates? Parse(ManagedCertificates current)
    {
        try
        {
            var signing = X509Certificate2.CreateFromPem(current.SigningCertificatePem, current.SigningKeyPem);
            var serving = X509Certificate2.CreateFromPem(current.CertificatePem, current.KeyPem);
            var bundle = ManagedCertificates.ReadBundle(current.CaBundlePem);
            // A serving certificate that no trusted CA signed would never be accepted: start over.
            if (!bundle.Any(ca => IssuedBy(serving, ca)) && !IssuedBy(serving, signing))
            {
                signing.Dispose();
                serving.Dispose();
                return null;
            }

            return new ParsedCertificates(signing, serving, bundle);
        }
        catch (CryptographicException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private sealed record ParsedCertificates(X509Certificate2 Signing, X509Certificate2 Serving, List<X509Certificate2> Bundle) : IDisposable
    {
        public void Dispose()
        {
            Signing.Dispose();
            Serving.Dispose();
            foreach (var ca in Bundle)
            {
                ca.Dispose();
            }
        }
    }
}
