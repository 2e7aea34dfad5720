using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests;

/// <summary>
/// Gatekeeper's own API client and JSON (what the AOT binary runs instead of KubernetesClient's typed operations)
/// against the API double: the exact JSON it writes, the JSON the API server writes read back, and the errors the
/// call sites rely on (404, 409, 422 as <see cref="HttpOperationException"/>).
/// </summary>
public sealed class KubernetesApiTests : IAsyncLifetime
{
    private static readonly DateTime Acquired = new(2026, 12, 4, 21, 0, 0, DateTimeKind.Utc);

    private KubeApiServerDouble api = null!;
    private KubernetesApi client = null!;

    public async Task InitializeAsync()
    {
        api = await KubeApiServerDouble.StartAsync();
        client = api.CreateApi();
    }

    public async Task DisposeAsync()
    {
        client.Dispose();
        await api.DisposeAsync();
    }

    [Fact]
    public async Task A_created_Lease_is_sent_without_nulls_and_with_microsecond_times()
    {
        var lease = new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = "gatekeeper-controller", NamespaceProperty = "gatekeeper-system" },
            Spec = new V1LeaseSpec
            {
                HolderIdentity = "replica-a",
                LeaseDurationSeconds = 15,
                LeaseTransitions = 0,
                AcquireTime = Acquired.AddTicks(1_234_567),
                RenewTime = Acquired.AddSeconds(1),
            },
        };

        var created = await client.CreateNamespacedLeaseAsync(lease, "gatekeeper-system", CancellationToken.None);

        var request = Assert.Single(api.RequestsTo("POST", "/apis/coordination.k8s.io/v1/namespaces/gatekeeper-system/leases"));
        Assert.Equal("application/json; charset=utf-8", request.ContentType);
        Assert.Equal(
            """{"metadata":{"name":"gatekeeper-controller","namespace":"gatekeeper-system"},"spec":{"acquireTime":"2026-12-04T21:00:00.123456Z","holderIdentity":"replica-a","leaseDurationSeconds":15,"leaseTransitions":0,"renewTime":"2026-12-04T21:00:01Z"}}""",
            request.Body);
        // MicroTime keeps microseconds: what was written is what comes back (the 7th digit is not sent).
        Assert.Equal(Acquired.AddTicks(1_234_560), created.Spec.AcquireTime);
        Assert.Equal(DateTimeKind.Utc, created.Spec.RenewTime!.Value.Kind);
        Assert.Equal(Acquired.AddSeconds(1), created.Spec.RenewTime);
        Assert.False(string.IsNullOrEmpty(created.Metadata.ResourceVersion));
    }

    [Fact]
    public async Task Replacing_a_Lease_with_a_stale_resourceVersion_is_a_409_the_caller_can_read()
    {
        var lease = await client.CreateNamespacedLeaseAsync(
            new V1Lease { Metadata = new V1ObjectMeta { Name = "l", NamespaceProperty = "ns" }, Spec = new V1LeaseSpec { HolderIdentity = "a" } }, "ns", CancellationToken.None);
        var stale = lease.Metadata.ResourceVersion;
        lease.Spec.HolderIdentity = "b";
        var replaced = await client.ReplaceNamespacedLeaseAsync(lease, "l", "ns", CancellationToken.None);
        Assert.NotEqual(stale, replaced.Metadata.ResourceVersion);

        lease.Metadata.ResourceVersion = stale;
        lease.Spec.HolderIdentity = "c";
        var conflict = await Assert.ThrowsAsync<HttpOperationException>(() => client.ReplaceNamespacedLeaseAsync(lease, "l", "ns", CancellationToken.None));

        Assert.Equal(HttpStatusCode.Conflict, conflict.Response.StatusCode);
        Assert.Equal("Conflict", JsonNode.Parse(conflict.Response.Content)!["reason"]!.GetValue<string>());
        Assert.Equal("b", (await client.ReadNamespacedLeaseAsync("l", "ns", CancellationToken.None)).Spec.HolderIdentity);
    }

    [Fact]
    public async Task Deleting_a_Lease_sends_its_preconditions_and_a_missing_one_is_a_404()
    {
        var lease = await client.CreateNamespacedLeaseAsync(new V1Lease { Metadata = new V1ObjectMeta { Name = "l", NamespaceProperty = "ns" } }, "ns", CancellationToken.None);

        await client.DeleteNamespacedLeaseAsync("l", "ns", new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = lease.Metadata.ResourceVersion } }, CancellationToken.None);

        var request = Assert.Single(api.RequestsTo("DELETE", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/l"));
        Assert.Equal("{\"preconditions\":{\"resourceVersion\":\"" + lease.Metadata.ResourceVersion + "\"}}", request.Body);
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => client.ReadNamespacedLeaseAsync("l", "ns", CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, missing.Response.StatusCode);
    }

    [Fact]
    public async Task An_Event_is_written_with_its_times_and_nothing_it_does_not_set()
    {
        var created = await client.CreateNamespacedEventAsync(
            new Corev1Event
            {
                Metadata = new V1ObjectMeta { GenerateName = "shop." },
                InvolvedObject = new V1ObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "shop", NamespaceProperty = "team-a" },
                Reason = "MigrationSucceeded",
                Message = "applied 2 files",
                Type = "Normal",
                Count = 1,
                FirstTimestamp = Acquired,
                LastTimestamp = Acquired,
                EventTime = Acquired.AddTicks(10),
                Source = new V1EventSource { Component = "gatekeeper" },
            },
            "team-a",
            CancellationToken.None);

        var request = Assert.Single(api.RequestsTo("POST", "/api/v1/namespaces/team-a/events"));
        Assert.Equal(
            """{"count":1,"eventTime":"2026-12-04T21:00:00.000001Z","firstTimestamp":"2026-12-04T21:00:00Z","involvedObject":{"apiVersion":"apps/v1","kind":"Deployment","name":"shop","namespace":"team-a"},"lastTimestamp":"2026-12-04T21:00:00Z","message":"applied 2 files","metadata":{"generateName":"shop."},"reason":"MigrationSucceeded","source":{"component":"gatekeeper"},"type":"Normal"}""",
            request.Body);
        Assert.StartsWith("shop.", created.Metadata.Name, StringComparison.Ordinal);
        Assert.Equal(Acquired.AddTicks(10), created.EventTime);
    }

    [Fact]
    public async Task Objects_as_the_API_server_writes_them_are_read_with_their_times_quantities_and_ports()
    {
        Store("jobs", "shop", "migrate-1", """
            {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"migrate-1","namespace":"shop","resourceVersion":"7","uid":"u-1",
             "creationTimestamp":"2026-12-04T21:00:00Z","labels":{"gatekeeper.dev/plan":"p"}},
             "spec":{"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"migrate","image":"gk",
               "resources":{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"memory":"128974848"}},
               "ports":[{"containerPort":8080}],"livenessProbe":{"httpGet":{"path":"/healthz","port":"http"}}}]}}},
             "status":{"startTime":"2026-12-04T21:00:01Z","failed":1,"conditions":[
               {"type":"Failed","status":"True","reason":"BackoffLimitExceeded","lastProbeTime":"2026-12-04T21:00:09Z","lastTransitionTime":"2026-12-04T21:00:09Z"}]}}
            """);
        Store("leases", "gatekeeper-system", "gatekeeper-controller", """
            {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"gatekeeper-controller","namespace":"gatekeeper-system","resourceVersion":"9"},
             "spec":{"holderIdentity":"replica-a","leaseDurationSeconds":15,"acquireTime":"2026-12-04T21:00:00.123456Z","renewTime":"2026-12-04T21:00:02.654321Z","leaseTransitions":3}}
            """);
        Store("events", "shop", "migrate-1.1", """
            {"apiVersion":"v1","kind":"Event","metadata":{"name":"migrate-1.1","namespace":"shop","resourceVersion":"11"},
             "involvedObject":{"kind":"Job","name":"migrate-1","namespace":"shop","uid":"u-1"},"reason":"FailedCreate","message":"pods forbidden",
             "firstTimestamp":null,"lastTimestamp":null,"eventTime":"2026-12-04T21:00:03.123456789Z","reportingComponent":"job-controller","count":2}
            """);

        var job = Assert.Single((await client.ListNamespacedJobAsync("shop", labelSelector: "gatekeeper.dev/plan", cancellationToken: CancellationToken.None)).Items);
        var lease = await client.ReadNamespacedLeaseAsync("gatekeeper-controller", "gatekeeper-system", CancellationToken.None);
        var @event = Assert.Single((await client.ListNamespacedEventAsync("shop", cancellationToken: CancellationToken.None)).Items);

        Assert.Equal(Acquired, job.Metadata.CreationTimestamp);
        var condition = Assert.Single(job.Status.Conditions);
        Assert.Equal(Acquired.AddSeconds(9), condition.LastTransitionTime);
        Assert.Equal(DateTimeKind.Utc, condition.LastTransitionTime!.Value.Kind);
        var container = Assert.Single(job.Spec.Template.Spec.Containers);
        Assert.Equal("100m", container.Resources.Requests["cpu"].ToString());
        Assert.Equal(128974848L, container.Resources.Limits["memory"].ToInt64());
        Assert.Equal("http", container.LivenessProbe.HttpGet.Port.Value);
        Assert.Equal(Acquired.AddTicks(1_234_560), lease.Spec.AcquireTime);
        Assert.Equal(Acquired.AddSeconds(2).AddTicks(6_543_210), lease.Spec.RenewTime);
        // Nanoseconds (the API server never writes more than micro for MicroTime, but RFC 3339 allows them) are cut to ticks.
        Assert.Equal(Acquired.AddSeconds(3).AddTicks(1_234_567), @event.EventTime);
        Assert.Null(@event.FirstTimestamp);
        Assert.Equal(2, @event.Count);
    }

    [Fact]
    public async Task A_patch_keeps_its_content_type_and_a_failed_test_is_a_422()
    {
        api.Put(new V1Pod { Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns" }, Spec = new V1PodSpec { SchedulingGates = [new V1PodSchedulingGate { Name = "gatekeeper.dev/migrations" }] } });

        var patched = await client.PatchNamespacedPodAsync(
            new V1Patch("""[{"op":"test","path":"/spec/schedulingGates/0/name","value":"gatekeeper.dev/migrations"},{"op":"remove","path":"/spec/schedulingGates/0"}]""", V1Patch.PatchType.JsonPatch),
            "p", "ns", CancellationToken.None);
        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => client.PatchNamespacedPodAsync(
            new V1Patch("""[{"op":"test","path":"/metadata/name","value":"q"}]""", V1Patch.PatchType.JsonPatch), "p", "ns", CancellationToken.None));

        Assert.True(patched.Spec.SchedulingGates is null or { Count: 0 });
        Assert.All(api.RequestsTo("PATCH", "/api/v1/namespaces/ns/pods/p"), r => Assert.Equal("application/json-patch+json; charset=utf-8", r.ContentType));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Response.StatusCode);
    }

    [Fact]
    public async Task A_refusal_carries_the_status_and_body_but_not_the_token_or_what_was_sent()
    {
        using var authenticated = new KubernetesApi(new KubernetesClientConfiguration { Host = api.BaseAddress.ToString(), AccessToken = "secret-token-value" });
        api.FailNext("POST", "/api/v1/namespaces/ns/secrets", HttpStatusCode.Forbidden);

        var refused = await Assert.ThrowsAsync<HttpOperationException>(() => authenticated.CreateNamespacedSecretAsync(
            new V1Secret { Metadata = new V1ObjectMeta { Name = "s" }, StringData = new Dictionary<string, string> { ["password"] = "hunter2-value" } }, "ns", CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
        Assert.False(string.IsNullOrEmpty(refused.Response.Content));
        Assert.Equal(HttpMethod.Post, refused.Request.Method);
        var described = refused.ToString() + refused.Request.Content + string.Join(",", refused.Request.Headers.SelectMany(h => h.Value));
        Assert.DoesNotContain("secret-token-value", described, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-value", described, StringComparison.Ordinal);
    }

    [Fact]
    public void A_configuration_without_a_usable_host_is_refused_as_KubernetesClient_refuses_it()
    {
        Assert.Throws<KubeConfigException>(() => new KubernetesApi(new KubernetesClientConfiguration { Host = " " }));
        Assert.Throws<KubeConfigException>(() => new KubernetesApi(new KubernetesClientConfiguration { Host = "https://[::1" }));
    }

    public static TheoryData<string> Samples => ["lease", "event", "job", "template", "secret", "deployment", "webhooks"];

    /// <summary>
    /// Gatekeeper's JSON writes exactly what KubernetesClient's writes for the same object, so a template's fingerprint
    /// (MigrationJobNames), a Lease's times and an Event are what they were before the switch.
    /// </summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public void Objects_are_written_exactly_as_KubernetesClient_writes_them(string sample)
    {
        var template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "shop" }, CreationTimestamp = Acquired.AddTicks(7) },
            Spec = new V1PodSpec
            {
                ActiveDeadlineSeconds = 600,
                Containers =
                [
                    new V1Container
                    {
                        Name = "app",
                        Image = "shop:2",
                        Env = [new V1EnvVar { Name = "URL", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Key = "url", Name = "db", Optional = false } } }],
                        Ports = [new V1ContainerPort { ContainerPort = 8080, Name = "http" }],
                        Resources = new V1ResourceRequirements
                        {
                            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new ResourceQuantity("250m"), ["memory"] = new ResourceQuantity("1Gi") },
                        },
                        ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Port = "http", Path = "/ready" }, PeriodSeconds = 5 },
                        LivenessProbe = new V1Probe { TcpSocket = new V1TCPSocketAction { Port = 8080 } },
                    },
                ],
            },
        };
        (object Value, string Ours) written = sample switch
        {
            "lease" => Pair(new V1Lease { Metadata = new V1ObjectMeta { Name = "l" }, Spec = new V1LeaseSpec { RenewTime = Acquired.AddTicks(1_234_567), AcquireTime = Acquired, LeaseDurationSeconds = 15 } }, KubernetesModelJson.Default.V1Lease),
            "event" => Pair(new Corev1Event { Metadata = new V1ObjectMeta { GenerateName = "x." }, EventTime = Acquired.AddTicks(3), FirstTimestamp = Acquired, Series = new Corev1EventSeries { Count = 2, LastObservedTime = Acquired.AddMilliseconds(5) }, InvolvedObject = new V1ObjectReference { Kind = "Job" } }, KubernetesModelJson.Default.Corev1Event),
            "job" => Pair(new V1Job { Metadata = new V1ObjectMeta { Name = "j" }, Spec = new V1JobSpec { Template = template, BackoffLimit = 0, TtlSecondsAfterFinished = 3600 }, Status = new V1JobStatus { Conditions = [new V1JobCondition { Status = "True", Type = "Complete", LastTransitionTime = Acquired }], StartTime = Acquired } }, KubernetesModelJson.Default.V1Job),
            "template" => Pair(template, KubernetesModelJson.Default.V1PodTemplateSpec),
            "secret" => Pair(new V1Secret { Metadata = new V1ObjectMeta { Name = "s", Annotations = new Dictionary<string, string> { ["a"] = "b" } }, Data = new Dictionary<string, byte[]> { ["k"] = [0, 1, 250] }, Type = "Opaque" }, KubernetesModelJson.Default.V1Secret),
            "deployment" => Pair(new V1Deployment { Metadata = new V1ObjectMeta { Name = "d" }, Spec = new V1DeploymentSpec { Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "shop" } }, Template = template, Strategy = new V1DeploymentStrategy { RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = "25%", MaxUnavailable = 0 } } }, Status = new V1DeploymentStatus { Conditions = [new V1DeploymentCondition { Status = "True", Type = "Available", LastUpdateTime = Acquired }] } }, KubernetesModelJson.Default.V1Deployment),
            "webhooks" => Pair(new V1MutatingWebhookConfiguration { Metadata = new V1ObjectMeta { Name = "w" }, Webhooks = [new V1MutatingWebhook { AdmissionReviewVersions = ["v1"], ClientConfig = new Admissionregistrationv1WebhookClientConfig { CaBundle = [1, 2, 3] }, Name = "pods.gatekeeper.dev", SideEffects = "None", TimeoutSeconds = 5 }] }, KubernetesModelJson.Default.V1MutatingWebhookConfiguration),
            _ => throw new ArgumentOutOfRangeException(nameof(sample), sample, null),
        };

        Assert.Equal(KubernetesJson.Serialize(written.Value), written.Ours);
        Assert.DoesNotContain("null", written.Ours, StringComparison.Ordinal);
    }

    private static (object, string) Pair<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : notnull => (value, JsonSerializer.Serialize(value, type));

    private void Store(string resource, string ns, string name, string json) =>
        api.Store.Write(resource, ObjectStore.Key(resource, ns, name), null, JsonNode.Parse(json)!.AsObject());
}
