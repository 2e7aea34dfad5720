using System.Reflection;

namespace Gatekeeper.Core.Tests;

public sealed class CorePurityTests
{
    [Fact]
    public void Core_references_no_web_kubernetes_or_database_driver_assembly()
    {
        var forbidden = new[] { "Microsoft.AspNetCore", "KubernetesClient", "k8s", "Npgsql", "MySqlConnector", "System.Data" };
        var core = typeof(Gatekeeper.Core.Planning.MigrationPlanner).Assembly;

        var offending = core.GetReferencedAssemblies()
            .Select(reference => reference.Name ?? string.Empty)
            .Where(name => forbidden.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            .ToList();

        Assert.True(offending.Count == 0, $"Gatekeeper.Core must stay pure but references: {string.Join(", ", offending)}");
        Assert.NotEmpty(core.GetReferencedAssemblies());
    }
}
