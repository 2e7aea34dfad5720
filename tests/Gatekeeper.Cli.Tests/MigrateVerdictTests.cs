using System.Text.Json.Nodes;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// One verdict everywhere: <c>migrate</c> refuses what <c>plan</c> (and the webhook) block, unless the same ways past a
/// finding allow it, and <c>--expect-plan</c> applies exactly the plan that was admitted.
/// </summary>
public sealed class MigrateVerdictTests
{
    private const string CreateUsers = "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text);\n";
    private const string DropEmail = "ALTER TABLE users DROP COLUMN email;\n";

    private static async Task<(TempMigrationDirectory Dir, TestDatabase Database, string Url)> AppliedUsersAsync(DatabaseEngine engine)
    {
        var database = await TestDatabase.CreateAsync(engine);
        var dir = new TempMigrationDirectory(("V1__users.sql", CreateUsers));
        var url = TestUrls.For(database);
        var first = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url);
        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        return (dir, database, url);
    }

    private static async Task<int> AppliedCountAsync(string dir, string url)
    {
        var status = await CliRun.InvokeAsync("status", "--dir", dir, "--url", url, "--output", "json");
        return JsonNode.Parse(status.Output)!["migrations"]!.AsArray().Count(m => (string?)m!["state"] == "applied");
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task Migrate_exits_1_where_plan_blocks_and_applies_nothing(DatabaseEngine engine)
    {
        var (dir, database, url) = await AppliedUsersAsync(engine);
        using var _ = dir;
        await using var __ = database;
        dir.Write("V2__drop_email.sql", DropEmail);

        var plan = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url);
        var migrate = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url);

        Assert.Equal(1, plan.ExitCode);
        Assert.True(migrate.ExitCode == 1, migrate.Output + migrate.Error);
        Assert.Contains("is unsafe: 1 blocking finding in V2__drop_email.sql", migrate.Output, StringComparison.Ordinal);
        Assert.Contains("GK102 V2__drop_email.sql:1:", migrate.Output, StringComparison.Ordinal);
        Assert.Contains("--allow GK102", migrate.Output, StringComparison.Ordinal);
        Assert.Contains("Nothing applied: the plan was refused (LintRejected).", migrate.Output, StringComparison.Ordinal);
        Assert.Contains("is unsafe", plan.Output, StringComparison.Ordinal);
        Assert.Equal(1, await AppliedCountAsync(dir.Path, url));
    }

    [Fact]
    public async Task Migrate_applies_a_blocked_finding_allowed_by_flag()
    {
        var (dir, database, url) = await AppliedUsersAsync(DatabaseEngine.Postgres);
        using var _ = dir;
        await using var __ = database;
        dir.Write("V2__drop_email.sql", DropEmail);

        var migrate = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url, "--allow", "GK102");

        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
        Assert.Equal(2, await AppliedCountAsync(dir.Path, url));
    }

    [Fact]
    public async Task Migrate_applies_a_finding_allowed_inline()
    {
        var (dir, database, url) = await AppliedUsersAsync(DatabaseEngine.Postgres);
        using var _ = dir;
        await using var __ = database;
        dir.Write("V2__drop_email.sql", "-- gatekeeper:allow GK102 release 4.2 stopped reading it\n" + DropEmail);

        var migrate = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url);

        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
    }

    [Fact]
    public async Task Migrate_applies_exactly_the_approved_plan_and_judges_any_other()
    {
        var (dir, database, url) = await AppliedUsersAsync(DatabaseEngine.Postgres);
        using var _ = dir;
        await using var __ = database;
        dir.Write("V2__drop_email.sql", DropEmail);
        var plan = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url, "--output", "json");
        var hash = JsonNode.Parse(plan.Output)!["hash"]!.GetValue<string>();
        Assert.Equal("LintRejected", (string?)JsonNode.Parse(plan.Output)!["verdict"]!["reason"]);

        dir.Write("V3__drop_name.sql", "ALTER TABLE users DROP COLUMN name;\n");
        var other = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url, "--approve-plan", hash);
        File.Delete(Path.Combine(dir.Path, "V3__drop_name.sql"));
        var approved = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url, "--approve-plan", hash);

        Assert.Equal(1, other.ExitCode);
        Assert.True(approved.ExitCode == 0, approved.Output + approved.Error);
        Assert.Contains($"note: plan {hash} is approved by --approve-plan despite 1 blocking finding(s)", approved.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expect_plan_applies_the_admitted_plan_and_refuses_a_different_one()
    {
        var (dir, database, url) = await AppliedUsersAsync(DatabaseEngine.Postgres);
        using var _ = dir;
        await using var __ = database;
        dir.Write("V2__orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY);\n");
        var plan = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url, "--output", "json");
        var admitted = JsonNode.Parse(plan.Output)!["hash"]!.GetValue<string>();

        dir.Write("V3__lines.sql", "CREATE TABLE lines (id bigint PRIMARY KEY);\n");
        var refused = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url, "--expect-plan", admitted, "--output", "json");
        File.Delete(Path.Combine(dir.Path, "V3__lines.sql"));
        var applied = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url, "--expect-plan", admitted);
        var again = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url, "--expect-plan", admitted);

        Assert.Equal(1, refused.ExitCode);
        var document = JsonNode.Parse(refused.Output)!;
        Assert.Equal("Rejected", (string?)document["status"]);
        Assert.Equal("PlanChanged", (string?)document["verdict"]!["reason"]);
        Assert.Contains($"--expect-plan names plan {admitted[..12]}", (string?)document["message"], StringComparison.Ordinal);
        Assert.True(applied.ExitCode == 0, applied.Output + applied.Error);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("Nothing to apply", again.Output, StringComparison.Ordinal);
        Assert.Equal(2, await AppliedCountAsync(dir.Path, url));
    }

    [Fact]
    public async Task Expect_plan_resumes_the_rest_of_a_plan_whose_first_part_an_earlier_attempt_applied()
    {
        var (dir, database, url) = await AppliedUsersAsync(DatabaseEngine.Postgres);
        using var _ = dir;
        await using var __ = database;
        dir.Write("V2__orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY);\n");
        dir.Write("V3__broken.sql", "CREATE TABLE lines (id bigint PRIMARY KEY, order_id bigint REFERENCES no_such_table (id));\n");
        var plan = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url, "--output", "json");
        var admitted = JsonNode.Parse(plan.Output)!["hash"]!.GetValue<string>();

        var failed = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url, "--expect-plan", admitted);
        await database.ExecuteAsync("CREATE TABLE no_such_table (id bigint PRIMARY KEY);");
        var retried = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url, "--expect-plan", admitted);

        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("V3__broken.sql", failed.Output, StringComparison.Ordinal);
        Assert.True(retried.ExitCode == 0, retried.Output + retried.Error);
        Assert.Equal(3, await AppliedCountAsync(dir.Path, url));
    }
}
