using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A MySQL server's session defaults must not change what Gatekeeper keeps or says. With autocommit = 0 (which some
/// teams set server-wide) every write stays open until a COMMIT, and with completion_type CHAIN a COMMIT opens the next
/// transaction; Gatekeeper returns each file's session to the pool, whose reset rolls back whatever is open, so a run
/// reported "applied" while the files' rows, the history's clearing and a repair were rolled back. With
/// sql_safe_updates = 1 the history writes after a failure (their WHERE names no key column) were refused, so the run
/// named that refusal instead of the file's error and left the mark it said it had taken back. Each test has a server
/// of its own: the shared servers' defaults must not change under other tests.
/// </summary>
public sealed class ServerSessionDefaultsTests
{
    /// <summary>A private MariaDB with database app whose new sessions start with <paramref name="serverDefault"/>.</summary>
    private static async Task<PrivateDatabaseServer> ServerWithDefaultAsync(string serverDefault)
    {
        var server = await PrivateDatabaseServer.StartAsync(DatabaseEngine.MySql);
        try
        {
            await server.ExecuteAsync("mysql", "CREATE DATABASE app");
            await server.ExecuteAsync("mysql", $"SET GLOBAL {serverDefault}");
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    [Theory]
    [InlineData("autocommit = 0")]
    [InlineData("completion_type = 'CHAIN'")]
    public async Task MySql_every_applied_file_is_kept_whatever_the_servers_commit_defaults(string serverDefault)
    {
        await using var server = await ServerWithDefaultAsync(serverDefault);
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var directory = TestMigrations.Flyway(
            ("V1__create.sql", "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);\n"),
            ("V2__own_transaction.sql", "START TRANSACTION;\nINSERT INTO a VALUES (2);\nCOMMIT;\nINSERT INTO a VALUES (3);\n"),
            ("V3__insert.sql", "INSERT INTO a VALUES (4);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(4, await server.CountAsync("app", "SELECT COUNT(*) FROM a"));
        Assert.Equal(3, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history WHERE success AND NOT dirty"));
        var again = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.UpToDate, again.Status);
    }

    [Fact]
    public async Task MySql_a_repair_is_kept_on_a_server_whose_sessions_start_with_autocommit_off()
    {
        await using var server = await ServerWithDefaultAsync("autocommit = 0");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var failing = TestMigrations.Flyway(("V1__half.sql", "CREATE TABLE b (id INT);\nINSERT INTO missing_table VALUES (1);\n"));
        var failed = await new MigrationRunner(database).RunAsync(failing, null, CancellationToken.None);
        Assert.True(failed.Failure!.LeftDirty, failed.Message);
        Assert.Equal(1, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history WHERE dirty AND error LIKE '%missing_table%'"));

        await server.ExecuteAsync("app", "DROP TABLE b");
        var repair = await database.RepairAsync(failing, "1", RepairResolution.Retry, CancellationToken.None);

        Assert.True(repair.Cleared, repair.Message);
        Assert.Equal(0, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history WHERE dirty"));
    }

    [Fact]
    public async Task MySql_a_failed_file_is_reported_and_marked_as_it_is_under_sql_safe_updates()
    {
        await using var server = await ServerWithDefaultAsync("sql_safe_updates = 1");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));

        // The first statement fails: nothing was kept, and the dirty mark is taken back.
        var first = await new MigrationRunner(database).RunAsync(
            TestMigrations.Flyway(("V1__bad.sql", "INSERT INTO missing_table VALUES (1);\nCREATE TABLE c (id INT);\n")), null, CancellationToken.None);
        Assert.False(first.Failure!.LeftDirty, first.Message);
        Assert.Contains("missing_table", first.Message, StringComparison.Ordinal);
        Assert.Equal(0, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history"));

        // A later statement fails: the file is marked dirty with where and why.
        var failing = TestMigrations.Flyway(("V1__half.sql", "CREATE TABLE b (id INT);\nINSERT INTO missing_table VALUES (1);\n"));
        var half = await new MigrationRunner(database).RunAsync(failing, null, CancellationToken.None);
        Assert.True(half.Failure!.LeftDirty, half.Message);
        Assert.Contains("missing_table", half.Message, StringComparison.Ordinal);
        Assert.Equal(1, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history WHERE dirty AND error LIKE '%missing_table%'"));

        var repair = await database.RepairAsync(failing, "1", RepairResolution.MarkApplied, CancellationToken.None);
        Assert.True(repair.Cleared, repair.Message);
        Assert.Equal(1, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history WHERE success AND NOT dirty"));
    }

    [Theory]
    [MemberData(nameof(DirtyStateTests.HistoryLayouts), MemberType = typeof(DirtyStateTests))]
    public async Task MySql_every_history_layout_applies_under_sql_safe_updates(string table, MigrationFormat? format)
    {
        await using var server = await ServerWithDefaultAsync("sql_safe_updates = 1");
        await using var database = MigrationDatabase.Open(
            DatabaseUrl.Parse(server.Url("app")), new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse(table), Format = format });
        var directory = TestMigrations.Flyway(
            ("V1__create.sql", "CREATE TABLE a (id INT PRIMARY KEY);\n"),
            ("V2__insert.sql", "INSERT INTO a VALUES (1);\n"),
            ("V3__create.sql", "CREATE TABLE b (id INT);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.DoesNotContain(history.Applied, a => a.Dirty);
        Assert.Equal(MigrationRunStatus.UpToDate, (await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None)).Status);
    }
    [Fact]
    public async Task MySql_the_migration_lock_is_held_and_waited_for_whatever_the_servers_session_timeouts()
    {
        // wait_timeout ended the lock's session (and with it the lock) while the files ran, so a second runner got in;
        // max_statement_time stopped GET_LOCK's wait for another runner after 0.2 s, reported as "waited 30s".
        await using var server = await ServerWithDefaultAsync("wait_timeout = 1, GLOBAL max_statement_time = 0.2");
        await using var first = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        await using var second = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var held = await first.AcquireMigrationLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        // Longer idle than wait_timeout, as a lock's session is while a long file runs.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var refused = await Assert.ThrowsAsync<DatabaseException>(() => second.AcquireMigrationLockAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(DatabaseErrorKind.MigrationLockHeld, refused.Kind);

        // The second runner waits past max_statement_time until the first lets go.
        var waiting = second.AcquireMigrationLockAsync(TimeSpan.FromSeconds(60), CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await held.DisposeAsync();
        await (await waiting).DisposeAsync();
    }
    [Fact]
    public async Task MySql_sessions_that_start_read_only_are_refused_in_one_sentence_that_names_the_setting()
    {
        // Before: "database error: Cannot execute statement in a READ ONLY transaction (1792)", from migrate, repair and
        // the dry-run alike, naming no setting.
        await using var server = await ServerWithDefaultAsync("autocommit = 1");
        await server.ExecuteAsync("mysql", "CREATE DATABASE app2");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var failing = TestMigrations.Flyway(("V1__half.sql", "CREATE TABLE b (id INT);\nINSERT INTO missing_table VALUES (1);\n"));
        var failed = await new MigrationRunner(database).RunAsync(failing, null, CancellationToken.None);
        Assert.True(failed.Failure!.LeftDirty, failed.Message);
        await server.ExecuteAsync("mysql", "SET GLOBAL tx_read_only = 1");

        var repair = await Assert.ThrowsAsync<DatabaseException>(() => database.RepairAsync(failing, "1", RepairResolution.Retry, CancellationToken.None));
        Assert.StartsWith("cannot repair the history on database app", repair.Message, StringComparison.Ordinal);
        Assert.Contains("tx_read_only = ON, the server's default", repair.Message, StringComparison.Ordinal);

        await using var other = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app2")));
        var directory = TestMigrations.Flyway(("V1__create.sql", "CREATE TABLE a (id INT PRIMARY KEY);\n"));
        var migrate = await Assert.ThrowsAsync<DatabaseException>(() => new MigrationRunner(other).RunAsync(directory, null, CancellationToken.None));
        Assert.Equal(DatabaseErrorKind.PermissionDenied, migrate.Kind);
        Assert.Contains("tx_read_only = ON", migrate.Message, StringComparison.Ordinal);
        var dryRun = await Assert.ThrowsAsync<DatabaseException>(() => new MigrationRunner(other).DryRunAsync(directory, CancellationToken.None));
        Assert.StartsWith("cannot create the dry-run's throwaway database on the dry-run's server", dryRun.Message, StringComparison.Ordinal);
    }
    [Fact]
    public async Task MySql_a_dry_run_on_a_dev_server_copies_and_applies_as_the_live_servers_sql_mode_reads()
    {
        // With ANSI_QUOTES on the live server, SHOW CREATE printed identifiers in double quotes: the copy on a dev server
        // without it failed ("could not copy table a ... syntax"), and a file written for the live server's mode would
        // have been judged in the dev server's.
        await using var server = await ServerWithDefaultAsync("sql_mode = 'ANSI_QUOTES,STRICT_TRANS_TABLES'");
        await server.ExecuteAsync("app", "CREATE TABLE \"a\" (\"id\" INT PRIMARY KEY, \"n\" INT DEFAULT 3)");
        await server.ExecuteAsync("app", "CREATE VIEW \"v\" AS SELECT \"id\", \"n\" FROM \"a\"");
        await server.ExecuteAsync("app", "CREATE TRIGGER \"t\" BEFORE INSERT ON \"a\" FOR EACH ROW SET NEW.\"n\" = NEW.\"n\" + 1");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var directory = TestMigrations.Flyway(("V1__quoted.sql", "CREATE TABLE \"q\" (\"id\" INT);\nINSERT INTO \"v\" (\"id\") VALUES (1);\n"));

        var result = await new MigrationRunner(database).DryRunAsync(directory, new DryRunSettings(DryRunMode.Shadow, TestServers.Server(DatabaseEngine.MySql)), CancellationToken.None);

        Assert.True(result.Report!.Succeeded, result.Report.Failure?.ToString());
        Assert.Single(result.Report.Checked);
        Assert.Equal(0, await server.CountAsync("app", "SELECT COUNT(*) FROM \"a\""));
    }
    [Fact]
    public async Task MySql_a_dry_run_commits_as_migrate_does_whatever_the_servers_autocommit()
    {
        // migrate runs a file with autocommit = 1, so its ROLLBACK takes nothing back and the second INSERT is a duplicate;
        // the dry-run's copy kept the server's autocommit = 0, rolled the first INSERT back and passed the file.
        await using var server = await ServerWithDefaultAsync("autocommit = 0");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var directory = TestMigrations.Flyway(("V1__rollback.sql",
            "CREATE TABLE t (id INT PRIMARY KEY);\nINSERT INTO t VALUES (1);\nROLLBACK;\nINSERT INTO t VALUES (1);\n"));

        var dryRun = await new MigrationRunner(database).DryRunAsync(directory, CancellationToken.None);
        var migrate = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Contains("Duplicate entry", migrate.Message, StringComparison.Ordinal);
        Assert.False(dryRun.Report!.Succeeded, "the dry-run passed a file that migrate fails");
        Assert.Contains("Duplicate entry", dryRun.Report.Failure.ServerMessage, StringComparison.Ordinal);
    }
}
