using System.Net;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Pods;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Controller;

/// <summary>
/// Runs the controller for the life of <c>gatekeeper serve</c>: every replica competes for the Lease, and only the
/// holder creates migration Jobs and releases pods. Stopping the host gives the Lease up.
/// </summary>
public sealed class ControllerHostedService(
    IKubernetes kubernetes,
    AppliedPlans appliedPlans,
    PrometheusControllerMetrics metrics,
    IOptions<ControllerOptions> options,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory) : BackgroundService
{
    public const string PodNameVariable = "POD_NAME";
    public const string PodNamespaceVariable = "POD_NAMESPACE";
    private const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var logger = loggerFactory.CreateLogger("Gatekeeper.Controller");
        if (!settings.Enabled)
        {
            Log.ControllerDisabled(logger);
            return;
        }

        string? image;
        try
        {
            image = settings.Image ?? await OwnImageAsync(logger, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        if (image is null)
        {
            Log.NoMigrationImage(logger);
            return;
        }

        var ownNamespace = settings.LeaseNamespace ?? OwnNamespace();
        MigrationJobSigner signer;
        try
        {
            signer = await new JobSigningKeyStore(kubernetes).LoadOrCreateAsync(ownNamespace, settings.JobSigningSecret, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        var lease = new LeaderElectionSettings(
            ownNamespace,
            settings.LeaseName,
            settings.Identity ?? $"{Environment.GetEnvironmentVariable(PodNameVariable) ?? Environment.MachineName}_{Guid.NewGuid().ToString("N")[..8]}",
            settings.LeaseDuration,
            settings.RenewDeadline,
            settings.RetryPeriod);
        Log.ControllerStarting(logger, image, lease.Namespace, lease.LeaseName, lease.Identity);
        var controller = MigrationController.Create(kubernetes, appliedPlans, settings.JobSettings(image), signer, metrics, settings.ResyncInterval, timeProvider, logger);
        var leadership = new ControllerLeadership(kubernetes, lease, timeProvider, logger);
        leadership.LeadershipChanged += metrics.LeadershipChanged;
        metrics.LeadershipChanged(false);
        await leadership.RunAsync(controller.RunWhileLeadingAsync, stoppingToken).ConfigureAwait(false);
    }

    /// <summary>The image of this pod's gatekeeper container, from the downward API's pod name and namespace.</summary>
    private async Task<string?> OwnImageAsync(ILogger logger, CancellationToken cancellationToken)
    {
        var pod = Environment.GetEnvironmentVariable(PodNameVariable);
        var ns = Environment.GetEnvironmentVariable(PodNamespaceVariable);
        if (string.IsNullOrEmpty(pod) || string.IsNullOrEmpty(ns))
        {
            return null;
        }

        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                var self = await kubernetes.CoreV1.ReadNamespacedPodAsync(pod, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                var containers = self.Spec?.Containers ?? [];
                return (containers.FirstOrDefault(c => c.Name == "gatekeeper") ?? containers.FirstOrDefault())?.Image;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
            {
                Log.OwnPodUnreadable(logger, ns, pod, (int)e.Response.StatusCode);
                return null;
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException)
            {
                // The API server is not reachable yet (a pod starting with the cluster): the webhook serves meanwhile.
                Log.OwnPodNotYetReadable(logger, ns, pod, e.GetType().Name, delay.TotalSeconds);
                await Task.Delay(delay, timeProvider, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    private static string OwnNamespace()
    {
        if (Environment.GetEnvironmentVariable(PodNamespaceVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        return File.Exists(ServiceAccountNamespaceFile) ? File.ReadAllText(ServiceAccountNamespaceFile).Trim() : "gatekeeper-system";
    }
}
