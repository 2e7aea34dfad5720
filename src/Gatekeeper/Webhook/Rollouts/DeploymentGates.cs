namespace Gatekeeper.Webhook.Rollouts;

/// <summary>
/// One dry-run at a time per Deployment: concurrent admissions of the same Deployment (a controller and a person
/// applying at once, a retried request) queue here instead of running two dry-runs against the database.
/// Different Deployments never wait for each other.
/// </summary>
public sealed class DeploymentGates
{
    private readonly Dictionary<string, Slot> slots = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    private sealed class Slot
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; }
    }

    public async Task<IDisposable> EnterAsync(string @namespace, string deployment, CancellationToken cancellationToken)
    {
        var key = $"{@namespace}/{deployment}";
        Slot slot;
        lock (gate)
        {
            if (!slots.TryGetValue(key, out slot!))
            {
                slot = new Slot();
                slots[key] = slot;
            }

            slot.Users++;
        }

        try
        {
            await slot.Semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Leave(key, slot, release: false);
            throw;
        }

        return new Release(this, key, slot);
    }

    /// <summary>Deployments with someone inside or waiting (for tests and metrics).</summary>
    public int ActiveCount
    {
        get
        {
            lock (gate)
            {
                return slots.Count;
            }
        }
    }

    private void Leave(string key, Slot slot, bool release)
    {
        if (release)
        {
            slot.Semaphore.Release();
        }

        lock (gate)
        {
            slot.Users--;
            if (slot.Users == 0)
            {
                slots.Remove(key);
                slot.Semaphore.Dispose();
            }
        }
    }

    private sealed class Release(DeploymentGates owner, string key, Slot slot) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                owner.Leave(key, slot, release: true);
            }
        }
    }
}
