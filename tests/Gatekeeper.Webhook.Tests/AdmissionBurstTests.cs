using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;
using Xunit.Abstractions;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// Runs alone: it compares the process's live memory before and after a burst, which another test allocating
/// at the same time would blur.
/// </summary>
[CollectionDefinition(nameof(MemoryMeasuringCollection), DisableParallelization = true)]
public sealed class MemoryMeasuringCollection;

/// <summary>
/// A thousand admission requests of every kind at once, over real HTTPS, to one webhook whose Deployment path
/// plans against a real PostgreSQL: each gets its own right answer, none a 500, and memory does not grow from
/// one burst to the next.
/// </summary>
[Collection(nameof(MemoryMeasuringCollection))]
public sealed class AdmissionBurstTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string PendingPlan = "3333333333333333333333333333333333333333333333333333333333333333";
    private DeploymentScenario scenario = null!;

    public async Task InitializeAsync()
    {
        scenario = await DeploymentScenario.StartAsync("postgres");
        scenario.PutMigrations(new Dictionary<string, string>
        {
            ["V1__create_customers.sql"] = "CREATE TABLE customers (\n  id bigint PRIMARY KEY,\n  email text NOT NULL\n);\n",
        });
    }

    public async Task DisposeAsync() => await scenario.DisposeAsync();

    private enum Kind
    {
        GatedPod,
        PlainPod,
        DeploymentWithoutOptIn,
        DeploymentWithBadAnnotations,
        DeploymentWithPlan,
        MalformedJson,
        WrongApiVersion,
        EmptyBody,
    }

    private sealed record Request(Kind Kind, string Path, string Body, string? Uid);

    /// <summary>A thousand requests, interleaved so every kind is in flight at the same time.</summary>
    private static List<Request> Requests(int burst)
    {
        var counts = new (Kind Kind, int Count)[]
        {
            (Kind.GatedPod, 400),
            (Kind.PlainPod, 200),
            (Kind.DeploymentWithoutOptIn, 150),
            (Kind.DeploymentWithBadAnnotations, 150),
            (Kind.DeploymentWithPlan, 10),
            (Kind.MalformedJson, 30),
            (Kind.WrongApiVersion, 30),
            (Kind.EmptyBody, 30),
        };
        var requests = new List<Request>();
        foreach (var (kind, count) in counts)
        {
            for (var i = 0; i < count; i++)
            {
                var uid = $"{burst:x2}{(int)kind:x2}{i:x4}-0000-4000-8000-000000000000";
                requests.Add(kind switch
                {
                    Kind.GatedPod => new(kind, "/mutate/pods", Review(AdmissionReviewBodies.Pod("team-a", "shop", new Dictionary<string, string> { ["gatekeeper.dev/plan"] = PendingPlan }), uid), uid),
                    Kind.PlainPod => new(kind, "/mutate/pods", Review(AdmissionReviewBodies.Pod("team-a", "other", null), uid), uid),
                    Kind.DeploymentWithoutOptIn => new(kind, "/mutate/deployments", Review(DeploymentScenario.Deployment(new Dictionary<string, string> { ["team"] = "shop" }), uid), uid),
                    Kind.DeploymentWithBadAnnotations => new(kind, "/mutate/deployments", Review(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/job-timeout", "forever"))), uid), uid),
                    Kind.DeploymentWithPlan => new(kind, "/mutate/deployments", Review(DeploymentScenario.Deployment(DeploymentScenario.OptIn()), uid), uid),
                    Kind.MalformedJson => new(kind, "/mutate/pods", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":", null),
                    Kind.WrongApiVersion => new(kind, "/mutate/deployments", """{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}""", null),
                    Kind.EmptyBody => new(kind, "/mutate/pods", string.Empty, null),
                    _ => throw new ArgumentOutOfRangeException(nameof(burst)),
                });
            }
        }

        // A fixed shuffle (seeded), so a failure can be replayed in the same order.
        var random = new Random(burst);
        return [.. requests.OrderBy(_ => random.Next())];
    }

    private static string Review(JsonObject obj, string uid) => AdmissionReviewBodies.Review("CREATE", obj, uid: uid);

    private static async Task<(Request Request, HttpStatusCode Status, string Body)> SendAsync(HttpClient client, Request request)
    {
        using var content = new StringContent(request.Body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(request.Path, content);
        return (request, response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<IReadOnlyList<(Request Request, HttpStatusCode Status, string Body)>> BurstAsync(HttpClient client, int burst)
    {
        var requests = Requests(burst);
        var clock = Stopwatch.StartNew();
        var answers = await Task.WhenAll(requests.Select(r => SendAsync(client, r)));
        output.WriteLine($"burst {burst}: {answers.Length} requests answered in {clock.ElapsedMilliseconds} ms");
        return answers;
    }

    private static void AssertRightAnswer((Request Request, HttpStatusCode Status, string Body) answer)
    {
        var (request, status, body) = answer;
        var what = $"{request.Kind} {request.Uid}: HTTP {(int)status} {body}";
        if (request.Uid is null)
        {
            Assert.True(status == HttpStatusCode.BadRequest, what);
            var expected = request.Kind switch
            {
                Kind.WrongApiVersion => "apiVersion is \"admission.k8s.io/v1beta1\"",
                _ => "not valid JSON",
            };
            Assert.True(body.Contains(expected, StringComparison.Ordinal), what);
            return;
        }

        Assert.True(status == HttpStatusCode.OK, what);
        var response = JsonNode.Parse(body)!["response"]!;
        Assert.True(response["uid"]!.GetValue<string>() == request.Uid, what);
        var allowed = response["allowed"]!.GetValue<bool>();
        var patch = response["patch"] is { } encoded ? Encoding.UTF8.GetString(Convert.FromBase64String(encoded.GetValue<string>())) : null;
        switch (request.Kind)
        {
            case Kind.GatedPod:
                Assert.True(allowed && patch is not null && patch.Contains("gatekeeper.dev/migration", StringComparison.Ordinal), what);
                break;
            case Kind.PlainPod:
            case Kind.DeploymentWithoutOptIn:
                Assert.True(allowed && patch is null, what);
                break;
            case Kind.DeploymentWithBadAnnotations:
                Assert.True(!allowed && response["status"]!["code"]!.GetValue<int>() == 422, what);
                Assert.True(response["status"]!["message"]!.GetValue<string>().Contains("gatekeeper.dev/job-timeout value \"forever\"", StringComparison.Ordinal), what);
                break;
            case Kind.DeploymentWithPlan:
                Assert.True(allowed && patch is not null && patch.Contains("\"gatekeeper.dev/plan\"", StringComparison.Ordinal), what);
                break;
            default:
                Assert.Fail(what);
                break;
        }
    }

    /// <summary>Sends one burst and checks every answer; returns only the plan patches, so the test keeps no burst alive.</summary>
    private async Task<IReadOnlyList<string>> BurstAndCheckAsync(HttpClient client, int burst)
    {
        var answers = await BurstAsync(client, burst);
        Assert.Equal(1000, answers.Count);
        Assert.DoesNotContain(answers, a => (int)a.Status >= 500);
        Assert.All(answers, AssertRightAnswer);
        return answers.Where(a => a.Request.Kind == Kind.DeploymentWithPlan)
            .Select(a => AdmissionReviewResponse.WithoutPlanningId(Encoding.UTF8.GetString(Convert.FromBase64String(JsonNode.Parse(a.Body)!["response"]!["patch"]!.GetValue<string>()))))
            .Distinct()
            .ToList();
    }

    [Fact]
    public async Task A_thousand_mixed_requests_at_once_each_get_their_own_right_answer_and_memory_does_not_grow()
    {
        // 1,000 requests in flight at once over 64 connections (the API server, too, reuses its connections).
        using var client = scenario.Webhook.CreateClient(maxConnections: 64);

        var stamps = await BurstAndCheckAsync(client, 1);
        stamps = [.. stamps, .. await BurstAndCheckAsync(client, 2)];
        var afterWarmUp = GC.GetTotalMemory(forceFullCollection: true);
        stamps = [.. stamps, .. await BurstAndCheckAsync(client, 3)];
        stamps = [.. stamps, .. await BurstAndCheckAsync(client, 4)];
        var afterTwoMore = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"live memory after two warm-up bursts: {afterWarmUp / 1024} KiB, after two more: {afterTwoMore / 1024} KiB");

        // Every planned Deployment got the same plan (one ConfigMap, one database), and nothing was migrated for real.
        Assert.Single(stamps.Distinct());
        Assert.Equal(0L, (long)(await scenario.Database!.ScalarAsync("SELECT count(*) FROM information_schema.tables WHERE table_name = 'customers'"))!);

        // Two warm-up bursts fill what is meant to stay (JIT, buffer pools grown to the peak, connections, the plan
        // cache; measured: about 3.7 MiB over bursts 2 and 3, then flat). Two more bursts then grow live memory by
        // tens of KiB; 8 MiB would mean about 4 KiB kept per request: requests held on to.
        Assert.True(afterTwoMore - afterWarmUp < 8L * 1024 * 1024, $"live memory grew by {(afterTwoMore - afterWarmUp) / 1024} KiB over 2,000 requests");
    }
}
