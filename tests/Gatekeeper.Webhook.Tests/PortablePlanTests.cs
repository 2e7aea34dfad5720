using System.Text.Json.Nodes;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using Microsoft.Extensions.DependencyInjection;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The two names of a plan, on both engines, end to end: the plan hash <c>gatekeeper plan</c> prints in CI against a
/// copy with the same history is the one a reviewer approves for production (<c>gatekeeper.dev/approve-plan</c>), and
/// the Job admitted under it applies; the pod template is stamped with the release key, which keeps the database's
/// identity, so a Deployment moved to a restored copy with the same history waits for a Job of its own.
/// </summary>
public sealed class PortablePlanTests
{
    private static readonly Dictionary<string, string> Applied = new() { ["V1__legacy.sql"] = "CREATE TABLE legacy_orders (id bigint NOT NULL PRIMARY KEY);\n" };

    private static readonly Dictionary<string, string> WithDrop = new(Applied) { ["V2__drop_legacy.sql"] = "DROP TABLE legacy_orders;\n" };

    private static Task<TestDatabase> CreateDatabaseAsync(string engine) =>
        engine == "postgres" ? TestDatabase.CreatePostgresAsync() : TestDatabase.CreateMySqlAsync();

    /// <summary>Writes the files to a directory of their own and runs the CLI on it in process.</summary>
    private static async Task<(int ExitCode, string Output, string Errors)> CliAsync(IDictionary<string, string> files, params string[] arguments)
    {
        var directory = Directory.CreateTempSubdirectory("gk-portable-").FullName;
        try
        {
            foreach (var (name, text) in files)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, name), text);
            }

            var output = new StringWriter();
            var errors = new StringWriter();
            var exitCode = await Cli.GatekeeperCommandLine.InvokeAsync([arguments[0], "--dir", directory, .. arguments[1..]], output, errors);
            OutputCapture.Record(OutputCapture.CliOutput, string.Join(' ', arguments[..1]), $"exit {exitCode}\n{output}\n{errors}");
            return (exitCode, output.ToString(), errors.ToString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task MigrateAsync(IDictionary<string, string> files, string url)
    {
        var run = await CliAsync(files, "migrate", "--url", url);
        Assert.True(run.ExitCode == 0, run.Output + run.Errors);
    }

    private static async Task<JsonObject> PlanJsonAsync(IDictionary<string, string> files, string url)
    {
        var run = await CliAsync(files, "plan", "--url", url, "--output", "json");
        return JsonNode.Parse(run.Output)!.AsObject();
    }

    private static async Task<bool> GatedAsync(DeploymentScenario scenario, string stamp)
    {
        var pod = AdmissionReviewBodies.Pod(DeploymentScenario.Namespace, "shop", new Dictionary<string, string> { [GatekeeperNames.Plan] = stamp });
        var response = await AdmissionReviewResponse.ReadAsync(await scenario.Webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", pod)));
        Assert.True(response.Allowed);
        return response.Patch is not null;
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task An_approval_made_against_a_CI_copy_admits_the_same_plan_in_production_and_its_job_applies_it(string engine)
    {
        await using var production = await DeploymentScenario.StartAsync(engine);
        await using var ci = await CreateDatabaseAsync(engine);
        // Two databases with the same history, reached by different names, users and servers' database names.
        await MigrateAsync(Applied, production.Database!.Url);
        await MigrateAsync(Applied, ci.Url);

        var inCi = await PlanJsonAsync(WithDrop, ci.Url);
        var inProduction = await PlanJsonAsync(WithDrop, production.Database.Url);
        var approval = inCi["hash"]!.GetValue<string>();

        Assert.Equal("LintRejected", inCi["verdict"]!["reason"]!.GetValue<string>());
        Assert.Equal(approval, inProduction["hash"]!.GetValue<string>());
        Assert.NotEqual(inCi["releaseKey"]!.GetValue<string>(), inProduction["releaseKey"]!.GetValue<string>());

        production.PutMigrations(WithDrop);
        var unapproved = await production.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));
        Assert.False(unapproved.Admitted);
        Assert.Contains($"gatekeeper.dev/approve-plan: \"{approval}\"", unapproved.Denial, StringComparison.Ordinal);

        var approved = await production.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn((GatekeeperNames.ApprovePlan, approval))));

        Assert.True(approved.Admitted, approved.Denial);
        Assert.Contains(approved.Warnings, w => w.Contains($"plan {approval} is approved by gatekeeper.dev/approve-plan", StringComparison.Ordinal));
        Assert.Equal(inProduction["releaseKey"]!.GetValue<string>(), approved.PlanStamp);

        // The Job is handed the release key and applies the plan it names, findings approved where it was judged.
        var (exitCode, output, _) = await production.RunMigrationJobAsync(approved);

        Assert.True(exitCode == 0, output);
        Assert.Contains("is the expected plan (--expect-plan)", output, StringComparison.Ordinal);
        Assert.Equal(0L, Convert.ToInt64(await production.Database.ScalarAsync(
            $"SELECT count(*) FROM information_schema.tables WHERE table_schema = {(engine == "postgres" ? "'public'" : "DATABASE()")} AND table_name = 'legacy_orders'"),
            System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task A_plan_from_another_applied_history_has_another_hash_and_its_approval_does_not_hold(string engine)
    {
        await using var production = await DeploymentScenario.StartAsync(engine);
        await using var ci = await CreateDatabaseAsync(engine);
        await MigrateAsync(Applied, production.Database!.Url);
        // The CI database never had V1's table: its history is empty, and V1 is part of what it would apply.
        var fromEmpty = await PlanJsonAsync(WithDrop, ci.Url);
        var fromV1 = await PlanJsonAsync(WithDrop, production.Database.Url);

        Assert.NotEqual(fromEmpty["hash"]!.GetValue<string>(), fromV1["hash"]!.GetValue<string>());

        production.PutMigrations(WithDrop);
        var denied = await production.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn((GatekeeperNames.ApprovePlan, fromEmpty["hash"]!.GetValue<string>()))));

        Assert.False(denied.Admitted);
        Assert.Contains("is unsafe", denied.Denial, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task A_deployment_moved_to_a_restored_copy_with_the_same_history_waits_for_a_job_of_its_own(string engine)
    {
        await using var scenario = await DeploymentScenario.StartAsync(engine);
        await using var restored = await CreateDatabaseAsync(engine);
        scenario.PutMigrations(Applied);
        var plans = scenario.Webhook.Services.GetRequiredService<AppliedPlans>();
        const string uid = "5d7f3a52-7a4e-4c43-9f0e-2b0c4b1f6a10";

        var first = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));
        Assert.True(first.Admitted, first.Denial);
        var (exitCode, output, firstJob) = await scenario.RunMigrationJobAsync(first);
        Assert.True(exitCode == 0, output);
        // What the controller records once that Job succeeded: the stamp is applied for this Deployment.
        plans.Record(DeploymentScenario.Namespace, "shop", uid, [first.PlanStamp!]);
        Assert.False(await GatedAsync(scenario, first.PlanStamp!));

        // The Secret now names a copy restored from before the Job ran: the same history, so the same plan.
        scenario.PutSecret(DeploymentScenario.SecretName, new Dictionary<string, string> { ["url"] = restored.Url });
        var moved = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(), image: "ghcr.io/example/shop:1.1.0"), first.Stored);

        Assert.True(moved.Admitted, moved.Denial);
        Assert.NotEqual(first.PlanStamp, moved.PlanStamp);
        Assert.Equal(first.PlanStamp![..32], moved.PlanStamp![..32]);
        Assert.True(await GatedAsync(scenario, moved.PlanStamp), "a pod of the moved Deployment is held until the copy is migrated");

        var (copyExit, copyOutput, copyJob) = await scenario.RunMigrationJobAsync(moved, url: restored.Url);

        Assert.True(copyExit == 0, copyOutput);
        Assert.NotEqual(firstJob.Metadata.Name, copyJob.Metadata.Name);
        Assert.Contains("Applied 1 migration", copyOutput, StringComparison.Ordinal);
        Assert.Equal(1L, Convert.ToInt64(await restored.ScalarAsync(
            $"SELECT count(*) FROM information_schema.tables WHERE table_schema = {(engine == "postgres" ? "'public'" : "DATABASE()")} AND table_name = 'legacy_orders'"),
            System.Globalization.CultureInfo.InvariantCulture));
    }
}
