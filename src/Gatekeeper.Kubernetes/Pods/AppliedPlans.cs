using System.Collections.Concurrent;

namespace Gatekeeper.Kubernetes.Pods;

/// <summary>
/// What this replica knows has been applied: the plans whose migration Job succeeded. Every replica keeps its
/// own (fed by <see cref="MigrationJobWatcher"/>, and by the controller when it sees a Job succeed), so the pod
/// webhook answers from memory on any replica. Keys are the plan label form (the hash's first 63 characters),
/// the one thing every Job carries.
/// </summary>
public sealed class AppliedPlans
{
    private readonly ConcurrentDictionary<string, byte> applied = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte>.AlternateLookup<ReadOnlySpan<char>> lookup;
    private volatile bool warm;

    public AppliedPlans()
    {
        lookup = applied.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Raised after a plan is first recorded as applied (with its label form).</summary>
    public event Action<string>? PlanApplied;

    /// <summary>Raised once, when the initial list of Jobs has been read.</summary>
    public event Action? BecameWarm;

    /// <summary>True once the initial list of migration Jobs has been read: before that, "unknown" means "not yet known".</summary>
    public bool IsWarm => warm;

    public int Count => applied.Count;

    public void MarkApplied(string planHash)
    {
        ArgumentException.ThrowIfNullOrEmpty(planHash);
        var key = GatekeeperNames.PlanLabelValue(planHash);
        if (applied.TryAdd(key, 0))
        {
            PlanApplied?.Invoke(key);
        }
    }

    public void MarkWarm()
    {
        if (!warm)
        {
            warm = true;
            BecameWarm?.Invoke();
        }
    }

    /// <summary>Looks a plan hash up without allocating (a full hash or its label form).</summary>
    public bool IsApplied(ReadOnlySpan<char> planHash) =>
        planHash.Length > 0 && lookup.ContainsKey(planHash.Length > GatekeeperNames.MaxLabelValueLength ? planHash[..GatekeeperNames.MaxLabelValueLength] : planHash);
}
