using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Webhook.Certificates;

/// <summary>The certificate Kestrel presents at a TLS handshake (asked at every handshake, so a new one takes effect without a restart).</summary>
public interface IServingCertificate
{
    /// <summary>Null until there is one (the handshake then fails, and readiness says why).</summary>
    X509Certificate2? Current { get; }
}

/// <summary>
/// The serving certificate Gatekeeper manages itself (<see cref="ManagedCertificateRefresher"/> keeps it): read from the
/// Secret through the API, not from a mounted volume, so a rotation is served as soon as a replica has read it, not
/// after the kubelet's next sync of the volume.
/// </summary>
public sealed class ManagedServingCertificate : IServingCertificate, IDisposable
{
    private readonly Lock gate = new();
    private X509Certificate2? current;
    private string? currentPem;

    public X509Certificate2? Current => Volatile.Read(ref current);

    /// <summary>True once a certificate is served and the webhook configurations trust its CA.</summary>
    public bool Ready { get; private set; }

    /// <summary>Why it is not ready (null when ready).</summary>
    public string? NotReadyReason { get; private set; } = "the serving certificate has not been read from its Secret yet";

    /// <summary>Serves <paramref name="certificates"/>' certificate from the next handshake on; true when it changed.</summary>
    public bool Use(ManagedCertificates certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        lock (gate)
        {
            if (currentPem == certificates.CertificatePem)
            {
                return false;
            }

            var loaded = certificates.LoadServingCertificate();
            var previous = current;
            Volatile.Write(ref current, loaded);
            currentPem = certificates.CertificatePem;
            // Connections already established keep working: SslStream holds its own reference to the key.
            previous?.Dispose();
            return true;
        }
    }

    public void MarkReady() => (Ready, NotReadyReason) = (true, null);

    /// <summary>Keeps serving what it serves; readiness fails only while nothing has been served yet.</summary>
    public void MarkFailed(string reason)
    {
        if (current is null)
        {
            (Ready, NotReadyReason) = (false, reason);
        }
    }

    public void Dispose() => current?.Dispose();
}

/// <summary>
/// Makes, rotates and serves Gatekeeper's own certificate when no cert-manager does (Webhook:ManagedCertificateSecret
/// set): at start, before the server answers, and then every Webhook:CertificateRefreshInterval, each replica reads the
/// Secret, lets <see cref="CertificateRotation"/> decide, writes it back when something changed, patches the caBundle
/// into the webhook configurations when it differs (also after someone removed it), and serves the current certificate.
/// </summary>
public sealed class ManagedCertificateRefresher(
    ManagedCertificateStore store,
    WebhookCaBundlePatcher patcher,
    ManagedServingCertificate serving,
    IOptions<WebhookOptions> options,
    TimeProvider timeProvider,
    ILogger<ManagedCertificateRefresher> logger) : BackgroundService
{
    /// <summary>After a failed round, the next comes this soon (or at the refresh interval when that is shorter).</summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(10);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.ManagedCertificateSecret is not null)
        {
            // Before Kestrel listens: the first handshake already has a certificate (a failure is retried in the loop).
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One round: decide, write, patch, serve. False when it failed (logged; readiness says why until one succeeds).</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var (ns, name) = WebhookOptions.SplitSecret(settings.ManagedCertificateSecret!);
        try
        {
            var certificates = await store.ReconcileAsync(ns, name, settings.CertificatePolicy(), cancellationToken).ConfigureAwait(false);
            // Trust first, serve second: the bundle holds the CA of the certificate about to be served.
            var patched = await patcher.PatchAsync(settings.ManagedWebhookConfiguration!, certificates.CaBundle, cancellationToken).ConfigureAwait(false);
            if (patched > 0)
            {
                Log.CaBundlePatched(logger, settings.ManagedWebhookConfiguration!, patched);
            }

            if (serving.Use(certificates) && serving.Current is { } current)
            {
                Log.ServingCertificateLoaded(logger, current.Subject, current.Thumbprint, current.NotAfter);
            }

            serving.MarkReady();
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = $"cannot keep the serving certificate in Secret {ns}/{name} and the caBundle of webhook configuration {settings.ManagedWebhookConfiguration}: {Describe(e)}";
            Log.ManagedCertificateFailed(logger, reason);
            serving.MarkFailed(reason);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.ManagedCertificateSecret is null)
        {
            return;
        }

        var succeeded = serving.Ready;
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = succeeded || settings.CertificateRefreshInterval < RetryAfterFailure ? settings.CertificateRefreshInterval : RetryAfterFailure;
            try
            {
                await Task.Delay(wait, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            succeeded = await RefreshAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>The API's status message (403 names the missing permission), never a stack trace.</summary>
    private static string Describe(Exception e) => e switch
    {
        k8s.Autorest.HttpOperationException http => $"{(int)http.Response.StatusCode} {http.Response.ReasonPhrase}: {Truncate(http.Response.Content)}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private static string Truncate(string? text) => text is null ? string.Empty : text.Length > 300 ? text[..300] : text;
}
