using System.Text;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The webhook as docs/database-permissions.md sets it up: the Job's migrator in <c>database-secret</c>, a read-only
/// reader in <c>plan-secret</c>, the dry-run's throwaway databases made by a dev user (<c>dev-database-secret</c>), each
/// created with exactly the documented statements. No DDL reaches the target during admission unless
/// <c>dry-run: live</c> is set: on PostgreSQL an event trigger refuses every DDL statement on the target, so a dry-run
/// that reached it would fail; on MySQL the reader could not run DDL, and the structure is compared before and after.
/// </summary>
public sealed class LeastPrivilegeAdmissionTests
{
    private const string RefuseDdl = """
        CREATE FUNCTION refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'DDL reached the target database: %', tg_tag; END $$;
        CREATE EVENT TRIGGER refuse_ddl ON ddl_command_start EXECUTE FUNCTION refuse_ddl();
        """;

    private static readonly Dictionary<string, string> First = new()
    {
        ["V1__customers.sql"] = "CREATE TABLE customers (\n  id bigint PRIMARY KEY,\n  name varchar(50) NOT NULL\n);\n",
    };

    private static Dictionary<string, string> Second => new(First)
    {
        ["V2__email.sql"] = "ALTER TABLE customers ADD COLUMN email varchar(100);\nCREATE TABLE notes (\n  id bigint PRIMARY KEY,\n  body varchar(200)\n);\n",
    };

    private static async Task<(DeploymentScenario Scenario, DocumentedCredentials Users)> StartAsync(string engine, IDictionary<string, string?>? settings = null)
    {
        var scenario = await DeploymentScenario.StartAsync(engine, settings);
        var users = await DocumentedCredentials.CreateAsync(scenario.Database!.Database.Engine, scenario.Database.Name);
        scenario.PutSecret(DeploymentScenario.SecretName, new Dictionary<string, string> { ["url"] = users.UrlText("migrator") });
        scenario.PutSecret("shop-reader", new Dictionary<string, string> { ["url"] = users.UrlText("reader") });
        scenario.PutSecret("shop-dev", new Dictionary<string, string> { ["url"] = users.DevServerUrl.Engine == DatabaseEngine.Postgres ? users.UrlText("dev", "postgres") : users.UrlText("dev", "gk_shadow") });
        return (scenario, users);
    }

    private static Dictionary<string, string> OptIn(params (string Key, string Value)[] extra) => DeploymentScenario.OptIn(
        [("gatekeeper.dev/plan-secret", "shop-reader"), ("gatekeeper.dev/dev-database-secret", "shop-dev"), .. extra]);

    private static async Task MigrateAsMigratorAsync(DocumentedCredentials users, IDictionary<string, string> files)
    {
        var read = MigrationDirectoryReader.Read("test files", files.Select(f => new MigrationFile(f.Key, Encoding.UTF8.GetBytes(f.Value))).ToList());
        await using var database = MigrationDatabase.Open(users.Url("migrator"));
        var result = await new MigrationRunner(database).RunAsync(read.Directory!, null, CancellationToken.None);
        Assert.True(result.Succeeded, result.Message);
    }

    private static async Task<string> StructureAsync(DeploymentScenario scenario) =>
        Convert.ToString(await scenario.Database!.ScalarAsync(
            "SELECT GROUP_CONCAT(CONCAT(TABLE_NAME, '.', COLUMN_NAME, ' ', COLUMN_TYPE) ORDER BY TABLE_NAME, ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"),
            System.Globalization.CultureInfo.InvariantCulture) + "|" + Convert.ToString(await scenario.Database.ScalarAsync(
            "SELECT GROUP_CONCAT(INDEX_NAME ORDER BY INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()"), System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task The_webhook_plans_lints_and_dry_runs_with_a_read_only_credential_and_no_ddl_reaches_the_target(string engine)
    {
        var (scenario, users) = await StartAsync(engine);
        await using var _ = scenario;
        await using var __ = users;
        scenario.PutMigrations(First);
        var first = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn()));
        Assert.True(first.Admitted, first.Denial);

        await MigrateAsMigratorAsync(users, First);
        if (engine == "postgres")
        {
            await scenario.Database!.ScalarAsync(RefuseDdl);
        }

        var before = engine == "mysql" ? await StructureAsync(scenario) : null;
        scenario.PutMigrations(Second);
        var second = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn(), image: "ghcr.io/example/shop:1.1.0"), first.Stored);

        Assert.True(second.Admitted, second.Denial);
        Assert.Contains(second.Warnings, w => w.Contains("applies 1 migration(s) (V2__email.sql)", StringComparison.Ordinal));
        Assert.DoesNotContain(second.Warnings, w => w.Contains("not dry-run", StringComparison.Ordinal) || w.Contains("could not be read", StringComparison.Ordinal));
        if (before is not null)
        {
            Assert.Equal(before, await StructureAsync(scenario));
        }

        // The Job's migrator applies what the reader admitted (DDL is welcome again).
        if (engine == "postgres")
        {
            await scenario.Database!.ScalarAsync("DROP EVENT TRIGGER refuse_ddl");
        }

        await MigrateAsMigratorAsync(users, Second);
    }

    [Fact]
    public async Task Dry_run_live_reaches_the_target_only_for_a_real_apply_never_for_a_dry_run_request()
    {
        var (scenario, users) = await StartAsync("postgres");
        await using var _ = scenario;
        await using var __ = users;
        await MigrateAsMigratorAsync(users, First);
        await scenario.Database!.ScalarAsync(RefuseDdl);
        scenario.PutMigrations(Second);
        // The live dry-run runs with the credential the webhook plans with: here the migrator, who may change the table.
        var live = DeploymentScenario.OptIn(("gatekeeper.dev/dry-run", "live"));

        var preview = await scenario.ApplyAsync(DeploymentScenario.Deployment(live), dryRun: true);
        var real = await scenario.ApplyAsync(DeploymentScenario.Deployment(live));

        Assert.True(preview.Admitted, preview.Denial);
        Assert.Contains(preview.Warnings, w => w.Contains("gatekeeper.dev/dry-run: live does not run for a dry-run request", StringComparison.Ordinal));
        Assert.False(real.Admitted);
        Assert.Contains("DDL reached the target database: ALTER TABLE", real.Denial, StringComparison.Ordinal);
        Assert.Contains("in a transaction that was rolled back", real.Denial, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task A_credential_without_a_right_it_needs_is_denied_as_configuration_with_the_grant_even_where_the_namespace_fails_open(string engine)
    {
        var (scenario, users) = await StartAsync(engine, new Dictionary<string, string?> { ["Webhook:FailOpenNamespaces:0"] = DeploymentScenario.Namespace });
        await using var _ = scenario;
        await using var __ = users;
        scenario.PutMigrations(First);
        // Without dev-database-secret the copy is made on the target's server, where the reader may not create databases.
        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/plan-secret", "shop-reader"))));

        Assert.False(result.Admitted);
        Assert.Equal(422, result.Validation!.Code);
        var denial = result.Denial!;
        Assert.StartsWith($"gatekeeper: user {users.Reader} may not create databases (the dry-run's throwaway copy of the schema) on ", denial, StringComparison.Ordinal);
        Assert.Contains("; grant it with: ", denial, StringComparison.Ordinal);
        Assert.DoesNotContain("unreachable", denial, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', denial);
        Assert.DoesNotContain(DocumentedCredentials.Password, denial, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dev_database_server_of_another_engine_is_a_configuration_error()
    {
        var (scenario, users) = await StartAsync("postgres");
        await using var _ = scenario;
        await using var __ = users;
        scenario.PutMigrations(First);
        scenario.PutSecret("shop-dev", new Dictionary<string, string> { ["url"] = "mysql://dev:s3cret@dev-db:3306/gk_shadow" });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn()));

        Assert.False(result.Admitted);
        Assert.Contains("gatekeeper.dev/dev-database-secret points at a MySQL server (dev-db:3306), but the database is PostgreSQL", result.Denial, StringComparison.Ordinal);
    }
}
