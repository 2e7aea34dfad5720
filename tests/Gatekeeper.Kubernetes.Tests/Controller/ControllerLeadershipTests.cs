using System.Net;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Gatekeeper.Kubernetes.Tests.Controller;

/// <summary>
/// Leader election (Gatekeeper's own Lease elector over KubernetesClient's typed Lease calls) against the API double.
/// Each replica's elector runs on a fake clock of its own, with leases of two seconds: the tests move it a retry period
/// at a time, each time the elector waits again (<see cref="AdvanceUntilAsync"/>), so a renewal never misses its
/// deadline because the machine was busy, and the deadlines the tests check are counted on that clock.
/// </summary>
public sealed class ControllerLeadershipTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string Plan = ControllerHarness.Plan('c');
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromMilliseconds(50);
    private KubeApiServerDouble api = null!;
    private readonly List<Replica> replicas = [];

    public async Task InitializeAsync() => api = await KubeApiServerDouble.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var replica in replicas)
        {
            await replica.StopAsync();
            replica.Dispose();
        }

        await api.DisposeAsync();
    }

    /// <summary>One Gatekeeper process: its own client, caches, applied plans and lease identity.</summary>
    private sealed class Replica : IDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private Task? running;

        public Replica(KubeApiServerDouble api, string name, ITestOutputHelper output, TimeSpan leaseDuration)
        {
            Name = name;
            var client = api.CreateApi(name);
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var logger = new TestOutputLogger(output, name);
            Controller = MigrationController.Create(client, new AppliedPlans(), ControllerHarness.Settings, ControllerHarness.Signer, Metrics, ControllerHarness.Resync, time, logger);
            Leadership = new ControllerLeadership(
                client,
                new LeaderElectionSettings("gatekeeper-system", "gatekeeper-controller", name, leaseDuration, leaseDuration / 2, RetryPeriod),
                Clock,
                logger);
            Leadership.LeadershipChanged += leading =>
            {
                Metrics.LeadershipChanged(leading);
                if (leading)
                {
                    Leading.TrySetResult();
                }
                else
                {
                    Stopped.TrySetResult();
                }
            };
        }

        public string Name { get; }

        /// <summary>The elector's clock: it moves only when a test advances it.</summary>
        public SignallingTimeProvider Clock { get; } = new();

        public MigrationController Controller { get; }

        public ControllerLeadership Leadership { get; }

        public RecordedControllerMetrics Metrics { get; } = new();

        public TaskCompletionSource Leading { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Start() => running = Leadership.RunAsync(Controller.RunWhileLeadingAsync, stop.Token);

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            if (running is not null)
            {
                await running.WaitAsync(Patience.Default);
            }
        }

        public void Dispose() => stop.Dispose();
    }

    private Replica Add(string name, TimeSpan? leaseDuration = null)
    {
        var replica = new Replica(api, name, output, leaseDuration ?? TimeSpan.FromSeconds(2));
        replicas.Add(replica);
        return replica;
    }

    /// <summary>
    /// Moves the replica's elector clock on by a retry period each time the elector waits on it again, until
    /// <paramref name="condition"/> holds: time passes only as fast as the replica keeps up, whatever the load.
    /// </summary>
    private static async Task AdvanceUntilAsync(Replica replica, Func<bool> condition, string what)
    {
        using var patience = new CancellationTokenSource(Patience.Default);
        while (!condition())
        {
            var waiting = replica.Clock.NextTimer();
            replica.Clock.Advance(RetryPeriod);
            try
            {
                await waiting.WaitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.True(condition(), $"{replica.Name}: timed out waiting until {what}");
            }
        }
    }

    private void PutWorkload()
    {
        api.Put(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "storefront-migrations", NamespaceProperty = ControllerHarness.Namespace },
            Data = new Dictionary<string, string> { ["V1__init.sql"] = "CREATE TABLE orders (id bigint);" },
        });
        api.Put(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "storefront-db", NamespaceProperty = ControllerHarness.Namespace },
            Data = new Dictionary<string, byte[]> { ["url"] = "postgres://app:pw@db/shop"u8.ToArray() },
        });
        PutDeployment("storefront");
        api.Put(ControllerHarness.GatedPodObject("storefront-1", Plan));
    }

    private void PutDeployment(string name, string? plan = null) => api.Put(new V1Deployment
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ControllerHarness.Namespace,
            Annotations = new Dictionary<string, string>
            {
                [GatekeeperNames.Migrations] = "storefront-migrations",
                [GatekeeperNames.DatabaseSecret] = "storefront-db",
            },
        },
        Spec = ControllerHarness.Spec(name, plan ?? Plan),
    });

    private List<RecordedRequest> Writes(string client) =>
        api.Requests.Where(r => r.Client == client && r.Method is "POST" or "PATCH" or "PUT" or "DELETE" && !r.Path.Contains("/leases", StringComparison.Ordinal)).ToList();

    private bool Gated(string pod) =>
        api.Get<V1Pod>(ControllerHarness.Namespace, pod)!.Spec.SchedulingGates?.Any(g => g.Name == GatekeeperNames.MigrationSchedulingGate) == true;

    [Fact]
    public async Task Two_replicas_racing_for_the_lease_make_one_leader_one_job_and_the_survivor_finishes_the_work()
    {
        PutWorkload();
        var a = Add("replica-a");
        var b = Add("replica-b");

        a.Start();
        b.Start();
        // Both try at once, before their clocks move: one creates the Lease, the other finds it held and waits.
        var first = await Task.WhenAny(a.Leading.Task, b.Leading.Task).WaitAsync(Patience.Default);
        var (leader, follower) = first == a.Leading.Task ? (a, b) : (b, a);
        await ControllerHarness.WaitUntil(() => api.List<V1Job>(ControllerHarness.Namespace).Count == 1, "the leader created the Job");
        await ControllerHarness.WaitUntil(() => Writes(leader.Name).Any(w => w.Path.EndsWith("/deployments/storefront/status", StringComparison.Ordinal)), "the leader wrote the status");

        Assert.True(leader.Leadership.IsLeading);
        Assert.False(follower.Leadership.IsLeading);
        Assert.Empty(Writes(follower.Name));
        Assert.Single(api.RequestsTo("POST", "/apis/batch/v1/namespaces/shop/jobs"));
        Assert.Equal(leader.Name, api.Get<V1Lease>("gatekeeper-system", "gatekeeper-controller")!.Spec.HolderIdentity);

        // The leader shuts down: it gives the lease up, and the other replica takes over from cluster state.
        await leader.StopAsync();
        await AdvanceUntilAsync(follower, () => follower.Leading.Task.IsCompleted, "the other replica leads");
        Assert.Contains(api.Requests, r => r.Client == leader.Name && r.Method == "DELETE" && r.Path.EndsWith("/leases/gatekeeper-controller", StringComparison.Ordinal));

        var job = api.List<V1Job>(ControllerHarness.Namespace)[0].Metadata.Name;
        api.Update<V1Job>(ControllerHarness.Namespace, job, j => j.Status = new V1JobStatus
        {
            Succeeded = 1,
            Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }],
        });
        await ControllerHarness.WaitUntil(() => !Gated("storefront-1"), "the new leader released the pod");

        Assert.Single(api.RequestsTo("POST", "/apis/batch/v1/namespaces/shop/jobs"));
        Assert.Contains(Writes(follower.Name), w => w.Path.EndsWith("/pods/storefront-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_leader_that_cannot_renew_stops_working_before_its_lease_runs_out_and_resumes_when_it_can()
    {
        PutWorkload();
        var leaseDuration = TimeSpan.FromSeconds(2);
        var replica = Add("replica-a", leaseDuration);
        replica.Start();
        await replica.Leading.Task.WaitAsync(Patience.Default);
        await ControllerHarness.WaitUntil(() => api.List<V1Job>(ControllerHarness.Namespace).Count == 1, "the leader created the Job");

        var cut = replica.Clock.GetUtcNow();
        api.Fail("/apis/coordination.k8s.io/", HttpStatusCode.InternalServerError);
        await AdvanceUntilAsync(replica, () => replica.Stopped.Task.IsCompleted, "the leader stops");
        var stoppedAfter = replica.Clock.GetUtcNow() - cut;

        // Another replica could take the lease once it is a full lease duration old; the work stopped before that.
        Assert.True(stoppedAfter < leaseDuration, $"stopped after {stoppedAfter}");
        Assert.False(replica.Leadership.IsLeading);
        var writes = Writes(replica.Name).Count;

        // Its work has stopped: every watch it had is closed, so only a request of its own could tell it about a new
        // Deployment. Whatever it writes about that Deployment must come after it holds the lease again.
        await api.WaitUntilAsync(() => !api.Watches.Open.Any(w => w.Client == replica.Name), "the replica's watches ended");
        var regainedAt = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        replica.Leadership.LeadershipChanged += leading =>
        {
            if (leading)
            {
                regainedAt.TrySetResult(api.Requests.Max(r => r.Sequence));
            }
        };
        PutDeployment("storefront-admin", ControllerHarness.Plan('d'));

        api.Heal("/apis/coordination.k8s.io/");
        await AdvanceUntilAsync(replica, () => regainedAt.Task.IsCompleted, "the replica leads again");
        var leadsAgainAfter = await regainedAt.Task;
        await api.WaitUntilAsync(() => api.List<V1Job>(ControllerHarness.Namespace).Count == 2, "the Deployment it missed gets its Job");
        Assert.Equal(writes, Writes(replica.Name).Count(w => w.Sequence <= leadsAgainAfter));
    }

    [Fact]
    public async Task A_renewal_refused_with_a_conflict_is_tried_again_without_losing_the_lease()
    {
        PutWorkload();
        var replica = Add("replica-a");
        replica.Start();
        await replica.Leading.Task.WaitAsync(Patience.Default);
        const string lease = "/apis/coordination.k8s.io/v1/namespaces/gatekeeper-system/leases/gatekeeper-controller";
        var renewals = api.RequestsTo("PUT", lease).Count;

        api.FailNext("PUT", lease, HttpStatusCode.Conflict);
        await AdvanceUntilAsync(replica, () => api.RequestsTo("PUT", lease).Count >= renewals + 4, "three more renewals after the refused one");

        Assert.False(replica.Stopped.Task.IsCompleted);
        Assert.True(replica.Leadership.IsLeading);
    }

    [Fact]
    public async Task A_leader_whose_lease_another_holder_took_stops_working_and_renewing_at_once()
    {
        PutWorkload();
        var replica = Add("replica-a");
        replica.Start();
        await replica.Leading.Task.WaitAsync(Patience.Default);
        await ControllerHarness.WaitUntil(() => api.List<V1Job>(ControllerHarness.Namespace).Count == 1, "the leader created the Job");

        // Another replica's term, written straight into the Lease (as after a partition the old leader did not notice),
        // long enough that replica-a may not take it back during the test.
        const string lease = "/apis/coordination.k8s.io/v1/namespaces/gatekeeper-system/leases/gatekeeper-controller";
        api.Update<V1Lease>("gatekeeper-system", "gatekeeper-controller", l =>
        {
            l.Spec.HolderIdentity = "replica-z";
            l.Spec.LeaseDurationSeconds = 3600;
            l.Spec.AcquireTime = DateTime.UtcNow;
            l.Spec.RenewTime = DateTime.UtcNow;
            l.Spec.LeaseTransitions = (l.Spec.LeaseTransitions ?? 0) + 1;
        });
        await AdvanceUntilAsync(replica, () => replica.Stopped.Task.IsCompleted, "the leader sees the other holder and stops");
        Assert.False(replica.Leadership.IsLeading);

        // From here on replica-a only reads the Lease, as a candidate: its renew loop ended with the term.
        int ReadsBy(string client) => api.RequestsTo("GET", lease).Count(r => r.Client == client);
        var puts = api.RequestsTo("PUT", lease).Count(r => r.Client == replica.Name);
        var writes = Writes(replica.Name).Count;
        var reads = ReadsBy(replica.Name);
        PutDeployment("storefront-admin", ControllerHarness.Plan('d'));
        await AdvanceUntilAsync(replica, () => ReadsBy(replica.Name) >= reads + 5, "replica-a keeps asking for the lease as a candidate");

        Assert.Equal(puts, api.RequestsTo("PUT", lease).Count(r => r.Client == replica.Name));
        Assert.Equal(writes, Writes(replica.Name).Count);
        Assert.Single(api.List<V1Job>(ControllerHarness.Namespace));
        Assert.Equal("replica-z", api.Get<V1Lease>("gatekeeper-system", "gatekeeper-controller")!.Spec.HolderIdentity);
    }
}
