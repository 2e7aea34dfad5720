using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// The published binary reads a MySQL directory as the server that runs it will. Against a MariaDB started with
/// --sql-mode=NO_BACKSLASH_ESCAPES, main's binary refused 'C:\' with GK001, and applied (exit 0, "Applied") a file whose
/// 'a\'); DROP TABLE keep; -- ' it had read as one string: the DROP ran unjudged, and the statement after it and the
/// history's clearing never ran. Against ANSI_QUOTES, DROP TABLE "keep" had no finding. Each test has its own server.
/// </summary>
public sealed class SqlModeCliTests
{
    [Fact]
    public async Task MariaDb_migrate_applies_a_string_that_ends_in_a_backslash_on_a_NO_BACKSLASH_ESCAPES_server()
    {
        await using var server = await PrivateDatabaseServer.StartMySqlInModeAsync("NO_BACKSLASH_ESCAPES");
        using var dir = new TempMigrationDirectory(("V1__paths.sql", "CREATE TABLE paths (id INT PRIMARY KEY, p VARCHAR(50));\nINSERT INTO paths VALUES (1, 'C:\\'), (2, 'x?');\n"));

        var migrate = await GatekeeperProcess.RunAsync(server.Url("app"), "migrate", "--dir", dir.Path);

        Assert.True(migrate.ExitCode == ExitCodes.Ok, migrate.Output + migrate.Error);
        Assert.Equal(["C:\\", "x?"], await server.ColumnAsync("app", "SELECT p FROM paths ORDER BY id"));
        Assert.Equal(1, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history WHERE success AND NOT dirty"));
    }

    [Fact]
    public async Task MariaDb_migrate_refuses_the_DROP_a_NO_BACKSLASH_ESCAPES_server_would_run_after_a_backslash_quote()
    {
        await using var server = await PrivateDatabaseServer.StartMySqlInModeAsync("NO_BACKSLASH_ESCAPES");
        await server.ExecuteAsync("app", "CREATE TABLE keep (id INT)");
        using var dir = new TempMigrationDirectory(("V1__notes.sql",
            "CREATE TABLE notes (n VARCHAR(50));\nINSERT INTO notes VALUES ('a\\'); DROP TABLE keep; -- ');\nINSERT INTO notes VALUES ('b');\n"));

        var plan = await GatekeeperProcess.RunAsync(server.Url("app"), "plan", "--dir", dir.Path);
        var migrate = await GatekeeperProcess.RunAsync(server.Url("app"), "migrate", "--dir", dir.Path);

        Assert.Equal(ExitCodes.Rejected, plan.ExitCode);
        Assert.Contains("error[GK101]: drops table keep", plan.Output, StringComparison.Ordinal);
        Assert.Contains(" --> V1__notes.sql:2:34", plan.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Rejected, migrate.ExitCode);
        Assert.Contains("GK101 V1__notes.sql:2:34: drops table keep", migrate.Output, StringComparison.Ordinal);
        Assert.Equal(1, await server.CountAsync("app", "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'keep'"));
    }

    [Fact]
    public async Task MariaDb_plan_judges_double_quoted_names_on_an_ANSI_QUOTES_server()
    {
        await using var server = await PrivateDatabaseServer.StartMySqlInModeAsync("ANSI_QUOTES");
        await server.ExecuteAsync("app", "CREATE TABLE \"keep\" (\"id\" INT, \"c\" INT)");
        using var dir = new TempMigrationDirectory(("V1__drop.sql", "ALTER TABLE \"keep\" DROP COLUMN \"c\";\n"));

        var plan = await GatekeeperProcess.RunAsync(server.Url("app"), "plan", "--dir", dir.Path);

        Assert.Equal(ExitCodes.Rejected, plan.ExitCode);
        Assert.Contains("error[GK102]: drops column c of table keep", plan.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lint_refuses_a_sql_mode_for_a_PostgreSQL_url_in_one_sentence()
    {
        // Before: "--dialect auto does not match the --url database, which is postgres." for an option nobody gave.
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var dir = new TempMigrationDirectory(("V1__a.sql", "CREATE TABLE a (id int);\n"));

        using var run = GatekeeperProcess.StartWithoutUrl("lint", "--sql-mode", "ANSI", "--url", TestUrls.For(test), "--dir", dir.Path);
        var result = await run.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(ExitCodes.UsageOrConfiguration, result.ExitCode);
        Assert.Equal("gatekeeper lint: --sql-mode is MySQL's and MariaDB's; the --url database is postgres.", result.Error.Trim());
    }

    [Fact]
    public async Task Lint_reads_the_files_in_the_sql_mode_given_and_in_the_stock_mode_without_one()
    {
        using var dir = new TempMigrationDirectory(
            ("V1__paths.sql", "CREATE TABLE paths (p VARCHAR(50));\nINSERT INTO paths VALUES ('C:\\');\n"),
            ("V2__quoted.sql", "ALTER TABLE \"paths\" DROP COLUMN \"p\";\n"));

        using (var given = GatekeeperProcess.StartWithoutUrl("lint", "--sql-mode", "STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES,ANSI_QUOTES", "--dir", dir.Path))
        {
            var run = await given.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(ExitCodes.Rejected, run.ExitCode);
            Assert.DoesNotContain("GK001", run.Output, StringComparison.Ordinal);
            Assert.Contains("error[GK102]: drops column p of table paths", run.Output, StringComparison.Ordinal);
            Assert.Equal(string.Empty, run.Error);
        }

        using (var stock = GatekeeperProcess.StartWithoutUrl("lint", "--dialect", "mysql", "--dir", dir.Path))
        {
            var run = await stock.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(ExitCodes.Rejected, run.ExitCode);
            Assert.Contains("error[GK001]: This string literal is never closed by '.", run.Output, StringComparison.Ordinal);
        }

        using (var typo = GatekeeperProcess.StartWithoutUrl("lint", "--sql-mode", "NO_BACKSLASH_ESCAPE", "--dir", dir.Path))
        {
            var run = await typo.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(ExitCodes.UsageOrConfiguration, run.ExitCode);
            Assert.Equal(
                "gatekeeper lint: --sql-mode: 'NO_BACKSLASH_ESCAPE' is not a MySQL or MariaDB sql_mode; give the modes as SELECT @@SESSION.sql_mode prints them, comma separated (e.g. NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES).",
                run.Error.Trim());
        }
    }
}
