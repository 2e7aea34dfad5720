using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Webhook.Rollouts;

/// <summary>
/// What makes two plans the same: the migration files (by content), how they are read, the database and what its
/// history table says. Equal keys give equal plans, so the validating step reuses what the mutating step
/// computed, and a re-apply reuses the verdict.
/// </summary>
/// <param name="Ignore">The gatekeeper.dev/ignore patterns, which decide which files are migrations.</param>
public sealed record PlanCacheKey(string SourceHash, MigrationFormat? Format, DatabaseIdentity Database, string HistoryFingerprint, string Ignore = "");

/// <summary>
/// A computed plan and, once proven, its dry-run result. Lint findings are not kept: they depend on the
/// Deployment's allow annotation, and linting is cheap next to a database round trip.
/// </summary>
public sealed class CachedPlan(MigrationDirectory directory, MigrationPlan plan)
{
    private DryRunResult? dryRun;

    public MigrationDirectory Directory { get; } = directory;

    public MigrationPlan Plan { get; } = plan;

    /// <summary>Declarative mode: the schema plan <see cref="Plan"/> was made from (judged by <see cref="Core.Schema.SchemaPlanJudge"/>).</summary>
    public Core.Schema.SchemaPlan? Schema { get; init; }

    /// <summary>Only successful dry-runs are kept: a failure may have been the database's mood (a lock), and is retried.</summary>
    public DryRunResult? DryRun
    {
        get => Volatile.Read(ref dryRun);
        set => Volatile.Write(ref dryRun, value);
    }
}

/// <summary>A bounded, least-recently-used cache of plans whose entries expire after a while.</summary>
public sealed class PlanCache(IOptions<WebhookOptions> options, TimeProvider timeProvider)
{
    private readonly int capacity = options.Value.PlanCacheCapacity;
    private readonly TimeSpan timeToLive = options.Value.PlanCacheTimeToLive;
    private readonly Dictionary<PlanCacheKey, LinkedListNode<Entry>> entries = [];
    private readonly LinkedList<Entry> recency = new();
    private readonly Lock gate = new();

    private sealed record Entry(PlanCacheKey Key, CachedPlan Plan, DateTimeOffset Expires);

    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    public bool TryGet(PlanCacheKey key, out CachedPlan plan)
    {
        lock (gate)
        {
            if (entries.TryGetValue(key, out var node))
            {
                if (node.Value.Expires > timeProvider.GetUtcNow())
                {
                    recency.Remove(node);
                    recency.AddFirst(node);
                    plan = node.Value.Plan;
                    return true;
                }

                recency.Remove(node);
                entries.Remove(key);
            }
        }

        plan = null!;
        return false;
    }

    /// <summary>Adds the plan unless an equal one is already there; returns the one kept (so concurrent requests share it).</summary>
    public CachedPlan GetOrAdd(PlanCacheKey key, CachedPlan plan)
    {
        lock (gate)
        {
            if (entries.TryGetValue(key, out var existing) && existing.Value.Expires > timeProvider.GetUtcNow())
            {
                return existing.Value.Plan;
            }

            if (existing is not null)
            {
                recency.Remove(existing);
            }

            var node = recency.AddFirst(new Entry(key, plan, timeProvider.GetUtcNow() + timeToLive));
            entries[key] = node;
            while (entries.Count > capacity)
            {
                var oldest = recency.Last!;
                recency.RemoveLast();
                entries.Remove(oldest.Value.Key);
            }

            return plan;
        }
    }
}
