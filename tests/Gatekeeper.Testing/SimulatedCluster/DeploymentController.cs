using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// The Deployment controller (pkg/controller/deployment): one ReplicaSet per pod template (named by the template's
/// hash), revision annotations, RollingUpdate within maxSurge and maxUnavailable counted on available pods, Recreate
/// (old pods gone before new ones are created), paused Deployments that only scale, progressDeadlineSeconds with the
/// Progressing condition, and an old ReplicaSet becoming the new one again when its template comes back (rollout undo).
/// Deployment annotations are copied onto the ReplicaSets, as the real controller does.
/// </summary>
public sealed class DeploymentController(SimulatedApiServer server, ControllerManager manager) : ISimulatedController
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";
    public const string HashLabel = "pod-template-hash";

    private static readonly HashSet<string> AnnotationsNotCopied =
    [
        "kubectl.kubernetes.io/last-applied-configuration", RevisionAnnotation, "deployment.kubernetes.io/revision-history",
        DesiredReplicasAnnotation, MaxReplicasAnnotation, "deprecated.deployment.rollback.to",
    ];

    private readonly UserInfo user = UserInfo.Controller("deployment-controller");
    private readonly EventRecorder events = new(server, "deployment-controller");

    public string Name => "deployment";

    public IEnumerable<string> KeysFor(StoredChange change)
    {
        if (change.Resource == ApiResources.Deployments.StoreName)
        {
            yield return ControllerManager.Key(JsonNode.Parse(change.Json)!);
        }
        else if (change.Resource == ApiResources.ReplicaSets.StoreName || change.Resource == ApiResources.Pods.StoreName)
        {
            var obj = JsonNode.Parse(change.Json)!;
            var owner = (obj["metadata"]?["ownerReferences"] as JsonArray ?? []).FirstOrDefault(o => (bool?)o!["controller"] == true);
            if (change.Resource == ApiResources.ReplicaSets.StoreName && (string?)owner?["kind"] == "Deployment")
            {
                yield return $"{obj.Namespace()}/{(string?)owner!["name"]}";
            }
            else if (change.Resource == ApiResources.Pods.StoreName && change.Type == "DELETED" && (string?)owner?["kind"] == "ReplicaSet")
            {
                // Recreate waits for the old pods to be gone.
                foreach (var deployment in server.List(ApiResources.Deployments, obj.Namespace()))
                {
                    yield return ControllerManager.Key(deployment);
                }
            }
        }
    }

    public async Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ControllerManager.Split(key);
        var deployment = server.Get(ApiResources.Deployments, ns, name);
        if (deployment is null || deployment.Terminating())
        {
            return;
        }

        var all = server.List(ApiResources.ReplicaSets, ns).Where(rs => rs.ControllerUid() == deployment.Uid()).ToList();
        var template = deployment["spec"]!["template"]!;
        var newRs = all.FirstOrDefault(rs => EqualIgnoringHash(rs["spec"]!["template"]!, template));
        var paused = deployment["spec"]?["paused"]?.GetValue<bool>() == true;
        var replicas = deployment["spec"]!["replicas"].Int(1);
        var strategy = (string?)deployment["spec"]?["strategy"]?["type"] ?? "RollingUpdate";
        var progressed = false;

        if (!paused)
        {
            var maxRevision = all.Where(rs => rs != newRs).Select(Revision).DefaultIfEmpty(0).Max();
            if (newRs is null)
            {
                var initial = strategy == "Recreate" ? 0 : NewReplicaSetReplicas(deployment, all, null, replicas);
                newRs = await CreateReplicaSetAsync(deployment, maxRevision + 1, initial, cancellationToken);
                all.Add(newRs);
                progressed = true;
                await SetProgressingAsync(deployment, "NewReplicaSetCreated", $"Created new replica set \"{newRs.Name()}\"", cancellationToken);
                deployment = server.Get(ApiResources.Deployments, ns, name)!;
            }
            else if (Revision(newRs) <= maxRevision || !AnnotationsCopied(deployment, newRs))
            {
                // Its template came back (rollout undo): it becomes the newest revision again.
                var revision = Revision(newRs) <= maxRevision ? maxRevision + 1 : Revision(newRs);
                newRs = await server.ChangeAsync(ApiResources.ReplicaSets, ns, newRs.Name(), user, rs =>
                {
                    CopyAnnotations(deployment, rs);
                    rs.Annotations()[RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture);
                }, cancellationToken: cancellationToken);
                all = all.Select(rs => rs.Uid() == newRs.Uid() ? newRs : rs).ToList();
            }

            var old = all.Where(rs => rs.Uid() != newRs.Uid()).ToList();
            progressed |= strategy == "Recreate"
                ? await RecreateAsync(deployment, newRs, old, replicas, cancellationToken)
                : await RollAsync(deployment, newRs, old, replicas, cancellationToken);
        }
        else if (newRs is not null)
        {
            // A paused Deployment only scales: the current ReplicaSet follows spec.replicas, no new one is made.
            await ScaleAsync(deployment, newRs, Math.Max(0, replicas - all.Where(rs => rs != newRs).Sum(rs => rs["spec"]!["replicas"].Int())), cancellationToken);
        }

        await CleanUpAsync(deployment, cancellationToken);
        await UpdateStatusAsync(ns, name, progressed, cancellationToken);
    }

    private static int Status(JsonNode obj, string field) => obj["status"]?[field]?.GetValue<int>() ?? 0;

    private static int Revision(JsonNode rs) => int.TryParse(rs.Annotation(RevisionAnnotation), CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    private async Task<JsonObject> CreateReplicaSetAsync(JsonObject deployment, int revision, int replicas, CancellationToken cancellationToken)
    {
        var template = deployment["spec"]!["template"]!.DeepClone().AsObject();
        var hash = TemplateHash(template, deployment["status"]?["collisionCount"]?.GetValue<int>());
        ObjectDefaults.Ensure(ObjectDefaults.Ensure(template, "metadata"), "labels")[HashLabel] = hash;
        var selector = deployment["spec"]!["selector"]!.DeepClone().AsObject();
        ObjectDefaults.Ensure(selector, "matchLabels")[HashLabel] = hash;
        var labels = (template["metadata"]!["labels"] as JsonObject)!.DeepClone();
        var rs = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = $"{deployment.Name()}-{hash}",
                ["namespace"] = deployment.Namespace(),
                ["labels"] = labels,
                ["ownerReferences"] = new JsonArray(ObjectAccess.OwnerReference(deployment)),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = replicas,
                ["minReadySeconds"] = deployment["spec"]?["minReadySeconds"]?.DeepClone() ?? 0,
                ["selector"] = selector,
                ["template"] = template,
            },
        };
        CopyAnnotations(deployment, rs);
        rs.Annotations()[RevisionAnnotation] = revision.ToString(CultureInfo.InvariantCulture);
        var created = await server.CreateAsync(ApiResources.ReplicaSets, deployment.Namespace(), rs, user, cancellationToken: cancellationToken);
        if (replicas > 0)
        {
            await events.RecordAsync(deployment, "Normal", "ScalingReplicaSet", $"Scaled up replica set {created.Name()} from 0 to {replicas}", cancellationToken);
        }

        return created;
    }

    private static bool AnnotationsCopied(JsonNode deployment, JsonNode rs) =>
        (deployment["metadata"]?["annotations"] as JsonObject ?? []).Where(a => !AnnotationsNotCopied.Contains(a.Key))
            .All(a => rs.Annotation(a.Key) == (string?)a.Value);

    private static void CopyAnnotations(JsonNode deployment, JsonObject rs)
    {
        var annotations = rs.Annotations();
        foreach (var (key, value) in deployment["metadata"]?["annotations"] as JsonObject ?? [])
        {
            if (!AnnotationsNotCopied.Contains(key))
            {
                annotations[key] = value?.DeepClone();
            }
        }

        SetReplicasAnnotations(deployment, rs);
    }

    private static void SetReplicasAnnotations(JsonNode deployment, JsonObject rs)
    {
        var annotations = rs.Annotations();
        annotations[DesiredReplicasAnnotation] = deployment["spec"]!["replicas"].Int(1).ToString(CultureInfo.InvariantCulture);
        annotations[MaxReplicasAnnotation] = (deployment["spec"]!["replicas"].Int(1) + MaxSurge(deployment)).ToString(CultureInfo.InvariantCulture);
    }

    private static bool ReplicasAnnotationsNeedUpdate(JsonNode deployment, JsonNode rs) =>
        rs.Annotation(DesiredReplicasAnnotation) != deployment["spec"]!["replicas"].Int(1).ToString(CultureInfo.InvariantCulture)
        || rs.Annotation(MaxReplicasAnnotation) != (deployment["spec"]!["replicas"].Int(1) + MaxSurge(deployment)).ToString(CultureInfo.InvariantCulture);

    private static int MaxSurge(JsonNode deployment) =>
        (string?)deployment["spec"]?["strategy"]?["type"] == "Recreate" ? 0
            : IntOrPercent.Resolve(deployment["spec"]?["strategy"]?["rollingUpdate"]?["maxSurge"], deployment["spec"]!["replicas"].Int(1), roundUp: true);

    private static int MaxUnavailable(JsonNode deployment)
    {
        if ((string?)deployment["spec"]?["strategy"]?["type"] == "Recreate")
        {
            return 0;
        }

        var replicas = deployment["spec"]!["replicas"].Int(1);
        var unavailable = IntOrPercent.Resolve(deployment["spec"]?["strategy"]?["rollingUpdate"]?["maxUnavailable"], replicas, roundUp: false);
        return unavailable == 0 && MaxSurge(deployment) == 0 ? 1 : Math.Min(unavailable, replicas);
    }

    /// <summary>NewRSNewReplicas: scale the new ReplicaSet up as far as maxSurge allows.</summary>
    private static int NewReplicaSetReplicas(JsonNode deployment, List<JsonObject> all, JsonObject? newRs, int replicas)
    {
        var current = all.Sum(rs => rs["spec"]!["replicas"].Int());
        var maxTotal = replicas + MaxSurge(deployment);
        if (current >= maxTotal)
        {
            return newRs?["spec"]!["replicas"].Int() ?? 0;
        }

        var newReplicas = newRs?["spec"]!["replicas"].Int() ?? 0;
        return newReplicas + Math.Min(maxTotal - current, Math.Max(0, replicas - newReplicas));
    }

    private async Task<bool> RollAsync(JsonObject deployment, JsonObject newRs, List<JsonObject> old, int replicas, CancellationToken cancellationToken)
    {
        var all = old.Append(newRs).ToList();
        var changed = false;

        // reconcileNewReplicaSet
        var newReplicas = newRs["spec"]!["replicas"].Int();
        var target = newReplicas > replicas ? replicas : NewReplicaSetReplicas(deployment, all, newRs, replicas);
        if (target != newReplicas)
        {
            newRs = await ScaleAsync(deployment, newRs, target, cancellationToken);
            all = old.Append(newRs).ToList();
            changed = true;
        }

        // reconcileOldReplicaSets: never below replicas - maxUnavailable available pods.
        var oldCount = old.Sum(rs => rs["spec"]!["replicas"].Int());
        if (oldCount == 0)
        {
            return changed;
        }

        var allCount = all.Sum(rs => rs["spec"]!["replicas"].Int());
        var minAvailable = replicas - MaxUnavailable(deployment);
        var newUnavailable = newRs["spec"]!["replicas"].Int() - Status(newRs, "availableReplicas");
        var maxScaledDown = allCount - minAvailable - newUnavailable;
        if (maxScaledDown <= 0)
        {
            return changed;
        }

        // Unhealthy old replicas go first, then healthy ones down to the minimum available.
        foreach (var rs in old.OrderBy(rs => (string?)rs["metadata"]!["creationTimestamp"], StringComparer.Ordinal))
        {
            var unhealthy = rs["spec"]!["replicas"].Int() - Status(rs, "availableReplicas");
            var down = Math.Min(Math.Max(unhealthy, 0), maxScaledDown);
            if (down > 0)
            {
                await ScaleAsync(deployment, rs, rs["spec"]!["replicas"].Int() - down, cancellationToken);
                maxScaledDown -= down;
                changed = true;
            }
        }

        old = server.List(ApiResources.ReplicaSets, deployment.Namespace()).Where(rs => rs.ControllerUid() == deployment.Uid() && rs.Uid() != newRs.Uid()).ToList();
        var available = old.Append(newRs).Sum(rs => Status(rs, "availableReplicas"));
        var total = Math.Min(maxScaledDown, available - minAvailable);
        foreach (var rs in old.Where(rs => rs["spec"]!["replicas"].Int() > 0).OrderBy(rs => (string?)rs["metadata"]!["creationTimestamp"], StringComparer.Ordinal))
        {
            if (total <= 0)
            {
                break;
            }

            var down = Math.Min(rs["spec"]!["replicas"].Int(), total);
            await ScaleAsync(deployment, rs, rs["spec"]!["replicas"].Int() - down, cancellationToken);
            total -= down;
            changed = true;
        }

        return changed;
    }

    private async Task<bool> RecreateAsync(JsonObject deployment, JsonObject newRs, List<JsonObject> old, int replicas, CancellationToken cancellationToken)
    {
        var changed = false;
        foreach (var rs in old.Where(rs => rs["spec"]!["replicas"].Int() > 0))
        {
            await ScaleAsync(deployment, rs, 0, cancellationToken);
            changed = true;
        }

        // New pods only once every old pod is gone.
        var oldUids = old.Select(rs => rs.Uid()).ToHashSet();
        if (server.List(ApiResources.Pods, deployment.Namespace()).Any(p => p.ControllerUid() is { } owner && oldUids.Contains(owner)))
        {
            return changed;
        }

        if (newRs["spec"]!["replicas"].Int() != replicas)
        {
            await ScaleAsync(deployment, newRs, replicas, cancellationToken);
            changed = true;
        }

        return changed;
    }

    /// <summary>
    /// scaleReplicaSet: the replica count and the desired/max-replicas annotations only. The other annotations of an old
    /// ReplicaSet stay as they were when it was the new one: <c>kubectl rollout undo</c> copies them back.
    /// </summary>
    private async Task<JsonObject> ScaleAsync(JsonObject deployment, JsonObject rs, int replicas, CancellationToken cancellationToken)
    {
        var from = rs["spec"]!["replicas"].Int();
        if (from == replicas && !ReplicasAnnotationsNeedUpdate(deployment, rs))
        {
            return rs;
        }

        var scaled = await server.ChangeAsync(ApiResources.ReplicaSets, rs.Namespace(), rs.Name(), user, r =>
        {
            r["spec"]!["replicas"] = replicas;
            SetReplicasAnnotations(deployment, r);
        }, cancellationToken: cancellationToken);
        if (from != replicas)
        {
            await events.RecordAsync(deployment, "Normal", "ScalingReplicaSet",
                $"Scaled {(replicas > from ? "up" : "down")} replica set {rs.Name()} from {from} to {replicas}", cancellationToken);
        }

        return scaled;
    }

    /// <summary>Old ReplicaSets with no replicas beyond revisionHistoryLimit are deleted, oldest first.</summary>
    private async Task CleanUpAsync(JsonObject deployment, CancellationToken cancellationToken)
    {
        var limit = deployment["spec"]?["revisionHistoryLimit"].Int(10) ?? 10;
        var template = deployment["spec"]!["template"]!;
        var idle = server.List(ApiResources.ReplicaSets, deployment.Namespace())
            .Where(rs => rs.ControllerUid() == deployment.Uid() && !EqualIgnoringHash(rs["spec"]!["template"]!, template)
                && rs["spec"]!["replicas"].Int() == 0 && Status(rs, "replicas") == 0)
            .OrderBy(Revision)
            .ToList();
        foreach (var rs in idle.Take(Math.Max(0, idle.Count - limit)))
        {
            await server.DeleteAsync(ApiResources.ReplicaSets, rs.Namespace(), rs.Name(), user, cancellationToken: cancellationToken);
        }
    }

    private async Task SetProgressingAsync(JsonObject deployment, string reason, string message, CancellationToken cancellationToken) =>
        await server.ChangeAsync(ApiResources.Deployments, deployment.Namespace(), deployment.Name(), user,
            d => d.SetCondition("Progressing", "True", reason, message, server.Clock.GetUtcNow(), updateTime: true), "status", cancellationToken);

    private async Task UpdateStatusAsync(string ns, string name, bool progressed, CancellationToken cancellationToken)
    {
        var deployment = server.Get(ApiResources.Deployments, ns, name);
        if (deployment is null)
        {
            return;
        }

        var all = server.List(ApiResources.ReplicaSets, ns).Where(rs => rs.ControllerUid() == deployment.Uid()).ToList();
        var template = deployment["spec"]!["template"]!;
        var newRs = all.FirstOrDefault(rs => EqualIgnoringHash(rs["spec"]!["template"]!, template));
        var replicas = deployment["spec"]!["replicas"].Int(1);
        var now = server.Clock.GetUtcNow();
        var paused = deployment["spec"]?["paused"]?.GetValue<bool>() == true;
                var updated = newRs is null ? 0 : Status(newRs, "replicas");
        var ready = all.Sum(rs => Status(rs, "readyReplicas"));
        var available = all.Sum(rs => Status(rs, "availableReplicas"));
        var total = all.Sum(rs => Status(rs, "replicas"));
        var oldPods = all.Where(rs => rs != newRs).Sum(rs => Status(rs, "replicas"));
        progressed |= updated > (Status(deployment, "updatedReplicas")) || ready > (Status(deployment, "readyReplicas"))
            || available > (Status(deployment, "availableReplicas")) || oldPods < (Status(deployment, "replicas")) - (Status(deployment, "updatedReplicas"));
        var complete = newRs is not null && updated == replicas && available == replicas && oldPods == 0 && newRs["spec"]!["replicas"].Int() == replicas;
        var deadline = deployment["spec"]?["progressDeadlineSeconds"]?.GetValue<int>();

        var changed = await server.ChangeAsync(ApiResources.Deployments, ns, name, user, d =>
        {
            var status = ObjectDefaults.Ensure(d, "status");
            status["observedGeneration"] = d["metadata"]!["generation"]?.DeepClone();
            status["replicas"] = total;
            status["updatedReplicas"] = updated;
            status["readyReplicas"] = ready;
            status["availableReplicas"] = available;
            status["unavailableReplicas"] = Math.Max(0, Math.Max(total, replicas) - available);
            if (newRs is not null)
            {
                d.Annotations()[RevisionAnnotation] = Revision(newRs).ToString(CultureInfo.InvariantCulture);
            }

            var minAvailable = replicas - MaxUnavailable(d);
            d.SetCondition("Available", available >= minAvailable ? "True" : "False",
                available >= minAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                available >= minAvailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", now, updateTime: true);
            var progressing = d.Condition("Progressing");
            if (paused)
            {
                if ((string?)progressing?["reason"] != "DeploymentPaused")
                {
                    d.SetCondition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now, updateTime: true);
                }
            }
            else if ((string?)progressing?["reason"] == "DeploymentPaused")
            {
                d.SetCondition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", now, updateTime: true);
            }
            else if (complete)
            {
                if ((string?)progressing?["reason"] != "NewReplicaSetAvailable")
                {
                    d.SetCondition("Progressing", "True", "NewReplicaSetAvailable", $"ReplicaSet \"{newRs!.Name()}\" has successfully progressed.", now, updateTime: true);
                }
            }
            else if (progressed && newRs is not null)
            {
                d.SetCondition("Progressing", "True", "ReplicaSetUpdated", $"ReplicaSet \"{newRs.Name()}\" is progressing.", now, updateTime: true);
            }
            else if (deadline is { } seconds && newRs is not null && (string?)progressing?["reason"] is not ("ProgressDeadlineExceeded" or "NewReplicaSetAvailable")
                && progressing?["lastUpdateTime"].Time() is { } since && now - since >= TimeSpan.FromSeconds(seconds))
            {
                d.SetCondition("Progressing", "False", "ProgressDeadlineExceeded", $"ReplicaSet \"{newRs.Name()}\" has timed out progressing.", now, updateTime: true);
            }
        }, "status", cancellationToken);

        // Look again when the progress deadline passes.
        if (!complete && !paused && deadline is { } limit && changed.Condition("Progressing")?["lastUpdateTime"].Time() is { } last
            && (string?)changed.Condition("Progressing")?["reason"] != "ProgressDeadlineExceeded")
        {
            manager.EnqueueAfter(this, $"{ns}/{name}", last + TimeSpan.FromSeconds(limit) - now + TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Two pod templates are the same rollout when they differ at most in the pod-template-hash label.</summary>
    public static bool EqualIgnoringHash(JsonNode a, JsonNode b)
    {
        var left = a.DeepClone().AsObject();
        var right = b.DeepClone().AsObject();
        (left["metadata"]?["labels"] as JsonObject)?.Remove(HashLabel);
        (right["metadata"]?["labels"] as JsonObject)?.Remove(HashLabel);
        return JsonNode.DeepEquals(Normalize(left), Normalize(right));
    }

    /// <summary>ComputeHash: FNV-1a over the template (and collisionCount), spelled with the safe alphabet.</summary>
    public static string TemplateHash(JsonNode template, int? collisionCount)
    {
        var text = Canonical(template) + (collisionCount?.ToString(CultureInfo.InvariantCulture) ?? string.Empty);
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 16777619u;
        }

        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return string.Concat(hash.ToString(CultureInfo.InvariantCulture).Select(c => alphabet[c % alphabet.Length]));
    }

    private static JsonNode? Normalize(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj.Where(p => p.Value is not null && !(p.Value is JsonObject { Count: 0 }) && !(p.Value is JsonArray { Count: 0 }))
            .OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Normalize(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Normalize).ToArray()),
        _ => node?.DeepClone(),
    };

    private static string Canonical(JsonNode node) => Normalize(node)!.ToJsonString();
}

/// <summary>
/// The ReplicaSet controller: as many pods as spec.replicas, created with generateName through the admission chain
/// (so Gatekeeper's pod webhook sees them as it would), FailedCreate Events and the ReplicaFailure condition when a
/// create is refused (retried with backoff on the cluster's clock), surplus pods deleted unscheduled and unready first.
/// </summary>
public sealed class ReplicaSetController(SimulatedApiServer server, ControllerManager manager) : ISimulatedController
{
    private readonly UserInfo user = UserInfo.Controller("replicaset-controller");
    private readonly EventRecorder events = new(server, "replicaset-controller");
    private readonly Dictionary<string, int> failures = new(StringComparer.Ordinal);

    public string Name => "replicaset";

    public IEnumerable<string> KeysFor(StoredChange change)
    {
        if (change.Resource == ApiResources.ReplicaSets.StoreName)
        {
            yield return ControllerManager.Key(JsonNode.Parse(change.Json)!);
        }
        else if (change.Resource == ApiResources.Pods.StoreName)
        {
            var pod = JsonNode.Parse(change.Json)!;
            var owner = (pod["metadata"]?["ownerReferences"] as JsonArray ?? []).FirstOrDefault(o => (bool?)o!["controller"] == true && (string?)o["kind"] == "ReplicaSet");
            if (owner is not null)
            {
                yield return $"{pod.Namespace()}/{(string?)owner["name"]}";
            }
        }
    }

    public async Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ControllerManager.Split(key);
        var rs = server.Get(ApiResources.ReplicaSets, ns, name);
        if (rs is null || rs.Terminating())
        {
            return;
        }

        var pods = Pods(rs);
        var replicas = rs["spec"]!["replicas"].Int(1);
        string? failure = null;
        if (pods.Count < replicas)
        {
            failure = await CreatePodsAsync(rs, replicas - pods.Count, cancellationToken);
        }
        else if (pods.Count > replicas)
        {
            var surplus = pods.OrderBy(p => (string?)p["spec"]?["nodeName"] is { Length: > 0 } ? 1 : 0)
                .ThenBy(p => ServiceNetwork.IsReady(p) ? 1 : 0)
                .ThenByDescending(p => (string?)p["metadata"]!["creationTimestamp"], StringComparer.Ordinal)
                .Take(pods.Count - replicas);
            foreach (var pod in surplus)
            {
                await server.DeleteAsync(ApiResources.Pods, ns, pod.Name(), user, cancellationToken: cancellationToken);
                await events.RecordAsync(rs, "Normal", "SuccessfulDelete", $"Deleted pod: {pod.Name()}", cancellationToken);
            }
        }

        if (failure is null)
        {
            failures.Remove(key);
        }
        else
        {
            // Failed creates are retried with exponential backoff (the controller's rate-limited queue).
            var count = failures[key] = failures.GetValueOrDefault(key) + 1;
            manager.EnqueueAfter(this, key, TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, count - 1))));
        }

        pods = Pods(server.Get(ApiResources.ReplicaSets, ns, name) ?? rs);
        await server.ChangeAsync(ApiResources.ReplicaSets, ns, name, user, r =>
        {
            var status = ObjectDefaults.Ensure(r, "status");
            status["replicas"] = pods.Count;
            status["fullyLabeledReplicas"] = pods.Count;
            status["readyReplicas"] = pods.Count(ServiceNetwork.IsReady);
            status["availableReplicas"] = pods.Count(ServiceNetwork.IsReady);
            status["observedGeneration"] = r["metadata"]!["generation"]?.DeepClone();
            if (failure is not null)
            {
                r.SetCondition("ReplicaFailure", "True", "FailedCreate", failure, server.Clock.GetUtcNow());
            }
            else
            {
                r.RemoveCondition("ReplicaFailure");
            }
        }, "status", cancellationToken);
    }

    private List<JsonObject> Pods(JsonNode rs)
    {
        var selector = LabelSelector.FromObject(rs["spec"]?["selector"]);
        return server.List(ApiResources.Pods, rs.Namespace())
            .Where(p => p.ControllerUid() == rs.Uid() && selector.Matches(Selectors.Labels(p)) && !p.Terminating()
                && (string?)p["status"]?["phase"] is not ("Succeeded" or "Failed"))
            .ToList();
    }

    /// <summary>Creates pods in slow-start batches (1, 2, 4…), stopping at the first refusal; returns its message.</summary>
    private async Task<string?> CreatePodsAsync(JsonObject rs, int missing, CancellationToken cancellationToken)
    {
        var batch = 1;
        while (missing > 0)
        {
            for (var i = 0; i < Math.Min(batch, missing); i++)
            {
                var template = rs["spec"]!["template"]!;
                var pod = new JsonObject
                {
                    ["metadata"] = new JsonObject
                    {
                        ["generateName"] = rs.Name() + "-",
                        ["namespace"] = rs.Namespace(),
                        ["labels"] = template["metadata"]?["labels"]?.DeepClone(),
                        ["annotations"] = template["metadata"]?["annotations"]?.DeepClone(),
                        ["ownerReferences"] = new JsonArray(ObjectAccess.OwnerReference(rs)),
                    },
                    ["spec"] = template["spec"]!.DeepClone(),
                };
                try
                {
                    var created = await server.CreateAsync(ApiResources.Pods, rs.Namespace(), pod, user, cancellationToken: cancellationToken);
                    await events.RecordAsync(rs, "Normal", "SuccessfulCreate", $"Created pod: {created.Name()}", cancellationToken);
                }
                catch (ApiStatusException e)
                {
                    await events.RecordAsync(rs, "Warning", "FailedCreate", $"Error creating: {e.Message}", cancellationToken);
                    return e.Message;
                }
            }

            missing -= Math.Min(batch, missing);
            batch *= 2;
        }

        return null;
    }
}
