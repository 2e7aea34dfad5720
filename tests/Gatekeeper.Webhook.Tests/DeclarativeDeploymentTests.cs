using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Tests;
using k8s;
using k8s.Models;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The declarative mode in the cluster (<c>gatekeeper.dev/schema</c>), end to end over real HTTPS AdmissionReviews, the
/// API server double and the real database servers: the webhook plans the ConfigMap's desired schema against the live
/// database (loaded into a throwaway database), lints, dry-runs and judges it with the one verdict, stamps the plan; the
/// controller's Job, built by the real Job client and run with exactly its arguments, applies that plan and no other;
/// a database changed by hand since the last apply is reported as drift.
/// </summary>
public sealed class DeclarativeDeploymentTests
{
    private const string SchemaConfigMap = "shop-schema";

    private const string PostgresSchema = """
        CREATE TABLE customers (
          id bigint PRIMARY KEY,
          email text NOT NULL
        );
        CREATE TABLE orders (
          id bigint PRIMARY KEY,
          customer_id bigint NOT NULL REFERENCES customers (id)
        );
        CREATE INDEX orders_customer ON orders (customer_id);
        """;

    private const string MySqlSchema = """
        CREATE TABLE customers (
          id bigint NOT NULL PRIMARY KEY,
          email varchar(200) NOT NULL
        );
        CREATE TABLE orders (
          id bigint NOT NULL PRIMARY KEY,
          customer_id bigint NOT NULL,
          CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
        );
        """;

    private static Dictionary<string, string> OptIn(params (string Key, string Value)[] extra)
    {
        var annotations = new Dictionary<string, string>
        {
            [GatekeeperNames.Schema] = SchemaConfigMap,
            [GatekeeperNames.DatabaseSecret] = DeploymentScenario.SecretName,
        };
        foreach (var (key, value) in extra)
        {
            annotations[key] = value;
        }

        return annotations;
    }

    private static async Task<long> CountAsync(DeploymentScenario scenario, string sql) => Convert.ToInt64(await scenario.Database!.ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);

    private static Task<long> TableCountAsync(DeploymentScenario scenario, string table) =>
        CountAsync(scenario, $"SELECT count(*) FROM information_schema.tables WHERE table_schema = {(scenario.Database!.Database.Engine == Databases.DatabaseEngine.Postgres ? "'public'" : "DATABASE()")} AND table_name = '{table}'");

    private static Task<(int ExitCode, string Output, V1Job Job)> RunMigrationJobAsync(DeploymentScenario scenario, ApplyResult admitted, string? devUrl = null) =>
        scenario.RunMigrationJobAsync(admitted, SchemaConfigMap, devUrl: devUrl);

    [Fact]
    public async Task Postgres_the_desired_schema_is_planned_admitted_and_stamped_and_the_job_applies_exactly_that_plan()
    {
        await using var scenario = await DeploymentScenario.StartAsync("postgres");
        scenario.PutMigrations(new Dictionary<string, string> { ["schema.sql"] = PostgresSchema }, SchemaConfigMap);

        var admitted = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn()));

        Assert.True(admitted.Admitted, admitted.Denial);
        Assert.Matches("^[0-9a-f]{32}-[0-9a-f]{24}$", admitted.PlanStamp);
        Assert.Matches("^schema-[0-9a-f]{12}$", admitted.TargetVersionStamp);
        // Planning changed nothing: the desired state was loaded into a throwaway database, the dry-run into another.
        Assert.Equal(0, await TableCountAsync(scenario, "customers"));
        Assert.Equal(0, await TableCountAsync(scenario, "gatekeeper_declarative_history"));
        var planned = Assert.Single(scenario.Api.RequestsTo("POST", "/api/v1/namespaces/team-a/events"));
        Assert.Contains("\"reason\":\"Planned\"", planned.Body, StringComparison.Ordinal);

        var (exitCode, output, job) = await RunMigrationJobAsync(scenario, admitted);

        Assert.True(exitCode == 0, output);
        Assert.Equal(["schema", "apply"], job.Spec.Template.Spec.Containers[0].Args.Take(2));
        // The stamp is the plan's release key, which begins with the plan hash the Job prints and records.
        var planHash = System.Text.RegularExpressions.Regex.Match(output, "Applied 4 statements of plan ([0-9a-f]{64}) in ").Groups[1].Value;
        Assert.True(planHash.StartsWith(admitted.PlanStamp![..32], StringComparison.Ordinal), output);
        Assert.Contains("dev       a throwaway database on 127.0.0.1:", output, StringComparison.Ordinal);
        Assert.Equal(1, await TableCountAsync(scenario, "orders"));
        Assert.Equal(1, await CountAsync(scenario, $"SELECT count(*) FROM gatekeeper_declarative_history WHERE plan_hash = '{planHash}' AND success"));

        // The next rollout of the same desired state has nothing to apply: no plan stamp, so no pod is held.
        var next = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn(), image: "ghcr.io/example/shop:1.1.0"), admitted.Stored);

        Assert.True(next.Admitted, next.Denial);
        Assert.Null(next.PlanStamp);
        Assert.Equal(admitted.TargetVersionStamp, next.TargetVersionStamp);
        Assert.DoesNotContain(next.Warnings, w => w.Contains("drift", StringComparison.Ordinal));
        Assert.DoesNotContain(scenario.Database!.Url, output + string.Join('\n', admitted.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_a_database_changed_by_hand_since_the_last_apply_is_reported_as_drift_and_its_drop_is_blocked()
    {
        await using var scenario = await DeploymentScenario.StartAsync("postgres");
        scenario.PutMigrations(new Dictionary<string, string> { ["schema.sql"] = PostgresSchema }, SchemaConfigMap);
        var admitted = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn()));
        Assert.True((await RunMigrationJobAsync(scenario, admitted)).ExitCode == 0);
        await scenario.Database!.ScalarAsync("ALTER TABLE customers ADD COLUMN nickname text");

        var drifted = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn(), image: "ghcr.io/example/shop:1.2.0"), admitted.Stored);

        Assert.False(drifted.Admitted);
        Assert.Equal(403, drifted.Validation!.Code);
        var drift = Assert.Single(drifted.Warnings, w => w.StartsWith("gatekeeper: drift: ", StringComparison.Ordinal));
        Assert.Contains($"no longer matches the desired schema it was made to match on ", drift, StringComparison.Ordinal);
        Assert.Contains($"(plan {admitted.PlanStamp![..12]})", drift, StringComparison.Ordinal);
        Assert.Contains("nickname", drift, StringComparison.Ordinal);
        Assert.Contains("nickname", drifted.Denial, StringComparison.Ordinal);
        Assert.Equal(1, await CountAsync(scenario, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'nickname'"));

        // Allowing the destructive change admits the plan that puts the database back.
        var allowed = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn((GatekeeperNames.Allow, "destructive")), image: "ghcr.io/example/shop:1.2.0"), admitted.Stored);

        Assert.True(allowed.Admitted, allowed.Denial);
        Assert.Contains(allowed.Warnings, w => w.StartsWith("gatekeeper: drift: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Postgres_the_job_refuses_a_plan_other_than_the_admitted_one_and_applies_nothing()
    {
        await using var scenario = await DeploymentScenario.StartAsync("postgres");
        scenario.PutMigrations(new Dictionary<string, string> { ["schema.sql"] = PostgresSchema }, SchemaConfigMap);
        var admitted = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn()));
        Assert.True(admitted.Admitted, admitted.Denial);
        // Someone creates one of the tables by hand between admission and the Job: the plan under the lock differs.
        await scenario.Database!.ScalarAsync("CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL)");

        var (exitCode, output, _) = await RunMigrationJobAsync(scenario, admitted);

        Assert.Equal(1, exitCode);
        Assert.Contains(admitted.PlanStamp![..12], output, StringComparison.Ordinal);
        Assert.Equal(0, await TableCountAsync(scenario, "orders"));
        Assert.Equal(0, await TableCountAsync(scenario, "gatekeeper_declarative_history"));
    }

    [Fact]
    public async Task Postgres_bad_desired_schemas_and_annotations_are_denied_with_one_clear_sentence_and_change_nothing()
    {
        await using var scenario = await DeploymentScenario.StartAsync("postgres");

        scenario.PutMigrations(new Dictionary<string, string> { ["schema.sql"] = "CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE TABLE b (a_id bigint REFERENCES missing (id));\n" }, SchemaConfigMap);
        var notLoading = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn()));
        scenario.PutMigrations(new Dictionary<string, string> { ["schema.sql"] = "CREATE TABLE a (id bigint PRIMARY KEY);\nINSERT INTO a VALUES (1);\n" }, SchemaConfigMap);
        var notDefinition = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn()));
        scenario.PutMigrations(new Dictionary<string, string> { ["README.md"] = "# the schema lives elsewhere\n" }, SchemaConfigMap);
        var noSql = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn()));
        var both = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn((GatekeeperNames.Migrations, "shop-migrations"))));
        var missing = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn((GatekeeperNames.Schema, "no-such-schema"))));

        Assert.Equal(422, notLoading.Mutation.Code);
        Assert.Equal(
            "gatekeeper: cannot plan team-a/shop: the desired schema in ConfigMap team-a/shop-schema does not load into a throwaway database on " +
            $"{scenario.Database!.Database.Endpoint}: schema.sql:2:", notLoading.Denial![..(notLoading.Denial!.IndexOf("schema.sql:2:", StringComparison.Ordinal) + "schema.sql:2:".Length)]);
        Assert.Contains("relation \"missing\" does not exist", notLoading.Denial, StringComparison.Ordinal);
        Assert.Equal(422, notDefinition.Mutation.Code);
        Assert.Contains("ConfigMap team-a/shop-schema is not a desired schema Gatekeeper can load (1 problem): schema.sql:2:1: INSERT is not a definition", notDefinition.Denial, StringComparison.Ordinal);
        Assert.Equal(422, noSql.Mutation.Code);
        Assert.Equal("gatekeeper: cannot plan team-a/shop: ConfigMap team-a/shop-schema holds no .sql file (annotation gatekeeper.dev/schema names the ConfigMaps whose .sql keys are the desired schema)", noSql.Denial);
        Assert.Equal(422, both.Mutation.Code);
        Assert.Contains("annotations gatekeeper.dev/migrations and gatekeeper.dev/schema are both set", both.Denial, StringComparison.Ordinal);
        Assert.Equal(422, missing.Mutation.Code);
        Assert.Equal("gatekeeper: cannot plan team-a/shop: ConfigMap team-a/no-such-schema named by annotation gatekeeper.dev/schema does not exist", missing.Denial);
        Assert.Equal(0, await TableCountAsync(scenario, "a"));
    }

    [Fact]
    public async Task Mysql_the_desired_schema_is_admitted_and_the_job_applies_it_with_the_dev_database_secret_server()
    {
        await using var scenario = await DeploymentScenario.StartAsync("mysql");
        scenario.PutMigrations(new Dictionary<string, string> { ["schema.sql"] = MySqlSchema }, SchemaConfigMap);
        // The dev server is named by its own Secret: the throwaway databases are made there with its credential.
        scenario.PutSecret("shop-dev", new Dictionary<string, string> { ["url"] = scenario.Database!.Url });

        var admitted = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn((GatekeeperNames.DevDatabaseSecret, "shop-dev"))));

        Assert.True(admitted.Admitted, admitted.Denial);
        Assert.NotNull(admitted.PlanStamp);
        Assert.Equal(0, await TableCountAsync(scenario, "customers"));

        var (exitCode, output, job) = await RunMigrationJobAsync(scenario, admitted, devUrl: scenario.Database.Url);

        Assert.True(exitCode == 0, output);
        Assert.Contains("--dev-url-file", job.Spec.Template.Spec.Containers[0].Args);
        Assert.Equal(1, await TableCountAsync(scenario, "orders"));
        var next = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn((GatekeeperNames.DevDatabaseSecret, "shop-dev")), image: "ghcr.io/example/shop:1.1.0"), admitted.Stored);
        Assert.True(next.Admitted, next.Denial);
        Assert.Null(next.PlanStamp);
    }
}
