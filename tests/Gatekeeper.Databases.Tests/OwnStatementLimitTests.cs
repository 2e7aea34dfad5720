using System.Data.Common;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases.Execution;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A statement or lock timeout set for a server, database or role is meant for the app: Gatekeeper's own bookkeeping
/// (history and catalog reads, the dry-run's copy, repair) runs under a limit of its own, set ahead of its first query
/// in the same round trip, and the files keep the user's value. What such a limit still stops of Gatekeeper's own is
/// one sentence naming the setting, its value and where it was set. PostgreSQL tests set the limit on a database of the
/// test's own (<c>ALTER DATABASE … SET</c>); MariaDB's are global, so those tests have a server of their own.
/// </summary>
public sealed class OwnStatementLimitTests
{
    private static readonly MigrationDirectory OneFile = TestMigrations.Flyway(("V1__create.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"));

    private static readonly MigrationDirectory TwoFiles = TestMigrations.Flyway(
        ("V1__create.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"),
        ("V2__insert.sql", "INSERT INTO a VALUES (1);\n"));

    /// <summary>Holds <paramref name="lockStatement"/>'s lock on a raw session of its own until disposed.</summary>
    private sealed class HeldLock(DbConnection connection, DbTransaction? transaction) : IAsyncDisposable
    {
        public static async Task<HeldLock> TakeAsync(DbConnection connection, string lockStatement, bool inTransaction)
        {
            var transaction = inTransaction ? await connection.BeginTransactionAsync() : null;
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = lockStatement;
            await command.ExecuteNonQueryAsync();
            return new HeldLock(connection, transaction);
        }

        public async ValueTask DisposeAsync()
        {
            if (transaction is not null)
            {
                await transaction.RollbackAsync();
                await transaction.DisposeAsync();
            }
            else
            {
                await using var unlock = connection.CreateCommand();
                unlock.CommandText = "UNLOCK TABLES";
                await unlock.ExecuteNonQueryAsync();
            }

            await connection.DisposeAsync();
        }
    }

    /// <summary>Lets go of <paramref name="held"/> after <paramref name="after"/>, while the caller waits on it.</summary>
    private static async Task ReleaseAfterAsync(HeldLock held, TimeSpan after)
    {
        await Task.Delay(after);
        await held.DisposeAsync();
    }

    [Fact]
    public async Task Postgres_the_history_read_waits_past_a_database_statement_timeout_meant_for_the_app()
    {
        // Before: "database error: canceling statement due to statement timeout (57014)" from plan, status, migrate and the
        // webhook alike, as soon as the history read took longer than the database's value (here: behind a lock).
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using (var first = test.Open())
        {
            Assert.True((await new MigrationRunner(first).RunAsync(OneFile, null, CancellationToken.None)).Succeeded);
        }

        await test.ExecuteOnServerAsync($"ALTER DATABASE {test.Quote(test.Name)} SET statement_timeout = '100ms'");
        await using var database = test.Open();
        var held = await HeldLock.TakeAsync(await test.OpenConnectionAsync(), "LOCK TABLE gatekeeper_schema_history IN ACCESS EXCLUSIVE MODE", inTransaction: true);
        var release = ReleaseAfterAsync(held, TimeSpan.FromMilliseconds(600));

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        await release;

        Assert.Single(history.Applied);
        Assert.NotEmpty((await database.ReadSchemaAsync(CancellationToken.None)).Schema.Tables);
        var plan = await new MigrationRunner(database).DryRunAsync(TwoFiles, new DryRunSettings(DryRunMode.Shadow), CancellationToken.None);
        Assert.True(plan.Succeeded, plan.Report?.Failure?.ToString());
    }

    [Fact]
    public async Task Postgres_the_files_keep_the_databases_statement_timeout()
    {
        // Gatekeeper's limit is set on the sessions of its own reads only; the pool's reset takes it back before a file.
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await test.ExecuteOnServerAsync($"ALTER DATABASE {test.Quote(test.Name)} SET statement_timeout = '300ms'");
        await using var database = test.Open();
        Assert.False((await database.ReadHistoryAsync(CancellationToken.None)).Exists);

        var result = await new MigrationRunner(database).RunAsync(
            TestMigrations.Flyway(("V1__create.sql", "CREATE TABLE a (id int);\n"), ("V2__slow.sql", "SELECT pg_sleep(2);\n")), null, CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal("2", result.Failure!.MigrationId);
        Assert.Equal("canceling statement due to statement timeout", result.Failure.ServerMessage);
        Assert.Single((await database.ReadHistoryAsync(CancellationToken.None)).Applied);
    }

    [Fact]
    public async Task Postgres_a_database_statement_timeout_that_stops_the_history_tables_creation_is_one_sentence()
    {
        // The history table is created on the session the first file then runs on, under the files' settings. Another
        // session creating a table of the same name holds the creation up here past the database's value.
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        var held = await HeldLock.TakeAsync(await test.OpenConnectionAsync(), "CREATE TABLE gatekeeper_schema_history (id int)", inTransaction: true);
        // A millisecond: the query that finds where it was set must not be stopped by it as well.
        await test.ExecuteOnServerAsync($"ALTER DATABASE {test.Quote(test.Name)} SET statement_timeout = '1ms'");
        await using var database = test.Open();
        var release = ReleaseAfterAsync(held, TimeSpan.FromSeconds(5));

        var stopped = await Assert.ThrowsAsync<DatabaseException>(() => new MigrationRunner(database).RunAsync(TwoFiles, null, CancellationToken.None));
        await release;

        Assert.Equal(DatabaseErrorKind.ServerLimit, stopped.Kind);
        Assert.StartsWith($"preparing history table gatekeeper_schema_history (it runs on the session the files then use, under their settings) on database {test.Name} at ", stopped.Message, StringComparison.Ordinal);
        Assert.Contains($"was stopped by statement_timeout = 1ms, set for database {test.Name}; nothing was applied; ", stopped.Message, StringComparison.Ordinal);
        Assert.Contains($"ALTER ROLE postgres IN DATABASE {test.Name} SET statement_timeout = 0", stopped.Message, StringComparison.Ordinal);
        Assert.EndsWith("(server: canceling statement due to statement timeout)", stopped.Message, StringComparison.Ordinal);
        await test.ExecuteOnServerAsync($"ALTER DATABASE {test.Quote(test.Name)} RESET statement_timeout");
        Assert.False(await test.TableExistsAsync("a"));
    }

    [Fact]
    public async Task Postgres_a_history_read_held_up_past_gatekeepers_own_limit_says_so_in_one_sentence()
    {
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using (var first = test.Open())
        {
            Assert.True((await new MigrationRunner(first).RunAsync(OneFile, null, CancellationToken.None)).Succeeded);
        }

        await using var database = test.Open(new MigrationDatabaseOptions { OwnStatementTimeout = TimeSpan.FromMilliseconds(300) });
        var held = await HeldLock.TakeAsync(await test.OpenConnectionAsync(), "LOCK TABLE gatekeeper_schema_history IN ACCESS EXCLUSIVE MODE", inTransaction: true);
        var release = ReleaseAfterAsync(held, TimeSpan.FromSeconds(5));

        var stopped = await Assert.ThrowsAsync<DatabaseException>(() => database.ReadHistoryAsync(CancellationToken.None));
        await release;

        Assert.Equal(DatabaseErrorKind.StatementTimeout, stopped.Kind);
        Assert.StartsWith($"reading history table gatekeeper_schema_history on database {test.Name} at ", stopped.Message, StringComparison.Ordinal);
        Assert.Contains("took longer than Gatekeeper's own limit of 300ms for its bookkeeping statements (statement_timeout); nothing was applied;", stopped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_the_own_limit_goes_with_the_first_query_of_a_read_in_the_same_round_trip()
    {
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = test.Open();
        Assert.True((await new MigrationRunner(database).RunAsync(OneFile, null, CancellationToken.None)).Succeeded);

        var (history, sent) = await DriverCommands.RecordAsync(() => database.ReadHistoryAsync(CancellationToken.None));

        Assert.Single(history.Applied);
        Assert.Collection(
            sent,
            c => Assert.StartsWith("SET statement_timeout = '60000ms';\nSET lock_timeout = 0;\nSELECT a.attname FROM pg_catalog.pg_attribute", c, StringComparison.Ordinal),
            c => Assert.StartsWith("SELECT version, description", c, StringComparison.Ordinal));
        var (_, schema) = await DriverCommands.RecordAsync(() => database.ReadSchemaAsync(CancellationToken.None));
        Assert.StartsWith("SET statement_timeout = '60000ms'", Assert.Single(schema), StringComparison.Ordinal);
    }

    /// <summary>A private MariaDB with database app whose sessions start with <paramref name="globals"/>.</summary>
    private static async Task<PrivateDatabaseServer> MariaDbWithAsync(string globals)
    {
        var server = await PrivateDatabaseServer.StartAsync(DatabaseEngine.MySql);
        try
        {
            await server.ExecuteAsync("mysql", "CREATE DATABASE app");
            await server.ExecuteAsync("mysql", $"SET GLOBAL {globals}");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task MySql_history_catalog_and_dry_run_run_past_the_servers_max_statement_time_and_the_files_keep_it()
    {
        // Before: "database error: Query execution was interrupted (max_statement_time exceeded) (1969)" from the history
        // read as soon as it took longer than the server's value (here: behind another session's table lock).
        await using var server = await MariaDbWithAsync("max_statement_time = 0.3");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        Assert.True((await new MigrationRunner(database).RunAsync(OneFile, null, CancellationToken.None)).Succeeded);
        var held = await HeldLock.TakeAsync(await server.OpenAsync("app"), "LOCK TABLES gatekeeper_schema_history WRITE", inTransaction: false);
        var release = ReleaseAfterAsync(held, TimeSpan.FromMilliseconds(900));

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        await release;

        Assert.Single(history.Applied);
        Assert.NotEmpty((await database.ReadSchemaAsync(CancellationToken.None)).Schema.Tables);
        var plan = await new MigrationRunner(database).DryRunAsync(TwoFiles, new DryRunSettings(DryRunMode.Shadow), CancellationToken.None);
        Assert.True(plan.Succeeded, plan.Report?.Failure?.ToString());

        var slowFiles = TestMigrations.Flyway(("V1__create.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"), ("V2__slow.sql", "CREATE TABLE b (id int);\nSELECT SLEEP(2);\n"));
        var slow = await new MigrationRunner(database).RunAsync(slowFiles, null, CancellationToken.None);
        Assert.Equal("Query execution was interrupted (max_statement_time exceeded)", slow.Failure?.ServerMessage);
        Assert.True(slow.Failure!.LeftDirty);

        // repair's reads and writes are Gatekeeper's own too.
        held = await HeldLock.TakeAsync(await server.OpenAsync("app"), "LOCK TABLES gatekeeper_schema_history WRITE", inTransaction: false);
        release = ReleaseAfterAsync(held, TimeSpan.FromMilliseconds(900));
        var repair = await database.RepairAsync(slowFiles, "2", RepairResolution.MarkApplied, CancellationToken.None);
        await release;
        Assert.True(repair.Cleared, repair.Message);
    }

    [Fact]
    public async Task MySql_a_history_read_held_up_past_gatekeepers_own_limit_says_so_in_one_sentence()
    {
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using (var first = test.Open())
        {
            Assert.True((await new MigrationRunner(first).RunAsync(OneFile, null, CancellationToken.None)).Succeeded);
        }

        await using var database = test.Open(new MigrationDatabaseOptions { OwnStatementTimeout = TimeSpan.FromSeconds(1) });
        var held = await HeldLock.TakeAsync(await test.OpenConnectionAsync(), "LOCK TABLES gatekeeper_schema_history WRITE", inTransaction: false);
        var release = ReleaseAfterAsync(held, TimeSpan.FromSeconds(5));

        var stopped = await Assert.ThrowsAsync<DatabaseException>(() => database.ReadHistoryAsync(CancellationToken.None));
        await release;

        Assert.StartsWith($"reading history table gatekeeper_schema_history on database {test.Name} at ", stopped.Message, StringComparison.Ordinal);
        Assert.Equal(DatabaseErrorKind.StatementTimeout, stopped.Kind);
        Assert.Contains("took longer than Gatekeeper's own limit of 1s for its bookkeeping statements (max_statement_time); nothing was applied;", stopped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MySql_the_dry_runs_structure_read_leaves_its_session_in_the_sql_mode_it_found()
    {
        // The read runs in the empty mode; before, the caller's session stayed in it, and any later use of that session
        // (a history write, a file) would have run under a mode the server was never set to.
        await using var test = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await test.ExecuteAsync("CREATE TABLE a (id int PRIMARY KEY)");
        await using var connection = await test.OpenConnectionAsync();
        await using var session = new DbSession(connection, SqlEngine.MySql);
        await session.ExecuteAsync("SET SESSION sql_mode = 'ANSI_QUOTES,STRICT_ALL_TABLES'", CancellationToken.None);

        var snapshot = await SqlEngine.MySql.ReadSnapshotAsync(session, "gk_shadow_20260101000000_000000000000", CancellationToken.None);

        Assert.Contains(snapshot.Objects, o => o.Name == "a");
        Assert.Equal("ANSI_QUOTES,STRICT_ALL_TABLES", await session.ScalarAsync("SELECT @@SESSION.sql_mode", CancellationToken.None));
    }
}
