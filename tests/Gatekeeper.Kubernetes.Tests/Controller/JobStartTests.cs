using Gatekeeper.Kubernetes.Controller;
using k8s.Models;
using Xunit.Abstractions;

namespace Gatekeeper.Kubernetes.Tests.Controller;

/// <summary>
/// A migration Job whose pod cannot start (image pull, missing Secret) or cannot be created (a ResourceQuota, an
/// admission refusal) shows why in the Deployment's status and an Event within a minute (issue 11.6): the controller
/// through KubernetesClient against the API server double.
/// </summary>
public sealed class JobStartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string PlanA = ControllerHarness.Plan('a');
    private ControllerHarness harness = null!;

    public async Task InitializeAsync() => harness = await ControllerHarness.StartAsync(new TestOutputLogger(output, "controller"));

    public async Task DisposeAsync() => await harness.DisposeAsync();

    /// <summary>The Job's pod as the Job controller makes it: the Job's labels, a controller reference to it, scheduled.</summary>
    private V1Pod PutJobPod(V1Job job, V1ContainerState state, string phase = "Pending") => harness.Api.Put(new V1Pod
    {
        Metadata = new V1ObjectMeta
        {
            Name = job.Metadata.Name + "-q7x2v",
            NamespaceProperty = ControllerHarness.Namespace,
            Labels = new Dictionary<string, string>(job.Spec.Template.Metadata.Labels) { [MigrationJobClient.JobNameLabel] = job.Metadata.Name },
            OwnerReferences = [new V1OwnerReference { ApiVersion = "batch/v1", Kind = "Job", Name = job.Metadata.Name, Uid = job.Metadata.Uid, Controller = true }],
        },
        Spec = new V1PodSpec { NodeName = "node-1", Containers = [new V1Container { Name = MigrationJobBuilder.ContainerName, Image = ControllerHarness.Settings.Image }] },
        Status = new V1PodStatus
        {
            Phase = phase,
            ContainerStatuses = [new V1ContainerStatus { Name = MigrationJobBuilder.ContainerName, Image = ControllerHarness.Settings.Image, ImageID = "", Ready = false, RestartCount = 0, State = state }],
        },
    });

    [Fact]
    public async Task A_job_pod_that_cannot_pull_its_image_stalls_the_status_with_the_registrys_words_and_recovers_when_it_runs()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.PutGatedPod("storefront-1", PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        var job = harness.Jobs()[0];

        var pod = PutJobPod(job, new V1ContainerState
        {
            Waiting = new V1ContainerStateWaiting { Reason = "ErrImagePull", Message = $"failed to pull and unpack image \"{ControllerHarness.Settings.Image}\": 401 Unauthorized" },
        });
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.JobNotStarting, "the status says the Job cannot start");
        await harness.Settle();

        var status = harness.StatusOf()!;
        Assert.Equal(RolloutState.Stalled, status.State);
        Assert.Contains("ErrImagePull", status.Message, StringComparison.Ordinal);
        Assert.Contains("401 Unauthorized", status.Message, StringComparison.Ordinal);
        var warning = Assert.Single(harness.Events(), e => e.Type == "Warning");
        Assert.Equal(StatusReasons.JobNotStarting, warning.Reason);
        Assert.Equal(("shop", "storefront", "ImagePull"), Assert.Single(harness.Metrics.NotStarting));
        Assert.True(harness.IsGated("storefront-1"));
        Assert.Empty(harness.Metrics.Jobs);

        // The kubelet's back-off: the same problem in other words is not a second report.
        harness.Api.Update<V1Pod>(ControllerHarness.Namespace, pod.Metadata.Name, p => p.Status.ContainerStatuses[0].State = new V1ContainerState
        {
            Waiting = new V1ContainerStateWaiting { Reason = "ImagePullBackOff", Message = "Back-off pulling image" },
        });
        await harness.Settle();
        Assert.Single(harness.Events(), e => e.Type == "Warning");
        Assert.Contains("401 Unauthorized", harness.StatusOf()!.Message, StringComparison.Ordinal);

        // The pull secret was added: the pod runs and the status says Migrating again.
        harness.Api.Update<V1Pod>(ControllerHarness.Namespace, pod.Metadata.Name, p =>
        {
            p.Status.Phase = "Running";
            p.Status.ContainerStatuses[0].State = new V1ContainerState { Running = new V1ContainerStateRunning() };
        });
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.Migrating, "the status says Migrating again");
        await harness.Settle();
        Assert.Single(harness.Metrics.NotStarting);
        Assert.Single(harness.Jobs());
    }

    [Fact]
    public async Task A_job_whose_pod_a_quota_refuses_names_the_refusal_after_a_look_again_on_the_clock()
    {
        harness.PutSources();
        harness.PutDeployment(PlanA);
        harness.Run();
        await ControllerHarness.WaitUntil(() => harness.Jobs().Count == 1, "the Job exists");
        await harness.Settle();
        var job = harness.Jobs()[0];

        // The Job controller could not create the pod: it says so only in an Event on the Job; nothing else changes.
        harness.Api.Put(new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = job.Metadata.Name + ".18a2b3c4d5e6f708", NamespaceProperty = ControllerHarness.Namespace },
            InvolvedObject = new V1ObjectReference { ApiVersion = "batch/v1", Kind = "Job", Name = job.Metadata.Name, NamespaceProperty = ControllerHarness.Namespace, Uid = job.Metadata.Uid },
            Reason = "FailedCreate",
            Type = "Warning",
            Message = $"Error creating: pods \"{job.Metadata.Name}-abcde\" is forbidden: failed quota: compute: must specify limits.cpu for: migrate",
            Source = new V1EventSource { Component = "job-controller" },
            LastTimestamp = harness.Time.GetUtcNow().UtcDateTime,
        });
        await harness.Settle();
        Assert.Equal(StatusReasons.Migrating, harness.StatusOf()!.Reason);

        harness.Time.Advance(MigrationDecisions.StartCheckInterval);
        await ControllerHarness.WaitUntil(() => harness.StatusOf()?.Reason == StatusReasons.JobNotStarting, "the status names the refusal");
        await harness.Settle();

        var status = harness.StatusOf()!;
        Assert.Contains("(FailedCreate)", status.Message, StringComparison.Ordinal);
        Assert.Contains("must specify limits.cpu", status.Message, StringComparison.Ordinal);
        Assert.Contains("controller.resources", status.Message, StringComparison.Ordinal);
        Assert.Equal(("shop", "storefront", "FailedCreate"), Assert.Single(harness.Metrics.NotStarting));
    }
}
