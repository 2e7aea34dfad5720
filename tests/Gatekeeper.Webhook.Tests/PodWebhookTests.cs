using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The pod webhook over HTTPS: it answers from the applied plans every replica reads from the opted-in Deployments'
/// records (their status), before it is ready, with no API or database call per pod.
/// </summary>
public sealed class PodWebhookTests : IAsyncLifetime
{
    private const string AppliedPlan = "1111111111111111111111111111111111111111111111111111111111111111";
    private const string PendingPlan = "2222222222222222222222222222222222222222222222222222222222222222";
    private KubeApiServerDouble api = null!;
    private TestWebhook webhook = null!;

    public async Task InitializeAsync()
    {
        api = await KubeApiServerDouble.StartAsync();
        // A plan applied long ago: its Job is gone (TTL) and this webhook replica has just started. The Deployment's
        // record is all that is left, and all it needs.
        api.Put(Deployment("team-a", "shop", AppliedPlan));
        webhook = await TestWebhook.StartAsync(api);
        var plans = webhook.Services.GetRequiredService<AppliedPlans>();
        var warm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        plans.BecameWarm += () => warm.TrySetResult();
        if (plans.IsWarm)
        {
            warm.TrySetResult();
        }

        await warm.Task.WaitAsync(Gatekeeper.Tests.Patience.Default);
    }

    public async Task DisposeAsync()
    {
        await webhook.DisposeAsync();
        await api.DisposeAsync();
    }

    /// <summary>An opted-in Deployment whose status records <paramref name="applied"/> as applied.</summary>
    internal static V1Deployment Deployment(string @namespace, string name, params string[] applied)
    {
        var status = new DeploymentStatus(RolloutState.Ready, StatusReasons.Applied, "applied", applied.FirstOrDefault(), null, DateTimeOffset.UnixEpoch) { AppliedPlans = applied };
        var (migrated, record) = DeploymentRecord.Conditions(status, DateTimeOffset.UnixEpoch);
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = @namespace,
                Annotations = new Dictionary<string, string> { [GatekeeperNames.Migrations] = name + "-migrations" },
            },
            Spec = new V1DeploymentSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "shop:1" }] },
                },
            },
            Status = new V1DeploymentStatus { Conditions = [migrated, record] },
        };
    }

    private static JsonObject Pod(string? plan, string @namespace = "team-a", string owner = "shop") =>
        AdmissionReviewBodies.Pod(@namespace, owner, plan is null ? null : new Dictionary<string, string> { ["gatekeeper.dev/plan"] = plan });

    private async Task<bool> GatedAsync(JsonObject pod)
    {
        var response = await AdmissionReviewResponse.ReadAsync(await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", pod)));
        Assert.True(response.Allowed);
        return response.Patch is not null;
    }

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
    public async Task A_replacement_pod_of_a_plan_its_record_names_is_not_gated_though_its_job_is_long_gone()
    {
        var response = await AdmissionReviewResponse.ReadAsync(
            await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", Pod(AppliedPlan))));

        Assert.True(response.Allowed);
        Assert.Null(response.Patch);
        Assert.Null(response.PatchType);
        Assert.Empty(api.List<V1Job>());
    }

    [Fact]
    public async Task A_plan_applied_for_one_namespace_holds_the_same_plan_in_another()
    {
        // Another team on the same database server gets the same hash only for the same schema and user; even then, its
        // pods wait for their own Deployment's record.
        Assert.True(await GatedAsync(Pod(AppliedPlan, @namespace: "team-b")));
        Assert.True(await GatedAsync(Pod(AppliedPlan, owner: "shop-admin")));
    }

    [Fact]
    public async Task A_forged_succeeded_job_releases_nothing()
    {
        var plans = webhook.Services.GetRequiredService<AppliedPlans>();
        foreach (var ns in new[] { "team-a", "attacker" })
        {
            api.Put(new V1Job
            {
                Metadata = new V1ObjectMeta
                {
                    Name = "gk-migrate-shop-2222222222",
                    NamespaceProperty = ns,
                    Labels = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = PendingPlan[..63], ["app.kubernetes.io/managed-by"] = "gatekeeper" },
                    Annotations = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = PendingPlan, ["gatekeeper.dev/deployment"] = "shop" },
                },
                Status = new V1JobStatus { Succeeded = 1, Conditions = [new V1JobCondition { Type = "Complete", Status = "True" }] },
            });
        }

        Assert.True(await GatedAsync(Pod(PendingPlan)));
        Assert.Equal(PlanStanding.NotApplied, plans.Standing("team-a", "shop", null, PendingPlan));
    }

    [Fact]
    public async Task Pods_created_after_the_record_names_the_plan_are_no_longer_gated()
    {
        const string plan = "3333333333333333333333333333333333333333333333333333333333333333";
        var plans = webhook.Services.GetRequiredService<AppliedPlans>();
        Assert.True(await GatedAsync(Pod(plan)));

        var applied = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        plans.PlanApplied += (_, _, key) => applied.TrySetResult(key);
        var current = api.Get<V1Deployment>("team-a", "shop")!;
        current.Status = Deployment("team-a", "shop", plan, AppliedPlan).Status;
        api.Put(current);
        Assert.Equal(plan, await applied.Task.WaitAsync(Gatekeeper.Tests.Patience.Default));

        Assert.False(await GatedAsync(Pod(plan)));
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

        // Only the list and watch of the Deployments, which feed the in-memory answer.
        Assert.All(api.Requests, r => Assert.Equal("/apis/apps/v1/deployments", r.Path));
    }
}
