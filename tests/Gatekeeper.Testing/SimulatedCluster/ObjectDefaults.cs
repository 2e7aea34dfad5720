using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// What the API server fills in before admission and storage (SetDefaults_* of the apps, batch and core groups and the
/// built-in admission plugins that run for every cluster: ServiceAccount, DefaultTolerationSeconds, Priority), limited
/// to fields Gatekeeper or the simulated controllers read. A Gatekeeper that read an unset field where a real cluster
/// always has a value, or relied on a default the cluster does not set, would be caught here.
/// </summary>
public static class ObjectDefaults
{
    public static void Apply(ApiResource resource, JsonObject obj, string? subresource)
    {
        if (subresource is not null)
        {
            return;
        }

        var metadata = obj["metadata"]!.AsObject();
        if (resource == ApiResources.Namespaces)
        {
            // Set by the API server on every namespace since 1.21, so selectors can name namespaces.
            Ensure(metadata, "labels")["kubernetes.io/metadata.name"] = (string?)metadata["name"];
            Ensure(obj, "spec")["finalizers"] ??= new JsonArray("kubernetes");
            Ensure(obj, "status")["phase"] ??= "Active";
        }
        else if (resource == ApiResources.Deployments)
        {
            var spec = Ensure(obj, "spec");
            spec["replicas"] ??= 1;
            var strategy = Ensure(spec, "strategy");
            strategy["type"] ??= "RollingUpdate";
            if ((string?)strategy["type"] == "RollingUpdate")
            {
                var rolling = Ensure(strategy, "rollingUpdate");
                rolling["maxUnavailable"] ??= "25%";
                rolling["maxSurge"] ??= "25%";
            }

            spec["revisionHistoryLimit"] ??= 10;
            spec["progressDeadlineSeconds"] ??= 600;
            PodTemplate(spec);
        }
        else if (resource == ApiResources.ReplicaSets)
        {
            var spec = Ensure(obj, "spec");
            spec["replicas"] ??= 1;
            PodTemplate(spec);
        }
        else if (resource == ApiResources.Jobs)
        {
            Job(obj);
        }
        else if (resource == ApiResources.Pods)
        {
            Pod(obj);
        }
        else if (resource == ApiResources.Services)
        {
            var spec = Ensure(obj, "spec");
            spec["type"] ??= "ClusterIP";
            spec["sessionAffinity"] ??= "None";
            foreach (var port in spec["ports"] as JsonArray ?? [])
            {
                port!["protocol"] ??= "TCP";
                port["targetPort"] ??= port["port"]?.DeepClone();
            }
        }
        else if (resource == ApiResources.Secrets)
        {
            obj["type"] ??= "Opaque";
            if (obj["stringData"] is JsonObject stringData)
            {
                var data = Ensure(obj, "data");
                foreach (var (key, value) in stringData)
                {
                    data[key] = Convert.ToBase64String(Encoding.UTF8.GetBytes(value?.GetValue<string>() ?? string.Empty));
                }

                obj.Remove("stringData");
            }
        }
    }

    private static void Job(JsonObject job)
    {
        var spec = Ensure(job, "spec");
        if (spec["completions"] is null && spec["parallelism"] is null)
        {
            spec["completions"] = 1;
            spec["parallelism"] = 1;
        }

        spec["parallelism"] ??= 1;
        spec["backoffLimit"] ??= 6;
        spec["completionMode"] ??= "NonIndexed";
        spec["suspend"] ??= false;
        spec["manualSelector"] ??= null;
        spec["podReplacementPolicy"] ??= spec["podFailurePolicy"] is null ? "TerminatingOrFailed" : "Failed";
        PodTemplate(spec);
    }

    /// <summary>The Job's generated selector and template labels (uid-based), set when the Job is created.</summary>
    public static void JobSelector(JsonObject job)
    {
        var spec = job["spec"]!.AsObject();
        if (spec["manualSelector"]?.GetValue<bool>() == true)
        {
            return;
        }

        var uid = (string)job["metadata"]!["uid"]!;
        var name = (string)job["metadata"]!["name"]!;
        spec["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["batch.kubernetes.io/controller-uid"] = uid } };
        var labels = Ensure(Ensure(Ensure(spec, "template"), "metadata"), "labels");
        labels["batch.kubernetes.io/controller-uid"] = uid;
        labels["batch.kubernetes.io/job-name"] = name;
        labels["controller-uid"] = uid;
        labels["job-name"] = name;
    }

    private static void PodTemplate(JsonObject spec)
    {
        var template = Ensure(spec, "template");
        Ensure(template, "metadata");
        PodSpec(Ensure(template, "spec"));
    }

    private static void Pod(JsonObject pod)
    {
        var spec = Ensure(pod, "spec");
        PodSpec(spec);
        spec["serviceAccountName"] ??= "default";
        spec["priority"] ??= 0;
        spec["preemptionPolicy"] ??= "PreemptLowerPriority";
        if (spec["tolerations"] is not JsonArray tolerations)
        {
            tolerations = [];
            spec["tolerations"] = tolerations;
        }

        foreach (var key in new[] { "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable" })
        {
            if (!tolerations.Any(t => (string?)t!["key"] == key))
            {
                tolerations.Add(new JsonObject { ["key"] = key, ["operator"] = "Exists", ["effect"] = "NoExecute", ["tolerationSeconds"] = 300 });
            }
        }
        var status = Ensure(pod, "status");
        status["phase"] ??= "Pending";
        status["qosClass"] ??= QosClass(spec);
    }

    private static void PodSpec(JsonObject spec)
    {
        spec["restartPolicy"] ??= "Always";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["securityContext"] ??= new JsonObject();
        spec["schedulerName"] ??= "default-scheduler";
        spec["enableServiceLinks"] ??= true;
        foreach (var container in (spec["containers"] as JsonArray ?? []).Concat(spec["initContainers"] as JsonArray ?? []))
        {
            container!["terminationMessagePath"] ??= "/dev/termination-log";
            container["terminationMessagePolicy"] ??= "File";
            container["resources"] ??= new JsonObject();
            if (container["imagePullPolicy"] is null)
            {
                var image = (string?)container["image"] ?? string.Empty;
                var tag = image.Contains('@', StringComparison.Ordinal) ? "digest"
                    : image.LastIndexOf(':') > image.LastIndexOf('/') ? image[(image.LastIndexOf(':') + 1)..] : "latest";
                container["imagePullPolicy"] = tag == "latest" ? "Always" : "IfNotPresent";
            }

            foreach (var port in container["ports"] as JsonArray ?? [])
            {
                port!["protocol"] ??= "TCP";
            }
        }
    }

    private static string QosClass(JsonObject spec)
    {
        var containers = (spec["containers"] as JsonArray ?? []).Select(c => c!["resources"]).ToList();
        if (containers.All(r => r?["requests"] is null && r?["limits"] is null))
        {
            return "BestEffort";
        }

        var guaranteed = containers.All(r =>
            r?["limits"]?["cpu"] is not null && r["limits"]?["memory"] is not null
            && (r["requests"]?["cpu"] is null || r["requests"]!["cpu"]!.ToJsonString() == r["limits"]!["cpu"]!.ToJsonString())
            && (r["requests"]?["memory"] is null || r["requests"]!["memory"]!.ToJsonString() == r["limits"]!["memory"]!.ToJsonString()));
        return guaranteed ? "Guaranteed" : "Burstable";
    }

    /// <summary>The object member <paramref name="name"/>, created empty when missing or null.</summary>
    public static JsonObject Ensure(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[name] = created;
        return created;
    }

    /// <summary>RFC 3339 in seconds, as metav1.Time serializes.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>RFC 3339 with microseconds, as metav1.MicroTime serializes.</summary>
    public static string MicroTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);
}
