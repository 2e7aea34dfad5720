using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes.Pods;

/// <summary>
/// Keeps <see cref="AppliedPlans"/> current on every replica by listing and then watching the migration Jobs
/// (label <c>gatekeeper.dev/plan</c>) in all namespaces: a Job that succeeded means its plan is applied. A watch
/// that ends or fails is followed by a fresh list, after a backoff when it failed.
/// </summary>
public sealed class MigrationJobWatcher(IKubernetes kubernetes, AppliedPlans appliedPlans, TimeProvider timeProvider, ILogger<MigrationJobWatcher> logger)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Lists and watches until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunUntilCancelledAsync(CancellationToken cancellationToken)
    {
        var backoff = FirstBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var resourceVersion = await ListAsync(cancellationToken).ConfigureAwait(false);
                backoff = FirstBackoff;
                await WatchAsync(resourceVersion, cancellationToken).ConfigureAwait(false);
                Log.JobWatchEnded(logger);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Any failure (API down, 410 Gone, a broken stream) is answered the same way: relist after a pause.
                Log.JobWatchFailed(logger, backoff.TotalSeconds, e.GetType().Name, e.Message);
                try
                {
                    await Task.Delay(backoff, timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private async Task<string?> ListAsync(CancellationToken cancellationToken)
    {
        var jobs = await kubernetes.BatchV1.ListJobForAllNamespacesAsync(
            labelSelector: GatekeeperNames.PlanLabel, cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var job in jobs.Items)
        {
            Observe(job);
        }

        var wasWarm = appliedPlans.IsWarm;
        appliedPlans.MarkWarm();
        if (!wasWarm)
        {
            Log.AppliedPlansWarm(logger, jobs.Items.Count, appliedPlans.Count);
        }

        return jobs.Metadata?.ResourceVersion;
    }

    private async Task WatchAsync(string? resourceVersion, CancellationToken cancellationToken)
    {
        var events = kubernetes.BatchV1.WatchListJobForAllNamespacesAsync(
            allowWatchBookmarks: true,
            labelSelector: GatekeeperNames.PlanLabel,
            resourceVersion: resourceVersion,
            cancellationToken: cancellationToken);
        await foreach (var (type, job) in events.ConfigureAwait(false))
        {
            if (type is WatchEventType.Added or WatchEventType.Modified && job is not null)
            {
                Observe(job);
            }
        }
    }

    private void Observe(V1Job job)
    {
        if (!Succeeded(job))
        {
            return;
        }

        var plan = PlanOf(job);
        if (plan is null)
        {
            return;
        }

        if (!appliedPlans.IsApplied(plan))
        {
            appliedPlans.MarkApplied(plan);
            Log.PlanApplied(logger, GatekeeperNames.PlanLabelValue(plan), job.Metadata?.NamespaceProperty ?? string.Empty, job.Metadata?.Name ?? string.Empty);
        }
    }

    /// <summary>The full hash from the Job's annotation when present, else the (truncated) label.</summary>
    public static string? PlanOf(V1Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Metadata?.Annotations is { } annotations && annotations.TryGetValue(GatekeeperNames.Plan, out var full) && !string.IsNullOrEmpty(full))
        {
            return full;
        }

        return job.Metadata?.Labels is { } labels && labels.TryGetValue(GatekeeperNames.PlanLabel, out var label) && !string.IsNullOrEmpty(label)
            ? label
            : null;
    }

    public static bool Succeeded(V1Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Status is null)
        {
            return false;
        }

        if (job.Status.Conditions?.Any(c => c.Type == "Complete" && c.Status == "True") == true)
        {
            return true;
        }

        // A Job that has not set its Complete condition yet but has a succeeded pod and no failure condition.
        return job.Status.Succeeded > 0 && job.Status.Conditions?.Any(c => c.Type == "Failed" && c.Status == "True") != true;
    }
}
