using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>The command line with the credentials of docs/database-permissions.md: one line and exit 2 for a missing right, never a stack trace.</summary>
public sealed class DatabasePermissionCliTests
{
    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task Plan_as_a_reader_without_a_dev_server_says_in_one_line_what_to_grant_and_with_one_plans_and_dry_runs(DatabaseEngine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var users = await DocumentedCredentials.CreateAsync(engine, db.Name);
        using var dir = new TempMigrationDirectory(("V1__create.sql", "CREATE TABLE customers (id integer PRIMARY KEY, name varchar(50));\n"));

        var refused = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", users.UrlText("reader"), "--dry-run");
        var dryRun = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", users.UrlText("reader"), "--dry-run",
            "--dev-url", users.UrlText("dev", engine == DatabaseEngine.Postgres ? "postgres" : "gk_shadow"));

        Assert.Equal(ExitCodes.UsageOrConfiguration, refused.ExitCode);
        var line = Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"gatekeeper plan: user {users.Reader} may not create databases (the dry-run's throwaway copy of the schema) on ", line, StringComparison.Ordinal);
        Assert.Contains("; grant it with: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(DocumentedCredentials.Password, refused.Output + refused.Error, StringComparison.Ordinal);
        Assert.True(dryRun.ExitCode == ExitCodes.Ok, dryRun.Output + dryRun.Error);
        Assert.Contains("dry-run   ok: 1 migration applied on a throwaway copy on ", dryRun.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_as_a_user_who_may_not_read_the_history_is_one_line_and_exit_2()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var users = await DocumentedCredentials.CreateAsync(DatabaseEngine.MySql, db.Name);
        await db.ExecuteAsync("CREATE TABLE gatekeeper_schema_history (installed_rank integer)");
        await db.ExecuteAsync("CREATE TABLE customers (id integer)");
        await db.ExecuteAsync($"REVOKE SELECT, SHOW VIEW ON {db.Name}.* FROM '{users.Reader}'@'%'");
        await db.ExecuteAsync($"GRANT SELECT ON {db.Name}.customers TO '{users.Reader}'@'%'");
        using var dir = new TempMigrationDirectory(("V1__create.sql", "CREATE TABLE t (id integer);\n"));

        var result = await CliRun.InvokeAsync("status", "--dir", dir.Path, "--url", users.UrlText("reader"));

        Assert.Equal(ExitCodes.UsageOrConfiguration, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"gatekeeper status: user {users.Reader} may not read history table gatekeeper_schema_history of {db.Name} on ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dev_url_of_another_engine_is_a_usage_error()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var dir = new TempMigrationDirectory(("V1__create.sql", "CREATE TABLE t (id integer);\n"));

        var result = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", TestUrls.For(db), "--dry-run", "--dev-url", "mysql://dev:s3cret@dev-db/x");

        Assert.Equal(ExitCodes.UsageOrConfiguration, result.ExitCode);
        Assert.Equal("gatekeeper plan: --dev-url points at a MySQL server, but the database is PostgreSQL", result.Error.Trim());
    }
}
