using System.Collections.Concurrent;
using System.Text;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gatekeeper.Kubernetes.Tests.Controller;

/// <summary>Metrics as the controller reported them, for assertions.</summary>
internal sealed class RecordedControllerMetrics : IMigrationControllerMetrics
{
    public ConcurrentQueue<(string Namespace, string Deployment, MigrationJobResult Result, TimeSpan? Duration)> Jobs { get; } = new();

    public ConcurrentQueue<(string Namespace, TimeSpan Waited)> Released { get; } = new();

    public ConcurrentQueue<bool> Leadership { get; } = new();

    public IReadOnlyCollection<GatedPod> Gated { get; private set; } = [];

    public void JobFinished(string @namespace, string deployment, MigrationJobResult result, TimeSpan? duration) => Jobs.Enqueue((@namespace, deployment, result, duration));

    public void PodReleased(string @namespace, TimeSpan waited) => Released.Enqueue((@namespace, waited));

    public ConcurrentQueue<(string Namespace, string Deployment, string Category)> NotStarting { get; } = new();

    public void JobCannotStart(string @namespace, string deployment, string category) => NotStarting.Enqueue((@namespace, deployment, category));

    public void GatedPodsChanged(IReadOnlyCollection<GatedPod> gated) => Gated = gated;

    public void LeadershipChanged(bool leading) => Leadership.Enqueue(leading);
}

/// <summary>
/// One controller against one API server double, with the clock injected into both. The objects a test needs
/// (an opted-in Deployment, its ConfigMap and Secret, gated pods, a Job's outcome) come from the helpers here.
/// </summary>
internal sealed class ControllerHarness : IAsyncDisposable
{
    public const string Namespace = "shop";
    public static readonly TimeSpan Resync = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Patience = Gatekeeper.Tests.Patience.Default;

    private readonly CancellationTokenSource stop = new();
    private Task? running;

    private readonly bool ownsApi;

    private ControllerHarness(KubeApiServerDouble api, string client, bool ownsApi, ILogger? logger)
    {
        Api = api;
        this.ownsApi = ownsApi;
        if (ownsApi)
        {
            Api.Clock = Time;
        }

        Controller = MigrationController.Create(api.CreateApi(client), Plans, Settings, Signer, Metrics, Resync, Time, logger ?? OutputCapture.Logger<MigrationController>());
    }

    // An exporter endpoint, as with tracing on: a Job gets the trace context only while a test records the controller's spans.
    public static MigrationJobSettings Settings { get; } = new() { Image = "ghcr.io/gatekeeper-dev/gatekeeper:test", OtlpEndpoint = "http://otel-collector.test:4318" };

    /// <summary>The key every controller of a test shares, as the replicas of one install share their Secret.</summary>
    public static MigrationJobSigner Signer { get; } = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    /// <summary>The pod-template-hash of the ReplicaSet whose pods the helpers make.</summary>
    public const string TemplateHash = "5d4f8c7b9";

    public KubeApiServerDouble Api { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    public AppliedPlans Plans { get; } = new();

    public RecordedControllerMetrics Metrics { get; } = new();

    public MigrationController Controller { get; }

    public static async Task<ControllerHarness> StartAsync(ILogger? logger = null)
    {
        var api = await KubeApiServerDouble.StartAsync();
        return new ControllerHarness(api, "controller", ownsApi: true, logger);
    }

    /// <summary>A second controller (a restarted process: its own caches and applied plans) against the same API server.</summary>
    public static ControllerHarness Against(KubeApiServerDouble api, string client, ILogger? logger = null) => new(api, client, ownsApi: false, logger);

    public void Run() => running = Controller.RunWhileLeadingAsync(stop.Token);

    public async Task StopAsync()
    {
        await stop.CancelAsync();
        if (running is not null)
        {
            await running.WaitAsync(Patience);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (ownsApi)
        {
            await Api.DisposeAsync();
        }

        stop.Dispose();
    }

    public static string Plan(char c) => c + new string('0', 62) + c;

    /// <summary>Polls (every 10 ms, up to the tests' patience) until the condition holds; the API double answers in-process, so this is quick.</summary>
    public static async Task WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting until {what}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Waits until the controller has caught up: nothing queued or in hand, and no request to the API server for
    /// 100 ms (a watch event still travelling would have made a request or queued work by then).
    /// </summary>
    public async Task Settle()
    {
        var deadline = DateTime.UtcNow + Patience;
        var quiet = 0;
        var last = -1;
        while (quiet < 10)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("the controller did not settle");
            }

            await Task.Delay(10);
            var requests = Api.Requests.Count;
            quiet = requests == last && Controller.Backlog == 0 ? quiet + 1 : 0;
            last = requests;
        }
    }

    public void PutSources(string deployment = "storefront")
    {
        Api.Put(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = deployment + "-migrations", NamespaceProperty = Namespace },
            Data = new Dictionary<string, string> { ["V1__init.sql"] = "CREATE TABLE orders (id bigint);" },
        });
        Api.Put(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = deployment + "-db", NamespaceProperty = Namespace },
            Data = new Dictionary<string, byte[]> { ["url"] = Encoding.UTF8.GetBytes("postgres://app:s3cret@db:5432/shop") },
        });
    }

    public V1Deployment PutDeployment(string? plan, string name = "storefront", string image = "shop:1", IDictionary<string, string>? annotations = null, DeploymentStatus? record = null)
    {
        var metadata = new Dictionary<string, string>
        {
            [GatekeeperNames.Migrations] = name + "-migrations",
            [GatekeeperNames.DatabaseSecret] = name + "-db",
        };
        foreach (var (key, value) in annotations ?? new Dictionary<string, string>())
        {
            metadata[key] = value;
        }

        V1DeploymentStatus? status = null;
        if (record is not null)
        {
            var (migrated, kept) = DeploymentRecord.Conditions(record, Time.GetUtcNow());
            status = new V1DeploymentStatus { Conditions = [migrated, kept] };
        }

        return Api.Put(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace, Annotations = metadata },
            Spec = Spec(name, plan, image),
            Status = status,
        });
    }

    /// <summary>A Job as Gatekeeper creates it for <paramref name="deployment"/>: owned by it and signed.</summary>
    public static V1Job SignedJob(V1Deployment deployment, string name, string plan) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = deployment.Metadata.NamespaceProperty,
            Labels = new Dictionary<string, string>
            {
                [GatekeeperNames.PlanLabel] = GatekeeperNames.PlanLabelValue(plan),
                [MigrationJobSigner.Label] = Signer.Sign(deployment.Metadata.NamespaceProperty, deployment.Metadata.Uid, plan, name),
            },
            Annotations = new Dictionary<string, string> { [GatekeeperNames.Plan] = plan },
            OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = deployment.Metadata.Name, Uid = deployment.Metadata.Uid }],
        },
    };

    /// <summary>Whether this controller's memory holds <paramref name="plan"/> as applied for the Deployment.</summary>
    public bool PlanApplied(string plan, string deployment = "storefront") =>
        Plans.Standing(Namespace, deployment, null, plan) == PlanStanding.Applied;

    public static V1DeploymentSpec Spec(string name, string? plan, string image = "shop:1") => new()
    {
        Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
        Template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta
            {
                Labels = new Dictionary<string, string> { ["app"] = name },
                Annotations = plan is null ? null : new Dictionary<string, string> { [GatekeeperNames.Plan] = plan, [GatekeeperNames.TargetVersion] = "1" },
            },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = image }] },
        },
    };

    public static V1Pod GatedPodObject(string name, string plan, params string[] otherGates) => GatedPodObject(name, plan, "storefront", Namespace, otherGates);

    /// <summary>A gated pod as the ReplicaSet <c>&lt;deployment&gt;-5d4f8c7b9</c> of <paramref name="deployment"/> creates it.</summary>
    public static V1Pod GatedPodObject(string name, string plan, string deployment, string @namespace, params string[] otherGates) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = @namespace,
            Labels = new Dictionary<string, string> { ["app"] = deployment, [Pods.PodOwner.TemplateHashLabel] = TemplateHash },
            Annotations = new Dictionary<string, string> { [GatekeeperNames.Plan] = plan },
            OwnerReferences =
            [
                new V1OwnerReference { ApiVersion = "apps/v1", Kind = "ReplicaSet", Name = $"{deployment}-{TemplateHash}", Uid = $"rs-{deployment}", Controller = true, BlockOwnerDeletion = true },
            ],
        },
        Spec = new V1PodSpec
        {
            Containers = [new V1Container { Name = "app", Image = "shop:1" }],
            SchedulingGates = [.. otherGates.Select(g => new V1PodSchedulingGate { Name = g }), new V1PodSchedulingGate { Name = GatekeeperNames.MigrationSchedulingGate }],
        },
    };

    public V1Pod PutGatedPod(string name, string plan) => Api.Put(GatedPodObject(name, plan));

    public bool IsGated(string pod) =>
        Api.Get<V1Pod>(Namespace, pod)?.Spec.SchedulingGates?.Any(g => g.Name == GatekeeperNames.MigrationSchedulingGate) == true;

    public IReadOnlyList<V1Job> Jobs() => Api.List<V1Job>(Namespace);

    public DeploymentStatus? StatusOf(string deployment = "storefront") =>
        Api.Get<V1Deployment>(Namespace, deployment) is { } stored ? DeploymentRecord.Read(stored) : null;

    public IReadOnlyList<Corev1Event> Events() => Api.List<Corev1Event>(Namespace);

    public int JobCreates() => Api.RequestsTo("POST", $"/apis/batch/v1/namespaces/{Namespace}/jobs").Count;

    public void Succeed(string job, TimeSpan took)
    {
        var start = Time.GetUtcNow().UtcDateTime - took;
        Api.Update<V1Job>(Namespace, job, j => j.Status = new V1JobStatus
        {
            StartTime = start,
            CompletionTime = start + took,
            Succeeded = 1,
            Conditions = [new V1JobCondition { Type = "Complete", Status = "True", LastTransitionTime = start + took }],
        });
    }

    public void Fail(string job, string terminationMessage, string reason = "BackoffLimitExceeded")
    {
        Api.Put(new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = job + "-x7k2p",
                NamespaceProperty = Namespace,
                Labels = new Dictionary<string, string> { [MigrationJobClient.JobNameLabel] = job },
            },
            Spec = new V1PodSpec { NodeName = "node-1", Containers = [new V1Container { Name = MigrationJobBuilder.ContainerName, Image = Settings.Image }] },
            Status = new V1PodStatus
            {
                Phase = "Failed",
                ContainerStatuses =
                [
                    new V1ContainerStatus
                    {
                        Name = MigrationJobBuilder.ContainerName,
                        Image = Settings.Image,
                        ImageID = string.Empty,
                        Ready = false,
                        RestartCount = 0,
                        State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 1, Message = terminationMessage, FinishedAt = Time.GetUtcNow().UtcDateTime } },
                    },
                ],
            },
        });
        Api.Update<V1Job>(Namespace, job, j => j.Status = new V1JobStatus
        {
            StartTime = Time.GetUtcNow().UtcDateTime.AddSeconds(-30),
            Failed = 3,
            Conditions = [new V1JobCondition { Type = "Failed", Status = "True", Reason = reason, LastTransitionTime = Time.GetUtcNow().UtcDateTime }],
        });
    }
}

internal static class DictionaryReading
{
    public static string? ValueOrNull(this IDictionary<string, string> map, string key) => map.TryGetValue(key, out var value) ? value : null;
}
