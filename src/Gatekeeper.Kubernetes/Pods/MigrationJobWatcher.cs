using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes.Pods;

/// <summary>
/// Keeps <see cref="AppliedPlans"/> current on every replica by listing and then watching the migration Jobs
/// (label <c>gatekeeper.dev/plan</c>) in all namespaces: a Job that succeeded means its plan is applied. A watch
/// that ends or fails is followed by a fresh list, after a backoff when it failed or when several watches in a row
/// ended without an event.
/// </summary>
public sealed class MigrationJobWatcher(IKubernetes kubernetes, AppliedPlans appliedPlans, TimeProvider timeProvider, ILogger<MigrationJobWatcher> logger)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Watches that end without a single event, in a row, before the next list waits a backoff.</summary>
    private const int MaxQuietEndings = 3;

    /// <summary>Lists and watches until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunUntilCancelledAsync(CancellationToken cancellationToken)
    {
        var backoff = FirstBackoff;
        var quietEndings = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (quietEndings >= MaxQuietEndings)
                {
                    // A server that ends every watch at once would otherwise be asked again in a tight loop.
                    await Task.Delay(backoff, timeProvider, cancellationToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }

                var resourceVersion = await ListAsync(cancellationToken).ConfigureAwait(false);
                if (quietEndings < MaxQuietEndings)
                {
                    backoff = FirstBackoff;
                }

                var events = await WatchAsync(resourceVersion, cancellationToken).ConfigureAwait(false);
                quietEndings = events == 0 ? quietEndings + 1 : 0;
                if (events > 0)
                {
                    backoff = FirstBackoff;
                }

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

    /// <summary>Follows one watch to its end; returns how many events it brought.</summary>
    private async Task<int> WatchAsync(string? resourceVersion, CancellationToken cancellationToken)
    {
        var count = 0;
        var events = kubernetes.BatchV1.WatchListJobForAllNamespacesAsync(
            allowWatchBookmarks: true,
            labelSelector: GatekeeperNames.PlanLabel,
            resourceVersion: resourceVersion,
            cancellationToken: cancellationToken);
        try
        {
            await foreach (var (type, job) in events.ConfigureAwait(false))
            {
                count++;
                if (type is WatchEventType.Added or WatchEventType.Modified && job is not null)
                {
                    Observe(job);
                }
            }
        }
        catch (HttpRequestException e) when (e.InnerException is EndOfStreamException && !cancellationToken.IsCancellationRequested)
        {
            // KubernetesClient reports a watch the server closed before its first line this way: an ordinary end,
            // not an outage (see ResourceInformer), so it must not cost a backoff in which a success goes unseen.
        }

        return count;
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
