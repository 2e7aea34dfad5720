using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Gatekeeper.Webhook.Tests;

public sealed class PodWebhookTests : IAsyncLifetime
{
    private const string AppliedPlan = "1111111111111111111111111111111111111111111111111111111111111111";
    private const string PendingPlan = "2222222222222222222222222222222222222222222222222222222222222222";
    private KubeApiServerDouble api = null!;
    private TestWebhook webhook = null!;

    public async Task InitializeAsync()
    {
        api = await KubeApiServerDouble.StartAsync();
        api.Put(new V1Job
        {
            Metadata = new V1ObjectMeta
            {
                Name = "shop-migrate-1111111111",
                NamespaceProperty = "team-a",
                Labels = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = AppliedPlan[..63] },
                Annotations = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = AppliedPlan },
            },
            Status = new V1JobStatus { Succeeded = 1, Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }] },
        });
        webhook = await TestWebhook.StartAsync(api);
        var plans = webhook.Services.GetRequiredService<AppliedPlans>();
        var warm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        plans.BecameWarm += () => warm.TrySetResult();
        if (plans.IsWarm)
        {
            warm.TrySetResult();
        }

        await warm.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async Task DisposeAsync()
    {
        await webhook.DisposeAsync();
        await api.DisposeAsync();
    }

    private static JsonObject Pod(string? plan) =>
        AdmissionReviewBodies.Pod("team-a", "shop", plan is null ? null : new Dictionary<string, string> { ["gatekeeper.dev/plan"] = plan });

    [Fact]
    public async Task A_new_pod_whose_plan_is_pending_is_gated()
    {
        var pod = Pod(PendingPlan);
        var body = AdmissionReviewBodies.Review("CREATE", pod, uid: "a8f2e3a7-0000-4000-8000-000000000001");

        var response = await AdmissionReviewResponse.ReadAsync(await webhook.PostAsync("/mutate/pods", body));

        Assert.Equal("a8f2e3a7-0000-4000-8000-000000000001", response.Uid);
        Assert.True(response.Allowed);
        Assert.Equal("JSONPatch", response.PatchType);
        var patched = JsonPatchApplier.Apply(pod, response.Patch!);
        Assert.Equal("gatekeeper.dev/migration", patched["spec"]!["schedulingGates"]![0]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_answer_carries_its_length_instead_of_a_chunked_body()
    {
        // One write per answer: a chunked body would need a second write for its last chunk.
        using var answer = await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", Pod(PendingPlan)));
        var bytes = await answer.Content.ReadAsByteArrayAsync();

        Assert.Equal(bytes.Length, answer.Content.Headers.ContentLength);
        Assert.NotEqual(true, answer.Headers.TransferEncodingChunked);
    }

    [Fact]
    public async Task A_new_pod_whose_plan_was_applied_is_not_gated()
    {
        var response = await AdmissionReviewResponse.ReadAsync(
            await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", Pod(AppliedPlan))));

        Assert.True(response.Allowed);
        Assert.Null(response.Patch);
        Assert.Null(response.PatchType);
    }

    [Fact]
    public async Task Pods_created_after_the_plans_job_succeeded_are_no_longer_gated()
    {
        const string plan = "3333333333333333333333333333333333333333333333333333333333333333";
        var plans = webhook.Services.GetRequiredService<AppliedPlans>();
        var before = await AdmissionReviewResponse.ReadAsync(await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", Pod(plan))));
        Assert.NotNull(before.Patch);

        var applied = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        plans.PlanApplied += key => applied.TrySetResult(key);
        api.Put(new V1Job
        {
            Metadata = new V1ObjectMeta
            {
                Name = "shop-migrate-3333333333",
                NamespaceProperty = "team-a",
                Labels = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = plan[..63] },
                Annotations = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = plan },
            },
            Status = new V1JobStatus { Succeeded = 1, Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }] },
        });
        await applied.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var after = await AdmissionReviewResponse.ReadAsync(await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", Pod(plan))));

        Assert.True(after.Allowed);
        Assert.Null(after.Patch);
    }

    [Fact]
    public async Task Pods_without_a_plan_and_pod_updates_pass_untouched()
    {
        var unmanaged = await AdmissionReviewResponse.ReadAsync(
            await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", Pod(null))));
        var update = await AdmissionReviewResponse.ReadAsync(
            await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("UPDATE", Pod(PendingPlan), Pod(PendingPlan))));

        Assert.True(unmanaged.Allowed);
        Assert.Null(unmanaged.Patch);
        Assert.True(update.Allowed);
        Assert.Null(update.Patch);
    }

    [Fact]
    public async Task Pod_answers_need_no_api_server_round_trip()
    {
        for (var i = 0; i < 20; i++)
        {
            await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", Pod(i % 2 == 0 ? PendingPlan : AppliedPlan)));
        }

        // Only the Job list and watch, which feed the in-memory answer.
        Assert.All(api.Requests, r => Assert.Equal("/apis/batch/v1/jobs", r.Path));
    }
}
