using System.Text.Json;
using Gatekeeper.Kubernetes.Deployments;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class RolloutCapacityTests
{
    private static readonly TimeSpan ThirtyMinutes = TimeSpan.FromMinutes(30);

    /// <summary>A Deployment's spec as JSON; fields left out are what the mutating webhook may see unset.</summary>
    private static RolloutShape Shape(string spec) =>
        RolloutShape.Read(JsonDocument.Parse($"{{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"spec\":{spec}}}").RootElement);

    /// <summary>One row: the spec, the Job timeout, how many pods serve during the migration (null: no capacity problem), and whether the deadline warns.</summary>
    public sealed record Case(string Spec, TimeSpan Timeout, int? Serving, bool Deadline);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["4 replicas at 25%/25%: maxUnavailable rounds down to 1, so 3 serve"] = new(
            """{"replicas":4,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"progressDeadlineSeconds":1800}""", ThirtyMinutes, 3, false),
        ["2 replicas at 25%/25%: 0.5 rounds down to 0 unavailable, so nothing is lost"] = new(
            """{"replicas":2,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"progressDeadlineSeconds":1800}""", ThirtyMinutes, null, false),
        ["10 replicas at 25%: 2.5 rounds down to 2, so 8 serve"] = new(
            """{"replicas":10,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},"progressDeadlineSeconds":1800}""", ThirtyMinutes, 8, false),
        ["1 replica with maxSurge 0 and maxUnavailable 25%: both 0, so Kubernetes stops the one pod"] = new(
            """{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":0}},"progressDeadlineSeconds":1800}""", ThirtyMinutes, 0, false),
        ["1 replica with maxSurge 1%: the surge rounds up to 1, so nothing is lost"] = new(
            """{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"1%"}},"progressDeadlineSeconds":1800}""", ThirtyMinutes, null, false),
        ["An integer maxUnavailable above the replicas stops them all"] = new(
            """{"replicas":3,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":5,"maxSurge":1}},"progressDeadlineSeconds":1800}""", ThirtyMinutes, 0, false),
        ["An integer maxUnavailable counts pods"] = new(
            """{"replicas":3,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":1}},"progressDeadlineSeconds":1800}""", ThirtyMinutes, 2, false),
        ["Recreate serves nothing"] = new(
            """{"replicas":3,"strategy":{"type":"Recreate"},"progressDeadlineSeconds":1800}""", ThirtyMinutes, 0, false),
        ["Unset fields take the API server's defaults: 1 replica at 25%/25% loses none, the 600 s deadline is below 30m"] = new(
            "{}", ThirtyMinutes, null, true),
        ["A rollingUpdate without values takes 25%/25%"] = new(
            """{"replicas":4,"strategy":{"type":"RollingUpdate"}}""", TimeSpan.FromMinutes(10), 3, false),
        ["A deadline equal to the job timeout does not warn"] = new(
            """{"replicas":2,"progressDeadlineSeconds":1800}""", ThirtyMinutes, null, false),
        ["A deadline one second below the job timeout warns"] = new(
            """{"replicas":2,"progressDeadlineSeconds":1799}""", ThirtyMinutes, null, true),
        ["Zero replicas lose nothing and wait for nothing"] = new(
            """{"replicas":0,"strategy":{"type":"Recreate"}}""", ThirtyMinutes, null, false),
        ["An unreadable maxUnavailable is left to the API server, which refuses it"] = new(
            """{"replicas":4,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"a lot","maxSurge":1}},"progressDeadlineSeconds":1800}""", ThirtyMinutes, null, false),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_capacity_table_holds(string name)
    {
        var row = Cases[name];

        var judgement = RolloutCapacity.Judge(Shape(row.Spec), row.Timeout, CapacityPolicy.Warn, "shop/web");

        var capacity = judgement.Problems.Where(p => p.Contains("serve", StringComparison.Ordinal) && !p.Contains("progressDeadlineSeconds", StringComparison.Ordinal)).ToList();
        if (row.Serving is { } serving)
        {
            var warning = Assert.Single(capacity);
            Assert.True(warning.Contains($"{serving} of ", StringComparison.Ordinal) || (serving == 0 && warning.Contains("nothing serves", StringComparison.Ordinal)), warning);
        }
        else
        {
            Assert.Empty(capacity);
        }

        Assert.Equal(row.Deadline, judgement.Problems.Any(p => p.Contains("ProgressDeadlineExceeded", StringComparison.Ordinal)));
        Assert.Null(judgement.Denial);
    }

    [Fact]
    public void Deny_refuses_with_every_problem_and_how_to_proceed()
    {
        var judgement = RolloutCapacity.Judge(Shape("""{"replicas":3,"strategy":{"type":"Recreate"}}"""), ThirtyMinutes, CapacityPolicy.Deny, "shop/web");

        Assert.Equal(2, judgement.Problems.Count);
        var lines = judgement.Denial!.Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("gatekeeper: shop/web is refused because its capacity policy is deny", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("  shop/web uses strategy Recreate", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("  shop/web's migration Job may run 30m", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("To proceed:", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public void Deny_with_nothing_wrong_admits()
    {
        var judgement = RolloutCapacity.Judge(Shape("""{"replicas":3,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":0,"maxSurge":1}},"progressDeadlineSeconds":3600}"""),
            ThirtyMinutes, CapacityPolicy.Deny, "shop/web");

        Assert.Same(CapacityJudgement.Fine, judgement);
    }

    [Fact]
    public void A_paused_deployment_is_read_as_paused()
    {
        Assert.True(Shape("""{"paused":true}""").Paused);
        Assert.False(Shape("{}").Paused);
    }
}
