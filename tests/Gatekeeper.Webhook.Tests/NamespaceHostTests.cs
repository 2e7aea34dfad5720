using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Kubernetes.Sources;
using Gatekeeper.Webhook.Rollouts;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The webhook runs in Gatekeeper's namespace, the migration Job in the application's: a short host in the application's
/// Secret (<c>postgres:5432</c>) is the Service of the application's namespace for both, never one of Gatekeeper's.
/// </summary>
public sealed class NamespaceHostTests
{
    private const string Password = "s3cret-short-host";

    [Fact]
    public async Task A_short_host_is_connected_to_in_the_deployments_namespace_while_the_plan_names_it_as_the_job_does()
    {
        await using var pools = new DatabaseConnectionPools();
        var database = new EnginePlanningDatabase(NullLoggerFactory.Instance, TimeProvider.System, pools);
        const string url = "postgres://app:" + Password + "@shop-db:5432/shop?search_path=app";

        var resolved = database.Resolve(new SecretValue(url), "team-a", "flyway_schema_history", MigrationFormat.Flyway);

        Assert.Equal("shop-db.team-a.svc", resolved.Target!.Url.Host);
        // The Job reads the same Secret in its own namespace and hashes the plan with the same identity.
        Assert.Equal(DatabaseUrl.Parse(url).ToIdentity("flyway_schema_history"), resolved.Target.Identity);
        Assert.True(resolved.Target.HostQualified);
        Assert.False(database.Resolve(new SecretValue("postgres://app:x@shop-db.data.svc:5432/shop"), "team-a", "flyway_schema_history", null).Target!.HostQualified);
    }

    [Fact]
    public async Task A_short_host_that_does_not_resolve_is_denied_naming_the_name_looked_up_and_the_namespace()
    {
        await using var scenario = await DeploymentScenario.StartAsync(engine: null);
        scenario.PutMigrations(new Dictionary<string, string> { ["V1__create_customers.sql"] = "CREATE TABLE customers (id bigint PRIMARY KEY);\n" });
        scenario.PutSecret("short-host", new Dictionary<string, string> { ["url"] = $"postgres://app:{Password}@gk-no-such-db:5432/shop" });

        var admission = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/database-secret", "short-host"))));

        Assert.False(admission.Admitted);
        Assert.Contains("gk-no-such-db.team-a.svc:5432", admission.Denial, StringComparison.Ordinal);
        Assert.Contains("the Secret's host gk-no-such-db is looked up as gk-no-such-db.team-a.svc, in the Deployment's namespace", admission.Denial, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, admission.Denial, StringComparison.Ordinal);
    }
}
