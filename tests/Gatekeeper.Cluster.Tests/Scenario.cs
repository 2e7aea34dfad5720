using System.Net;
using System.Text.Json.Nodes;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using Gatekeeper.Tests.SimulatedCluster;
using Gatekeeper.Webhook.Tests;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit.Abstractions;

namespace Gatekeeper.Cluster.Tests;

/// <summary>
/// One scenario's world: a simulated cluster with Gatekeeper installed from charts/gatekeeper (helm template with the
/// scenario's values, its pods running the gatekeeper binary), an application namespace, and a database of its own on
/// the real PostgreSQL or MariaDB server, whose URL is the app's Secret. Everything a test does to the cluster goes
/// through the API as kubectl would (the administrator's client), so admission, RBAC and validation apply.
/// </summary>
public sealed class Scenario : IAsyncDisposable
{
    public const string GatekeeperNamespace = "gatekeeper-system";
    public const string Release = "gatekeeper";
    public const string GatekeeperImage = "gatekeeper:sim";
    public const string AppImage = "ghcr.io/example/shop:1.0.0";
    public const string SecretName = "shop-db";
    public const string MigrationsName = "shop-migrations";

    private readonly ITestOutputHelper output;
    private readonly List<(string Name, bool Gated, string? Plan)> createdPods = [];
    private readonly List<(string Namespace, long Version)> ungatings = [];
    private readonly Dictionary<string, long> completions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> jobsCreated = new(StringComparer.Ordinal);
    private long deploymentsSeenByGatekeeper;

    private Scenario(SimulatedCluster cluster, TestDatabase database, string engine, string ns, ITestOutputHelper output)
    {
        Cluster = cluster;
        Database = database;
        Engine = engine;
        Namespace = ns;
        this.output = output;
        cluster.Api.Watches.Delivered += (watch, _, json) =>
        {
            if (watch.Resource == ApiResources.Deployments.StoreName && watch.Client == $"{UserInfo.ServiceAccountPrefix}{GatekeeperNamespace}:{Release}"
                && long.TryParse((string?)JsonNode.Parse(json)?["metadata"]?["resourceVersion"], System.Globalization.CultureInfo.InvariantCulture, out var seen))
            {
                long known;
                do
                {
                    known = Interlocked.Read(ref deploymentsSeenByGatekeeper);
                }
                while (seen > known && Interlocked.CompareExchange(ref deploymentsSeenByGatekeeper, seen, known) != known);
            }
        };
        cluster.Api.Store.Changed += change =>
        {
            if (change.Type == "MODIFIED" && change.Resource == ApiResources.Pods.StoreName && change.OldJson is not null
                && Gated(JsonNode.Parse(change.OldJson)!) && !Gated(JsonNode.Parse(change.Json)!))
            {
                lock (ungatings)
                {
                    ungatings.Add((change.Namespace ?? string.Empty, change.Version));
                }
            }

            if (change.Resource == ApiResources.Jobs.StoreName && change.Type != "DELETED")
            {
                var job = JsonNode.Parse(change.Json)!;
                lock (completions)
                {
                    if (change.Type == "ADDED")
                    {
                        jobsCreated.TryAdd($"{job.Namespace()}/{job.Name()}", change.Version);
                    }

                    if (job.ConditionIs("Complete"))
                    {
                        completions.TryAdd($"{job.Namespace()}/{job.Name()}", change.Version);
                    }
                }
            }

            if (change.Type == "ADDED" && change.Resource == ApiResources.Pods.StoreName)
            {
                var pod = JsonNode.Parse(change.Json)!;
                if (pod.Label("app") is null)
                {
                    return;
                }

                lock (createdPods)
                {
                    createdPods.Add((pod.Name(), Gated(pod), pod.Annotation("gatekeeper.dev/plan")));
                }
            }
        };
    }

    /// <summary>The store version at which the Job was created (long.MaxValue when never).</summary>
    public long CreatedAt(JsonNode job)
    {
        lock (completions)
        {
            return jobsCreated.GetValueOrDefault($"{job.Namespace()}/{job.Name()}", long.MaxValue);
        }
    }

    /// <summary>Waits until Gatekeeper's watches have delivered Deployments up to store version <paramref name="version"/>.</summary>
    public Task WaitUntilGatekeeperSawDeploymentsAsync(long version) =>
        WaitUntilAsync(() => Interlocked.Read(ref deploymentsSeenByGatekeeper) >= version, $"Gatekeeper's watch delivered Deployments up to version {version}");

    /// <summary>Every application pod (labelled app) created so far, whether it was created gated, and its plan stamp.</summary>
    public IReadOnlyList<(string Name, bool Gated, string? Plan)> CreatedPods
    {
        get
        {
            lock (createdPods)
            {
                return createdPods.ToList();
            }
        }
    }

    /// <summary>The store versions (in order of writes) at which a pod of <paramref name="ns"/> lost its scheduling gate.</summary>
    public IReadOnlyList<long> Ungatings(string ns)
    {
        lock (ungatings)
        {
            return ungatings.Where(u => u.Namespace == ns).Select(u => u.Version).ToList();
        }
    }

    /// <summary>The store version at which the Job first had its Complete condition (long.MaxValue when never).</summary>
    public long CompletedAt(JsonNode job)
    {
        lock (completions)
        {
            return completions.GetValueOrDefault($"{job.Namespace()}/{job.Name()}", long.MaxValue);
        }
    }

    /// <summary>Keeps the app namespace's migration Job pods from starting until <see cref="ReleaseJobs"/>.</summary>
    public void HoldJobs(string? ns = null)
    {
        var holdIn = ns ?? Namespace;
        Cluster.Kubelet.Hold("jobs-" + holdIn, pod => pod.Namespace() == holdIn && pod.Label("batch.kubernetes.io/job-name") is not null);
    }

    public void ReleaseJobs(string? ns = null) => Cluster.Kubelet.Release("jobs-" + (ns ?? Namespace));

    /// <summary>True once a Job of the namespace has a pod held (or running): the migration has started.</summary>
    public bool JobPodExists(string? ns = null) =>
        Cluster.Api.List(ApiResources.Pods, ns ?? Namespace).Any(p => p.Label("batch.kubernetes.io/job-name") is not null);

    /// <summary>The Deployment's status as Gatekeeper reports it (annotation or conditions), as one text to search.</summary>
    public string GatekeeperStatus(string name = "shop")
    {
        var deployment = Deployment(name);
        return (deployment.Annotation("gatekeeper.dev/status") ?? string.Empty) + " "
            + string.Join(" ", (deployment["status"]?["conditions"] as JsonArray ?? []).Where(c => ((string?)c!["type"])?.StartsWith("gatekeeper.dev", StringComparison.Ordinal) == true).Select(c => c!.ToJsonString()));
    }

    /// <summary>Every Gatekeeper replica's /metrics, scraped over HTTPS at its pod address as Prometheus would.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5359", Justification = "A pod-address scrape skips verification as Prometheus's kubernetes_sd pod scrapes do (the certificate names the Service, not the pod IP).")]
    public async Task<string> MetricsAsync()
    {
        using var handler = new SocketsHttpHandler { SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true } };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var text = new System.Text.StringBuilder();
        foreach (var pod in GatekeeperPods().Where(ServiceNetwork.IsReady))
        {
            var scraped = await client.GetStringAsync($"https://{(string?)pod["status"]?["podIP"]}:8443/metrics");
            OutputCapture.Record(OutputCapture.Metrics, $"simulated pod {pod.Name()}", scraped);
            text.Append(scraped);
        }

        return text.ToString();
    }

    /// <summary>
    /// kubectl rollout undo (kubectl's DeploymentRollbacker): refused for a paused Deployment; the target is the
    /// ReplicaSet with the second-highest revision annotation among the Deployment's own; the patch replaces the
    /// template (without pod-template-hash) and the annotations, which become the ReplicaSet's (those copied from the
    /// Deployment when it was the new one, the old gatekeeper.dev/migrations included) plus the Deployment's own values
    /// of the keys kubectl never copies (last-applied-configuration, revision, desired and max replicas).
    /// </summary>
    public async Task<V1Deployment> RolloutUndoAsync(string name = "shop")
    {
        using var response = await RolloutUndoWithResponseAsync(name);
        return Answered(response);
    }

    private static readonly HashSet<string> UndoKeepsFromDeployment =
    [
        "kubectl.kubernetes.io/last-applied-configuration", DeploymentController.RevisionAnnotation, "deployment.kubernetes.io/revision-history",
        DeploymentController.DesiredReplicasAnnotation, DeploymentController.MaxReplicasAnnotation, "deprecated.deployment.rollback.to",
    ];

    private async Task<HttpOperationResponse<V1Deployment>> RolloutUndoWithResponseAsync(string name)
    {
        var deployment = Deployment(name);
        if (deployment["spec"]?["paused"]?.GetValue<bool>() == true)
        {
            throw new InvalidOperationException($"you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/{name}' and try again");
        }

        var revisions = Cluster.Api.List(ApiResources.ReplicaSets, Namespace)
            .Where(rs => rs.ControllerUid() == deployment.Uid())
            .Select(rs => (rs, revision: long.TryParse(rs.Annotation(DeploymentController.RevisionAnnotation), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1))
            .Where(r => r.revision >= 0)
            .OrderByDescending(r => r.revision)
            .ToList();
        var previous = revisions.Count >= 2 ? revisions[1].rs : throw new InvalidOperationException($"no rollout history found for deployment \"{name}\":\n{Cluster.Describe()}");
        if (DeploymentController.EqualIgnoringHash(previous["spec"]!["template"]!, deployment["spec"]!["template"]!))
        {
            throw new InvalidOperationException($"skipped rollback (current template already matches revision {revisions[1].revision})");
        }

        var template = previous["spec"]!["template"]!.DeepClone().AsObject();
        (template["metadata"]?["labels"] as JsonObject)?.Remove(DeploymentController.HashLabel);
        var annotations = new JsonObject();
        foreach (var (key, value) in deployment["metadata"]?["annotations"] as JsonObject ?? [])
        {
            if (UndoKeepsFromDeployment.Contains(key))
            {
                annotations[key] = value?.DeepClone();
            }
        }

        foreach (var (key, value) in previous["metadata"]?["annotations"] as JsonObject ?? [])
        {
            if (!UndoKeepsFromDeployment.Contains(key))
            {
                annotations[key] = value?.DeepClone();
            }
        }

        var patch = new JsonArray(
            new JsonObject { ["op"] = "replace", ["path"] = "/spec/template", ["value"] = template },
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/annotations", ["value"] = annotations });
        return await Kubectl.AppsV1.PatchNamespacedDeploymentWithHttpMessagesAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.JsonPatch), name, Namespace);
    }

    public SimulatedCluster Cluster { get; }

    public TestDatabase Database { get; }

    public string Engine { get; }

    public string Namespace { get; }

    /// <summary>kubectl as the cluster's administrator.</summary>
    public IKubernetes Kubectl => Cluster.Admin;

    public static IEnumerable<object[]> Engines => [["postgres"], ["mysql"]];

    /// <summary>
    /// Starts the cluster, installs Gatekeeper with <paramref name="values"/> over the scenario defaults (one replica,
    /// the image the kubelet runs as the gatekeeper binary) and waits until it is ready, then prepares the app's
    /// namespace with its database Secret.
    /// </summary>
    public static async Task<Scenario> StartAsync(ITestOutputHelper output, string engine = "postgres", JsonObject? values = null, string ns = "shop")
    {
        var cluster = await SimulatedCluster.StartAsync(line => Write(output, line));
        try
        {
            var database = engine == "postgres" ? await TestDatabase.CreatePostgresAsync() : await TestDatabase.CreateMySqlAsync();
            var scenario = new Scenario(cluster, database, engine, ns, output);
            // The app's namespace opts in as a user's would under the least-privilege default: listed in
            // sourceNamespaces, where the chart lets Gatekeeper read Secrets and ConfigMaps (a scenario's own values win).
            var withSources = new JsonObject { ["sourceNamespaces"] = new JsonArray(ns) };
            await scenario.InstallGatekeeperAsync(values is null ? withSources : Patches.Merge(withSources, values.DeepClone().AsObject()));
            if (cluster.Api.Get(ApiResources.Namespaces, null, ns) is null)
            {
                // The chart creates it with watchNamespaces (its RoleBindings live there).
                await cluster.CreateNamespaceAsync(ns);
            }
            await scenario.PutSecretAsync(ns, SecretName, database.Url);
            return scenario;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The chart's values for a scenario: the defaults here, then the scenario's own on top.</summary>
    public static JsonObject Values(JsonObject? overrides)
    {
        // Generous admission deadlines: the scenarios run on busy two-core machines, where an 8 s budget is sometimes
        // spent on scheduling alone; what the scenarios judge is the outcome, not the latency.
        var values = new JsonObject
        {
            ["replicaCount"] = 1,
            ["image"] = new JsonObject { ["repository"] = "gatekeeper", ["tag"] = "sim" },
            ["webhook"] = new JsonObject { ["requestBudget"] = "00:00:25" },
            ["admission"] = new JsonObject
            {
                ["deployments"] = new JsonObject { ["timeoutSeconds"] = 30 },
                ["pods"] = new JsonObject { ["timeoutSeconds"] = 15 },
            },
        };
        return overrides is null ? values : Patches.Merge(values, overrides.DeepClone().AsObject());
    }

    public async Task InstallGatekeeperAsync(JsonObject? values)
    {
        var manifest = await HelmChart.RenderAsync(Release, GatekeeperNamespace, Values(values), CancellationToken.None);
        Cluster.RegisterGatekeeperImage(GatekeeperImage);
        await Cluster.ApplyAsync(manifest, GatekeeperNamespace);
        await WaitForGatekeeperAsync();
    }

    /// <summary>Waits until every replica of Gatekeeper's Deployment is ready (its readiness probe passed).</summary>
    public Task WaitForGatekeeperAsync() => Cluster.WaitUntilAsync(() =>
    {
        var deployment = Cluster.Api.Get(ApiResources.Deployments, GatekeeperNamespace, Release);
        var wanted = deployment?["spec"]?["replicas"]?.GetValue<int>() ?? 1;
        var pods = GatekeeperPods();
        if (pods.FirstOrDefault(p => p["status"]?["containerStatuses"]?[0]?["state"]?["terminated"] is not null) is { } exited)
        {
            throw new InvalidOperationException($"Gatekeeper's pod {exited.Name()} exited:\n{Cluster.Describe()}");
        }

        return pods.Count(ServiceNetwork.IsReady) >= wanted;
    }, "Gatekeeper's pods are ready", TimeSpan.FromMinutes(3));

    public IReadOnlyList<JsonObject> GatekeeperPods() =>
        Cluster.Api.List(ApiResources.Pods, GatekeeperNamespace).Where(p => p.Label("app.kubernetes.io/name") == "gatekeeper" && !p.Terminating()).ToList();

    public async Task PutSecretAsync(string ns, string name, string url)
    {
        var secret = new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            StringData = new Dictionary<string, string> { ["url"] = url },
        };
        await Upsert(() => Kubectl.CoreV1.CreateNamespacedSecretAsync(secret, ns), async () =>
        {
            var current = await Kubectl.CoreV1.ReadNamespacedSecretAsync(name, ns);
            secret.Metadata.ResourceVersion = current.Metadata.ResourceVersion;
            await Kubectl.CoreV1.ReplaceNamespacedSecretAsync(secret, name, ns);
        });
    }

    public async Task PutMigrationsAsync(IDictionary<string, string> files, string name = MigrationsName, string? ns = null)
    {
        ns ??= Namespace;
        var configMap = new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Data = files };
        await Upsert(() => Kubectl.CoreV1.CreateNamespacedConfigMapAsync(configMap, ns), async () =>
        {
            var current = await Kubectl.CoreV1.ReadNamespacedConfigMapAsync(name, ns);
            configMap.Metadata.ResourceVersion = current.Metadata.ResourceVersion;
            await Kubectl.CoreV1.ReplaceNamespacedConfigMapAsync(configMap, name, ns);
        });
    }

    /// <summary>An opted-in Deployment of the shop app, as a team writes it.</summary>
    public V1Deployment App(string name = "shop", int replicas = 2, string image = AppImage, IDictionary<string, string>? annotations = null, bool optIn = true, string? ns = null)
    {
        var all = new Dictionary<string, string>();
        if (optIn)
        {
            all["gatekeeper.dev/migrations"] = MigrationsName;
            all["gatekeeper.dev/database-secret"] = SecretName;
        }

        foreach (var (key, value) in annotations ?? new Dictionary<string, string>())
        {
            all[key] = value;
        }

        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns ?? Namespace, Annotations = all, Labels = new Dictionary<string, string> { ["app"] = name } },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = image, Ports = [new V1ContainerPort { ContainerPort = 8080 }] }] },
                },
            },
        };
    }

    /// <summary>The warnings kubectl printed for the last apply or edit (the API server's Warning headers).</summary>
    public IReadOnlyList<string> LastWarnings { get; private set; } = [];

    /// <summary>
    /// kubectl apply (client-side): creates the Deployment with its last-applied-configuration, or sends a strategic
    /// merge patch of the manifest that also removes what the previous apply set and this one does not. Fields others
    /// wrote (Gatekeeper's stamps, the controllers' status) stay, as they do with kubectl.
    /// </summary>
    public async Task<V1Deployment> ApplyAsync(V1Deployment deployment, bool dryRun = false)
    {
        var ns = deployment.Metadata.NamespaceProperty ?? Namespace;
        deployment.Metadata.NamespaceProperty = ns;
        var manifest = Pruned(JsonNode.Parse(KubernetesJson.Serialize(deployment))!.AsObject());
        manifest["apiVersion"] = "apps/v1";
        manifest["kind"] = "Deployment";
        var applied = manifest.ToJsonString();
        V1Deployment? current = null;
        try
        {
            current = await Kubectl.AppsV1.ReadNamespacedDeploymentAsync(deployment.Metadata.Name, ns);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }

        if (current is null)
        {
            deployment.Metadata.Annotations ??= new Dictionary<string, string>();
            deployment.Metadata.Annotations[LastApplied] = applied;
            using var created = await Kubectl.AppsV1.CreateNamespacedDeploymentWithHttpMessagesAsync(deployment, ns, dryRun: dryRun ? "All" : null);
            return Answered(created);
        }

        var previous = current.Metadata.Annotations?.TryGetValue(LastApplied, out var last) == true ? JsonNode.Parse(last)!.AsObject() : [];
        var patch = manifest.DeepClone().AsObject();
        RemoveDropped(previous, patch);
        ObjectDefaults.Ensure(ObjectDefaults.Ensure(patch, "metadata"), "annotations")[LastApplied] = applied;
        var live = JsonNode.Parse(KubernetesJson.Serialize(current))!.AsObject();
        if (JsonNode.DeepEquals(Patches.Strategic(live.DeepClone().AsObject(), patch.DeepClone().AsObject()), live))
        {
            // kubectl sends no request for a manifest that changes nothing ("deployment.apps/shop unchanged"):
            // no webhook sees it, so nothing is planned again.
            LastWarnings = [];
            return current;
        }

        using var patched = await Kubectl.AppsV1.PatchNamespacedDeploymentWithHttpMessagesAsync(
            new V1Patch(patch.ToJsonString(), V1Patch.PatchType.StrategicMergePatch), deployment.Metadata.Name, ns, dryRun: dryRun ? "All" : null);
        return Answered(patched);

        static void RemoveDropped(JsonObject previous, JsonObject patch)
        {
            foreach (var (key, value) in previous)
            {
                if (!patch.ContainsKey(key))
                {
                    patch[key] = null;
                }
                else if (value is JsonObject before && patch[key] is JsonObject now)
                {
                    RemoveDropped(before, now);
                }
            }
        }
    }

    private const string LastApplied = "kubectl.kubernetes.io/last-applied-configuration";

    /// <summary>A manifest without nulls and empty maps (what a YAML file would hold).</summary>
    private static JsonObject Pruned(JsonObject obj)
    {
        foreach (var (key, value) in obj.ToList())
        {
            if (value is null)
            {
                obj.Remove(key);
            }
            else if (value is JsonObject child)
            {
                Pruned(child);
            }
            else if (value is JsonArray list)
            {
                foreach (var item in list.OfType<JsonObject>())
                {
                    Pruned(item);
                }
            }
        }

        return obj;
    }

    private V1Deployment Answered(HttpOperationResponse<V1Deployment> response)
    {
        LastWarnings = response.Response.Headers.TryGetValues("Warning", out var values) ? values.Select(Unquote).ToList() : [];
        return response.Body;

        // RFC 7234 warning: 299 - "text"
        static string Unquote(string header)
        {
            var start = header.IndexOf('"', StringComparison.Ordinal);
            return start < 0 ? header : header[(start + 1)..header.LastIndexOf('"')].Replace("\\\"", "\"", StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// kubectl rollout restart: a strategic merge patch that stamps kubectl.kubernetes.io/restartedAt (the cluster's
    /// time) on the pod template, so the Deployment rolls out its template again and the webhooks see a new template.
    /// </summary>
    public async Task<V1Deployment> RolloutRestartAsync(string name = "shop")
    {
        var restartedAt = Cluster.Clock.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture);
        var patch = new JsonObject
        {
            ["spec"] = new JsonObject { ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["kubectl.kubernetes.io/restartedAt"] = restartedAt } } } },
        };
        using var patched = await Kubectl.AppsV1.PatchNamespacedDeploymentWithHttpMessagesAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.StrategicMergePatch), name, Namespace);
        return Answered(patched);
    }

    /// <summary>Reads, changes and replaces the Deployment, as kubectl edit does.</summary>
    public async Task<V1Deployment> EditAsync(string name, Action<V1Deployment> change, bool dryRun = false, string? ns = null)
    {
        ns ??= Namespace;
        for (var attempt = 0; ; attempt++)
        {
            var current = await Kubectl.AppsV1.ReadNamespacedDeploymentAsync(name, ns);
            change(current);
            try
            {
                using var replaced = await Kubectl.AppsV1.ReplaceNamespacedDeploymentWithHttpMessagesAsync(current, name, ns, dryRun: dryRun ? "All" : null);
                return Answered(replaced);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict && attempt < 5)
            {
                // The controllers wrote status meanwhile: read again and redo the edit, as a person would.
            }
        }
    }

    public JsonObject Deployment(string name = "shop", string? ns = null) => Cluster.Api.Get(ApiResources.Deployments, ns ?? Namespace, name)!;

    /// <summary>The app's pods that are not being deleted.</summary>
    public IReadOnlyList<JsonObject> Pods(string app = "shop", string? ns = null) =>
        Cluster.Api.List(ApiResources.Pods, ns ?? Namespace).Where(p => p.Label("app") == app && !p.Terminating()).ToList();

    public static bool Gated(JsonNode pod) => ObjectValidation.Gates(pod).Contains("gatekeeper.dev/migration");

    public IReadOnlyList<JsonObject> Jobs(string? ns = null) => Cluster.Api.List(ApiResources.Jobs, ns ?? Namespace);

    public IReadOnlyList<JsonObject> Events(string name = "shop") =>
        Cluster.Api.List(ApiResources.Events, Namespace).Where(e => (string?)e["involvedObject"]?["name"] == name).ToList();

    /// <summary>The pods of a Deployment's current template (its newest ReplicaSet).</summary>
    public IReadOnlyList<JsonObject> NewPods(string app = "shop", string? ns = null)
    {
        var deployment = Deployment(app, ns);
        if (deployment is null)
        {
            return [];
        }

        var current = Cluster.Api.List(ApiResources.ReplicaSets, ns ?? Namespace)
            .FirstOrDefault(rs => rs.ControllerUid() == deployment.Uid() && DeploymentController.EqualIgnoringHash(rs["spec"]!["template"]!, deployment["spec"]!["template"]!));
        return current is null ? [] : Pods(app, ns).Where(p => p.ControllerUid() == current.Uid()).ToList();
    }

    /// <summary>Calls Gatekeeper's ServiceAccount made that the chart's RBAC refused (403), which no scenario expects.</summary>
    public IReadOnlyList<ApiCall> Forbidden() =>
        Cluster.Api.Calls.Where(c => c.Status == 403 && c.User == $"system:serviceaccount:{GatekeeperNamespace}:{Release}").ToList();

    public Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? patience = null) => Cluster.WaitUntilAsync(condition, what, patience);

    public async ValueTask DisposeAsync()
    {
        foreach (var pod in GatekeeperPods())
        {
            var text = Cluster.Kubelet.LogOf(pod.Namespace(), pod.Name());
            OutputCapture.Record(OutputCapture.Logs, $"simulated pod {pod.Name()}", text);
        }

        await Cluster.DisposeAsync();
        await Database.DisposeAsync();
    }

    private static async Task Upsert(Func<Task> create, Func<Task> replace)
    {
        try
        {
            await create();
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            await replace();
        }
    }

    private static void Write(ITestOutputHelper output, string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test has ended.
        }
    }
}
