using System.Reflection;
using System.Text.RegularExpressions;
using Gatekeeper.Tests.SimulatedCluster;

namespace Gatekeeper.Cluster.Tests;

/// <summary>
/// tests/e2e/scenarios.txt is the one list of end-to-end scenarios: the scenario suite here and the kind suite
/// (tests/e2e/run-kind.sh) each have exactly one scenario per line, no more, no fewer.
/// </summary>
public sealed partial class ScenarioListTests
{
    private static readonly Type[] ScenarioClasses = [typeof(RolloutScenarios), typeof(RecoveryScenarios), typeof(TrustScenarios)];

    private static List<string> Listed() => File.ReadAllLines(Path.Combine(HelmChart.RepositoryRoot, "tests", "e2e", "scenarios.txt"))
        .Where(line => line.Length > 0 && !line.StartsWith('#'))
        .Select(line => line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries)[0])
        .ToList();

    [Fact]
    public void Every_listed_scenario_has_one_test_here_and_every_scenario_test_is_listed()
    {
        var listed = Listed();
        var tests = ScenarioClasses
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(method => method.GetCustomAttributes<FactAttribute>().Any())
            .Select(method => method.Name[..method.Name.IndexOf('_', StringComparison.Ordinal)])
            .ToList();

        Assert.Equal(listed.Count, listed.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(listed.Order(StringComparer.Ordinal), tests.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_listed_scenario_has_one_function_in_the_kind_suite_and_it_has_no_other()
    {
        var script = File.ReadAllText(Path.Combine(HelmChart.RepositoryRoot, "tests", "e2e", "run-kind.sh"));
        var functions = KindScenarioFunction().Matches(script).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal(functions.Count, functions.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Listed().Order(StringComparer.Ordinal), functions.Order(StringComparer.Ordinal));
    }

    [GeneratedRegex(@"^scenario_([A-Za-z]+)\(\) \{", RegexOptions.Multiline)]
    private static partial Regex KindScenarioFunction();
}
