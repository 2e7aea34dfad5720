using Gatekeeper.Kubernetes.Controller;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests.Controller;

public sealed class JobPodStartTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 14, 9, 30, 0, TimeSpan.Zero);

    private static V1Pod Pod(string phase, V1ContainerState? state = null, V1PodCondition? condition = null, bool init = false)
    {
        var statuses = state is null ? null : new List<V1ContainerStatus> { new() { Name = init ? "wait" : "migrate", Image = "gk", ImageID = "", Ready = false, RestartCount = 0, State = state } };
        return new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "gk-migrate-shop-1-abcde", NamespaceProperty = "shop" },
            Status = new V1PodStatus
            {
                Phase = phase,
                ContainerStatuses = init ? null : statuses,
                InitContainerStatuses = init ? statuses : null,
                Conditions = condition is null ? null : [condition],
            },
        };
    }

    private static V1ContainerState Waiting(string reason, string message) => new() { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } };

    [Theory]
    [InlineData("ErrImagePull", "ImagePull")]
    [InlineData("ImagePullBackOff", "ImagePull")]
    [InlineData("InvalidImageName", "ImagePull")]
    [InlineData("CreateContainerConfigError", "CreateContainerConfigError")]
    [InlineData("CreateContainerError", "CreateContainerError")]
    public void A_container_waiting_for_something_that_will_not_come_is_a_problem_with_its_reason(string reason, string category)
    {
        var start = JobPodStart.FromPods("gk-migrate-shop-1", [Pod("Pending", Waiting(reason, "the kubelet's words"))], Now);

        Assert.Equal((false, reason, "the kubelet's words"), (start.PodStarted, start.Reason, start.Message));
        Assert.Equal(category, JobPodStart.Category(reason));
    }

    [Fact]
    public void An_init_container_that_cannot_pull_counts_too()
    {
        var start = JobPodStart.FromPods("gk-migrate-shop-1", [Pod("Pending", Waiting("ImagePullBackOff", "Back-off"), init: true)], Now);

        Assert.Equal("ImagePullBackOff", start.Reason);
    }

    [Fact]
    public void A_container_that_is_still_being_created_is_no_problem_yet()
    {
        var start = JobPodStart.FromPods("gk-migrate-shop-1", [Pod("Pending", Waiting("ContainerCreating", ""))], Now);

        Assert.Equal((false, (string?)null), (start.PodStarted, start.Reason));
    }

    [Fact]
    public void A_running_or_ended_pod_has_started()
    {
        Assert.True(JobPodStart.FromPods("j", [Pod("Running", new V1ContainerState { Running = new V1ContainerStateRunning() })], Now).PodStarted);
        Assert.True(JobPodStart.FromPods("j", [Pod("Failed", new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 1 } })], Now).PodStarted);
    }

    [Fact]
    public void An_unschedulable_pod_is_a_problem_only_after_a_minute_in_which_an_autoscaler_may_add_a_node()
    {
        V1PodCondition Unschedulable(TimeSpan ago) => new()
        {
            Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = "0/3 nodes are available: 3 Insufficient cpu.",
            LastTransitionTime = (Now - ago).UtcDateTime,
        };

        Assert.Null(JobPodStart.FromPods("j", [Pod("Pending", condition: Unschedulable(TimeSpan.FromSeconds(30)))], Now).Reason);
        var late = JobPodStart.FromPods("j", [Pod("Pending", condition: Unschedulable(TimeSpan.FromSeconds(61)))], Now);
        Assert.Equal(("Unschedulable", "0/3 nodes are available: 3 Insufficient cpu."), (late.Reason, late.Message));
    }

    [Fact]
    public void No_pod_is_neither_started_nor_a_problem_by_itself()
    {
        var start = JobPodStart.FromPods("j", [], Now);

        Assert.Equal((false, (string?)null), (start.PodStarted, start.Reason));
    }
}
