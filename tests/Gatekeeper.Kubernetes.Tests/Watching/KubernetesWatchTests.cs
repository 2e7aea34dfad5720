using System.Net;
using System.Text;
using Gatekeeper.Kubernetes.Watching;
using Gatekeeper.Tests.ApiServerDouble;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests.Watching;

/// <summary>
/// Gatekeeper's own watch streaming (KubernetesClient.Aot has none): the event lines as the API server writes them,
/// and a watch through KubernetesApi against the API double.
/// </summary>
public sealed class KubernetesWatchTests : IAsyncLifetime
{
    private KubeApiServerDouble api = null!;

    public async Task InitializeAsync() => api = await KubeApiServerDouble.StartAsync();

    public async Task DisposeAsync() => await api.DisposeAsync();

    private static async Task<(List<(WatchEventType Type, V1Job Job)> Events, List<Exception> Errors)> ReadAsync(string body)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(body));
        var errors = new List<Exception>();
        var events = new List<(WatchEventType, V1Job)>();
        await foreach (var item in KubernetesWatch.ReadEventsAsync(stream, "jobs", KubernetesModelJson.Default.V1Job, errors.Add, CancellationToken.None))
        {
            events.Add(item);
        }

        return (events, errors);
    }

    private static string Line(string type, string name, string version) =>
        $"{{\"type\":\"{type}\",\"object\":{{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"shop\",\"resourceVersion\":\"{version}\"}}}}}}";

    [Fact]
    public async Task Every_kind_of_event_line_is_read_in_order_and_bookmarks_carry_their_resource_version()
    {
        var body = string.Join("\n",
            Line("ADDED", "a", "11"),
            Line("MODIFIED", "a", "12") + "\r",
            "",
            "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Job\",\"apiVersion\":\"batch/v1\",\"metadata\":{\"resourceVersion\":\"15\"}}}",
            Line("DELETED", "a", "16"));

        var (events, errors) = await ReadAsync(body);

        Assert.Empty(errors);
        Assert.Equal(
            [(WatchEventType.Added, "11"), (WatchEventType.Modified, "12"), (WatchEventType.Bookmark, "15"), (WatchEventType.Deleted, "16")],
            events.Select(e => (e.Type, e.Job.Metadata.ResourceVersion)));
        Assert.Equal("a", events[^1].Job.Metadata.Name);
    }

    [Fact]
    public async Task An_error_event_goes_to_the_error_callback_with_the_servers_status()
    {
        var body = Line("ADDED", "a", "11") + "\n"
            + "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: 3\",\"reason\":\"Expired\",\"code\":410}}\n";

        var (events, errors) = await ReadAsync(body);

        Assert.Single(events);
        var error = Assert.IsType<KubernetesException>(Assert.Single(errors));
        Assert.Equal(410, error.Status.Code);
        Assert.Equal("Expired", error.Status.Reason);
    }

    [Fact]
    public async Task A_line_that_is_not_a_watch_event_is_an_error_not_a_silent_skip()
    {
        await Assert.ThrowsAsync<InvalidDataException>(async () => await ReadAsync("{\"kind\":\"JobList\",\"items\":[]}\n"));
        await Assert.ThrowsAsync<InvalidDataException>(async () => await ReadAsync("{\"type\":\"SOMETHING\",\"object\":{}}\n"));
    }

    [Fact]
    public async Task A_watch_through_the_client_resumes_after_the_listed_version_and_sees_later_changes()
    {
        api.Put(new V1Job { Metadata = new V1ObjectMeta { Name = "before", NamespaceProperty = "shop", Labels = new Dictionary<string, string> { [GatekeeperNames.PlanLabel] = "p" } } });
        using var client = api.CreateApi();
        var listed = await client.ListJobForAllNamespacesAsync(labelSelector: GatekeeperNames.PlanLabel);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        api.WatchStarted += () => started.TrySetResult();
        var seen = new List<string>();
        var watching = Task.Run(async () =>
        {
            await foreach (var (type, job) in client.WatchListJobForAllNamespacesAsync(listed.Metadata.ResourceVersion, onError: null, stop.Token, labelSelector: GatekeeperNames.PlanLabel))
            {
                seen.Add($"{type} {job.Metadata.Name}");
                if (seen.Count == 2)
                {
                    return;
                }
            }
        });
        await started.Task.WaitAsync(stop.Token);

        api.Put(new V1Job { Metadata = new V1ObjectMeta { Name = "unlabelled", NamespaceProperty = "shop" } });
        api.Put(new V1Job { Metadata = new V1ObjectMeta { Name = "after", NamespaceProperty = "shop", Labels = new Dictionary<string, string> { [GatekeeperNames.PlanLabel] = "p" } } });
        api.Update<V1Job>("shop", "after", job => job.Metadata.Annotations = new Dictionary<string, string> { ["x"] = "y" });
        await watching.WaitAsync(stop.Token);

        Assert.Equal(["Added after", "Modified after"], seen);
        var request = Assert.Single(api.Requests, r => r.Path == "/apis/batch/v1/jobs" && r.Query.Contains("watch=true", StringComparison.Ordinal));
        Assert.Contains("allowWatchBookmarks=true", request.Query, StringComparison.Ordinal);
        Assert.Contains($"resourceVersion={listed.Metadata.ResourceVersion}", request.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_watch_throws_the_same_exception_as_the_typed_operations()
    {
        api.Fail("/apis/batch/v1/jobs", HttpStatusCode.Forbidden);
        using var client = api.CreateApi();

        var refused = await Assert.ThrowsAsync<HttpOperationException>(async () =>
        {
            await foreach (var _ in client.WatchListJobForAllNamespacesAsync(null, onError: null, CancellationToken.None))
            {
            }
        });

        Assert.Equal(HttpStatusCode.Forbidden, refused.Response.StatusCode);
    }
}
