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
        var status = new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "m", null, null, DateTimeOffset.UnixEpoch) { AppliedPlans = ["p1", "p2", "p3", "p4", "p5"] };

        Assert.Equal(["p3", "p1", "p2", "p4", "p5"], status.Remembering("p3").AppliedPlans);
        Assert.Equal(["p6", "p1", "p2", "p3", "p4"], status.Remembering("p6").AppliedPlans);
    }
}
