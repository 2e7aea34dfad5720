using System.Reflection;
using Gatekeeper.Tests.SimulatedCluster;

namespace Gatekeeper.Cluster.Tests;

/// <summary>The scenario suite and tests/e2e/scenarios.txt (read by the kind suite too) list the same scenarios.</summary>
public sealed class ScenarioListTests
{
    private static readonly Type[] ScenarioClasses = [typeof(RolloutScenarios), typeof(RecoveryScenarios), typeof(TrustScenarios)];

    [Fact]
    public void Every_listed_scenario_has_one_test_here_and_every_scenario_test_is_listed()
    {
        var listed = File.ReadAllLines(Path.Combine(HelmChart.RepositoryRoot, "tests", "e2e", "scenarios.txt"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries)[0])
            .ToList();
        var tests = ScenarioClasses
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(method => method.GetCustomAttributes<FactAttribute>().Any())
            .Select(method => method.Name[..method.Name.IndexOf('_', StringComparison.Ordinal)])
            .ToList();

        Assert.Equal(listed.Count, listed.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(listed.Order(StringComparer.Ordinal), tests.Order(StringComparer.Ordinal));
    }
}
