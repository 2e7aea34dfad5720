using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// <c>gatekeeper plan</c> looks at the live database as the webhook does: rows a change would fail on deny the plan; and
/// <c>gatekeeper migrate</c> looks again, under its lock, before it applies anything.
/// </summary>
public sealed class PlanPreflightTests
{
    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task Plan_rejects_a_unique_index_over_duplicates_naming_the_file_table_column_and_one_key(DatabaseEngine engine)
    {
        await using var database = await TestDatabase.CreateAsync(engine);
        await database.ExecuteAsync("CREATE TABLE customers (id integer PRIMARY KEY, email varchar(100))");
        await database.ExecuteAsync("INSERT INTO customers VALUES (1, 'ada@example.com'), (2, 'bob@example.com'), (3, 'ada@example.com')");
        var index = engine == DatabaseEngine.Postgres ? "CREATE UNIQUE INDEX CONCURRENTLY" : "CREATE UNIQUE INDEX";
        using var dir = new TempMigrationDirectory(("V1__unique_email.sql", $"{index} customers_email ON customers (email);\n"));

        var result = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", TestUrls.For(database));
        var json = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", TestUrls.For(database), "--output", "json");

        Assert.True(result.ExitCode == 1, result.Output + result.Error);
        Assert.Contains("would fail on rows already in " + database.Name, result.Output, StringComparison.Ordinal);
        Assert.Matches(@"V1__unique_email\.sql:1:1: UNIQUE INDEX customers_email \(email\) on customers fails on existing rows: rows share a value of email, e\.g\. the row with id = [13]", result.Output);
        Assert.Contains("To proceed: fix the data first", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("example.com", result.Output + json.Output, StringComparison.Ordinal);
        Assert.Equal(1, json.ExitCode);
        Assert.Contains("\"reason\": \"ExistingRowsViolate\"", json.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_admits_the_same_index_once_the_duplicates_are_gone_and_refuses_an_unknown_policy()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await database.ExecuteAsync("CREATE TABLE customers (id integer PRIMARY KEY, email varchar(100))");
        await database.ExecuteAsync("INSERT INTO customers VALUES (1, 'ada@example.com'), (2, 'bob@example.com')");
        using var dir = new TempMigrationDirectory(("V1__unique_email.sql", "CREATE UNIQUE INDEX CONCURRENTLY customers_email ON customers (email);\n"));

        var clean = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", TestUrls.For(database), "--lock-preflight", "warn");
        var unknown = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", TestUrls.For(database), "--lock-preflight", "ignore");

        Assert.True(clean.ExitCode == 0, clean.Output + clean.Error);
        Assert.DoesNotContain("fails on existing rows", clean.Output, StringComparison.Ordinal);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("Argument 'ignore' not recognized", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_refuses_duplicates_under_a_new_unique_index_before_applying_anything_on_mariadb()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await database.ExecuteAsync("CREATE TABLE customers (id integer PRIMARY KEY, email varchar(100))");
        await database.ExecuteAsync("INSERT INTO customers VALUES (1, 'ada@example.com'), (2, 'bob@example.com'), (3, 'ada@example.com')");
        // V1 would commit on its own (MySQL DDL is not transactional) before V2 fails: nothing may run at all.
        using var dir = new TempMigrationDirectory(
            ("V1__add_note.sql", "ALTER TABLE customers ADD COLUMN note varchar(20) NULL;\n"),
            ("V2__unique_email.sql", "CREATE UNIQUE INDEX customers_email ON customers (email);\n"));

        var refused = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", TestUrls.For(database), "--allow", "locking");

        Assert.True(refused.ExitCode == 1, refused.Output + refused.Error);
        Assert.Contains("would fail on rows already in " + database.Name, refused.Output, StringComparison.Ordinal);
        Assert.Matches(@"V2__unique_email\.sql:1:1: UNIQUE INDEX customers_email \(email\) on customers fails on existing rows", refused.Output);
        Assert.Contains("--skip-data-checks", refused.Output, StringComparison.Ordinal);
        Assert.Contains("Nothing applied: the plan was refused (ExistingRowsViolate)", refused.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("example.com", refused.Output + refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, await database.CountAsync("SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'customers' AND column_name = 'note'"));

        // The flag named in the refusal skips the check: V1 applies, and V2 fails on the duplicates as the check said it would.
        var skipped = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", TestUrls.For(database), "--allow", "locking", "--skip-data-checks");

        Assert.True(skipped.ExitCode == 1, skipped.Output + skipped.Error);
        Assert.DoesNotContain("would fail on rows already in", skipped.Output, StringComparison.Ordinal);
        Assert.Contains("V2__unique_email", skipped.Output, StringComparison.Ordinal);
        Assert.Equal(1, await database.CountAsync("SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'customers' AND column_name = 'note'"));
    }
}
