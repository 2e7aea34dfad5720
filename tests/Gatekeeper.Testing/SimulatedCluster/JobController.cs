using System.Globalization;
using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// The Job controller (batch/v1, Kubernetes 1.31+): pods created through admission (FailedCreate Events when refused),
/// backoffLimit with exponential retry delays, activeDeadlineSeconds, podFailurePolicy (FailJob, Ignore, Count on exit
/// codes and pod conditions), the SuccessCriteriaMet/Complete and FailureTarget/Failed conditions with their reasons,
/// and ttlSecondsAfterFinished deletion (Foreground: the pods go too). Every time is the cluster's clock.
/// </summary>
public sealed class JobController(SimulatedApiServer server, ControllerManager manager) : ISimulatedController
{
    /// <summary>Job status counts the API server omits when they are zero.</summary>
    private static readonly string[] CountsOmittedWhenZero = ["active", "succeeded", "failed", "terminating"];

    private readonly UserInfo user = UserInfo.Controller("job-controller");
    private readonly EventRecorder events = new(server, "job-controller");

    public string Name => "job";

    public IEnumerable<string> KeysFor(ApiServerDouble.StoredChange change)
    {
        if (change.Resource == ApiResources.Jobs.StoreName)
        {
            yield return ControllerManager.Key(JsonNode.Parse(change.Json)!);
        }
        else if (change.Resource == ApiResources.Pods.StoreName)
        {
            var pod = JsonNode.Parse(change.Json)!;
            if (pod.Label("batch.kubernetes.io/job-name") is { } job)
            {
                yield return $"{pod.Namespace()}/{job}";
            }
        }
    }

    public async Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ControllerManager.Split(key);
        var job = server.Get(ApiResources.Jobs, ns, name);
        if (job is null || job.Terminating())
        {
            return;
        }

        var now = server.Clock.GetUtcNow();
        if (Finished(job))
        {
            await ExpireAsync(job, now, cancellationToken);
            return;
        }

        if (job["spec"]?["suspend"]?.GetValue<bool>() == true)
        {
            return;
        }

        var pods = server.List(ApiResources.Pods, ns).Where(p => p.ControllerUid() == job.Uid()).ToList();
        var active = pods.Where(p => !p.Terminating() && (string?)p["status"]?["phase"] is not ("Succeeded" or "Failed")).ToList();
        var succeeded = pods.Count(p => (string?)p["status"]?["phase"] == "Succeeded");
        var failedPods = pods.Where(p => (string?)p["status"]?["phase"] == "Failed").ToList();
        var start = job["status"]?["startTime"].Time() ?? now;
        var completions = job["spec"]?["completions"].Int(1) ?? 1;
        var parallelism = job["spec"]?["parallelism"].Int(1) ?? 1;
        var backoffLimit = job["spec"]?["backoffLimit"].Int(6) ?? 6;

        // podFailurePolicy: the first rule that matches a failed pod decides what its failure means.
        string? failReason = null;
        string? failMessage = null;
        var counted = 0;
        foreach (var pod in failedPods)
        {
            var (action, index) = FailurePolicyAction(job, pod);
            switch (action)
            {
                case "FailJob":
                    failReason ??= "PodFailurePolicy";
                    failMessage ??= $"Pod {pod.Namespace()}/{pod.Name()} has condition or container exit code matching FailJob rule at index {index}";
                    break;
                case "Ignore":
                    break;
                default:
                    counted++;
                    break;
            }
        }

        if (failReason is null && counted > backoffLimit)
        {
            (failReason, failMessage) = ("BackoffLimitExceeded", "Job has reached the specified backoff limit");
        }

        if (failReason is null && job["spec"]?["activeDeadlineSeconds"]?.GetValue<long>() is { } deadline)
        {
            if (now - start >= TimeSpan.FromSeconds(deadline))
            {
                (failReason, failMessage) = ("DeadlineExceeded", "Job was active longer than specified deadline");
            }
            else
            {
                manager.EnqueueAfter(this, key, start + TimeSpan.FromSeconds(deadline) - now);
            }
        }

        if (failReason is not null)
        {
            foreach (var pod in active)
            {
                await DeletePodAsync(pod, cancellationToken);
            }

            await WriteStatusAsync(job, now, start, 0, succeeded, failedPods.Count, pods, j =>
            {
                j.SetCondition("FailureTarget", "True", failReason, failMessage!, now, probeTime: true);
                j.SetCondition("Failed", "True", failReason, failMessage!, now, probeTime: true);
            }, cancellationToken);
            await events.RecordAsync(job, "Warning", failReason, failMessage!, cancellationToken);
            return;
        }

        if (succeeded >= completions)
        {
            await WriteStatusAsync(job, now, start, active.Count, succeeded, failedPods.Count, pods, j =>
            {
                j["status"]!["completionTime"] = ObjectDefaults.Time(now);
                j.SetCondition("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods", now, probeTime: true);
                j.SetCondition("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods", now, probeTime: true);
            }, cancellationToken);
            await events.RecordAsync(job, "Normal", "Completed", "Job completed", cancellationToken);
            return;
        }

        var wanted = Math.Min(parallelism, completions - succeeded) - active.Count;
        if (wanted > 0 && failedPods.Count > 0)
        {
            // Pod retries wait 10 s, 20 s, 40 s… (at most 6 minutes) after the last failure.
            var lastFailure = failedPods.Select(FinishedAt).Max() ?? now;
            var delay = TimeSpan.FromSeconds(Math.Min(360, 10 * Math.Pow(2, failedPods.Count - 1)));
            if (now < lastFailure + delay)
            {
                manager.EnqueueAfter(this, key, lastFailure + delay - now);
                wanted = 0;
            }
        }

        for (var i = 0; i < wanted; i++)
        {
            if (!await CreatePodAsync(job, cancellationToken))
            {
                manager.EnqueueAfter(this, key, TimeSpan.FromSeconds(10));
                break;
            }
        }

        pods = server.List(ApiResources.Pods, ns).Where(p => p.ControllerUid() == job.Uid()).ToList();
        active = pods.Where(p => !p.Terminating() && (string?)p["status"]?["phase"] is not ("Succeeded" or "Failed")).ToList();
        await WriteStatusAsync(job, now, start, active.Count, succeeded, failedPods.Count, pods, null, cancellationToken);
    }

    public static bool Finished(JsonNode job) => job.ConditionIs("Complete") || job.ConditionIs("Failed");

    private async Task ExpireAsync(JsonObject job, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (job["spec"]?["ttlSecondsAfterFinished"]?.GetValue<long>() is not { } ttl)
        {
            return;
        }

        var finished = job["status"]?["completionTime"].Time() ?? job.Condition("Failed")?["lastTransitionTime"].Time() ?? now;
        var expires = finished + TimeSpan.FromSeconds(ttl);
        if (now >= expires)
        {
            await server.DeleteAsync(ApiResources.Jobs, job.Namespace(), job.Name(), UserInfo.Controller("ttl-after-finished-controller"), "Foreground", job.Uid(),
                cancellationToken: cancellationToken);
        }
        else
        {
            manager.EnqueueAfter(this, ControllerManager.Key(job), expires - now);
        }
    }

    private static (string Action, int Index) FailurePolicyAction(JsonNode job, JsonNode pod)
    {
        var rules = job["spec"]?["podFailurePolicy"]?["rules"] as JsonArray ?? [];
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i]!;
            if (rule["onExitCodes"] is { } exitCodes)
            {
                var container = (string?)exitCodes["containerName"];
                var values = (exitCodes["values"] as JsonArray ?? []).Select(v => v!.GetValue<int>()).ToHashSet();
                var inOperator = (string?)exitCodes["operator"] == "In";
                var codes = (pod["status"]?["containerStatuses"] as JsonArray ?? [])
                    .Where(c => container is null || (string?)c!["name"] == container)
                    .Select(c => c!["state"]?["terminated"]?["exitCode"]?.GetValue<int>())
                    .Where(c => c is not null and not 0)
                    .Select(c => c!.Value);
                if (codes.Any(c => values.Contains(c) == inOperator))
                {
                    return ((string?)rule["action"] ?? "Count", i);
                }
            }

            foreach (var condition in rule["onPodConditions"] as JsonArray ?? [])
            {
                if (pod.ConditionIs((string?)condition!["type"] ?? string.Empty, (string?)condition["status"] ?? "True"))
                {
                    return ((string?)rule["action"] ?? "Count", i);
                }
            }
        }

        return ("Count", -1);
    }

    private static DateTimeOffset? FinishedAt(JsonNode pod) =>
        (pod["status"]?["containerStatuses"] as JsonArray ?? []).Select(c => c!["state"]?["terminated"]?["finishedAt"].Time()).Max();

    private async Task<bool> CreatePodAsync(JsonObject job, CancellationToken cancellationToken)
    {
        var template = job["spec"]!["template"]!;
        var pod = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["generateName"] = job.Name() + "-",
                ["namespace"] = job.Namespace(),
                ["labels"] = template["metadata"]?["labels"]?.DeepClone(),
                ["annotations"] = template["metadata"]?["annotations"]?.DeepClone(),
                ["ownerReferences"] = new JsonArray(ObjectAccess.OwnerReference(job)),
                ["finalizers"] = new JsonArray("batch.kubernetes.io/job-tracking"),
            },
            ["spec"] = template["spec"]!.DeepClone(),
        };
        try
        {
            var created = await server.CreateAsync(ApiResources.Pods, job.Namespace(), pod, user, cancellationToken: cancellationToken);
            await events.RecordAsync(job, "Normal", "SuccessfulCreate", $"Created pod: {created.Name()}", cancellationToken);
            return true;
        }
        catch (ApiStatusException e)
        {
            await events.RecordAsync(job, "Warning", "FailedCreate", $"Error creating: {e.Message}", cancellationToken);
            return false;
        }
    }

    private async Task DeletePodAsync(JsonNode pod, CancellationToken cancellationToken)
    {
        try
        {
            await server.DeleteAsync(ApiResources.Pods, pod.Namespace(), pod.Name(), user, cancellationToken: cancellationToken);
        }
        catch (ApiStatusException e) when (e.Code == System.Net.HttpStatusCode.NotFound)
        {
            // Gone already.
        }
    }

    private async Task WriteStatusAsync(JsonObject job, DateTimeOffset now, DateTimeOffset start, int active, int succeeded, int failed, List<JsonObject> pods, Action<JsonObject>? conditions, CancellationToken cancellationToken)
    {
        await server.ChangeAsync(ApiResources.Jobs, job.Namespace(), job.Name(), user, j =>
        {
            var status = ObjectDefaults.Ensure(j, "status");
            status["startTime"] ??= ObjectDefaults.Time(start);
            status["active"] = active;
            status["ready"] = pods.Count(p => !p.Terminating() && ServiceNetwork.IsReady(p));
            status["terminating"] = pods.Count(p => p.Terminating());
            status["succeeded"] = succeeded;
            status["failed"] = failed;
            status["uncountedTerminatedPods"] = new JsonObject();
            foreach (var empty in CountsOmittedWhenZero)
            {
                if (status[empty]?.GetValue<int>() == 0)
                {
                    status.Remove(empty);
                }
            }

            conditions?.Invoke(j);
        }, "status", cancellationToken);
    }

    /// <summary>The time a Job finished, for scenarios: completionTime, or when it failed.</summary>
    public static DateTimeOffset? FinishedTime(JsonNode job) =>
        job["status"]?["completionTime"].Time() ?? job.Condition("Failed")?["lastTransitionTime"].Time();

    internal static string Seconds(TimeSpan span) => ((long)span.TotalSeconds).ToString(CultureInfo.InvariantCulture);
}
