namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// Opting in a Deployment that already runs (the annotations added, the pod template unchanged): no rollout follows,
/// so nothing may run now, but the person who added the annotations learns what the next rollout will run.
/// </summary>
public sealed class OptInExistingDeploymentTests
{
    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task Opting_in_a_running_deployment_names_the_migrations_its_next_rollout_runs_and_starts_nothing(string engine)
    {
        await using var scenario = await DeploymentScenario.StartAsync(engine);
        scenario.PutMigrations(new Dictionary<string, string>
        {
            ["V1__customers.sql"] = "CREATE TABLE customers (id bigint PRIMARY KEY);\n",
            ["V2__orders.sql"] = "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
        });
        var running = DeploymentScenario.Deployment(null);
        var optedIn = DeploymentScenario.Deployment(DeploymentScenario.OptIn());

        var result = await scenario.ApplyAsync(optedIn, running);
        var reapplied = await scenario.ApplyAsync(optedIn, result.Stored);

        Assert.True(result.Admitted, result.Denial);
        // No stamp on the template: stamping it would start a rollout the person did not ask for.
        Assert.Null(result.Mutation.Patch);
        var warning = Assert.Single(result.Warnings, w => w.Contains("waits for the next rollout", StringComparison.Ordinal));
        Assert.Matches(@"^gatekeeper: plan [0-9a-f]{12} for team-a/shop waits for the next rollout: the Deployment is opted in now, but its pod template did not change, so no rollout follows and nothing runs yet; 2 pending migrations \(1, 2\) run at the next rollout, judged by Gatekeeper then \(to run them now: kubectl -n team-a rollout restart deployment/shop\)$", warning);
        Assert.Equal(0L, Convert.ToInt64(await scenario.Database!.ScalarAsync(
            $"SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'customers' AND table_schema = {(engine == "postgres" ? "current_schema()" : "DATABASE()")}"),
            System.Globalization.CultureInfo.InvariantCulture));
        // Once opted in, an update that changes nothing of the template stays silent, as before.
        Assert.True(reapplied.Admitted, reapplied.Denial);
        Assert.DoesNotContain(reapplied.Warnings, w => w.Contains("next rollout", StringComparison.Ordinal));
    }
}
