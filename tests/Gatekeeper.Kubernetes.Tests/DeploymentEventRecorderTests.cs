using System.Text.Json;
using Gatekeeper.Kubernetes.Events;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class DeploymentEventRecorderTests : IAsyncLifetime
{
    private KubeApiServerDouble api = null!;

    public async Task InitializeAsync() => api = await KubeApiServerDouble.StartAsync();

    public async Task DisposeAsync() => await api.DisposeAsync();

    [Fact]
    public async Task An_event_names_the_deployment_its_reason_and_a_message_cut_to_the_api_limit()
    {
        var time = new SignallingTimeProvider();
        var recorder = new DeploymentEventRecorder(api.CreateApi(), time);

        await recorder.RecordAsync("team-a", "shop", EventSeverity.Warning, "PlanRejected", new string('x', 5000), CancellationToken.None);

        var request = Assert.Single(api.RequestsTo("POST", "/api/v1/namespaces/team-a/events"));
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        Assert.Equal("Deployment", root.GetProperty("involvedObject").GetProperty("kind").GetString());
        Assert.Equal("shop", root.GetProperty("involvedObject").GetProperty("name").GetString());
        Assert.Equal("apps/v1", root.GetProperty("involvedObject").GetProperty("apiVersion").GetString());
        Assert.Equal("shop.", root.GetProperty("metadata").GetProperty("generateName").GetString());
        Assert.Equal("Warning", root.GetProperty("type").GetString());
        Assert.Equal("PlanRejected", root.GetProperty("reason").GetString());
        Assert.Equal(DeploymentEventRecorder.MaxMessageLength, root.GetProperty("message").GetString()!.Length);
        Assert.Equal(time.GetUtcNow().UtcDateTime, root.GetProperty("firstTimestamp").GetDateTime().ToUniversalTime(), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task An_event_on_an_existing_deployment_carries_its_uid_so_kubectl_describe_lists_it()
    {
        var recorder = new DeploymentEventRecorder(api.CreateApi(), new SignallingTimeProvider());

        await recorder.RecordAsync("team-a", "shop", "6f1c2a8e-0d4b-4c1e-9a57-2b7d3c9e8f10", EventSeverity.Warning, "PlanRejected", "unsafe", CancellationToken.None);
        await recorder.RecordAsync("team-a", "shop", EventSeverity.Warning, "PlanRejected", "unsafe", CancellationToken.None);

        var requests = api.RequestsTo("POST", "/api/v1/namespaces/team-a/events").ToList();
        using var withUid = JsonDocument.Parse(requests[0].Body);
        using var withoutUid = JsonDocument.Parse(requests[1].Body);
        Assert.Equal("6f1c2a8e-0d4b-4c1e-9a57-2b7d3c9e8f10", withUid.RootElement.GetProperty("involvedObject").GetProperty("uid").GetString());
        Assert.False(withoutUid.RootElement.GetProperty("involvedObject").TryGetProperty("uid", out _));
    }
}
