using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// A container image the kubelet can run: the local program that stands for the image's ENTRYPOINT binary, the
/// arguments that program needs first (<c>exec gatekeeper.dll</c> for <c>dotnet</c>), and the image's ENV.
/// </summary>
public sealed record RunnableImage(string Program, IReadOnlyList<string> ProgramArguments, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>A shell-like image: the container's own command runs, found on this machine's PATH (true, sh…).</summary>
    public static RunnableImage OwnCommand { get; } = new(string.Empty, [], new Dictionary<string, string>());
}

/// <summary>
/// The kubelet of the one simulated node. Pods bound to it get an IP of their own on the loopback network and their
/// containers' status. Containers whose image is registered as runnable (Gatekeeper's) run as local processes: the
/// command and args of the container, its env (values, fieldRefs, Secret and ConfigMap keys), its Secret, ConfigMap,
/// projected and emptyDir volumes written as files under the pod's directory (mount paths in args and env point
/// there, since a process has no mount namespace of its own), the service account's token in a kubeconfig
/// (KUBECONFIG) instead of the in-cluster files; readiness probes over HTTP(S); the exit code and the termination
/// message (the file, or the log's tail with FallbackToLogsOnError) become the container's terminated state and the
/// pod's phase. Other images just run: Running and Ready at once. Images can be made to fail pulling.
/// </summary>
public sealed class Kubelet : ISimulatedController, IAsyncDisposable
{
    private readonly SimulatedApiServer server;
    private readonly ControllerManager manager;
    private readonly string node;
    private readonly string root;
    private readonly Action<string> log;
    private readonly UserInfo user;
    private readonly ConcurrentDictionary<string, PodRuntime> pods = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RunnableImage> images = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> failingPulls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<JsonNode, bool>> holds = new(StringComparer.Ordinal);

    public Kubelet(SimulatedApiServer server, ControllerManager manager, string node, string root, Action<string> log)
    {
        this.server = server;
        this.manager = manager;
        this.node = node;
        this.root = root;
        this.log = log;
        user = UserInfo.Person($"system:node:{node}", "system:nodes");
    }

    public string Name => "kubelet";

    /// <summary>Raised when a container process ends (pod key, exit code).</summary>
    public event Action<string, int>? ProcessExited;

    /// <summary>Registers an image the kubelet runs as a local program.</summary>
    public void Register(string image, RunnableImage runnable) => images[image] = runnable;

    /// <summary>From now on pulling <paramref name="image"/> fails with <paramref name="reason"/> (ErrImagePull, then ImagePullBackOff).</summary>
    public void FailPulls(string image, string reason) => failingPulls[image] = reason;

    public void HealPulls(string image) => failingPulls.TryRemove(image, out _);

    /// <summary>
    /// Keeps the containers of pods that match <paramref name="pods"/> from starting (ContainerCreating) until
    /// <see cref="Release"/>: how a test holds a migration Job in the middle of its run, with no timing involved.
    /// </summary>
    public void Hold(string name, Func<JsonNode, bool> pods) => holds[name] = pods;

    /// <summary>Lets held pods start.</summary>
    public void Release(string name)
    {
        holds.TryRemove(name, out _);
        foreach (var key in this.pods.Keys)
        {
            manager.Enqueue(this, key);
        }
    }

    /// <summary>How many containers that run to completion (restartPolicy Never or OnFailure) are running now.</summary>
    public int FiniteProcessesRunning => pods.Values.Count(p => p.Finite && p.Process is not null && !p.Exited);

    /// <summary>The local process of a pod's first container, if it runs one.</summary>
    public Process? ProcessOf(string ns, string name) => pods.TryGetValue($"{ns}/{name}", out var runtime) ? runtime.Process : null;

    /// <summary>Everything a pod's processes wrote, for diagnostics.</summary>
    public string LogOf(string ns, string name) => pods.TryGetValue($"{ns}/{name}", out var runtime) ? runtime.LogText() : string.Empty;

    public IEnumerable<string> KeysFor(StoredChange change)
    {
        if (change.Resource != ApiResources.Pods.StoreName)
        {
            yield break;
        }

        var pod = JsonNode.Parse(change.Json)!;
        if ((string?)pod["spec"]?["nodeName"] == node || pods.ContainsKey(ControllerManager.Key(pod)))
        {
            yield return ControllerManager.Key(pod);
        }
    }

    /// <summary>Kills a pod's processes at once (SIGKILL), as when its node fails; the pod object is left as it is.</summary>
    public void Crash(string ns, string name)
    {
        if (pods.TryGetValue($"{ns}/{name}", out var runtime))
        {
            runtime.Crashed = true;
            runtime.Stop(TimeSpan.Zero);
        }
    }

    public async Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ControllerManager.Split(key);
        var pod = server.Get(ApiResources.Pods, ns, name);
        pods.TryGetValue(key, out var runtime);
        if (pod is null || (runtime is not null && runtime.Uid != pod.Uid()))
        {
            if (runtime is not null)
            {
                pods.TryRemove(key, out _);
                await runtime.DisposeAsync();
            }

            if (pod is null)
            {
                return;
            }

            runtime = null;
        }

        if (pod.Terminating())
        {
            if (runtime is { Exited: false, Process: not null })
            {
                runtime.Stop(TimeSpan.FromSeconds(Math.Min(5, (int?)pod["metadata"]?["deletionGracePeriodSeconds"] ?? 30)));
                return;
            }

            await server.DeleteAsync(ApiResources.Pods, ns, name, user, graceful: false, cancellationToken: cancellationToken);
            return;
        }

        if ((string?)pod["status"]?["phase"] is "Succeeded" or "Failed")
        {
            return;
        }

        runtime ??= pods.GetOrAdd(key, _ => new PodRuntime(pod.Uid(), Path.Combine(root, $"{ns}_{name}"), AllocateIp()));
        if (!runtime.Started)
        {
            await StartAsync(key, pod, runtime, cancellationToken);
        }

        await WriteStatusAsync(pod, runtime, cancellationToken);
    }

    private async Task StartAsync(string key, JsonObject pod, PodRuntime runtime, CancellationToken cancellationToken)
    {
        var container = (pod["spec"]?["containers"] as JsonArray)![0]!.AsObject();
        var image = (string?)container["image"] ?? string.Empty;
        if (holds.Values.Any(held => held(pod)))
        {
            runtime.Waiting = ("ContainerCreating", string.Empty);
            return;
        }

        if (failingPulls.TryGetValue(image, out var reason))
        {
            // ErrImagePull first; after the first back-off (10 s on the cluster's clock) ImagePullBackOff.
            runtime.Waiting = ("ErrImagePull", $"failed to pull and unpack image \"{image}\": {reason}");
            manager.EnqueueAfter(this, key, TimeSpan.FromSeconds(10));
            if (runtime.PullFailedSince is { } since && server.Clock.GetUtcNow() - since >= TimeSpan.FromSeconds(10))
            {
                runtime.Waiting = ("ImagePullBackOff", $"Back-off pulling image \"{image}\"");
            }

            runtime.PullFailedSince ??= server.Clock.GetUtcNow();
            return;
        }

        runtime.Waiting = null;
        runtime.Started = true;
        runtime.StartedAt = server.Clock.GetUtcNow();
        if (!images.TryGetValue(image, out var runnable))
        {
            runtime.Ready = true;
            return;
        }

        try
        {
            var start = Prepare(pod, container, runtime, runnable);
            runtime.Finite = (string?)pod["spec"]?["restartPolicy"] is "Never" or "OnFailure";
            var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
            runtime.Attach(process, container);
            _ = WatchExitAsync(key, runtime, process);
            if (container["readinessProbe"] is JsonObject probe)
            {
                runtime.Probing = ProbeAsync(key, runtime, probe, container, runtime.Stopping.Token);
            }
            else
            {
                runtime.Ready = true;
            }
        }
        catch (ContainerConfigException e)
        {
            runtime.Started = false;
            runtime.Waiting = ("CreateContainerConfigError", e.Message);
            manager.EnqueueAfter(this, key, TimeSpan.FromSeconds(10));
        }

        await Task.CompletedTask;
    }

    private ProcessStartInfo Prepare(JsonObject pod, JsonObject container, PodRuntime runtime, RunnableImage runnable)
    {
        Directory.CreateDirectory(runtime.Directory);
        var mounts = MaterializeVolumes(pod, container, runtime.Directory);
        string Remap(string value)
        {
            // A pod's "all interfaces" is its own network namespace: here, its own loopback address.
            if (value is "0.0.0.0" or "::")
            {
                return runtime.Ip.ToString();
            }

            foreach (var (mountPath, local) in mounts.OrderByDescending(m => m.Key.Length))
            {
                if (value == mountPath || value.StartsWith(mountPath.TrimEnd('/') + "/", StringComparison.Ordinal))
                {
                    return local + value[mountPath.TrimEnd('/').Length..];
                }
            }

            return value;
        }

        var command = (container["command"] as JsonArray)?.Select(c => (string)c!).ToList();
        var args = (container["args"] as JsonArray)?.Select(a => (string)a!).ToList() ?? [];
        var program = runnable.Program.Length > 0 ? runnable.Program
            : command is { Count: > 0 } ? command[0] : throw new ContainerConfigException("no command specified");
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = runtime.Directory,
        };
        start.Environment.Clear();
        foreach (var name in new[] { "PATH", "DOTNET_ROOT", "LANG" })
        {
            if (System.Environment.GetEnvironmentVariable(name) is { } value)
            {
                start.Environment[name] = value;
            }
        }

        foreach (var (name, value) in runnable.Environment)
        {
            start.Environment[name] = value;
        }

        var home = Path.Combine(runtime.Directory, "home");
        Directory.CreateDirectory(home);
        start.Environment["HOME"] = home;
        start.Environment["TMPDIR"] = mounts.TryGetValue("/tmp", out var tmp) ? tmp : home;
        start.Environment["HOSTNAME"] = pod.Name();
        foreach (var (name, value) in Environment(pod, container))
        {
            start.Environment[name] = Remap(value);
        }

        if (pod["spec"]?["automountServiceAccountToken"]?.GetValue<bool>() != false)
        {
            // Where a client looks when it is not in a cluster: $KUBECONFIG, else ~/.kube/config.
            start.Environment["KUBECONFIG"] = WriteKubeconfig(pod, Path.Combine(home, ".kube"));
        }

        // argv is (command, or the image's ENTRYPOINT) + args; the local program stands in for argv[0].
        foreach (var part in runnable.ProgramArguments)
        {
            start.ArgumentList.Add(part);
        }

        foreach (var part in (command?.Skip(1) ?? []).Concat(args))
        {
            start.ArgumentList.Add(Remap(part));
        }

        runtime.TerminationMessagePath = Remap((string?)container["terminationMessagePath"] ?? "/dev/termination-log");
        return start;
    }

    /// <summary>Writes every volume the container mounts; returns mount path → local directory (or file, for subPath).</summary>
    private Dictionary<string, string> MaterializeVolumes(JsonObject pod, JsonObject container, string directory)
    {
        var volumes = (pod["spec"]?["volumes"] as JsonArray ?? []).ToDictionary(v => (string)v!["name"]!, v => v!);
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mount in container["volumeMounts"] as JsonArray ?? [])
        {
            var name = (string)mount!["name"]!;
            var path = (string)mount["mountPath"]!;
            var local = Path.Combine(directory, "volumes", name);
            Directory.CreateDirectory(local);
            if (volumes.TryGetValue(name, out var volume))
            {
                WriteVolume(pod, volume, local);
            }

            mounts[path] = mount["subPath"] is { } sub ? Path.Combine(local, (string)sub!) : local;
        }

        return mounts;
    }

    private void WriteVolume(JsonObject pod, JsonNode volume, string local)
    {
        var ns = pod.Namespace();
        if (volume["secret"] is { } secret)
        {
            WriteKeys(Data(ApiResources.Secrets, ns, (string)secret["secretName"]!, binary: true, optional: secret["optional"]?.GetValue<bool>() == true), secret["items"], local);
        }
        else if (volume["configMap"] is { } configMap)
        {
            WriteKeys(Data(ApiResources.ConfigMaps, ns, (string)configMap["name"]!, binary: false, optional: configMap["optional"]?.GetValue<bool>() == true), configMap["items"], local);
        }
        else if (volume["projected"] is { } projected)
        {
            foreach (var source in projected["sources"] as JsonArray ?? [])
            {
                if (source!["secret"] is { } s)
                {
                    WriteKeys(Data(ApiResources.Secrets, ns, (string)s["name"]!, binary: true, optional: s["optional"]?.GetValue<bool>() == true), s["items"], local);
                }
                else if (source["configMap"] is { } c)
                {
                    WriteKeys(Data(ApiResources.ConfigMaps, ns, (string)c["name"]!, binary: false, optional: c["optional"]?.GetValue<bool>() == true), c["items"], local);
                }
                else if (source["serviceAccountToken"] is { } token)
                {
                    File.WriteAllText(Path.Combine(local, (string?)token["path"] ?? "token"), server.Tokens.Issue(ServiceAccountOf(pod)));
                }
                else if (source["downwardAPI"] is { } downward)
                {
                    foreach (var item in downward["items"] as JsonArray ?? [])
                    {
                        File.WriteAllText(Path.Combine(local, (string)item!["path"]!), FieldValue(pod, (string?)item["fieldRef"]?["fieldPath"] ?? string.Empty));
                    }
                }
            }
        }
    }

    private Dictionary<string, byte[]> Data(ApiResource resource, string ns, string name, bool binary, bool optional)
    {
        var obj = server.Get(resource, ns, name);
        if (obj is null)
        {
            return optional ? [] : throw new ContainerConfigException($"{resource.Kind.ToLowerInvariant()} \"{name}\" not found");
        }

        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in obj["data"] as JsonObject ?? [])
        {
            var text = (string?)value ?? string.Empty;
            data[key] = binary ? Convert.FromBase64String(text) : Encoding.UTF8.GetBytes(text);
        }

        foreach (var (key, value) in obj["binaryData"] as JsonObject ?? [])
        {
            data[key] = Convert.FromBase64String((string?)value ?? string.Empty);
        }

        return data;
    }

    private static void WriteKeys(Dictionary<string, byte[]> data, JsonNode? items, string directory)
    {
        if (items is JsonArray list && list.Count > 0)
        {
            foreach (var item in list)
            {
                var key = (string)item!["key"]!;
                if (!data.TryGetValue(key, out var bytes))
                {
                    throw new ContainerConfigException($"couldn't find key {key} in the volume's source");
                }

                var path = Path.Combine(directory, (string)item["path"]!);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, bytes);
            }

            return;
        }

        foreach (var (key, bytes) in data)
        {
            File.WriteAllBytes(Path.Combine(directory, key), bytes);
        }
    }

    private IEnumerable<(string Name, string Value)> Environment(JsonObject pod, JsonObject container)
    {
        foreach (var source in container["envFrom"] as JsonArray ?? [])
        {
            var prefix = (string?)source!["prefix"] ?? string.Empty;
            if (source["secretRef"] is { } secretRef)
            {
                foreach (var (key, bytes) in Data(ApiResources.Secrets, pod.Namespace(), (string)secretRef["name"]!, binary: true, optional: secretRef["optional"]?.GetValue<bool>() == true))
                {
                    yield return (prefix + key, Encoding.UTF8.GetString(bytes));
                }
            }
            else if (source["configMapRef"] is { } configMapRef)
            {
                foreach (var (key, bytes) in Data(ApiResources.ConfigMaps, pod.Namespace(), (string)configMapRef["name"]!, binary: false, optional: configMapRef["optional"]?.GetValue<bool>() == true))
                {
                    yield return (prefix + key, Encoding.UTF8.GetString(bytes));
                }
            }
        }

        foreach (var variable in container["env"] as JsonArray ?? [])
        {
            var name = (string)variable!["name"]!;
            if (variable["value"] is { } value)
            {
                yield return (name, (string?)value ?? string.Empty);
            }
            else if (variable["valueFrom"]?["fieldRef"]?["fieldPath"] is { } field)
            {
                yield return (name, FieldValue(pod, (string)field!));
            }
            else if (variable["valueFrom"]?["secretKeyRef"] is { } secretKey)
            {
                var data = Data(ApiResources.Secrets, pod.Namespace(), (string)secretKey["name"]!, binary: true, optional: secretKey["optional"]?.GetValue<bool>() == true);
                if (data.TryGetValue((string)secretKey["key"]!, out var bytes))
                {
                    yield return (name, Encoding.UTF8.GetString(bytes));
                }
                else if (secretKey["optional"]?.GetValue<bool>() != true)
                {
                    throw new ContainerConfigException($"couldn't find key {(string)secretKey["key"]!} in Secret {pod.Namespace()}/{(string)secretKey["name"]!}");
                }
            }
            else if (variable["valueFrom"]?["configMapKeyRef"] is { } configKey)
            {
                var data = Data(ApiResources.ConfigMaps, pod.Namespace(), (string)configKey["name"]!, binary: false, optional: configKey["optional"]?.GetValue<bool>() == true);
                if (data.TryGetValue((string)configKey["key"]!, out var bytes))
                {
                    yield return (name, Encoding.UTF8.GetString(bytes));
                }
            }
        }
    }

    private static string FieldValue(JsonNode pod, string path)
    {
        if (path.StartsWith("metadata.labels['", StringComparison.Ordinal))
        {
            return pod.Label(path["metadata.labels['".Length..^2]) ?? string.Empty;
        }

        if (path.StartsWith("metadata.annotations['", StringComparison.Ordinal))
        {
            return pod.Annotation(path["metadata.annotations['".Length..^2]) ?? string.Empty;
        }

        return path switch
        {
            "metadata.name" => pod.Name(),
            "metadata.namespace" => pod.Namespace(),
            "metadata.uid" => pod.Uid(),
            "spec.nodeName" => (string?)pod["spec"]?["nodeName"] ?? string.Empty,
            "spec.serviceAccountName" => (string?)pod["spec"]?["serviceAccountName"] ?? "default",
            "status.podIP" => (string?)pod["status"]?["podIP"] ?? string.Empty,
            "status.hostIP" => "127.0.0.1",
            _ => throw new ContainerConfigException($"unsupported fieldPath {path}"),
        };
    }

    private static UserInfo ServiceAccountOf(JsonNode pod) => UserInfo.ServiceAccount(pod.Namespace(), (string?)pod["spec"]?["serviceAccountName"] ?? "default");

    /// <summary>The service account's credentials as a kubeconfig: a process cannot use the in-cluster files' fixed paths.</summary>
    private string WriteKubeconfig(JsonNode pod, string directory)
    {
        var token = server.Tokens.Issue(ServiceAccountOf(pod));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "config");
        File.WriteAllText(path, $$"""
            apiVersion: v1
            kind: Config
            clusters:
              - name: simulated
                cluster:
                  server: {{server.BaseAddress.ToString().TrimEnd('/')}}
            users:
              - name: service-account
                user:
                  token: {{token}}
            contexts:
              - name: simulated
                context:
                  cluster: simulated
                  user: service-account
                  namespace: {{pod.Namespace()}}
            current-context: simulated
            """);
        return path;
    }

    private async Task WatchExitAsync(string key, PodRuntime runtime, Process process)
    {
        await process.WaitForExitAsync();
        await runtime.OutputDrained;
        runtime.ExitCode = process.ExitCode;
        runtime.FinishedAt = server.Clock.GetUtcNow();
        runtime.Exited = true;
        runtime.Ready = false;
        ProcessExited?.Invoke(key, process.ExitCode);
        manager.Enqueue(this, key);
    }

    /// <summary>HTTP(S) GETs against the pod's address as the kubelet probes (certificates are not verified).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5359", Justification = "The real kubelet does not verify the certificate of an HTTPS probe; the stand-in must not be stricter.")]
    private async Task ProbeAsync(string key, PodRuntime runtime, JsonObject probe, JsonObject container, CancellationToken cancellationToken)
    {
        var get = probe["httpGet"];
        var port = get?["port"] is { } p && p.GetValueKind() == System.Text.Json.JsonValueKind.String
            ? (container["ports"] as JsonArray ?? []).Where(cp => (string?)cp!["name"] == (string)p!).Select(cp => (int)cp!["containerPort"]!).FirstOrDefault()
            : get?["port"]?.GetValue<int>() ?? 80;
        var scheme = ((string?)get?["scheme"] ?? "HTTP").ToLowerInvariant();
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            PooledConnectionLifetime = TimeSpan.Zero,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(Math.Max(1, (int?)probe["timeoutSeconds"] ?? 1) + 2) };
        var url = $"{scheme}://{runtime.Ip}:{port}{(string?)get?["path"] ?? "/"}";
        while (!cancellationToken.IsCancellationRequested && !runtime.Exited)
        {
            bool ready;
            try
            {
                using var answer = await client.GetAsync(url, cancellationToken);
                ready = (int)answer.StatusCode is >= 200 and < 400;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                ready = false;
            }

            if (ready != runtime.Ready)
            {
                runtime.Ready = ready;
                manager.Enqueue(this, key);
            }

            // Probing runs on wall-clock time: it waits for a real process, not for the cluster's clock.
            try
            {
                await Task.Delay(ready ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromMilliseconds(100), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WriteStatusAsync(JsonObject pod, PodRuntime runtime, CancellationToken cancellationToken)
    {
        var container = (pod["spec"]?["containers"] as JsonArray)![0]!;
        var now = server.Clock.GetUtcNow();
        var restartNever = (string?)pod["spec"]?["restartPolicy"] is "Never" or "OnFailure";
        await server.ChangeAsync(ApiResources.Pods, pod.Namespace(), pod.Name(), user, p =>
        {
            var status = ObjectDefaults.Ensure(p, "status");
            status["hostIP"] = "127.0.0.1";
            status["podIP"] = runtime.Ip.ToString();
            status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = runtime.Ip.ToString() });
            status["startTime"] ??= ObjectDefaults.Time(runtime.CreatedAt ??= now);
            JsonObject state;
            if (runtime.Waiting is { } waiting)
            {
                state = new JsonObject { ["waiting"] = waiting.Message.Length == 0 ? new JsonObject { ["reason"] = waiting.Reason } : new JsonObject { ["reason"] = waiting.Reason, ["message"] = waiting.Message } };
                status["phase"] = "Pending";
            }
            else if (runtime.Exited)
            {
                var message = runtime.TerminationMessage((string?)container["terminationMessagePolicy"] ?? "File");
                var terminated = new JsonObject
                {
                    ["exitCode"] = runtime.ExitCode,
                    ["reason"] = runtime.Crashed ? "Error" : runtime.ExitCode == 0 ? "Completed" : "Error",
                    ["startedAt"] = ObjectDefaults.Time(runtime.StartedAt ?? now),
                    ["finishedAt"] = ObjectDefaults.Time(runtime.FinishedAt ?? now),
                };
                if (message.Length > 0)
                {
                    terminated["message"] = message;
                }

                state = new JsonObject { ["terminated"] = terminated };
                status["phase"] = restartNever ? runtime.ExitCode == 0 ? "Succeeded" : "Failed" : "Running";
            }
            else
            {
                state = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = ObjectDefaults.Time(runtime.StartedAt ?? now) } };
                status["phase"] = "Running";
            }

            var ready = runtime.Ready && !runtime.Exited && runtime.Waiting is null;
            status["containerStatuses"] = new JsonArray(new JsonObject
            {
                ["name"] = (string?)container["name"],
                ["image"] = (string?)container["image"],
                ["imageID"] = runtime.Waiting is null ? $"sim://{(string?)container["image"]}" : string.Empty,
                ["containerID"] = runtime.Started ? $"sim://{runtime.Uid}" : null,
                ["ready"] = ready,
                ["started"] = runtime.Started && !runtime.Exited,
                ["restartCount"] = 0,
                ["state"] = state,
            });
            p.SetCondition("PodReadyToStartContainers", "True", string.Empty, string.Empty, now, probeTime: true);
            p.SetCondition("Initialized", "True", string.Empty, string.Empty, now, probeTime: true);
            p.SetCondition("ContainersReady", ready ? "True" : "False", ready ? string.Empty : "ContainersNotReady",
                ready ? string.Empty : $"containers with unready status: [{(string?)container["name"]}]", now, probeTime: true);
            p.SetCondition("Ready", ready ? "True" : "False", ready ? string.Empty : "ContainersNotReady",
                ready ? string.Empty : $"containers with unready status: [{(string?)container["name"]}]", now, probeTime: true);
            foreach (var condition in status["conditions"] as JsonArray ?? [])
            {
                if ((string?)condition!["reason"] == string.Empty)
                {
                    condition.AsObject().Remove("reason");
                    condition.AsObject().Remove("message");
                }
            }
        }, "status", cancellationToken);
    }

    private IPAddress AllocateIp()
    {
        // A fresh loopback address per pod, so each can listen on its container port: 127.(1-254).x.y.
        while (true)
        {
            var bytes = new byte[] { 127, (byte)Random.Shared.Next(1, 255), (byte)Random.Shared.Next(0, 256), (byte)Random.Shared.Next(2, 255) };
            var address = new IPAddress(bytes);
            if (pods.Values.All(p => !p.Ip.Equals(address)))
            {
                return address;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var runtime in pods.Values)
        {
            await runtime.DisposeAsync();
        }

        pods.Clear();
    }

    private sealed class ContainerConfigException(string message) : Exception(message);

    private sealed class PodRuntime(string uid, string directory, IPAddress ip) : IAsyncDisposable
    {
        private const int LogTailLines = 80;
        private const int LogTailBytes = 2048;
        private TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int openStreams;

        public string Uid { get; } = uid;

        public string Directory { get; } = directory;

        public IPAddress Ip { get; } = ip;

        public Process? Process { get; private set; }

        /// <summary>The container's stdout and stderr lines; written by the process's reader threads, so read only under its lock (<see cref="LogText"/>).</summary>
        private readonly StringBuilder log = new();

        public CancellationTokenSource Stopping { get; } = new();

        public Task? Probing { get; set; }

        public bool Started { get; set; }

        public bool Ready { get; set; }

        public bool Exited { get; set; }

        public bool Crashed { get; set; }

        public bool Finite { get; set; }

        public int ExitCode { get; set; }

        public (string Reason, string Message)? Waiting { get; set; }

        public DateTimeOffset? PullFailedSince { get; set; }

        public DateTimeOffset? CreatedAt { get; set; }

        public DateTimeOffset? StartedAt { get; set; }

        public DateTimeOffset? FinishedAt { get; set; }

        public string? TerminationMessagePath { get; set; }

        public Task OutputDrained => drained.Task;

        public void Attach(Process process, JsonObject container)
        {
            Process = process;
            openStreams = 2;
            process.OutputDataReceived += (_, e) => Line(e.Data);
            process.ErrorDataReceived += (_, e) => Line(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        /// <summary>The log so far. A StringBuilder read while a reader thread appends can throw (CI run 20: ToString() with
        /// "Index was out of range … 'chunkLength'" in a scenario's dispose), so reads and writes share one lock.</summary>
        public string LogText()
        {
            lock (log)
            {
                return log.ToString();
            }
        }

        private void Line(string? line)
        {
            if (line is null)
            {
                if (Interlocked.Decrement(ref openStreams) == 0)
                {
                    drained.TrySetResult();
                }

                return;
            }

            lock (log)
            {
                log.AppendLine(line);
            }
        }

        /// <summary>The file's content; with FallbackToLogsOnError and an empty file after a failure, the log's tail.</summary>
        public string TerminationMessage(string policy)
        {
            var message = TerminationMessagePath is { } path && File.Exists(path) ? File.ReadAllText(path) : string.Empty;
            if (message.Length == 0 && policy == "FallbackToLogsOnError" && ExitCode != 0)
            {
                var lines = LogText().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(LogTailLines);
                message = string.Join('\n', lines);
                if (Encoding.UTF8.GetByteCount(message) > LogTailBytes)
                {
                    message = message[^LogTailBytes..];
                }
            }

            return message.Length > 4096 ? message[..4096] : message;
        }

        /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/> (at once when zero).</summary>
        public void Stop(TimeSpan grace)
        {
            Stopping.Cancel();
            if (Process is not { HasExited: false } process)
            {
                Exited = true;
                return;
            }

            if (grace <= TimeSpan.Zero)
            {
                process.Kill(entireProcessTree: true);
                return;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    using var term = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    await term.WaitForExitAsync();
                    using var limit = new CancellationTokenSource(grace);
                    await process.WaitForExitAsync(limit.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    if (!process.HasExited)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
            });
        }

        public async ValueTask DisposeAsync()
        {
            Stop(TimeSpan.Zero);
            if (Process is { } process)
            {
                try
                {
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
                catch (TimeoutException)
                {
                    // Left to the operating system.
                }

                process.Dispose();
            }

            Stopping.Dispose();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // Still in use; the cluster's root goes at the end anyway.
            }
        }
    }
}
