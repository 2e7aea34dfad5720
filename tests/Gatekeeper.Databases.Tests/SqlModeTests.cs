using Gatekeeper.Core.Sql;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A MySQL file must be cut, sent and recorded as the session that runs it reads it, whatever its sql_mode. On a server
/// started with --sql-mode=NO_BACKSLASH_ESCAPES, Gatekeeper cut files as the stock mode reads them and MySqlConnector
/// read and escaped them so too: 'C:\' looked unclosed (the file was refused before anything ran), 'a\'); DROP TABLE
/// keep; -- ' hid a DROP from the cutting and the driver glued the next command onto its comment (the file's last
/// statement and the history's clearing never ran, yet the run said "applied"), and a backslash in a stored failure
/// message was doubled. Each test has a server of its own, started in the mode.
/// </summary>
public sealed class SqlModeTests
{
    [Fact]
    public async Task MySql_a_string_that_ends_in_a_backslash_applies_on_a_NO_BACKSLASH_ESCAPES_server()
    {
        await using var server = await PrivateDatabaseServer.StartMySqlInModeAsync("NO_BACKSLASH_ESCAPES");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var directory = TestMigrations.Flyway(
            ("V1__paths.sql", "CREATE TABLE paths (id INT PRIMARY KEY, p VARCHAR(50));\nINSERT INTO paths VALUES (1, 'C:\\'), (2, 'x?');\n"),
            ("V2__more.sql", "INSERT INTO paths VALUES (3, 'D:\\');\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(["C:\\", "x?", "D:\\"], await server.ColumnAsync("app", "SELECT p FROM paths ORDER BY id"));
        Assert.Equal(2, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history WHERE success AND NOT dirty"));
    }

    [Fact]
    public async Task MySql_every_statement_a_NO_BACKSLASH_ESCAPES_server_reads_in_a_file_runs_and_the_file_is_recorded()
    {
        await using var server = await PrivateDatabaseServer.StartMySqlInModeAsync("NO_BACKSLASH_ESCAPES");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var directory = TestMigrations.Flyway(("V1__notes.sql",
            "CREATE TABLE keep (id INT);\nCREATE TABLE notes (id INT PRIMARY KEY, n VARCHAR(50));\n" +
            "INSERT INTO notes VALUES (1, 'a\\'); DROP TABLE keep; -- ');\nINSERT INTO notes VALUES (2, 'b');\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(["a\\", "b"], await server.ColumnAsync("app", "SELECT n FROM notes ORDER BY id"));
        Assert.Equal(0, await server.CountAsync("app", "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'keep'"));
        Assert.Equal(1, await server.CountAsync("app", "SELECT COUNT(*) FROM gatekeeper_schema_history WHERE success AND NOT dirty"));
        Assert.Equal(SqlModes.NoBackslashEscapes, database.SessionModes);
    }

    [Fact]
    public async Task MySql_a_failure_message_with_a_backslash_is_stored_as_the_NO_BACKSLASH_ESCAPES_server_said_it()
    {
        await using var server = await PrivateDatabaseServer.StartMySqlInModeAsync("NO_BACKSLASH_ESCAPES");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var directory = TestMigrations.Flyway(("V1__fails.sql",
            "CREATE TABLE a (id INT);\nSIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'bad \\ path';\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Failure!.LeftDirty, result.Message);
        Assert.Equal("bad \\ path", result.Failure.ServerMessage);
        var stored = Assert.Single(await server.ColumnAsync("app", "SELECT error FROM gatekeeper_schema_history WHERE dirty"));
        Assert.Contains("bad \\ path", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("\\\\", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MySql_a_file_that_sets_NO_BACKSLASH_ESCAPES_itself_is_read_in_it_from_there_and_its_failure_stored_exactly()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(
            ("V1__mode.sql",
                "CREATE TABLE p (id INT PRIMARY KEY, v VARCHAR(20));\nINSERT INTO p VALUES (1, 'it\\'s');\n" +
                "SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nINSERT INTO p VALUES (2, 'C:\\');\nINSERT INTO p VALUES (3, '?');\n" +
                "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'bad \\ path';\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Failure!.LeftDirty, result.Message);
        Assert.Equal("bad \\ path", result.Failure.ServerMessage);
        Assert.Equal(["it's", "C:\\", "?"], (await db.RowsAsync("SELECT v FROM p ORDER BY id")).Select(r => (string)r[0]!));
        var stored = (string)(await db.ScalarAsync("SELECT error FROM gatekeeper_schema_history WHERE dirty"))!;
        Assert.Contains("bad \\ path", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("\\\\", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MySql_a_dry_run_cuts_the_plan_as_the_live_NO_BACKSLASH_ESCAPES_session_reads_it()
    {
        await using var server = await PrivateDatabaseServer.StartMySqlInModeAsync("NO_BACKSLASH_ESCAPES");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));
        var directory = TestMigrations.Flyway(("V1__paths.sql", "CREATE TABLE paths (p VARCHAR(50));\nINSERT INTO paths VALUES ('C:\\');\n"));

        var result = await new MigrationRunner(database).DryRunAsync(directory, CancellationToken.None);

        Assert.True(result.Report!.Succeeded, result.Report.Failure?.ToString());
        Assert.Single(result.Report.Checked);
    }

    [Fact]
    public async Task MySql_every_file_runs_in_a_new_sessions_sql_mode_when_init_connect_sets_one_the_pools_reset_drops()
    {
        // init_connect runs for a new session only; MySqlConnector's reset of a reused one (COM_RESET_CONNECTION) gives it
        // the global mode. The first file ran in NO_BACKSLASH_ESCAPES and the next ones in the global mode, where 'D:\'
        // is an unclosed string, while Gatekeeper read every file in the new session's mode.
        await using var server = await PrivateDatabaseServer.StartAsync(DatabaseEngine.MySql);
        await server.ExecuteAsync("mysql", "CREATE DATABASE app");
        await server.ExecuteAsync("mysql", "CREATE USER app IDENTIFIED BY 'app-pw'");
        await server.ExecuteAsync("mysql", "GRANT ALL ON app.* TO app");
        await server.ExecuteAsync("mysql", "SET GLOBAL init_connect = 'SET SESSION sql_mode = ''NO_BACKSLASH_ESCAPES'''");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse($"mysql://app:app-pw@127.0.0.1:{server.Port}/app"));
        // A SET in each file makes the pool reset the session before the next (it may leave something on it).
        var directory = TestMigrations.Flyway(
            ("V1__c.sql", "SET @x = 1;\nCREATE TABLE p (id INT PRIMARY KEY, v VARCHAR(20));\nINSERT INTO p VALUES (1, 'C:\\');\n"),
            ("V2__d.sql", "SET @x = 2;\nINSERT INTO p VALUES (2, 'D:\\');\n"),
            ("V3__e.sql", "SET @x = 3;\nINSERT INTO p VALUES (3, 'E:\\');\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(["C:\\", "D:\\", "E:\\"], await server.ColumnAsync("app", "SELECT v FROM p ORDER BY id"));
    }

    [Fact]
    public async Task MySql_the_catalog_read_tells_how_an_ANSI_QUOTES_server_reads_text()
    {
        await using var server = await PrivateDatabaseServer.StartMySqlInModeAsync("ANSI_QUOTES");
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")));

        var live = await database.ReadSchemaAsync(CancellationToken.None);

        Assert.Equal(SqlModes.AnsiQuotes, live.Modes);
        Assert.Equal(SqlModes.AnsiQuotes, database.SessionModes);
    }
}
