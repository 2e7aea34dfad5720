using System.Net;
using k8s;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
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
/// Runs the controller's work only while this replica holds the <c>coordination.k8s.io</c> Lease, with
/// KubernetesClient's <see cref="LeaderElector"/> and <see cref="LeaseLock"/>. Losing the lease cancels the work's
/// token at once; work that ends by itself gives the lease up. On shutdown the leader deletes its Lease, so another
/// replica takes over without waiting for it to expire.
/// </summary>
/// <remarks>
/// KubernetesClient's elector measures the lease with the wall clock and <see cref="Task.Delay(TimeSpan)"/>; only the
/// pause between terms here uses the injected <see cref="TimeProvider"/>.
/// </remarks>
/// <param name="health">Told when the API server refuses the Lease (RBAC in Gatekeeper's namespace), and when it no longer does.</param>
public sealed class ControllerLeadership(IKubernetes kubernetes, LeaderElectionSettings settings, TimeProvider timeProvider, ILogger logger, ControllerHealth? health = null)
{
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(5);
    private volatile bool leading;

    public bool IsLeading => leading;

    /// <summary>Raised when this replica starts (true) or stops (false) leading.</summary>
    public event Action<bool>? LeadershipChanged;

    public async Task RunAsync(Func<CancellationToken, Task> whileLeading, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(whileLeading);
        while (!stoppingToken.IsCancellationRequested)
        {
            var led = await RunOneTermAsync(whileLeading, stoppingToken).ConfigureAwait(false);
            if (stoppingToken.IsCancellationRequested)
            {
                if (led)
                {
                    await ReleaseAsync().ConfigureAwait(false);
                }

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

    /// <summary>Waits for the lease, works while holding it, and returns whether it led at all.</summary>
    private async Task<bool> RunOneTermAsync(Func<CancellationToken, Task> whileLeading, CancellationToken stoppingToken)
    {
        using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var workScope = CancellationTokenSource.CreateLinkedTokenSource(term.Token);
        Task? work = null;
        var config = new LeaderElectionConfig(new LeaseLock(kubernetes, settings.Namespace, settings.LeaseName, settings.Identity))
        {
            LeaseDuration = settings.LeaseDuration,
            RenewDeadline = settings.RenewDeadline,
            RetryPeriod = settings.RetryPeriod,
        };
        using var elector = new LeaderElector(config);
        elector.OnStartedLeading += () =>
        {
            health?.Clear(ControllerBlockReasons.LeaseForbidden);
            leading = true;
            Log.StartedLeading(logger, settings.Identity, settings.Namespace, settings.LeaseName);
            LeadershipChanged?.Invoke(true);
            work = Task.Run(async () =>
            {
                try
                {
                    await whileLeading(workScope.Token).ConfigureAwait(false);
                }
                finally
                {
                    // Work that ended while still leading (a bug, not a lost lease) must not keep the lease.
                    await term.CancelAsync().ConfigureAwait(false);
                }
            }, CancellationToken.None);
        };
        elector.OnStoppedLeading += () =>
        {
            workScope.Cancel();
            if (leading)
            {
                leading = false;
                Log.StoppedLeading(logger, settings.Identity);
                LeadershipChanged?.Invoke(false);
            }
        };
        elector.OnNewLeader += leader =>
        {
            // The Lease could be read: whatever was refused before is allowed now.
            health?.Clear(ControllerBlockReasons.LeaseForbidden);
            Log.NewLeader(logger, leader ?? "(none)");
        };
        elector.OnError += error =>
        {
            if (error is HttpOperationException { Response.StatusCode: HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized } refused)
            {
                health?.Block(ControllerBlockReasons.LeaseForbidden,
                    $"the API server refuses the Lease {settings.Namespace}/{settings.LeaseName} (HTTP {(int)refused.Response.StatusCode}); grant get, create, update and delete on leases in {settings.Namespace} (the chart's Role does)");
            }

            Log.LeaseError(logger, error.GetType().Name, error is HttpOperationException http ? $"HTTP {(int)http.Response.StatusCode}" : error.Message);
        };

        try
        {
            await elector.RunUntilLeadershipLostAsync(term.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (term.IsCancellationRequested)
        {
            // Stopping, or the work ended.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.LeaseError(logger, e.GetType().Name, e.Message);
        }
        finally
        {
            await workScope.CancelAsync().ConfigureAwait(false);
            if (work is not null)
            {
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
            }

            if (leading)
            {
                leading = false;
                Log.StoppedLeading(logger, settings.Identity);
                LeadershipChanged?.Invoke(false);
            }
        }

        return work is not null;
    }

    /// <summary>Deletes the Lease if this replica still holds it (guarded by its resourceVersion).</summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(ReleaseTimeout);
        try
        {
            var lease = await kubernetes.CoordinationV1.ReadNamespacedLeaseAsync(settings.LeaseName, settings.Namespace, cancellationToken: timeout.Token).ConfigureAwait(false);
            if (lease.Spec?.HolderIdentity != settings.Identity)
            {
                return;
            }

            await kubernetes.CoordinationV1.DeleteNamespacedLeaseAsync(
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
}
