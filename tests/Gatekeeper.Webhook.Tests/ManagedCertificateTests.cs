using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatekeeper.Tests.ApiServerDouble;
using Gatekeeper.Webhook.Certificates;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// Gatekeeper's own certificate (the chart's default without cert-manager): kept in a Secret it creates, its CA patched
/// into its webhook configurations, rotated with the old and new CA both trusted, served over real HTTPS without a
/// restart. Everything goes through KubernetesClient to the API double.
/// </summary>
public sealed class ManagedCertificateTests : IAsyncLifetime
{
    private const string Namespace = "gatekeeper-system";
    private const string SecretName = "gatekeeper-webhook-tls";
    private const string Configuration = "gatekeeper";
    private const string DnsName = "gatekeeper.gatekeeper-system.svc";

    private static readonly CertificatePolicy Policy = new([DnsName], TimeSpan.FromDays(365), TimeSpan.FromDays(90), TimeSpan.FromHours(1));

    private KubeApiServerDouble api = null!;

    public async Task InitializeAsync() => api = await KubeApiServerDouble.StartAsync();

    public async Task DisposeAsync() => await api.DisposeAsync();

    [Fact]
    public void The_first_start_makes_a_CA_and_a_serving_certificate_for_the_Service_that_it_signed()
    {
        var now = DateTimeOffset.UtcNow;
        var step = CertificateRotation.Next(null, now, Policy);

        Assert.NotNull(step.Change);
        using var serving = X509Certificate2.CreateFromPem(step.Certificates.CertificatePem);
        var bundle = ManagedCertificates.ReadBundle(step.Certificates.CaBundlePem);
        Assert.Single(bundle);
        Assert.True(CertificateRotation.IssuedBy(serving, bundle[0]));
        Assert.Contains(DnsName, serving.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.Null(CertificateRotation.Next(step.Certificates, now.AddDays(30), Policy).Change);
    }

    [Fact]
    public void The_serving_certificate_is_renewed_by_the_same_CA_when_a_third_of_its_life_remains()
    {
        var start = DateTimeOffset.UtcNow;
        var first = CertificateRotation.Next(null, start, Policy).Certificates;

        Assert.Null(CertificateRotation.Next(first, start.AddDays(59), Policy).Change);
        var renewed = CertificateRotation.Next(first, start.AddDays(61), Policy);

        Assert.NotNull(renewed.Change);
        Assert.NotEqual(first.CertificatePem, renewed.Certificates.CertificatePem);
        Assert.Equal(first.SigningCertificatePem, renewed.Certificates.SigningCertificatePem);
        Assert.Equal(first.CaBundlePem, renewed.Certificates.CaBundlePem);
    }

    [Fact]
    public void A_CA_rotation_trusts_the_new_CA_first_serves_from_it_after_the_overlap_and_drops_the_old_CA_when_it_expires()
    {
        var start = DateTimeOffset.UtcNow;
        var first = CertificateRotation.Next(null, start, Policy).Certificates;
        // Keep the serving certificate fresh up to the CA's renewal, as the refresh loop would.
        var beforeCaRenewal = CertificateRotation.Next(first, start.AddDays(240), Policy).Certificates;
        using var oldCa = X509Certificate2.CreateFromPem(first.SigningCertificatePem);

        // 1. A third of the CA's life left: a new CA, trusted beside the old one; the served certificate stays.
        var rotation = CertificateRotation.Next(beforeCaRenewal, start.AddDays(245), Policy);
        Assert.NotNull(rotation.Change);
        var trusted = ManagedCertificates.ReadBundle(rotation.Certificates.CaBundlePem);
        Assert.Equal(2, trusted.Count);
        Assert.Contains(trusted, ca => ca.RawData.AsSpan().SequenceEqual(oldCa.RawData));
        Assert.Equal(beforeCaRenewal.CertificatePem, rotation.Certificates.CertificatePem);
        using var newCa = X509Certificate2.CreateFromPem(rotation.Certificates.SigningCertificatePem);
        Assert.False(newCa.RawData.AsSpan().SequenceEqual(oldCa.RawData));

        // 2. Within the overlap nothing else changes; after it, the certificate comes from the new CA, the old CA still trusted.
        Assert.Null(CertificateRotation.Next(rotation.Certificates, start.AddDays(245).AddMinutes(30), Policy).Change);
        var switched = CertificateRotation.Next(rotation.Certificates, start.AddDays(245).AddHours(2), Policy).Certificates;
        using var serving = X509Certificate2.CreateFromPem(switched.CertificatePem);
        Assert.True(CertificateRotation.IssuedBy(serving, newCa));
        Assert.Equal(2, ManagedCertificates.ReadBundle(switched.CaBundlePem).Count);

        // 3. The old CA expires: it leaves the bundle.
        var afterExpiry = CertificateRotation.Next(switched, start.AddDays(366), Policy).Certificates;
        var left = ManagedCertificates.ReadBundle(afterExpiry.CaBundlePem);
        Assert.Single(left);
        Assert.True(left[0].RawData.AsSpan().SequenceEqual(newCa.RawData));
    }

    [Fact]
    public void A_serving_certificate_due_at_the_CA_rotation_is_renewed_from_the_old_CA_so_the_old_caBundle_still_trusts_it()
    {
        var start = DateTimeOffset.UtcNow;
        var first = CertificateRotation.Next(null, start, Policy).Certificates;
        var dueAtRotation = CertificateRotation.Next(first, start.AddDays(183), Policy).Certificates;
        using var oldCa = X509Certificate2.CreateFromPem(first.SigningCertificatePem);

        var rotation = CertificateRotation.Next(dueAtRotation, start.AddDays(244), Policy).Certificates;

        using var serving = X509Certificate2.CreateFromPem(rotation.CertificatePem);
        Assert.NotEqual(dueAtRotation.CertificatePem, rotation.CertificatePem);
        Assert.True(CertificateRotation.IssuedBy(serving, oldCa));
        Assert.False(rotation.SigningCertificatePem == first.SigningCertificatePem);
        Assert.True(serving.NotAfter <= oldCa.NotAfter);
    }

    [Fact]
    public async Task The_webhook_serves_the_certificate_it_keeps_in_its_Secret_and_patches_the_caBundle_of_its_own_configurations()
    {
        PutWebhookConfigurations();
        await using var webhook = await TestWebhook.StartAsync(api, ManagedSettings());

        var secret = api.Get<V1Secret>(Namespace, SecretName);
        Assert.NotNull(secret);
        Assert.Equal("kubernetes.io/tls", secret.Type);
        var certificates = ManagedCertificates.FromSecretData(secret.Data)!;
        var bundles = CaBundles();
        Assert.Equal(3, bundles.Count);
        Assert.All(bundles, b => Assert.Equal(certificates.CaBundlePem, b));

        X509Certificate2? served = null;
        using var client = Trusting(webhook, bundles[0], c => served = c);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(certificates.CertificatePem.Trim(), served!.ExportCertificatePem().Trim());

        // A second replica starting later takes the same Secret: one CA for every replica.
        await using var second = await TestWebhook.StartAsync(api, ManagedSettings());
        using var secondClient = Trusting(second, bundles[0]);
        Assert.Equal(HttpStatusCode.OK, (await secondClient.GetAsync("/healthz")).StatusCode);
        Assert.Equal(certificates, ManagedCertificates.FromSecretData(api.Get<V1Secret>(Namespace, SecretName)!.Data));
    }

    [Fact]
    public async Task Two_replicas_starting_together_agree_on_one_CA()
    {
        PutWebhookConfigurations();
        var starts = await Task.WhenAll(TestWebhook.StartAsync(api, ManagedSettings()), TestWebhook.StartAsync(api, ManagedSettings()));
        await using var first = starts[0];
        await using var second = starts[1];

        var bundle = CaBundles()[0];
        using var firstClient = Trusting(first, bundle);
        using var secondClient = Trusting(second, bundle);
        Assert.Equal(HttpStatusCode.OK, (await firstClient.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await secondClient.GetAsync("/healthz")).StatusCode);
        // One CA in the bundle, and both replicas serve a certificate it signed (the handshakes above).
        Assert.Single(ManagedCertificates.ReadBundle(bundle!));
    }

    [Fact]
    public async Task A_CA_rotation_keeps_the_old_CA_trusted_and_the_new_certificate_is_served_without_a_restart()
    {
        PutWebhookConfigurations();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var webhook = await TestWebhook.StartAsync(api, ManagedSettings(), services => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        var refresher = webhook.Services.GetRequiredService<ManagedCertificateRefresher>();
        var oldBundle = CaBundles()[0]!;
        X509Certificate2? served = null;

        // The refresh loop's rounds every two months renew the serving certificate; at day 244 a third of the CA's life
        // is left and the serving certificate is due too: the new CA is trusted, the certificate served still comes
        // from the old one.
        for (var round = 0; round < 4; round++)
        {
            time.Advance(TimeSpan.FromDays(61));
            Assert.True(await refresher.RefreshAsync(CancellationToken.None));
        }

        var overlapBundle = CaBundles()[0]!;
        Assert.Equal(2, ManagedCertificates.ReadBundle(overlapBundle).Count);
        using (var withOldBundle = Trusting(webhook, oldBundle, time))
        {
            Assert.Equal(HttpStatusCode.OK, (await withOldBundle.GetAsync("/healthz")).StatusCode);
        }

        // After the overlap: a new handshake gets the certificate of the new CA, which the patched bundle trusts,
        // and the old CA is still in that bundle.
        time.Advance(TimeSpan.FromHours(2));
        Assert.True(await refresher.RefreshAsync(CancellationToken.None));
        var finalBundle = CaBundles()[0]!;
        using var client = Trusting(webhook, finalBundle, time, c => served = c);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        var newCa = ManagedCertificates.ReadBundle(finalBundle)[0];
        Assert.True(CertificateRotation.IssuedBy(served!, newCa));
        Assert.Contains(ManagedCertificates.ReadBundle(oldBundle)[0].RawData, ManagedCertificates.ReadBundle(finalBundle).Select(c => c.RawData));
        using var withOnlyTheOldCa = Trusting(webhook, oldBundle, time);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => withOnlyTheOldCa.GetAsync("/healthz"));
    }

    [Fact]
    public async Task A_caBundle_that_someone_removed_is_put_back_by_the_next_refresh()
    {
        PutWebhookConfigurations();
        await using var webhook = await TestWebhook.StartAsync(api, ManagedSettings());
        var bundle = CaBundles()[0];

        // helm upgrade applies the chart's configurations again, which carry no caBundle.
        PutWebhookConfigurations();
        Assert.All(CaBundles(), Assert.Null);
        Assert.True(await webhook.Services.GetRequiredService<ManagedCertificateRefresher>().RefreshAsync(CancellationToken.None));

        Assert.All(CaBundles(), b => Assert.Equal(bundle, b));
    }

    [Fact]
    public async Task Without_its_webhook_configurations_the_replica_is_not_ready_and_says_why()
    {
        await using var webhook = await TestWebhook.StartAsync(api, ManagedSettings());

        var serving = webhook.Services.GetRequiredService<ManagedServingCertificate>();
        // The certificate is kept and served (the Secret could be written), but the API server could not trust it.
        Assert.NotNull(api.Get<V1Secret>(Namespace, SecretName));
        Assert.False(serving.Ready);
        Assert.Contains("webhook configuration gatekeeper", serving.NotReadyReason, StringComparison.Ordinal);
        Assert.Contains("404", serving.NotReadyReason, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> ManagedSettings() => new()
    {
        ["Controller:Enabled"] = "false",
        ["Webhook:WatchDeployments"] = "false",
        ["Webhook:ManagedCertificateSecret"] = $"{Namespace}/{SecretName}",
        ["Webhook:ManagedWebhookConfiguration"] = Configuration,
        ["Webhook:ManagedCertificateDnsNames:0"] = DnsName,
    };

    /// <summary>The configurations as the chart renders them: no caBundle.</summary>
    private void PutWebhookConfigurations()
    {
        static Admissionregistrationv1WebhookClientConfig Client(string path) => new() { Service = new Admissionregistrationv1ServiceReference { Name = "gatekeeper", NamespaceProperty = Namespace, Path = path } };
        api.Put(new V1MutatingWebhookConfiguration
        {
            Metadata = new V1ObjectMeta { Name = Configuration },
            Webhooks =
            [
                new V1MutatingWebhook { Name = "deployments.mutate.gatekeeper.dev", ClientConfig = Client("/mutate/deployments"), SideEffects = "NoneOnDryRun", AdmissionReviewVersions = ["v1"] },
                new V1MutatingWebhook { Name = "pods.mutate.gatekeeper.dev", ClientConfig = Client("/mutate/pods"), SideEffects = "None", AdmissionReviewVersions = ["v1"] },
            ],
        });
        api.Put(new V1ValidatingWebhookConfiguration
        {
            Metadata = new V1ObjectMeta { Name = Configuration },
            Webhooks = [new V1ValidatingWebhook { Name = "deployments.validate.gatekeeper.dev", ClientConfig = Client("/validate/deployments"), SideEffects = "NoneOnDryRun", AdmissionReviewVersions = ["v1"] }],
        });
    }

    /// <summary>The caBundle of every webhook in both configurations, as PEM text (null where there is none).</summary>
    private List<string?> CaBundles()
    {
        var mutating = api.Get<V1MutatingWebhookConfiguration>(string.Empty, Configuration)!;
        var validating = api.Get<V1ValidatingWebhookConfiguration>(string.Empty, Configuration)!;
        return mutating.Webhooks.Select(w => w.ClientConfig.CaBundle).Concat(validating.Webhooks.Select(w => w.ClientConfig.CaBundle))
            .Select(b => b is null ? null : Encoding.ASCII.GetString(b)).ToList();
    }

    private static HttpClient Trusting(TestWebhook webhook, string? bundlePem, Action<X509Certificate2>? served = null) =>
        Trusting(webhook, bundlePem, TimeProvider.System, served);

    /// <summary>A client that trusts only <paramref name="bundlePem"/>, as the API server trusts a caBundle, checked at the given clock's time.</summary>
    private static HttpClient Trusting(TestWebhook webhook, string? bundlePem, TimeProvider time, Action<X509Certificate2>? served = null)
    {
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPem(bundlePem ?? throw new InvalidOperationException("no caBundle"));
        var handler = TestWebhook.Trusting(trusted, time, DnsName, served);
        return new HttpClient(handler) { BaseAddress = webhook.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }
}
