using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using Gatekeeper.Controller;
using Gatekeeper.Webhook;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// A real webhook server for one test: Kestrel over HTTPS on a loopback port with a freshly generated CA,
/// KubernetesClient pointed at the test's API server double, its own metric registry, and an HTTP client that
/// trusts only that CA (as the API server trusts the caBundle).
/// </summary>
public sealed class TestWebhook : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly HttpClient client;

    private TestWebhook(WebApplication app, DevelopmentCertificates certificates, string directory, CollectorRegistry registry)
    {
        this.app = app;
        Certificates = certificates;
        CertificateDirectory = directory;
        Registry = registry;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        client = CreateClient();
    }

    public Uri BaseAddress { get; }

    public DevelopmentCertificates Certificates { get; }

    public string CertificateDirectory { get; }

    public CollectorRegistry Registry { get; }

    public IServiceProvider Services => app.Services;

    public HttpClient Client => client;

    /// <summary>
    /// The controller host's run: it completes when the host has decided not to run the controller (switched off, no
    /// image) or has stopped, so a test can assert what it never did without waiting for time to pass.
    /// </summary>
    public Task ControllerHostRun =>
        app.Services.GetServices<IHostedService>().OfType<ControllerHostedService>().Single().ExecuteTask
        ?? throw new InvalidOperationException("the controller host has not started");

    public static async Task<TestWebhook> StartAsync(
        KubeApiServerDouble api,
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var directory = OwnedTempDirectory.Create("gatekeeper-webhook-test-");
        var certificates = DevelopmentCertificateAuthority.Create(["gatekeeper.gatekeeper-system.svc"], TimeProvider.System);
        var (certificateFile, keyFile) = certificates.WriteTo(directory);
        var all = new Dictionary<string, string?>
        {
            ["Webhook:ListenAddress"] = "127.0.0.1",
            ["Webhook:Port"] = "0",
            ["Webhook:TlsCertificateFile"] = certificateFile,
            ["Webhook:TlsKeyFile"] = keyFile,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var registry = Metrics.NewCustomRegistry();
        var app = WebhookHost.Build(
            all,
            services =>
            {
                services.Replace(ServiceDescriptor.Singleton(api.CreateApi()));
                services.Replace(ServiceDescriptor.Singleton(registry));
                configureServices?.Invoke(services);
            },
            logging =>
            {
                logging.ClearProviders();
                if (OutputCapture.Enabled)
                {
                    logging.AddProvider(OutputCapture.LoggerProvider()).AddFilter("Gatekeeper", LogLevel.Trace);
                }
            });
        await app.StartAsync();
        return new TestWebhook(app, certificates, directory, registry);
    }

    /// <summary>A new client (new connections, so a new TLS handshake) that reports the certificate it was served.</summary>
    public HttpClient CreateClient(Action<X509Certificate2>? served = null, int maxConnections = int.MaxValue)
    {
        using var ca = X509Certificate2.CreateFromPem(Certificates.CaCertificatePem);
        var handler = Trusting([X509CertificateLoader.LoadCertificate(ca.RawData)], served: served);
        handler.MaxConnectionsPerServer = maxConnections;
        return new HttpClient(OutputCapture.RecordingResponses(handler, "webhook")) { BaseAddress = BaseAddress, Timeout = Patience.Default };
    }

    /// <summary>
    /// A handler that trusts only <paramref name="trusted"/> (as the API server trusts a caBundle), checked at
    /// <paramref name="time"/>'s time when given, for <paramref name="targetHost"/> when given, and reports the
    /// certificate it was served.
    /// </summary>
    public static SocketsHttpHandler Trusting(X509Certificate2Collection trusted, TimeProvider? time = null, string? targetHost = null, Action<X509Certificate2>? served = null) => new()
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }

                var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                served?.Invoke(leaf);
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                if (time is not null)
                {
                    chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
                }

                return chain.Build(leaf);
            },
        },
    };

    public Task<HttpResponseMessage> PostAsync(string path, string body) =>
        client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

    public string MetricsText()
    {
        using var stream = new MemoryStream();
        Registry.CollectAndExportAsTextAsync(stream).GetAwaiter().GetResult();
        var text = Encoding.UTF8.GetString(stream.ToArray());
        OutputCapture.Record(OutputCapture.Metrics, "webhook registry", text);
        return text;
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        if (OutputCapture.Enabled)
        {
            MetricsText();
        }

        await app.StopAsync();
        await app.DisposeAsync();
        OwnedTempDirectory.Delete(CertificateDirectory);
    }
}
