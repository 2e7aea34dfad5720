using System.Net;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Pods;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using k8s;
using k8s.Autorest;

namespace Gatekeeper.Controller;

/// <summary>
/// Runs the controller for the life of <c>gatekeeper serve</c>: every replica competes for the Lease, and only the
/// holder creates migration Jobs and releases pods. Stopping the host gives the Lease up. Everything the controller
/// needs to know about itself (the image its Jobs run, its namespace, its ServiceAccount) comes from its configuration,
/// which the chart renders: it never reads its own pod, which RBAC scoped to some namespaces would forbid. What stops
/// it from running is reported to <see cref="ControllerHealth"/> (readiness, a metric, an alert), never only logged.
/// </summary>
public sealed class ControllerHostedService(
    KubernetesApi kubernetes,
    AppliedPlans appliedPlans,
    PrometheusControllerMetrics metrics,
    ControllerHealth health,
    IOptions<ControllerOptions> options,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var logger = loggerFactory.CreateLogger("Gatekeeper.Controller");
        if (!settings.Enabled)
        {
            Log.ControllerDisabled(logger);
            return;
        }

        var account = settings.ServiceAccount ?? "its ServiceAccount";
        if (settings.Image is not { } image)
        {
            health.Block(ControllerBlockReasons.ImageNotConfigured,
                "Controller:Image is not set, so no migration Job can be created; the chart sets it to Gatekeeper's own image (or set Controller:Enabled=false for a webhook-only replica)");
            Log.ControllerCannotRun(logger, ControllerBlockReasons.ImageNotConfigured);
            return;
        }

        if ((settings.Namespace ?? settings.LeaseNamespace ?? settings.PodNamespace) is not { } ownNamespace)
        {
            health.Block(ControllerBlockReasons.NamespaceUnknown,
                "Gatekeeper's own namespace is not known (Controller:Namespace, or POD_NAMESPACE from the downward API); the Lease and the Job signing key live there");
            Log.ControllerCannotRun(logger, ControllerBlockReasons.NamespaceUnknown);
            return;
        }

        MigrationJobSigner signer;
        try
        {
            signer = await LoadSignerAsync(ownNamespace, settings.JobSigningSecret, account, logger, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        var lease = new LeaderElectionSettings(
            settings.LeaseNamespace ?? ownNamespace,
            settings.LeaseName,
            settings.Identity ?? $"{settings.PodName ?? Environment.MachineName}_{Guid.NewGuid().ToString("N")[..8]}",
            settings.LeaseDuration,
            settings.RenewDeadline,
            settings.RetryPeriod);
        Log.ControllerStarting(logger, image, lease.Namespace, lease.LeaseName, lease.Identity);
        var controller = MigrationController.Create(kubernetes, appliedPlans, settings.JobSettings(image) with { OtlpEndpoint = System.Environment.GetEnvironmentVariable(Webhook.WebhookHost.OtlpEndpointVariable) is { Length: > 0 } otlp ? otlp : null }, signer, metrics, settings.ResyncInterval, timeProvider, logger, health);
        var leadership = new ControllerLeadership(kubernetes, lease, timeProvider, logger, health);
        leadership.LeadershipChanged += metrics.LeadershipChanged;
        metrics.LeadershipChanged(false);
        await leadership.RunAsync(controller.RunWhileLeadingAsync, stoppingToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads (or, on the first start, creates) the Job signing key. A refusal is reported as the reason the controller
    /// cannot run, and tried again with a growing pause: fixing RBAC needs no restart.
    /// </summary>
    private async Task<MigrationJobSigner> LoadSignerAsync(string @namespace, string secret, string account, ILogger logger, CancellationToken cancellationToken)
    {
        var store = new JobSigningKeyStore(kubernetes);
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                var signer = await store.LoadOrCreateAsync(@namespace, secret, cancellationToken).ConfigureAwait(false);
                health.Clear(ControllerBlockReasons.SigningKeyUnavailable);
                return signer;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
            {
                health.Block(ControllerBlockReasons.SigningKeyUnavailable,
                    $"the API server refused {account} the Secret {@namespace}/{secret} (HTTP {(int)e.Response.StatusCode}); grant get on that Secret and create on secrets in {@namespace} (the chart's Role does)");
                Log.ControllerCannotRun(logger, ControllerBlockReasons.SigningKeyUnavailable);
            }
            catch (InvalidOperationException e)
            {
                health.Block(ControllerBlockReasons.SigningKeyUnavailable, e.Message);
                Log.ControllerCannotRun(logger, ControllerBlockReasons.SigningKeyUnavailable);
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException)
            {
                // The API server is not reachable yet (a pod starting with the cluster): the webhook serves meanwhile.
                Log.SigningKeyNotYetReadable(logger, @namespace, secret, e.GetType().Name, delay.TotalSeconds);
            }

            await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxBackoff.Ticks));
        }
    }
}
