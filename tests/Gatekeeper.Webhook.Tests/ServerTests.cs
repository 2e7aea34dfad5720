using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatekeeper.Tests.ApiServerDouble;
using Gatekeeper.Webhook;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Gatekeeper.Webhook.Tests;

public sealed class ServerTests : IAsyncLifetime
{
    private KubeApiServerDouble api = null!;

    public async Task InitializeAsync() => api = await KubeApiServerDouble.StartAsync();

    public async Task DisposeAsync() => await api.DisposeAsync();

    [Fact]
    public async Task The_server_speaks_https_only_with_a_certificate_that_chains_to_the_printed_ca_bundle()
    {
        await using var webhook = await TestWebhook.StartAsync(api);
        X509Certificate2? served = null;
        using var client = webhook.CreateClient(c => served = c);

        var health = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.NotNull(served);
        var bundle = Encoding.ASCII.GetString(Convert.FromBase64String(webhook.Certificates.CaBundle));
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", bundle, StringComparison.Ordinal);
        using var plain = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{webhook.BaseAddress.Port}") };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync("/healthz"));
    }

    [Fact]
    public async Task A_rotated_certificate_is_served_on_the_next_handshake_without_a_restart()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var webhook = await TestWebhook.StartAsync(api, configureServices: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        var first = await ServedCertificate(webhook);

        // cert-manager writes the renewed pair; the webhook must pick it up on its next check.
        var renewed = DevelopmentCertificateAuthority.Create(["gatekeeper.gatekeeper-system.svc"], TimeProvider.System);
        File.WriteAllText(Path.Combine(webhook.CertificateDirectory, "tls.crt"), renewed.CertificatePem);
        File.WriteAllText(Path.Combine(webhook.CertificateDirectory, "tls.key"), renewed.KeyPem);
        time.Advance(TimeSpan.FromSeconds(11));
        var second = await ServedCertificate(webhook, trustAnyCa: true);

        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        using var expected = X509Certificate2.CreateFromPem(renewed.CertificatePem);
        Assert.Equal(expected.Thumbprint, second.Thumbprint);
    }

    [Fact]
    public async Task A_half_written_rotation_keeps_the_previous_certificate()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var webhook = await TestWebhook.StartAsync(api, configureServices: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        var first = await ServedCertificate(webhook);

        var renewed = DevelopmentCertificateAuthority.Create(["gatekeeper.gatekeeper-system.svc"], TimeProvider.System);
        File.WriteAllText(Path.Combine(webhook.CertificateDirectory, "tls.crt"), renewed.CertificatePem);
        time.Advance(TimeSpan.FromSeconds(11));
        var second = await ServedCertificate(webhook);

        Assert.Equal(first.Thumbprint, second.Thumbprint);
    }

    [Fact]
    public async Task Readyz_waits_until_the_applied_plans_of_the_opted_in_deployments_are_read()
    {
        api.Fail("/apis/apps/v1/deployments", HttpStatusCode.ServiceUnavailable);
        var time = new SignallingTimeProvider();
        var backoff = time.NextTimer();
        // A webhook-only replica: readiness here is about the applied plans alone (ControllerHostTests cover the controller's part).
        await using var webhook = await TestWebhook.StartAsync(api, new Dictionary<string, string?> { ["Controller:Enabled"] = "false" },
            configureServices: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(time)));
        var applied = webhook.Services.GetRequiredService<Gatekeeper.Kubernetes.Pods.AppliedPlans>();

        // The first list has failed once the watcher waits out its backoff.
        var delay = await backoff.WaitAsync(Gatekeeper.Tests.Patience.Default);
        var cold = await webhook.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, cold.StatusCode);
        Assert.Contains("applied plans", await cold.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var warm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        applied.BecameWarm += () => warm.TrySetResult();
        api.Heal("/apis/apps/v1/deployments");
        time.Advance(delay);
        await warm.Task.WaitAsync(Gatekeeper.Tests.Patience.Default);

        Assert.Equal(HttpStatusCode.OK, (await webhook.Client.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await webhook.Client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Metrics_exports_the_names_the_alert_rules_use()
    {
        await using var webhook = await TestWebhook.StartAsync(api);
        await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", AdmissionReviewBodies.Pod("team-a", "shop", null)));

        var text = await webhook.Client.GetStringAsync("/metrics");

        Assert.Contains("gatekeeper_admission_requests_total{webhook=\"mutate-pods\",decision=\"allowed\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_admission_duration_seconds_bucket{webhook=\"mutate-pods\"", text, StringComparison.Ordinal);
        foreach (var name in MetricNames.All)
        {
            Assert.Contains($"# TYPE {name} ", text, StringComparison.Ordinal);
        }
    }

    private static async Task<X509Certificate2> ServedCertificate(TestWebhook webhook, bool trustAnyCa = false)
    {
        X509Certificate2? served = null;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                served = X509CertificateLoader.LoadCertificate(certificate!.GetRawCertData());
                return true;
            } },
        };
        using var client = trustAnyCa ? new HttpClient(handler) { BaseAddress = webhook.BaseAddress } : webhook.CreateClient(c => served = c);
        var response = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return served!;
    }
}
