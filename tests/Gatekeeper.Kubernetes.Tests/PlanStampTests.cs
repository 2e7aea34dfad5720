using System.Text.Json;
using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes.Deployments;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class PlanStampTests
{
    private const string Hash = "0c1f5e2a9b7d4c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a";

    private static JsonElement Element(JsonNode node) => JsonDocument.Parse(node.ToJsonString()).RootElement;

    [Fact]
    public void Stamping_a_template_without_annotations_adds_the_annotations_object()
    {
        var deployment = AdmissionReviewBodies.Deployment("shop", "team-a");

        var patch = PlanStamp.BuildPatch(Element(deployment), new PlanStamp(Hash, "3"));

        var patched = JsonPatchApplier.Apply(deployment, patch!.Value.ToArray());
        var annotations = patched["spec"]!["template"]!["metadata"]!["annotations"]!;
        Assert.Equal(Hash, annotations["gatekeeper.dev/plan"]!.GetValue<string>());
        Assert.Equal("3", annotations["gatekeeper.dev/target-version"]!.GetValue<string>());
        Assert.Equal(new PlanStamp(Hash, "3"), PlanStamp.Read(Element(patched)));
    }

    [Fact]
    public void Stamping_a_template_without_metadata_adds_metadata_with_the_annotations()
    {
        var deployment = AdmissionReviewBodies.Deployment("shop", "team-a");
        ((JsonObject)deployment["spec"]!["template"]!).Remove("metadata");

        var patch = PlanStamp.BuildPatch(Element(deployment), new PlanStamp(Hash, "3"));

        var patched = JsonPatchApplier.Apply(deployment, patch!.Value.ToArray());
        Assert.Equal(new PlanStamp(Hash, "3"), PlanStamp.Read(Element(patched)));
    }

    [Fact]
    public void Restamping_keeps_the_teams_own_template_annotations_and_replaces_only_the_stamps()
    {
        var deployment = AdmissionReviewBodies.Deployment("shop", "team-a", templateAnnotations: new Dictionary<string, string>
        {
            ["prometheus.io/scrape"] = "true",
            ["gatekeeper.dev/plan"] = "old",
            ["gatekeeper.dev/target-version"] = "2",
        });

        var patch = PlanStamp.BuildPatch(Element(deployment), new PlanStamp(Hash, "3"));

        var annotations = JsonPatchApplier.Apply(deployment, patch!.Value.ToArray())["spec"]!["template"]!["metadata"]!["annotations"]!.AsObject();
        Assert.Equal("true", annotations["prometheus.io/scrape"]!.GetValue<string>());
        Assert.Equal(Hash, annotations["gatekeeper.dev/plan"]!.GetValue<string>());
        Assert.Equal("3", annotations["gatekeeper.dev/target-version"]!.GetValue<string>());
        Assert.Equal(3, annotations.Count);
    }

    [Fact]
    public void An_empty_plan_removes_a_stale_plan_stamp_so_pods_are_not_held()
    {
        var deployment = AdmissionReviewBodies.Deployment("shop", "team-a", templateAnnotations: new Dictionary<string, string>
        {
            ["gatekeeper.dev/plan"] = Hash,
            ["gatekeeper.dev/target-version"] = "3",
        });

        var patch = PlanStamp.BuildPatch(Element(deployment), new PlanStamp(null, "3"));

        var patched = JsonPatchApplier.Apply(deployment, patch!.Value.ToArray());
        Assert.Equal(new PlanStamp(null, "3"), PlanStamp.Read(Element(patched)));
    }

    [Fact]
    public void Stamps_that_already_match_give_no_patch()
    {
        var deployment = AdmissionReviewBodies.Deployment("shop", "team-a", templateAnnotations: new Dictionary<string, string>
        {
            ["gatekeeper.dev/plan"] = Hash,
            ["gatekeeper.dev/target-version"] = "3",
        });

        Assert.Null(PlanStamp.BuildPatch(Element(deployment), new PlanStamp(Hash, "3")));
    }

    [Fact]
    public void Templates_that_differ_only_in_stamps_are_equal()
    {
        var old = AdmissionReviewBodies.Deployment("shop", "team-a", templateAnnotations: new Dictionary<string, string>
        {
            ["gatekeeper.dev/plan"] = Hash,
            ["gatekeeper.dev/target-version"] = "3",
            ["team/owner"] = "payments",
        });
        var reapplied = AdmissionReviewBodies.Deployment("shop", "team-a", templateAnnotations: new Dictionary<string, string> { ["team/owner"] = "payments" });
        // Metadata outside the template (labels, annotations, replicas) does not start a rollout either.
        reapplied["spec"]!["replicas"] = 5;
        reapplied["metadata"]!["annotations"] = new JsonObject { ["gatekeeper.dev/allow"] = "GK101" };

        Assert.True(PlanStamp.TemplatesEqualIgnoringStamps(Element(reapplied), Element(old)));
    }

    [Fact]
    public void An_empty_annotations_object_equals_a_missing_one()
    {
        var old = AdmissionReviewBodies.Deployment("shop", "team-a", templateAnnotations: new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Hash });
        var reapplied = AdmissionReviewBodies.Deployment("shop", "team-a");

        Assert.True(PlanStamp.TemplatesEqualIgnoringStamps(Element(reapplied), Element(old)));
    }

    [Fact]
    public void A_new_image_or_template_annotation_makes_the_templates_differ()
    {
        var old = AdmissionReviewBodies.Deployment("shop", "team-a", templateAnnotations: new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Hash });
        var newImage = AdmissionReviewBodies.Deployment("shop", "team-a", image: "ghcr.io/example/shop:1.1.0", templateAnnotations: new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Hash });
        var restarted = AdmissionReviewBodies.Deployment("shop", "team-a", templateAnnotations: new Dictionary<string, string>
        {
            ["gatekeeper.dev/plan"] = Hash,
            ["kubectl.kubernetes.io/restartedAt"] = "2025-01-01T00:00:00Z",
        });

        Assert.False(PlanStamp.TemplatesEqualIgnoringStamps(Element(newImage), Element(old)));
        Assert.False(PlanStamp.TemplatesEqualIgnoringStamps(Element(restarted), Element(old)));
    }
}
