using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class PodGateTests
{
    private const string Hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private static JsonElement Element(JsonNode node) => JsonDocument.Parse(node.ToJsonString()).RootElement;

    private static JsonObject StampedPod(JsonArray? gates = null) =>
        AdmissionReviewBodies.Pod("team-a", "shop", new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Hash }, gates);

    [Fact]
    public void A_pod_whose_plan_is_not_known_as_applied_gets_the_migration_gate()
    {
        var pod = StampedPod();

        var decision = PodGate.Decide(isCreate: true, Element(pod), new AppliedPlans());

        Assert.Equal(PodGateVerdict.Gate, decision.Verdict);
        var patched = JsonPatchApplier.Apply(pod, decision.Patch.ToArray());
        var gate = Assert.Single(patched["spec"]!["schedulingGates"]!.AsArray());
        Assert.Equal("gatekeeper.dev/migration", gate!["name"]!.GetValue<string>());
    }

    [Fact]
    public void A_pod_with_other_gates_gets_the_migration_gate_appended()
    {
        var pod = StampedPod(new JsonArray(new JsonObject { ["name"] = "example.com/quota" }));

        var decision = PodGate.Decide(isCreate: true, Element(pod), new AppliedPlans());

        var gates = JsonPatchApplier.Apply(pod, decision.Patch.ToArray())["spec"]!["schedulingGates"]!.AsArray();
        Assert.Equal(["example.com/quota", "gatekeeper.dev/migration"], gates.Select(g => g!["name"]!.GetValue<string>()));
    }

    [Fact]
    public void A_pod_whose_plan_is_applied_passes_untouched()
    {
        var applied = new AppliedPlans();
        applied.MarkApplied(Hash);

        var decision = PodGate.Decide(isCreate: true, Element(StampedPod()), applied);

        Assert.Equal(PodGateVerdict.PlanApplied, decision.Verdict);
        Assert.True(decision.Patch.IsEmpty);
    }

    [Fact]
    public void A_plan_known_only_by_its_truncated_job_label_counts_as_applied()
    {
        var applied = new AppliedPlans();
        applied.MarkApplied(Hash[..63]);

        Assert.Equal(PodGateVerdict.PlanApplied, PodGate.Decide(true, Element(StampedPod()), applied).Verdict);
    }

    [Fact]
    public void Pods_without_a_plan_stamp_or_already_gated_or_updated_are_left_alone()
    {
        var unmanaged = AdmissionReviewBodies.Pod("team-a", "other", new Dictionary<string, string> { ["example.com/x"] = "y" });
        var gated = StampedPod(new JsonArray(new JsonObject { ["name"] = "gatekeeper.dev/migration" }));

        Assert.Equal(PodGateVerdict.NotManaged, PodGate.Decide(true, Element(unmanaged), new AppliedPlans()).Verdict);
        Assert.Equal(PodGateVerdict.AlreadyGated, PodGate.Decide(true, Element(gated), new AppliedPlans()).Verdict);
        Assert.Equal(PodGateVerdict.NotACreate, PodGate.Decide(false, Element(StampedPod()), new AppliedPlans()).Verdict);
    }

    [Fact]
    public void Deciding_for_a_pod_allocates_nothing_once_warm()
    {
        var applied = new AppliedPlans();
        applied.MarkApplied("another-plan");
        using var gatedDocument = JsonDocument.Parse(StampedPod().ToJsonString());
        var pod = gatedDocument.RootElement;
        PodGate.Decide(true, pod, applied);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            PodGate.Decide(true, pod, applied);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"1000 pod decisions allocated {allocated} bytes");
    }

    [Fact]
    public void An_escaped_plan_annotation_is_still_matched()
    {
        var applied = new AppliedPlans();
        applied.MarkApplied("plan/1");
        var json = Encoding.UTF8.GetBytes("""{"metadata":{"annotations":{"gatekeeper.dev/plan":"plan\/1"}},"spec":{}}""");
        using var document = JsonDocument.Parse(json);

        Assert.Equal(PodGateVerdict.PlanApplied, PodGate.Decide(true, document.RootElement, applied).Verdict);
    }
}
