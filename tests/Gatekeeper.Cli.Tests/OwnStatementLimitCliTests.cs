using System.Data.Common;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// A database's statement_timeout, meant for the app, no longer stops Gatekeeper's own reads (plan, status, the dry-run),
/// and what it still stops of Gatekeeper's own (the history table's creation, which shares the first file's session) is
/// one line naming the setting, its value and where it was set. Against main's binary before the change, plan and status
/// printed "database error: canceling statement due to statement timeout (57014)".
/// </summary>
public sealed class OwnStatementLimitCliTests
{
    /// <summary>Takes a lock on a raw session in a transaction and lets go after <paramref name="after"/>.</summary>
    private static async Task<Task> HoldAsync(TestDatabase test, string lockStatement, TimeSpan after)
    {
        var connection = await test.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = lockStatement;
            await command.ExecuteNonQueryAsync();
        }

        return ReleaseAsync(connection, transaction, after);
    }

    private static async Task ReleaseAsync(DbConnection connection, DbTransaction transaction, TimeSpan after)
    {
        await Task.Delay(after);
        await transaction.RollbackAsync();
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Postgres_plan_status_and_the_dry_run_read_past_a_database_statement_timeout_meant_for_the_app()
    {
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var dir = new TempMigrationDirectory(("V1__create.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"), ("V2__add.sql", "ALTER TABLE a ADD COLUMN note text;\n"));
        using var first = new TempMigrationDirectory(("V1__create.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"));
        var url = TestUrls.For(test);
        Assert.Equal(0, (await GatekeeperProcess.RunAsync(url, "migrate", "--dir", first.Path)).ExitCode);
        await test.ExecuteOnServerAsync($"ALTER DATABASE {test.Quote(test.Name)} SET statement_timeout = '100ms'");
        const string Lock = "LOCK TABLE gatekeeper_schema_history IN ACCESS EXCLUSIVE MODE";

        foreach (var command in new[] { new[] { "plan", "--dir", dir.Path }, ["status", "--dir", dir.Path], ["plan", "--dir", dir.Path, "--dry-run"] })
        {
            // The history read waits behind another session's lock longer than the database's value allows a statement.
            var released = await HoldAsync(test, Lock, TimeSpan.FromMilliseconds(800));
            var run = await GatekeeperProcess.RunAsync(url, command);
            await released;

            Assert.True(run.ExitCode == 0, $"{string.Join(' ', command)}: exit {run.ExitCode}\n{run.Output}\n{run.Error}");
            Assert.Equal(string.Empty, run.Error);
        }
    }

    [Fact]
    public async Task Postgres_migrate_whose_history_table_creation_a_database_statement_timeout_stops_is_one_line_naming_it()
    {
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await test.ExecuteOnServerAsync($"ALTER DATABASE {test.Quote(test.Name)} SET statement_timeout = '200ms'");
        using var dir = new TempMigrationDirectory(("V1__create.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"));
        // Another session creating a table of the same name holds the creation up past the database's value.
        var released = await HoldAsync(test, "CREATE TABLE gatekeeper_schema_history (id int)", TimeSpan.FromSeconds(3));

        var migrate = await GatekeeperProcess.RunAsync(TestUrls.For(test), "migrate", "--dir", dir.Path);
        await released;

        Assert.Equal(ExitCodes.UsageOrConfiguration, migrate.ExitCode);
        Assert.Equal(
            $"gatekeeper migrate: preparing history table gatekeeper_schema_history (it runs on the session the files then use, under their settings) " +
            $"on database {test.Name} at {test.Url.Endpoint} was stopped by statement_timeout = 200ms, set for database {test.Name}; nothing was applied; " +
            $"Gatekeeper's own statements need more time than that: raise it, or give user postgres a value of its own: " +
            $"ALTER ROLE postgres IN DATABASE {test.Name} SET statement_timeout = 0 (server: canceling statement due to statement timeout)",
            migrate.Error.Trim());
        Assert.DoesNotContain(TestUrls.Password(DatabaseEngine.Postgres), migrate.Output + migrate.Error, StringComparison.Ordinal);
        Assert.False(await test.TableExistsAsync("a"));
    }
}
