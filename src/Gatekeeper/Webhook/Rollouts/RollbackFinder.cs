using System.Collections.Concurrent;
using System.Text.Json;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Admission;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Deployments;
using Microsoft.Extensions.Logging;
using k8s;
using k8s.Models;

namespace Gatekeeper.Webhook.Rollouts;

/// <summary>
/// Finds whether an update returns a Deployment to a pod template it already ran (<see cref="RollbackMatcher"/>):
/// reads the Deployment's ReplicaSets (one list call, no database) and the applied plans its record keeps. When the
/// ReplicaSets cannot be read in time, it says "no": the update is then planned like any other.
/// </summary>
/// <remarks>
/// One apply asks twice, at the mutating call (<see cref="FindAsync"/>) and at the validating call
/// (<see cref="FindAgainAsync"/>). The second takes the first's answer when it asks about the same thing: the same
/// Deployment (uid), the same stored object (resourceVersion and the applied plans of its record), the same selector and
/// the same template apart from the stamps. Between the two calls the Deployment is not stored yet, so its controller
/// cannot make a ReplicaSet of the new template; a ReplicaSet that goes (revision history) was one the template ran,
/// and the plan its record names stays applied. An answer is taken once and only for a few seconds; a validating call
/// that finds none (another update, a restart, a different replica) reads the ReplicaSets itself.
/// </remarks>
public sealed class RollbackFinder(KubernetesApi kubernetes, ResilientCalls calls, TimeProvider timeProvider, ILogger<RollbackFinder> logger)
{
    private static readonly TimeSpan AnswerLifetime = TimeSpan.FromSeconds(10);
    private const int MaxAnswers = 1024;

    private readonly ConcurrentDictionary<Question, Answer> answers = new();

    /// <summary>The mutating call's question: reads the ReplicaSets and keeps the answer for the validating call.</summary>
    public async Task<RollbackTarget?> FindAsync(DeploymentRequest deployment, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (Ask(deployment) is not { } question)
        {
            return null;
        }

        var found = await ReadAndMatchAsync(deployment, question, deadline, cancellationToken).ConfigureAwait(false);
        if (found.Read)
        {
            if (answers.Count >= MaxAnswers)
            {
                answers.Clear();
            }

            answers[question.Key] = new Answer(found.Target, timeProvider.GetUtcNow() + AnswerLifetime);
        }

        return found.Target;
    }

    /// <summary>
    /// The validating call's question: the answer its own apply's mutating call found for the same question (taken, so
    /// no later request gets it), else read as <see cref="FindAsync"/> does.
    /// </summary>
    public async Task<RollbackTarget?> FindAgainAsync(DeploymentRequest deployment, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (Ask(deployment) is not { } question)
        {
            return null;
        }

        if (answers.TryRemove(question.Key, out var answer) && answer.Expires > timeProvider.GetUtcNow())
        {
            return answer.Target;
        }

        return (await ReadAndMatchAsync(deployment, question, deadline, cancellationToken).ConfigureAwait(false)).Target;
    }

    private async Task<(bool Read, RollbackTarget? Target)> ReadAndMatchAsync(DeploymentRequest deployment, AskedQuestion question, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        IList<V1ReplicaSet> replicaSets;
        try
        {
            var list = await calls.ExecuteAsync("read ReplicaSets", deadline,
                async ct => await kubernetes.ListNamespacedReplicaSetAsync(deployment.Namespace, labelSelector: question.Key.Selector, cancellationToken: ct).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
            replicaSets = list.Items;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ReplicaSetsUnreadable(logger, deployment.Namespace, deployment.Name, e.GetType().Name);
            return (false, null);
        }

        return (true, RollbackMatcher.Find(question.Template, replicaSets, question.Key.Uid, question.AppliedPlans));
    }

    /// <summary>What the answer depends on besides the ReplicaSets; null when the update cannot be a rollback.</summary>
    private static AskedQuestion? Ask(DeploymentRequest deployment)
    {
        if (deployment.Admission.Operation != AdmissionOperation.Update || deployment.OldObject is not { } old
            || DeploymentObject.Uid(old) is not { Length: > 0 } uid
            || RollbackMatcher.Incoming(deployment.Object) is not { } template)
        {
            return null;
        }

        var applied = RecordOf(old)?.AppliedPlans ?? [];
        var resourceVersion = DeploymentObject.Descend(old, "metadata", "resourceVersion") is { ValueKind: JsonValueKind.String } version ? version.GetString() : null;
        var key = new Question(deployment.Namespace, uid, resourceVersion, string.Join(',', applied), DeploymentObject.SelectorMatchLabels(deployment.Object), template.Fingerprint);
        return new AskedQuestion(key, template, applied);
    }

    /// <summary>The record of the stored Deployment, read from its status and annotations only (not its template).</summary>
    private static DeploymentStatus? RecordOf(JsonElement old)
    {
        var status = DeploymentObject.Descend(old, "status") is { ValueKind: JsonValueKind.Object } raw
            ? raw.Deserialize(KubernetesModelJson.Default.V1DeploymentStatus)
            : null;
        var annotations = DeploymentObject.Annotations(old);
        return DeploymentRecord.Read(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Annotations = annotations.Count == 0 ? null : new Dictionary<string, string>(annotations) },
            Status = status,
        });
    }

    private sealed record Question(string Namespace, string Uid, string? ResourceVersion, string AppliedPlans, string? Selector, string Template);

    private sealed record AskedQuestion(Question Key, IncomingTemplate Template, IReadOnlyList<string> AppliedPlans);

    private sealed record Answer(RollbackTarget? Target, DateTimeOffset Expires);
}
