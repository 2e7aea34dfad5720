using Gatekeeper.Kubernetes.Controller;

namespace Gatekeeper.Kubernetes.Tests.Controller;

public sealed class DeploymentStatusTests
{
    [Fact]
    public void A_status_reads_back_as_written()
    {
        var status = new DeploymentStatus(RolloutState.Stalled, StatusReasons.MigrationFailed, "Job x failed: \"quoted\" words", new string('c', 64), "gk-migrate-shop-0123456789",
            new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)) { AppliedPlans = [new string('a', 64), new string('b', 64)] };

        var read = DeploymentStatus.Parse(status.Format());

        Assert.True(status.SameAs(read));
        Assert.Equal(status.Since, read!.Since);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Ready")]
    [InlineData("{\"state\":\"Sleeping\",\"reason\":\"x\"}")]
    [InlineData("{\"state\":\"1\",\"reason\":\"x\"}")]
    [InlineData("{\"state\":\"Ready\"}")]
    [InlineData("[1,2]")]
    public void A_status_written_by_someone_else_reads_as_none(string text)
    {
        Assert.Null(DeploymentStatus.Parse(text));
    }

    [Fact]
    public void A_long_message_is_cut_and_still_compares_equal_after_a_round_trip()
    {
        var status = new DeploymentStatus(RolloutState.Stalled, StatusReasons.MigrationFailed, new string('m', 5000), null, null, DateTimeOffset.UnixEpoch);

        var read = DeploymentStatus.Parse(status.Format())!;

        Assert.Equal(DeploymentStatus.MaxMessageLength, read.Message.Length);
        Assert.True(status.SameAs(read));
    }

    [Fact]
    public void Remembering_keeps_the_newest_plans_first_without_duplicates()
    {
        // As many as a Deployment keeps old ReplicaSets by default (revisionHistoryLimit 10): as far back as a rollback goes.
        string[] ten = ["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10"];
        var status = new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "m", null, null, DateTimeOffset.UnixEpoch) { AppliedPlans = ten };

        Assert.Equal(["p3", "p1", "p2", "p4", "p5", "p6", "p7", "p8", "p9", "p10"], status.Remembering("p3").AppliedPlans);
        Assert.Equal(["p11", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"], status.Remembering("p11").AppliedPlans);
    }

    [Fact]
    public void A_status_kept_in_the_deployments_conditions_reads_back_as_written()
    {
        var status = new DeploymentStatus(RolloutState.Stalled, StatusReasons.MigrationFailed, "Job x failed", new string('c', 64), "gk-migrate-shop-0123456789",
            new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero)) { AppliedPlans = [new string('a', 64), new string('b', 64)] };
        var (migrated, record) = DeploymentRecord.Conditions(status, status.Since.AddMinutes(1));
        var deployment = new k8s.Models.V1Deployment { Metadata = new(), Status = new() { Conditions = [migrated, record] } };

        var read = DeploymentRecord.Read(deployment);

        Assert.Equal(("False", StatusReasons.MigrationFailed), (migrated.Status, migrated.Reason));
        Assert.True(status.SameAs(read));
        Assert.Equal(status.Since, read!.Since);
    }

    [Fact]
    public void The_first_record_is_guarded_by_the_resource_version_and_later_ones_by_the_record_they_replace()
    {
        var status = new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "m", "p", null, DateTimeOffset.UnixEpoch) { AppliedPlans = ["p"] };
        var (migrated, record) = DeploymentRecord.Conditions(status, DateTimeOffset.UnixEpoch);
        var progressing = new k8s.Models.V1DeploymentCondition { Type = "Progressing", Status = "True", Reason = "NewReplicaSetAvailable" };
        var fresh = new k8s.Models.V1Deployment { Metadata = new() { ResourceVersion = "41" }, Status = new() { Conditions = [progressing] } };
        var recorded = new k8s.Models.V1Deployment { Metadata = new() { ResourceVersion = "42" }, Status = new() { Conditions = [progressing, migrated, record] } };

        var first = System.Text.Json.Nodes.JsonNode.Parse(DeploymentRecord.BuildPatch(fresh, status, DateTimeOffset.UnixEpoch))!.AsArray();
        var later = System.Text.Json.Nodes.JsonNode.Parse(DeploymentRecord.BuildPatch(recorded, status, DateTimeOffset.UnixEpoch))!.AsArray();

        Assert.Equal(("test", "/metadata/resourceVersion", "41"), (first[0]!["op"]!.GetValue<string>(), first[0]!["path"]!.GetValue<string>(), first[0]!["value"]!.GetValue<string>()));
        Assert.Equal(["add /status/conditions/-", "add /status/conditions/-"], first.Skip(1).Select(o => $"{o!["op"]} {o["path"]}"));
        Assert.Equal(
            ["test /status/conditions/2/type", "test /status/conditions/2/message", "replace /status/conditions/2", "test /status/conditions/1/type", "replace /status/conditions/1"],
            later.Select(o => $"{o!["op"]} {o["path"]}"));
        Assert.Equal(record.Message, later[1]!["value"]!.GetValue<string>());
    }
}
