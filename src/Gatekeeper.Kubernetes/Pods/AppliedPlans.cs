using System.Collections.Concurrent;

namespace Gatekeeper.Kubernetes.Pods;

/// <summary>Where a plan stands for one Deployment, as far as this replica knows.</summary>
public enum PlanStanding
{
    /// <summary>The Deployment is known and the plan is recorded as applied for it: its pods need not wait.</summary>
    Applied,
    /// <summary>The Deployment is known (opted in) and the plan is not known to be applied for it.</summary>
    NotApplied,
    /// <summary>No opted-in Deployment of that name is known (not yet seen, opted out, or none at all).</summary>
    UnknownDeployment,
}

/// <summary>
/// The plans applied for each opted-in Deployment, as this replica knows them: learned from the durable record on
/// every Deployment (<see cref="AppliedPlanWatcher"/>, on every replica, before it reports ready) and, on the leader,
/// from the trusted migration Jobs it sees succeed. Keys are the namespace, the Deployment and its uid: a plan
/// applied for one Deployment never releases another's pods (another namespace, or a Deployment deleted and
/// created again under the same name), whatever the plan hash. The pod webhook answers from here without
/// allocating.
/// </summary>
public sealed class AppliedPlans
{
    private readonly ConcurrentDictionary<string, Entry> deployments = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> lookup;
    private volatile bool warm;

    public AppliedPlans()
    {
        lookup = deployments.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>One Deployment: its uid, the plans its record names, and those learned since (newest first).</summary>
    private sealed record Entry(string Uid, IReadOnlyList<string> Recorded, IReadOnlyList<string> Learned)
    {
        public bool Contains(ReadOnlySpan<char> plan) => Has(Recorded, plan) || Has(Learned, plan);

        private static bool Has(IReadOnlyList<string> plans, ReadOnlySpan<char> plan)
        {
            for (var i = 0; i < plans.Count; i++)
            {
                if (plan.SequenceEqual(plans[i]))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Raised with (namespace, Deployment, plan) after a plan is first known applied for a Deployment.</summary>
    public event Action<string, string, string>? PlanApplied;

    /// <summary>Raised once, when the Deployments' records have been read for the first time.</summary>
    public event Action? BecameWarm;

    /// <summary>True once every opted-in Deployment's record has been read: before that, "unknown" means "not yet known".</summary>
    public bool IsWarm => warm;

    /// <summary>How many opted-in Deployments are known.</summary>
    public int Count => deployments.Count;

    /// <summary>
    /// Takes the applied plans a Deployment's durable record names. A Deployment with a new uid (deleted and created
    /// again) starts afresh; for the same uid, plans learned from Jobs and not yet in the record are kept.
    /// </summary>
    public void Record(string @namespace, string deployment, string uid, IReadOnlyList<string> applied)
    {
        ArgumentNullException.ThrowIfNull(applied);
        var key = Key(@namespace, deployment);
        while (true)
        {
            if (!deployments.TryGetValue(key, out var current))
            {
                if (deployments.TryAdd(key, new Entry(uid, [.. applied], [])))
                {
                    Announce(@namespace, deployment, applied, []);
                    return;
                }

                continue;
            }

            var sameDeployment = current.Uid == uid;
            var learned = sameDeployment ? current.Learned.Where(p => !applied.Contains(p, StringComparer.Ordinal)).ToList() : [];
            if (deployments.TryUpdate(key, new Entry(uid, [.. applied], learned), current))
            {
                Announce(@namespace, deployment, applied, sameDeployment ? [.. current.Recorded, .. current.Learned] : []);
                return;
            }
        }
    }

    /// <summary>Forgets a Deployment that was deleted or opted out (only when it is still the one with that uid).</summary>
    public void Forget(string @namespace, string deployment, string uid)
    {
        var key = Key(@namespace, deployment);
        if (deployments.TryGetValue(key, out var current) && current.Uid == uid)
        {
            deployments.TryRemove(KeyValuePair.Create(key, current));
        }
    }

    /// <summary>Records that a trusted Job applied <paramref name="plan"/> for this Deployment (before its record says so).</summary>
    public void MarkApplied(string @namespace, string deployment, string uid, string plan)
    {
        ArgumentException.ThrowIfNullOrEmpty(plan);
        var key = Key(@namespace, deployment);
        while (true)
        {
            if (!deployments.TryGetValue(key, out var current) || current.Uid != uid)
            {
                var fresh = new Entry(uid, [], [plan]);
                if (current is null ? deployments.TryAdd(key, fresh) : deployments.TryUpdate(key, fresh, current))
                {
                    PlanApplied?.Invoke(@namespace, deployment, plan);
                    return;
                }

                continue;
            }

            if (current.Contains(plan))
            {
                return;
            }

            if (deployments.TryUpdate(key, current with { Learned = [plan, .. current.Learned] }, current))
            {
                PlanApplied?.Invoke(@namespace, deployment, plan);
                return;
            }
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

    /// <summary>Where <paramref name="plan"/> stands for the Deployment of that name; with a uid, only for that very Deployment.</summary>
    public PlanStanding Standing(string @namespace, string deployment, string? uid, string plan)
    {
        if (!deployments.TryGetValue(Key(@namespace, deployment), out var entry) || (uid is not null && entry.Uid != uid))
        {
            return PlanStanding.UnknownDeployment;
        }

        return entry.Contains(plan) ? PlanStanding.Applied : PlanStanding.NotApplied;
    }

    public bool IsApplied(string @namespace, string deployment, string uid, string plan) =>
        Standing(@namespace, deployment, uid, plan) == PlanStanding.Applied;

    /// <summary>The pod webhook's look-up: reads spans, allocates nothing.</summary>
    public PlanStanding Standing(ReadOnlySpan<char> @namespace, ReadOnlySpan<char> deployment, ReadOnlySpan<char> plan)
    {
        var length = @namespace.Length + 1 + deployment.Length;
        if (length > 512)
        {
            return PlanStanding.UnknownDeployment;
        }

        Span<char> key = stackalloc char[length];
        @namespace.CopyTo(key);
        key[@namespace.Length] = '/';
        deployment.CopyTo(key[(@namespace.Length + 1)..]);
        if (!lookup.TryGetValue(key, out var entry))
        {
            return PlanStanding.UnknownDeployment;
        }

        return entry.Contains(plan) ? PlanStanding.Applied : PlanStanding.NotApplied;
    }

    private void Announce(string @namespace, string deployment, IReadOnlyList<string> applied, IReadOnlyList<string> before)
    {
        foreach (var plan in applied)
        {
            if (!before.Contains(plan, StringComparer.Ordinal))
            {
                PlanApplied?.Invoke(@namespace, deployment, plan);
            }
        }
    }

    private static string Key(string @namespace, string deployment) => $"{@namespace}/{deployment}";
}
