using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Deployments;

namespace Gatekeeper.Webhook.Rollouts;

/// <summary>
/// Plans a Deployment for the mutating call and hands that plan — with the ConfigMaps, Secrets and history it was made
/// from — to the validating call of the same apply, so one apply reads each of them once instead of twice.
/// </summary>
/// <remarks>
/// Why it is safe: the mutating call reads after the Deployment's request reached the API server, so it sees every
/// write that causally preceded the apply (a GET is a quorum read; a history query sees every committed row). A write
/// between the two calls is concurrent with the apply and may as well have come after it; and the validating call
/// judges the very stamp the mutating call made from those reads.
/// <para>
/// How the validating call knows the plan is its own apply's: the API server gives each webhook call a fresh request
/// uid, so the link is carried by the object. The mutating call writes a random id (<see cref="PlanningId"/>) on the
/// Deployment's metadata when it plans, and writes the stored object's id back on every other path (no id on a
/// CREATE), so an id a manifest carried over, or a rollback copied from a ReplicaSet, never stands for a plan. The
/// validating call takes the plan kept under the id its object carries, once, within <see cref="Lifetime"/>, and only
/// when it asks the same question: the same namespace and name, the same stored object (uid and resourceVersion) and
/// the same gatekeeper.dev annotations. Anything else — no id, another replica's id, a second validating call, a plan
/// that could not be made, the process restarted — plans from fresh reads, as before.
/// </para>
/// <para>
/// Nothing secret is kept outside the process: the id is random, and the kept plan stays in memory, bounded in count
/// and in the bytes of the files it holds.
/// </para>
/// </remarks>
public sealed class PlanHandover(RolloutPlanner planner, TimeProvider timeProvider)
{
    /// <summary>Between the two calls of one apply lie only the other mutating webhooks and the API server's own checks.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);

    private const int MaxPlans = 256;
    private const long MaxFileBytes = 16 * 1024 * 1024;

    private readonly ConcurrentDictionary<string, Kept> kept = new(StringComparer.Ordinal);
    private long keptBytes;

    /// <summary>
    /// The mutating call's plan and the id it is kept under (null when nothing was kept: the plan failed, or the
    /// memory bound is reached); the caller writes that id on the object (<see cref="PlanningId.AppendPatch"/>).
    /// </summary>
    public async Task<(RolloutPlanOutcome Outcome, string? Id)> PlanAsync(DeploymentRequest deployment, MigrationAnnotations annotations, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var outcome = await planner.PlanAsync(deployment.Namespace, annotations, deadline, cancellationToken).ConfigureAwait(false);
        return (outcome, outcome.Planned is { } planned ? Keep(Ask(deployment), planned) : null);
    }

    /// <summary>
    /// The validating call's plan: the one its own apply's mutating call made (taken, so no other call gets it), else
    /// planned from fresh reads.
    /// </summary>
    public async Task<RolloutPlanOutcome> PlanAgainAsync(DeploymentRequest deployment, MigrationAnnotations annotations, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (Take(deployment) is { } planned)
        {
            // No "plan" span of its own: the admission span says whose plan it judged.
            var activity = System.Diagnostics.Activity.Current;
            activity?.SetTag("gatekeeper.plan.handed_over", true);
            activity?.SetTag("gatekeeper.plan.hash", planned.Cached.Plan.Hash);
            activity?.SetTag("gatekeeper.plan.release_key", planned.Cached.Plan.ReleaseKey);
            return new RolloutPlanOutcome(planned, null);
        }

        return await planner.PlanAsync(deployment.Namespace, annotations, deadline, cancellationToken).ConfigureAwait(false);
    }

    private string? Keep(Question question, PlannedRollout planned)
    {
        var bytes = 0L;
        foreach (var file in planned.Files.Files)
        {
            bytes += file.Content.Length;
        }

        if (kept.Count >= MaxPlans || Interlocked.Read(ref keptBytes) + bytes > MaxFileBytes)
        {
            DropExpired();
            if (kept.Count >= MaxPlans || Interlocked.Read(ref keptBytes) + bytes > MaxFileBytes)
            {
                // Over the bound: this apply's validating call reads for itself.
                return null;
            }
        }

        var id = PlanningId.New();
        kept[id] = new Kept(question, planned, timeProvider.GetUtcNow() + Lifetime, bytes);
        Interlocked.Add(ref keptBytes, bytes);
        return id;
    }

    private PlannedRollout? Take(DeploymentRequest deployment)
    {
        if (PlanningId.Read(deployment.Object) is not { } id || !kept.TryRemove(id, out var entry))
        {
            return null;
        }

        Interlocked.Add(ref keptBytes, -entry.Bytes);
        return entry.Expires > timeProvider.GetUtcNow() && entry.Question == Ask(deployment) ? entry.Planned : null;
    }

    private void DropExpired()
    {
        var now = timeProvider.GetUtcNow();
        foreach (var (id, entry) in kept)
        {
            if (entry.Expires <= now && kept.TryRemove(id, out var removed))
            {
                Interlocked.Add(ref keptBytes, -removed.Bytes);
            }
        }
    }

    /// <summary>What a plan depends on besides the sources it read: which object, which stored version, which annotations.</summary>
    private static Question Ask(DeploymentRequest deployment)
    {
        string? uid = null, resourceVersion = null;
        if (deployment.OldObject is { } old)
        {
            uid = DeploymentObject.Uid(old);
            resourceVersion = DeploymentObject.Descend(old, "metadata", "resourceVersion") is { ValueKind: JsonValueKind.String } version ? version.GetString() : null;
        }

        var text = new StringBuilder();
        foreach (var (key, value) in deployment.Annotations.Where(a => a.Key.StartsWith(GatekeeperNames.Prefix, StringComparison.Ordinal) && a.Key != GatekeeperNames.PlanningId)
                     .OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            text.Append(key).Append('\0').Append(value).Append('\n');
        }

        return new Question(deployment.Namespace, deployment.Name, deployment.Admission.Operation.ToString(), uid, resourceVersion, text.ToString());
    }

    private sealed record Question(string Namespace, string Name, string Operation, string? Uid, string? ResourceVersion, string Annotations);

    private sealed record Kept(Question Question, PlannedRollout Planned, DateTimeOffset Expires, long Bytes);
}
