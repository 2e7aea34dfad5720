using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Tests.ApiServerDouble;
using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests.Controller;

public sealed class PodUngaterTests
{
    private static readonly string Plan = new('d', 64);

    private static V1Pod Pod(params string[] gates) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web-1", NamespaceProperty = "shop", Uid = "u1", Annotations = new Dictionary<string, string> { [GatekeeperNames.Plan] = Plan } },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "shop:1" }], SchedulingGates = gates.Select(g => new V1PodSchedulingGate { Name = g }).ToList() },
    };

    private static JsonNode Json(V1Pod pod) => JsonNode.Parse(KubernetesJson.Serialize(pod))!;

    [Fact]
    public void The_patch_removes_only_gatekeepers_gate()
    {
        var pod = Pod("example.com/quota", GatekeeperNames.MigrationSchedulingGate, "example.com/other");
        var gated = GatedPod.From(pod)!;

        var patched = JsonPatchApplier.Apply(Json(pod), PodUngater.BuildPatch(gated));

        Assert.Equal(1, gated.GateIndex);
        Assert.Equal(["example.com/quota", "example.com/other"], patched["spec"]!["schedulingGates"]!.AsArray().Select(g => (string)g!["name"]!));
    }

    [Fact]
    public void The_patch_fails_instead_of_removing_another_gate_when_the_list_changed()
    {
        var seen = GatedPod.From(Pod("example.com/quota", GatekeeperNames.MigrationSchedulingGate))!;
        var now = Pod(GatekeeperNames.MigrationSchedulingGate);

        Assert.ThrowsAny<InvalidOperationException>(() => JsonPatchApplier.Apply(Json(now), PodUngater.BuildPatch(seen)));
    }

    [Fact]
    public void The_patch_fails_when_the_pod_now_waits_for_another_plan()
    {
        var seen = GatedPod.From(Pod(GatekeeperNames.MigrationSchedulingGate))!;
        var now = Pod(GatekeeperNames.MigrationSchedulingGate);
        now.Metadata.Annotations[GatekeeperNames.Plan] = new string('e', 64);

        Assert.Throws<JsonPatchTestFailedException>(() => JsonPatchApplier.Apply(Json(now), PodUngater.BuildPatch(seen)));
    }

    [Fact]
    public void A_pod_without_the_gate_or_the_plan_is_not_a_gated_pod()
    {
        var withoutPlan = Pod(GatekeeperNames.MigrationSchedulingGate);
        withoutPlan.Metadata.Annotations.Clear();

        Assert.Null(GatedPod.From(Pod("example.com/quota")));
        Assert.Null(GatedPod.From(withoutPlan));
    }
}
