using System.Text;
using System.Text.Json.Nodes;
using k8s;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// A simulated Kubernetes cluster for end-to-end scenarios, in this process except for the containers it runs: a
/// kube-apiserver (<see cref="SimulatedApiServer"/>: authentication, RBAC, admission webhooks, validation, watches),
/// the controllers a Gatekeeper rollout meets (Deployment, ReplicaSet, Job with TTL, scheduler, service accounts,
/// garbage collection), and one node whose kubelet runs Gatekeeper's image as local processes. Its clock
/// (<see cref="Clock"/>) moves only when a test advances it. It is a test tool, not a cluster: what it cannot show is
/// listed in the README, and the kind suite (tests/e2e) runs the same scenarios on a real one.
/// </summary>
public sealed class SimulatedCluster : IAsyncDisposable
{
    public const string NodeName = "sim-node-1";
    private static readonly TimeSpan DefaultPatience = TimeSpan.FromSeconds(90);
    private readonly StringBuilder log = new();
    private readonly Action<string>? output;
    private ITimer? bookmarks;

    private SimulatedCluster(SimulatedApiServer api, ClusterClock clock, string root, Action<string>? output)
    {
        Api = api;
        Clock = clock;
        Root = root;
        this.output = output;
        Controllers = new ControllerManager(api.Store, clock, Log);
        Kubelet = new Kubelet(api, Controllers, NodeName, Path.Combine(root, "pods"), Log);
        Controllers.Add(new ServiceAccountController(api));
        Controllers.Add(new DeploymentController(api, Controllers));
        Controllers.Add(new ReplicaSetController(api, Controllers));
        Controllers.Add(new JobController(api, Controllers));
        Controllers.Add(new Scheduler(api, NodeName));
        Controllers.Add(Kubelet);
        Admin = ClientFor(UserInfo.Admin);
    }

    public SimulatedApiServer Api { get; }

    /// <summary>The cluster's clock (wall-clock time plus what tests advanced): timestamps, deadlines, TTLs, back-offs, bookmarks.</summary>
    public ClusterClock Clock { get; }

    public ControllerManager Controllers { get; }

    public Kubelet Kubelet { get; }

    /// <summary>A directory of this cluster's own (pod files), deleted at the end.</summary>
    public string Root { get; }

    /// <summary>KubernetesClient as the cluster's administrator (kubectl with an admin kubeconfig).</summary>
    public IKubernetes Admin { get; }

    public static async Task<SimulatedCluster> StartAsync(Action<string>? output = null, CancellationToken cancellationToken = default)
    {
        var clock = new ClusterClock(DateTimeOffset.UtcNow);
        var api = await SimulatedApiServer.StartAsync(clock);
        var root = OwnedTempDirectory.Create("gatekeeper-sim-");
        var cluster = new SimulatedCluster(api, clock, root, output);
        cluster.Controllers.Start();
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            await cluster.CreateNamespaceAsync(ns, cancellationToken: cancellationToken);
        }

        await api.CreateAsync(ApiResources.Nodes, null, new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = NodeName, ["labels"] = new JsonObject { ["kubernetes.io/hostname"] = NodeName, ["kubernetes.io/os"] = "linux" } },
            ["spec"] = new JsonObject(),
        }, UserInfo.Admin, cancellationToken: cancellationToken);

        // The built-in roles kube-controller-manager's own clients rely on, as a cluster bootstraps them.
        await cluster.ApplyAsync(HelmChart.Parse(BootstrapRbac), "default", cancellationToken);

        // Watches that ask for them get a BOOKMARK about once a minute of the cluster's time.
        cluster.bookmarks = clock.CreateTimer(_ => api.Watches.Bookmark(), null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        return cluster;
    }

    /// <summary>A KubernetesClient that authenticates as <paramref name="user"/> with a bearer token of its own.</summary>
    public IKubernetes ClientFor(UserInfo user) =>
        new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Api.BaseAddress.ToString(), AccessToken = Api.Tokens.Issue(user) });

    public async Task<JsonObject> CreateNamespaceAsync(string name, IDictionary<string, string>? labels = null, CancellationToken cancellationToken = default)
    {
        var ns = new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } };
        if (labels is not null)
        {
            ns["metadata"]!["labels"] = new JsonObject(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value)));
        }

        var created = await Api.CreateAsync(ApiResources.Namespaces, null, ns, UserInfo.Admin, cancellationToken: cancellationToken);
        await WaitUntilAsync(() => Api.Get(ApiResources.ServiceAccounts, name, "default") is not null, $"namespace {name} has its default service account", cancellationToken: cancellationToken);
        return created;
    }

    /// <summary>
    /// Creates every object of a manifest as the administrator, in Helm's install order (namespaced objects without a
    /// namespace go into <paramref name="defaultNamespace"/>), through the same API as anyone's requests.
    /// </summary>
    public async Task ApplyAsync(IEnumerable<JsonObject> manifest, string defaultNamespace, CancellationToken cancellationToken = default)
    {
        foreach (var obj in manifest.OrderBy(o => InstallOrder((string?)o["kind"] ?? string.Empty)))
        {
            var resource = ApiResources.ForKind((string?)obj["apiVersion"] ?? string.Empty, (string?)obj["kind"] ?? string.Empty)
                ?? throw new NotSupportedException($"the simulated cluster does not serve {(string?)obj["apiVersion"]} {(string?)obj["kind"]}");
            var ns = resource.Namespaced ? (string?)obj["metadata"]?["namespace"] ?? defaultNamespace : null;
            if (resource.Namespaced && Api.Get(ApiResources.Namespaces, null, ns!) is null)
            {
                await CreateNamespaceAsync(ns!, cancellationToken: cancellationToken);
            }

            await Api.CreateAsync(resource, ns, obj, UserInfo.Admin, cancellationToken: cancellationToken);
        }
    }

    /// <summary>Registers an image reference as a local program the kubelet runs (Gatekeeper's image as the gatekeeper binary).</summary>
    public void RegisterGatekeeperImage(string image) => Kubelet.Register(image, GatekeeperBinary());

    /// <summary>
    /// The gatekeeper binary for Gatekeeper's image: $GATEKEEPER_BINARY (the published Native AOT binary), or the
    /// gatekeeper.dll built beside the tests under the dotnet host. The image's ENV comes with it.
    /// </summary>
    public static RunnableImage GatekeeperBinary()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["DOTNET_NOLOGO"] = "1",
            ["ASPNETCORE_HTTP_PORTS"] = string.Empty,
        };
        if (Environment.GetEnvironmentVariable("GATEKEEPER_BINARY") is { Length: > 0 } binary && File.Exists(binary))
        {
            return new RunnableImage(binary, [], environment);
        }

        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        return new RunnableImage(host, ["exec", Path.Combine(AppContext.BaseDirectory, "gatekeeper.dll")], environment);
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, checking it after every request, stored change and reconcile
    /// (no polling). The clock does not move meanwhile. Fails after <paramref name="patience"/> of wall-clock time
    /// (90 s by default: Gatekeeper's processes start and answer in real time) with the cluster's state.
    /// </summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? patience = null, CancellationToken cancellationToken = default)
    {
        using var signal = new SemaphoreSlim(0);
        void Wake() => signal.Release();
        Action<ApiServerDouble.StoredChange> onChange = _ => Wake();
        Action<ApiCall> onAnswer = _ => Wake();
        Action onReconcile = Wake;
        Action<string, int> onExit = (_, _) => Wake();
        Api.Store.Changed += onChange;
        Api.Answered += onAnswer;
        Controllers.Reconciled += onReconcile;
        Kubelet.ProcessExited += onExit;
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(patience ?? DefaultPatience);
            while (!condition())
            {
                try
                {
                    await signal.WaitAsync(limit.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    if (condition())
                    {
                        return;
                    }

                    throw new TimeoutException($"timed out waiting until {what}\n{Describe()}");
                }
            }
        }
        finally
        {
            Api.Store.Changed -= onChange;
            Api.Answered -= onAnswer;
            Controllers.Reconciled -= onReconcile;
            Kubelet.ProcessExited -= onExit;
        }
    }

    /// <summary>
    /// Waits until the simulated controllers have nothing left to do and no container that runs to completion (a
    /// Job's) is still running: what a step of the clock made due has happened.
    /// </summary>
    public Task SettleAsync(CancellationToken cancellationToken = default) =>
        WaitUntilAsync(() => Controllers.Idle && Kubelet.FiniteProcessesRunning == 0, "the controllers are idle and no Job container runs", cancellationToken: cancellationToken);

    /// <summary>
    /// Moves the cluster's clock on in steps of at most <paramref name="step"/> (1 s by default), letting the
    /// controllers finish what each step made due before the next, as time passes in a cluster.
    /// </summary>
    public async Task AdvanceAsync(TimeSpan by, TimeSpan? step = null, CancellationToken cancellationToken = default)
    {
        var left = by;
        var size = step ?? TimeSpan.FromSeconds(1);
        while (left > TimeSpan.Zero)
        {
            var now = left < size ? left : size;
            Clock.Advance(now);
            left -= now;
            await SettleAsync(cancellationToken);
        }
    }

    /// <summary>Advances the clock step by step until <paramref name="condition"/> holds, at most <paramref name="limit"/> of cluster time.</summary>
    public async Task AdvanceUntilAsync(Func<bool> condition, string what, TimeSpan limit, TimeSpan? step = null, CancellationToken cancellationToken = default)
    {
        var size = step ?? TimeSpan.FromSeconds(1);
        var passed = TimeSpan.Zero;
        await SettleAsync(cancellationToken);
        while (!condition())
        {
            if (passed >= limit)
            {
                throw new TimeoutException($"{what} did not happen within {limit} of cluster time\n{Describe()}");
            }

            Clock.Advance(size);
            passed += size;
            await SettleAsync(cancellationToken);
        }
    }

    public void Log(string line)
    {
        lock (log)
        {
            log.AppendLine(line);
        }

        output?.Invoke(line);
    }

    /// <summary>The cluster's state in a few lines: for the message of a failed wait.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        foreach (var ns in Api.List(ApiResources.Namespaces, null).Select(n => n.Name()).Where(n => n is not ("kube-system" or "kube-public" or "kube-node-lease" or "default")))
        {
            foreach (var deployment in Api.List(ApiResources.Deployments, ns))
            {
                text.AppendLine($"deployment {ns}/{deployment.Name()} uid {deployment.Uid()} revision {deployment.Annotation(DeploymentController.RevisionAnnotation)} status {deployment["status"]?.ToJsonString()}");
            }

            foreach (var rs in Api.List(ApiResources.ReplicaSets, ns))
            {
                text.AppendLine($"replicaset {ns}/{rs.Name()} revision {rs.Annotation(DeploymentController.RevisionAnnotation)} replicas {rs["spec"]?["replicas"]} "
                    + $"owner {rs.ControllerUid()} template annotations {rs["spec"]?["template"]?["metadata"]?["annotations"]?.ToJsonString()}");
            }

            foreach (var pod in Api.List(ApiResources.Pods, ns))
            {
                text.AppendLine($"pod {ns}/{pod.Name()} phase {(string?)pod["status"]?["phase"]} gates [{string.Join(",", ObjectValidation.Gates(pod))}] ready {ServiceNetwork.IsReady(pod)} {pod["status"]?["containerStatuses"]?[0]?["state"]?.ToJsonString()}");
                var podLog = Kubelet.LogOf(ns, pod.Name());
                if (podLog.Length > 0)
                {
                    text.AppendLine("  log: " + (podLog.Length > 3000 ? podLog[^3000..] : podLog).Replace("\n", "\n  log: ", StringComparison.Ordinal));
                }
            }

            foreach (var job in Api.List(ApiResources.Jobs, ns))
            {
                text.AppendLine($"job {ns}/{job.Name()} status {job["status"]?.ToJsonString()}");
            }

            foreach (var e in Api.List(ApiResources.Events, ns).TakeLast(15))
            {
                text.AppendLine($"event {ns} {(string?)e["involvedObject"]?["kind"]}/{(string?)e["involvedObject"]?["name"]} {(string?)e["reason"]}: {(string?)e["message"]}");
            }
        }

        foreach (var call in Api.Calls.Where(c => c.Status >= 400).TakeLast(10))
        {
            text.AppendLine($"refused: {call}");
        }

        foreach (var call in Api.Admission.Calls.TakeLast(10))
        {
            text.AppendLine($"webhook: {call}");
        }

        lock (log)
        {
            var tail = log.ToString();
            text.AppendLine(tail.Length > 6000 ? tail[^6000..] : tail);
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (bookmarks is not null)
        {
            await bookmarks.DisposeAsync();
        }

        Clock.Dispose();
        await Controllers.DisposeAsync();
        await Kubelet.DisposeAsync();
        await Api.DisposeAsync();
        OwnedTempDirectory.Delete(Root);
    }

    private const string BootstrapRbac = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata:
          name: system:controller:horizontal-pod-autoscaler
        rules:
          - apiGroups: ["*"]
            resources: ["*/scale"]
            verbs: ["get", "update"]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata:
          name: system:controller:horizontal-pod-autoscaler
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: ClusterRole
          name: system:controller:horizontal-pod-autoscaler
        subjects:
          - kind: ServiceAccount
            name: horizontal-pod-autoscaler
            namespace: kube-system
        """;

    /// <summary>Helm's install order (kind_sorter.go) for the kinds the chart renders; unknown kinds last.</summary>
    private static int InstallOrder(string kind)
    {
        string[] order =
        [
            "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
            "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
            "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList",
            "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
            "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
        ];
        var index = Array.IndexOf(order, kind);
        return index < 0 ? order.Length : index;
    }
}
