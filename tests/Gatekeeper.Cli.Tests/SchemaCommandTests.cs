using System.Text.Json.Nodes;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// <c>gatekeeper schema plan|apply</c> through the real command line: output formats, the verdict and exit codes shared
/// with <c>plan</c> and <c>migrate</c>, and every kind of bad input answered with one sentence and exit 2.
/// </summary>
public sealed class SchemaCommandTests
{
    private const string Schema = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\nCREATE INDEX users_email ON users (email);\n";

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task Plan_shows_the_statements_and_hash_sql_prints_only_statements_and_nothing_once_applied(DatabaseEngine engine)
    {
        await using var live = await TestDatabase.CreateAsync(engine);
        await using var dev = await TestDatabase.CreateAsync(engine);
        using var desired = new TempMigrationDirectory(("schema.sql", Schema));
        string[] common = ["--to", desired.Path, "--url", TestUrls.For(live), "--dev-url", TestUrls.For(dev)];

        var text = await CliRun.InvokeAsync(["schema", "plan", .. common]);
        var sql = await CliRun.InvokeAsync(["schema", "plan", .. common, "--output", "sql"]);
        var json = await CliRun.InvokeAsync(["schema", "plan", .. common, "--output", "json"]);
        var hash = JsonNode.Parse(json.Output)!["plan"]!.GetValue<string>();
        var apply = await CliRun.InvokeAsync(["schema", "apply", .. common, "--expect-plan", hash]);
        var after = await CliRun.InvokeAsync(["schema", "plan", .. common, "--output", "sql"]);
        var afterText = await CliRun.InvokeAsync(["schema", "plan", .. common]);

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("+ create table", text.Output, StringComparison.Ordinal);
        Assert.Contains($"(hash {hash})", text.Output, StringComparison.Ordinal);
        Assert.Equal(0, sql.ExitCode);
        Assert.StartsWith("CREATE TABLE ", sql.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("database", sql.Output, StringComparison.Ordinal);
        Assert.Equal(JsonNode.Parse(json.Output)!["sql"]!.GetValue<string>(), sql.Output);
        Assert.True(apply.ExitCode == 0, apply.Output + apply.Error);
        Assert.Contains("Applied ", apply.Output, StringComparison.Ordinal);
        Assert.Equal((0, string.Empty), (after.ExitCode, after.Output));
        Assert.Contains("Nothing to apply: the database matches the desired state.", afterText.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(TestUrls.Password(engine), text.Output + sql.Output + sql.Error + json.Output + apply.Output + apply.Error);
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task Dev_throwaway_plans_in_a_database_of_its_own_on_the_named_server_or_the_targets_with_the_same_hash(DatabaseEngine engine)
    {
        await using var live = await TestDatabase.CreateAsync(engine);
        using var desired = new TempMigrationDirectory(("schema.sql", Schema));
        string[] onTarget = ["--to", desired.Path, "--url", TestUrls.For(live), "--dev-throwaway"];
        // A dev URL names the server only; its database part is not used.
        string[] onDevServer = ["--to", desired.Path, "--url", TestUrls.For(live), "--dev-throwaway", "--dev-url", TestUrls.For(live)];

        var plan = await CliRun.InvokeAsync(["schema", "plan", .. onTarget, "--output", "json"]);
        var hash = JsonNode.Parse(plan.Output)!["plan"]!.GetValue<string>();
        var sameOnDevServer = await CliRun.InvokeAsync(["schema", "plan", .. onDevServer, "--output", "json"]);
        var apply = await CliRun.InvokeAsync(["schema", "apply", .. onDevServer, "--expect-plan", hash]);
        var after = await CliRun.InvokeAsync(["schema", "plan", .. onTarget, "--output", "sql"]);

        Assert.True(plan.ExitCode == 0, plan.Output + plan.Error);
        Assert.Equal(hash, JsonNode.Parse(sameOnDevServer.Output)!["plan"]!.GetValue<string>());
        Assert.True(apply.ExitCode == 0, apply.Output + apply.Error);
        Assert.Contains($"dev       a throwaway database on {live.Url.Endpoint}, dropped afterwards", apply.Output, StringComparison.Ordinal);
        Assert.Equal((0, string.Empty), (after.ExitCode, after.Output));
        Assert.Equal(2, await live.CountAsync(engine == DatabaseEngine.Postgres
            ? "SELECT count(*) FROM pg_indexes WHERE tablename = 'users'"
            : "SELECT count(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'users'"));
    }

    [Fact]
    public async Task A_destructive_plan_is_blocked_with_exit_1_until_allowed_or_approved_by_its_hash()
    {
        await using var live = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var dev = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await live.ExecuteAsync("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, legacy text); INSERT INTO users VALUES (1, 'a', 'x');");
        using var desired = new TempMigrationDirectory(("schema.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);"));
        string[] common = ["--to", desired.Path, "--url", TestUrls.For(live), "--dev-url", TestUrls.For(dev)];

        var plan = await CliRun.InvokeAsync(["schema", "plan", .. common, "--output", "json"]);
        var hash = JsonNode.Parse(plan.Output)!["plan"]!.GetValue<string>();
        var refused = await CliRun.InvokeAsync(["schema", "apply", .. common]);
        var wrongApproval = await CliRun.InvokeAsync(["schema", "apply", .. common, "--approve-plan", new string('0', 64)]);
        var keptAfterRefusals = await live.CountAsync("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'legacy'");
        var approved = await CliRun.InvokeAsync(["schema", "apply", .. common, "--approve-plan", hash]);

        Assert.Equal(1, plan.ExitCode);
        Assert.Equal("reject", JsonNode.Parse(plan.Output)!["verdict"]!["outcome"]!.GetValue<string>());
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("GK", refused.Output, StringComparison.Ordinal);
        Assert.Contains($"--approve-plan {hash}", refused.Output, StringComparison.Ordinal);
        Assert.Equal(1, keptAfterRefusals);
        Assert.Equal(1, wrongApproval.ExitCode);
        Assert.True(approved.ExitCode == 0, approved.Output + approved.Error);
        Assert.Equal(0, await live.CountAsync("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'legacy'"));
    }

    [Fact]
    public async Task Apply_with_an_expected_plan_that_is_no_longer_the_plan_applies_nothing()
    {
        await using var live = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var dev = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var desired = new TempMigrationDirectory(("schema.sql", Schema));
        string[] common = ["--to", desired.Path, "--url", TestUrls.For(live), "--dev-url", TestUrls.For(dev)];
        var hash = JsonNode.Parse((await CliRun.InvokeAsync(["schema", "plan", .. common, "--output", "json"])).Output)!["plan"]!.GetValue<string>();

        // Someone changes the database by hand between the plan and the apply.
        await live.ExecuteAsync("CREATE TABLE users (id bigint PRIMARY KEY)");
        var apply = await CliRun.InvokeAsync(["schema", "apply", .. common, "--expect-plan", hash]);

        Assert.Equal(1, apply.ExitCode);
        Assert.Contains("--expect-plan", apply.Output, StringComparison.Ordinal);
        Assert.Equal(1, await live.CountAsync("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users'"));
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres, "CREATE TABLE a (id int);\nCREATE TABLE b (a_id int REFERENCES missing (id));\n", "schema.sql:2:", "relation \"missing\" does not exist")]
    [InlineData(DatabaseEngine.MySql, "CREATE TABLE a (id int);\nCREATE TABLE b (x nosuchtype);\n", "schema.sql:2:", "Unknown data type")]
    public async Task Desired_sql_that_does_not_load_names_the_file_line_and_the_servers_message_with_exit_2(DatabaseEngine engine, string sql, string at, string message)
    {
        await using var live = await TestDatabase.CreateAsync(engine);
        await using var dev = await TestDatabase.CreateAsync(engine);
        using var desired = new TempMigrationDirectory(("schema.sql", sql));

        var result = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", TestUrls.For(live), "--dev-url", TestUrls.For(dev));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("the desired state does not load into the dev database", result.Error, StringComparison.Ordinal);
        Assert.Contains(at, result.Error, StringComparison.Ordinal);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Equal(0, await dev.CountAsync(engine == DatabaseEngine.Postgres
            ? "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
            : "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"));
    }

    [Fact]
    public async Task A_desired_state_with_data_or_transactions_is_refused_before_any_connection_naming_each_statement()
    {
        using var desired = new TempMigrationDirectory(("schema.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nBEGIN;\n"));

        // Both URLs point at a closed port: nothing is contacted before the desired state is known to be definitions only.
        var result = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", "postgres://app:pw@127.0.0.1:1/app", "--dev-url", "postgres://app:pw@127.0.0.1:1/dev");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("schema.sql:2:1: INSERT is not a definition", result.Error, StringComparison.Ordinal);
        Assert.Contains("schema.sql:3:1: BEGIN is not a definition", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("unreachable", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_dev_database_is_one_sentence_with_exit_2()
    {
        await using var live = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var desired = new TempMigrationDirectory(("schema.sql", Schema));

        var result = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", TestUrls.For(live), "--dev-url", "postgres://app:secret-dev-pw@127.0.0.1:1/dev");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("gatekeeper schema plan: dev database: database unreachable: 127.0.0.1:1", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-dev-pw", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task A_missing_dev_database_says_to_create_an_empty_one_with_exit_2(DatabaseEngine engine)
    {
        await using var live = await TestDatabase.CreateAsync(engine);
        using var desired = new TempMigrationDirectory(("schema.sql", Schema));
        var missing = TestUrls.WithDatabase(TestUrls.For(live), "gk_no_such_dev_database");

        var result = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", TestUrls.For(live), "--dev-url", missing);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("dev database gk_no_such_dev_database does not exist on ", result.Error, StringComparison.Ordinal);
        Assert.Contains("create an empty database", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres, "CREATE TABLE leftover (a int)", "table public.leftover")]
    [InlineData(DatabaseEngine.MySql, "CREATE TABLE leftover (a int)", "table leftover")]
    public async Task A_dev_database_that_is_not_empty_is_refused_with_what_is_in_it_and_left_as_it_was(DatabaseEngine engine, string leftover, string named)
    {
        await using var live = await TestDatabase.CreateAsync(engine);
        await using var dev = await TestDatabase.CreateAsync(engine);
        await dev.ExecuteAsync(leftover);
        using var desired = new TempMigrationDirectory(("schema.sql", Schema));

        var result = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", TestUrls.For(live), "--dev-url", TestUrls.For(dev));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("is not empty", result.Error, StringComparison.Ordinal);
        Assert.Contains(named, result.Error, StringComparison.Ordinal);
        Assert.True(await dev.TableExistsAsync("leftover"));
    }

    [Fact]
    public async Task The_database_itself_as_dev_database_or_another_engine_is_refused_with_exit_2()
    {
        using var desired = new TempMigrationDirectory(("schema.sql", Schema));

        var same = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", "postgres://app:pw@db:5432/shop", "--dev-url", "postgres://other:pw@db:5432/shop");
        var otherEngine = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", "postgres://app:pw@db:5432/shop", "--dev-url", "mysql://app:pw@db:3306/dev");
        var none = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", "postgres://app:pw@db:5432/shop");

        Assert.Equal(2, same.ExitCode);
        Assert.Contains("--dev-url names the database itself", same.Error, StringComparison.Ordinal);
        Assert.Equal(2, otherEngine.ExitCode);
        Assert.Contains("the dev database must be the same engine", otherEngine.Error, StringComparison.Ordinal);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no dev database", none.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Excluded_tables_another_tool_owns_are_left_alone()
    {
        await using var live = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var dev = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await live.ExecuteAsync("CREATE TABLE river_job (id bigint); CREATE TABLE flyway_schema_history (installed_rank int);");
        using var desired = new TempMigrationDirectory(("schema.sql", Schema));

        var result = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", TestUrls.For(live), "--dev-url", TestUrls.For(dev),
            "--exclude", "river_*", "--exclude", "public.flyway_schema_history", "--output", "sql");

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("DROP", result.Output, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE public.users", result.Output, StringComparison.Ordinal);
    }
}
