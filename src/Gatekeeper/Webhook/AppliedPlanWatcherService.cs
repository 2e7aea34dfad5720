using Gatekeeper.Kubernetes.Pods;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Webhook;

/// <summary>Runs the watch of the opted-in Deployments' records for the life of the process (every replica, not only the leader).</summary>
public sealed class AppliedPlanWatcherService(AppliedPlanWatcher watcher, IOptions<WebhookOptions> options) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.WatchDeployments ? watcher.RunUntilCancelledAsync(stoppingToken) : Task.CompletedTask;
}
