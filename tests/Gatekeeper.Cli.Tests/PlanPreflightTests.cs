using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary><c>gatekeeper plan</c> looks at the live database as the webhook does: rows a change would fail on deny the plan.</summary>
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
}
