using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// The server can refuse a statement of Gatekeeper's own where no deeper code explains the failure: sql_safe_updates
/// = 1 used to refuse `gatekeeper repair`'s UPDATE (Gatekeeper's history writes now set it aside); here a trigger on
/// the history table refuses it, as a team's audit trigger would. The command says so in one line and exits 1, where
/// it died with an unhandled exception and its stack trace.
/// </summary>
public sealed class ServerRefusalTests
{
    [Fact]
    public async Task MariaDb_repair_the_server_refuses_is_one_line_not_a_stack_trace()
    {
        await using var server = await PrivateDatabaseServer.StartAsync(DatabaseEngine.MySql);
        await server.ExecuteAsync("mysql", "CREATE DATABASE app");
        using var dir = new TempMigrationDirectory(("V1__half.sql", "CREATE TABLE b (id int);\nINSERT INTO missing_table VALUES (1);\n"));
        var url = server.Url("app");
        var failed = await GatekeeperProcess.RunAsync(url, "migrate", "--dir", dir.Path);
        Assert.Equal(ExitCodes.Rejected, failed.ExitCode);
        await server.ExecuteAsync("app", "CREATE TRIGGER history_frozen BEFORE UPDATE ON gatekeeper_schema_history FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the history is frozen for the audit'");

        var repair = await GatekeeperProcess.RunAsync(url, "repair", "--dir", dir.Path, "--version", "1", "--resolution", "applied");

        Assert.Equal(ExitCodes.Rejected, repair.ExitCode);
        Assert.Equal(
            "gatekeeper repair: database error: the history is frozen for the audit (1644)",
            repair.Error.Trim());
        Assert.DoesNotContain(server.Password, repair.Output + repair.Error, StringComparison.Ordinal);
        Assert.Equal(1, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history WHERE dirty"));
    }
    [Fact]
    public async Task Postgres_migrate_on_sessions_that_start_read_only_is_one_line_naming_the_setting()
    {
        // Before: "[1/1] 1  create . gatekeeper migrate: database error: cannot execute CREATE TABLE in a read-only
        // transaction (25006)", the error continuing the progress line and naming no setting.
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await test.ExecuteOnServerAsync($"ALTER DATABASE {test.Quote(test.Name)} SET default_transaction_read_only = on");
        using var dir = new TempMigrationDirectory(("V1__create.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"));

        var migrate = await GatekeeperProcess.RunAsync(TestUrls.For(test), "migrate", "--dir", dir.Path);

        Assert.Equal(ExitCodes.UsageOrConfiguration, migrate.ExitCode);
        Assert.Equal(
            $"gatekeeper migrate: cannot apply migrations on database {test.Name} at {test.Url.Endpoint}: user postgres's sessions start read-only " +
            $"(default_transaction_read_only = on, set for database {test.Name}; undo it with ALTER DATABASE {test.Name} RESET default_transaction_read_only) " +
            "(server: cannot execute CREATE TABLE in a read-only transaction)",
            migrate.Error.Trim());
        Assert.EndsWith("stopped", migrate.Output.TrimEnd(), StringComparison.Ordinal);
        Assert.False(await test.TableExistsAsync("gatekeeper_schema_history"));
    }
}
