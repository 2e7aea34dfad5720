using System.Net;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.SimulatedCluster;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit.Abstractions;

namespace Gatekeeper.Cluster.Tests;

/// <summary>
/// The simulated cluster answers as a real one where the scenarios depend on it (without Gatekeeper): these tests
/// pin the behaviours the scenarios' verdicts rest on, so a scenario that passes does not pass for a simulator bug.
/// </summary>
public sealed class SimulatedClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SimulatedCluster cluster = null!;

    public async Task InitializeAsync()
    {
        cluster = await SimulatedCluster.StartAsync(output.WriteLine);
        await cluster.CreateNamespaceAsync("apps");
    }

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    private static V1Deployment Web(int replicas) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "apps" },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "web" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = "nginx:1.27" }] },
            },
        },
    };

    private static string Message(HttpOperationException e) => (string?)JsonNode.Parse(e.Response.Content)?["message"] ?? e.Response.Content;

    private List<JsonObject> Pods() => cluster.Api.List(ApiResources.Pods, "apps").Where(p => !p.Terminating()).ToList();

    [Fact]
    public async Task A_deployment_scales_up_and_down_through_the_scale_subresource()
    {
        await cluster.Admin.AppsV1.CreateNamespacedDeploymentAsync(Web(2), "apps");
        await cluster.WaitUntilAsync(() => Pods().Count(ServiceNetwork.IsReady) == 2, "two pods run");

        await cluster.Admin.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("{\"spec\":{\"replicas\":0}}", V1Patch.PatchType.MergePatch), "web", "apps");
        await cluster.WaitUntilAsync(() => cluster.Api.List(ApiResources.Pods, "apps").Count == 0, "every pod is gone");
        var deployment = await cluster.Admin.AppsV1.ReadNamespacedDeploymentAsync("web", "apps");
        Assert.Equal(0, deployment.Spec.Replicas);
    }

    [Fact]
    public async Task A_rollout_records_revisions_on_the_deployment_and_keeps_the_old_replicasets_annotations_for_rollout_undo()
    {
        var v1 = Web(2);
        v1.Metadata.Annotations = new Dictionary<string, string> { ["team/config"] = "v1" };
        await cluster.Admin.AppsV1.CreateNamespacedDeploymentAsync(v1, "apps");
        await cluster.WaitUntilAsync(() => Pods().Count(ServiceNetwork.IsReady) == 2, "v1 runs");

        // The Deployment controller writes status after the pods become ready; edit only once it is done, or the
        // replace below carries a stale resourceVersion and is refused with 409 Conflict.
        await cluster.SettleAsync();
        var v2 = await cluster.Admin.AppsV1.ReadNamespacedDeploymentAsync("web", "apps");
        v2.Metadata.Annotations["team/config"] = "v2";
        v2.Spec.Template.Spec.Containers[0].Image = "nginx:1.28";
        var generation = v2.Metadata.Generation;
        var replaced = await cluster.Admin.AppsV1.ReplaceNamespacedDeploymentAsync(v2, "web", "apps");
        Assert.Equal(generation + 1, replaced.Metadata.Generation);
        await cluster.WaitUntilAsync(() => Pods().Count(p => ServiceNetwork.IsReady(p) && (string?)p["spec"]!["containers"]![0]!["image"] == "nginx:1.28") == 2 && Pods().Count == 2, "v2 replaced v1");

        // The Deployment controller writes the revision with UpdateStatus: the status subresource keeps metadata changes.
        await cluster.WaitUntilAsync(() => cluster.Api.Get(ApiResources.Deployments, "apps", "web")!.Annotation(DeploymentController.RevisionAnnotation) == "2", "the Deployment says revision 2");
        var replicaSets = cluster.Api.List(ApiResources.ReplicaSets, "apps").ToDictionary(rs => rs.Annotation(DeploymentController.RevisionAnnotation)!);
        Assert.Equal(["1", "2"], replicaSets.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0, replicaSets["1"]["spec"]!["replicas"].Int());
        Assert.Equal("v1", replicaSets["1"].Annotation("team/config"));
        Assert.Equal("v2", replicaSets["2"].Annotation("team/config"));
        Assert.Equal("2", replicaSets["1"].Annotation(DeploymentController.DesiredReplicasAnnotation));
    }

    [Fact]
    public async Task Scheduling_gates_can_only_be_removed_and_a_gated_pod_is_not_bound()
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "held", NamespaceProperty = "apps" },
            Spec = new V1PodSpec { SchedulingGates = [new V1PodSchedulingGate { Name = "example.com/hold" }], Containers = [new V1Container { Name = "c", Image = "nginx:1.27" }] },
        };
        await cluster.Admin.CoreV1.CreateNamespacedPodAsync(pod, "apps");
        await cluster.SettleAsync();
        var stored = cluster.Api.Get(ApiResources.Pods, "apps", "held")!;
        Assert.Null((string?)stored["spec"]!["nodeName"]);
        Assert.Equal("SchedulingGated", (string?)stored.Condition("PodScheduled")!["reason"]);

        var added = await Assert.ThrowsAsync<HttpOperationException>(() => cluster.Admin.CoreV1.PatchNamespacedPodAsync(
            new V1Patch("[{\"op\":\"add\",\"path\":\"/spec/schedulingGates/-\",\"value\":{\"name\":\"example.com/more\"}}]", V1Patch.PatchType.JsonPatch), "held", "apps"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, added.Response.StatusCode);
        Assert.Contains("only deletion is allowed, but found new scheduling gate 'example.com/more'", Message(added), StringComparison.Ordinal);

        await cluster.Admin.CoreV1.PatchNamespacedPodAsync(new V1Patch("[{\"op\":\"remove\",\"path\":\"/spec/schedulingGates/0\"}]", V1Patch.PatchType.JsonPatch), "held", "apps");
        await cluster.WaitUntilAsync(() => ServiceNetwork.IsReady(cluster.Api.Get(ApiResources.Pods, "apps", "held")!), "the ungated pod is bound and runs");
    }

    [Fact]
    public async Task A_jobs_pod_template_is_immutable_and_names_follow_dns_1123()
    {
        var job = new V1Job
        {
            Metadata = new V1ObjectMeta { Name = "once", NamespaceProperty = "apps" },
            Spec = new V1JobSpec
            {
                Suspend = true,
                Template = new V1PodTemplateSpec { Spec = new V1PodSpec { RestartPolicy = "Never", Containers = [new V1Container { Name = "c", Image = "busybox:1.36" }] } },
            },
        };
        var created = await cluster.Admin.BatchV1.CreateNamespacedJobAsync(job, "apps");
        Assert.Equal(6, created.Spec.BackoffLimit);
        created.Spec.Template.Spec.Containers[0].Image = "busybox:1.37";
        var immutable = await Assert.ThrowsAsync<HttpOperationException>(() => cluster.Admin.BatchV1.ReplaceNamespacedJobAsync(created, "once", "apps"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, immutable.Response.StatusCode);
        Assert.StartsWith("Job.batch \"once\" is invalid: spec.template: Invalid value: ", Message(immutable), StringComparison.Ordinal);
        Assert.EndsWith("field is immutable", Message(immutable), StringComparison.Ordinal);

        job.Metadata.Name = "Once_Upon";
        var badName = await Assert.ThrowsAsync<HttpOperationException>(() => cluster.Admin.BatchV1.CreateNamespacedJobAsync(job, "apps"));
        Assert.Contains("metadata.name: Invalid value: \"Once_Upon\": a lowercase RFC 1123 subdomain", Message(badName), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_resource_version_is_a_conflict_and_rbac_refuses_what_no_role_grants()
    {
        var map = await cluster.Admin.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "settings" }, Data = new Dictionary<string, string> { ["a"] = "1" } }, "apps");
        await cluster.Admin.CoreV1.ReplaceNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "settings", ResourceVersion = map.Metadata.ResourceVersion }, Data = new Dictionary<string, string> { ["a"] = "2" } }, "settings", "apps");
        var stale = await Assert.ThrowsAsync<HttpOperationException>(() => cluster.Admin.CoreV1.ReplaceNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "settings", ResourceVersion = map.Metadata.ResourceVersion }, Data = new Dictionary<string, string> { ["a"] = "3" } }, "settings", "apps"));
        Assert.Equal(HttpStatusCode.Conflict, stale.Response.StatusCode);

        var stranger = cluster.ClientFor(UserInfo.ServiceAccount("apps", "default"));
        var denied = await Assert.ThrowsAsync<HttpOperationException>(() => stranger.CoreV1.ReadNamespacedSecretAsync("anything", "apps"));
        Assert.Equal(HttpStatusCode.Forbidden, denied.Response.StatusCode);
        Assert.Equal("secrets \"anything\" is forbidden: User \"system:serviceaccount:apps:default\" cannot get resource \"secrets\" in API group \"\" in the namespace \"apps\"", Message(denied));
    }

    [Fact]
    public async Task A_watch_from_a_compacted_version_is_gone_and_bookmarks_carry_the_latest_version()
    {
        var list = await cluster.Admin.CoreV1.ListNamespacedConfigMapAsync("apps");
        await cluster.Admin.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "later" } }, "apps");
        cluster.Api.Store.Compact();
        using var http = new HttpClient { BaseAddress = cluster.Api.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", cluster.Api.Tokens.Issue(UserInfo.Admin));
        var expired = await http.GetStringAsync($"/api/v1/namespaces/apps/configmaps?watch=true&resourceVersion={list.Metadata.ResourceVersion}");
        Assert.Contains("\"code\":410", expired, StringComparison.Ordinal);

        using var stream = await http.GetStreamAsync("/api/v1/namespaces/apps/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=0");
        using var reader = new StreamReader(stream);
        Assert.Contains("\"ADDED\"", await reader.ReadLineAsync(), StringComparison.Ordinal);
        await cluster.AdvanceAsync(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        var bookmark = await reader.ReadLineAsync();
        Assert.Contains("\"BOOKMARK\"", bookmark, StringComparison.Ordinal);
        Assert.Contains(cluster.Api.Store.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), bookmark, StringComparison.Ordinal);
    }
}
