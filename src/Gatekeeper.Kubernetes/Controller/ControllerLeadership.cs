using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>Where the controller's Lease lives and how it is held (client-go's defaults: 15 s, 10 s, 2 s).</summary>
/// <param name="Identity">This replica's name in the Lease (the pod name plus a random suffix, so a restarted pod is a new holder).</param>
/// <param name="RenewDeadline">How long the leader keeps trying to renew before it stops working; below <paramref name="LeaseDuration"/>,
/// so a leader that cannot renew has stopped before anyone else may take over.</param>
public sealed record LeaderElectionSettings(
    string Namespace,
    string LeaseName,
    string Identity,
    TimeSpan LeaseDuration,
    TimeSpan RenewDeadline,
    TimeSpan RetryPeriod);

/// <summary>
/// Runs the controller's work only while this replica holds the <c>coordination.k8s.io</c> Lease, in terms: wait for
/// the lease, work while renewing it, stop. A term ends, and its work's token is cancelled at once, when the renewal
/// has not succeeded for <see cref="LeaderElectionSettings.RenewDeadline"/>, when the Lease names another holder,
/// or when the work ends by itself; the renew loop belongs to the term and ends with it, so a lost term never renews
/// again. On shutdown the leader deletes its Lease, so another replica takes over without waiting for it to expire.
/// </summary>
/// <remarks>
/// The rules follow client-go's leader election: another holder's lease counts as expired only when this replica has
/// seen the same record for a whole lease duration on its own clock (so clock skew between nodes does not matter),
/// and every write is guarded by the Lease's resourceVersion, so two candidates never both win. All waiting uses the
/// injected <see cref="TimeProvider"/>.
/// </remarks>
/// <param name="health">Told when the API server refuses the Lease (RBAC in Gatekeeper's namespace), and when it no longer does.</param>
public sealed class ControllerLeadership(KubernetesApi kubernetes, LeaderElectionSettings settings, TimeProvider timeProvider, ILogger logger, ControllerHealth? health = null)
{
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(5);
    private volatile bool leading;
    private string? observedVersion;
    private long observedAt;
    private string? knownLeader;

    public bool IsLeading => leading;

    /// <summary>Raised when this replica starts (true) or stops (false) leading.</summary>
    public event Action<bool>? LeadershipChanged;

    public async Task RunAsync(Func<CancellationToken, Task> whileLeading, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(whileLeading);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await AcquireAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            await LeadOneTermAsync(whileLeading, stoppingToken).ConfigureAwait(false);
            if (stoppingToken.IsCancellationRequested)
            {
                await ReleaseAsync().ConfigureAwait(false);
                return;
            }

            try
            {
                await Task.Delay(settings.RetryPeriod, timeProvider, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Tries every retry period until this replica holds the lease.</summary>
    private async Task AcquireAsync(CancellationToken stoppingToken)
    {
        while (await TryAcquireOrRenewAsync(stoppingToken).ConfigureAwait(false) != LeaseAttempt.Held)
        {
            await Task.Delay(settings.RetryPeriod, timeProvider, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>Works while renewing; returns when the term is over, with the work stopped.</summary>
    private async Task LeadOneTermAsync(Func<CancellationToken, Task> whileLeading, CancellationToken stoppingToken)
    {
        using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        leading = true;
        Log.StartedLeading(logger, settings.Identity, settings.Namespace, settings.LeaseName);
        LeadershipChanged?.Invoke(true);
        var work = Task.Run(() => whileLeading(term.Token), CancellationToken.None);
        var renewal = RenewUntilLostAsync(term.Token);
        await Task.WhenAny(work, renewal).ConfigureAwait(false);

        // Whichever ended first ends the term: a lost lease stops the work, work that ended (a bug, not a lost lease)
        // stops the renewal, so this replica does not keep a lease it does nothing with.
        await term.CancelAsync().ConfigureAwait(false);
        try
        {
            await renewal.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The term's token ends the renew loop.
        }

        try
        {
            await work.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The work's token was cancelled: that is how it stops.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.LeaderWorkFailed(logger, e.GetType().Name, e.Message);
        }

        leading = false;
        Log.StoppedLeading(logger, settings.Identity);
        LeadershipChanged?.Invoke(false);
    }

    /// <summary>Renews every retry period; returns when the lease is lost (another holder, or no renewal within the deadline).</summary>
    private async Task RenewUntilLostAsync(CancellationToken term)
    {
        var renewed = timeProvider.GetTimestamp();
        while (true)
        {
            await Task.Delay(settings.RetryPeriod, timeProvider, term).ConfigureAwait(false);
            var left = settings.RenewDeadline - timeProvider.GetElapsedTime(renewed);
            if (left <= TimeSpan.Zero)
            {
                Log.LeaseLost(logger, settings.Identity, $"no renewal for {settings.RenewDeadline.TotalSeconds:0.##}s");
                return;
            }

            // One attempt may take at most what is left of the deadline: a hanging API server must not keep this
            // replica working past it.
            using var deadline = new CancellationTokenSource(left, timeProvider);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(term, deadline.Token);
            LeaseAttempt outcome;
            try
            {
                outcome = await TryAcquireOrRenewAsync(attempt.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!term.IsCancellationRequested)
            {
                outcome = LeaseAttempt.Failed;
            }

            switch (outcome)
            {
                case LeaseAttempt.Held:
                    renewed = timeProvider.GetTimestamp();
                    break;
                case LeaseAttempt.HeldByOther:
                    Log.LeaseLost(logger, settings.Identity, $"the Lease names {knownLeader}");
                    return;
                case LeaseAttempt.Failed:
                    // Tried again after the retry period, until the deadline.
                    break;
                default:
                    throw new InvalidOperationException($"unknown lease attempt outcome {outcome}");
            }
        }
    }

    /// <summary>One read and at most one write of the Lease, as client-go's tryAcquireOrRenew.</summary>
    private async Task<LeaseAttempt> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var attempt = await TryAcquireOrRenewOnceAsync(cancellationToken).ConfigureAwait(false);
        if (attempt != LeaseAttempt.Failed)
        {
            // The Lease could be read (and written if it had to be): whatever was refused before is allowed now.
            health?.Clear(ControllerBlockReasons.LeaseForbidden);
        }

        return attempt;
    }

    private async Task<LeaseAttempt> TryAcquireOrRenewOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            V1Lease? current;
            try
            {
                current = await kubernetes.ReadNamespacedLeaseAsync(settings.LeaseName, settings.Namespace, cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                current = null;
            }

            var now = timeProvider.GetUtcNow().UtcDateTime;
            if (current is null)
            {
                var created = await kubernetes.CreateNamespacedLeaseAsync(
                    new V1Lease
                    {
                        Metadata = new V1ObjectMeta { Name = settings.LeaseName, NamespaceProperty = settings.Namespace },
                        Spec = Claim(new V1LeaseSpec { LeaseTransitions = 0 }, now, taking: true),
                    },
                    settings.Namespace,
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                Observe(created);
                return LeaseAttempt.Held;
            }

            Observe(current);
            var holder = current.Spec?.HolderIdentity;
            if (!string.IsNullOrEmpty(holder) && holder != settings.Identity && !ObservedExpired(current))
            {
                return LeaseAttempt.HeldByOther;
            }

            var taking = holder != settings.Identity;
            current.Spec = Claim(current.Spec ?? new V1LeaseSpec(), now, taking);
            var replaced = await kubernetes.ReplaceNamespacedLeaseAsync(current, settings.LeaseName, settings.Namespace, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            Observe(replaced);
            return LeaseAttempt.Held;
        }
        catch (HttpOperationException e)
        {
            // 409: another candidate wrote first (or our read was stale); the next attempt reads again. 401/403: RBAC,
            // reported to readiness until an attempt succeeds.
            if (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
            {
                health?.Block(ControllerBlockReasons.LeaseForbidden,
                    $"the API server refuses the Lease {settings.Namespace}/{settings.LeaseName} (HTTP {(int)e.Response.StatusCode}); grant get, create, update and delete on leases in {settings.Namespace} (the chart's Role does)");
            }

            Log.LeaseError(logger, nameof(HttpOperationException), $"HTTP {(int)e.Response.StatusCode}");
            return LeaseAttempt.Failed;
        }
        catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
        {
            // The API server unreachable, or an answer that is not a Lease: the same as a refusal.
            Log.LeaseError(logger, e.GetType().Name, e.Message);
            return LeaseAttempt.Failed;
        }
    }

    private V1LeaseSpec Claim(V1LeaseSpec spec, DateTime now, bool taking)
    {
        if (taking)
        {
            spec.AcquireTime = now;
            spec.LeaseTransitions = string.IsNullOrEmpty(spec.HolderIdentity) ? spec.LeaseTransitions ?? 0 : (spec.LeaseTransitions ?? 0) + 1;
        }

        spec.HolderIdentity = settings.Identity;
        spec.LeaseDurationSeconds = (int)Math.Ceiling(settings.LeaseDuration.TotalSeconds);
        spec.RenewTime = now;
        return spec;
    }

    /// <summary>Notes when this replica first saw the Lease's current record (by resourceVersion), and who holds it.</summary>
    private void Observe(V1Lease lease)
    {
        var version = lease.Metadata?.ResourceVersion;
        if (version is null || version != observedVersion)
        {
            observedVersion = version;
            observedAt = timeProvider.GetTimestamp();
        }

        var holder = lease.Spec?.HolderIdentity;
        if (!string.IsNullOrEmpty(holder) && holder != knownLeader)
        {
            knownLeader = holder;
            Log.NewLeader(logger, holder);
        }
    }

    /// <summary>Whether the record has stayed the same for a whole lease duration on this replica's clock.</summary>
    private bool ObservedExpired(V1Lease lease)
    {
        var duration = lease.Spec?.LeaseDurationSeconds is > 0 and var seconds ? TimeSpan.FromSeconds(seconds) : settings.LeaseDuration;
        return timeProvider.GetElapsedTime(observedAt) >= duration;
    }

    /// <summary>Deletes the Lease if this replica still holds it (guarded by its resourceVersion).</summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(ReleaseTimeout, timeProvider);
        try
        {
            var lease = await kubernetes.ReadNamespacedLeaseAsync(settings.LeaseName, settings.Namespace, cancellationToken: timeout.Token).ConfigureAwait(false);
            if (lease.Spec?.HolderIdentity != settings.Identity)
            {
                return;
            }

            await kubernetes.DeleteNamespacedLeaseAsync(
                settings.LeaseName,
                settings.Namespace,
                new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = lease.Metadata.ResourceVersion, Uid = lease.Metadata.Uid } },
                cancellationToken: timeout.Token).ConfigureAwait(false);
            Log.LeaseReleased(logger, settings.Namespace, settings.LeaseName);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone already, or someone else holds it now: nothing to give up.
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or OperationCanceledException)
        {
            Log.LeaseNotReleased(logger, settings.Namespace, settings.LeaseName, e.GetType().Name);
        }
    }

    private enum LeaseAttempt
    {
        Held,
        HeldByOther,
        Failed,
    }
}
