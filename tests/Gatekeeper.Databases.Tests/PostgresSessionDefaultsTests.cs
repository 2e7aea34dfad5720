using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A PostgreSQL role's or database's session defaults (<c>ALTER ROLE/DATABASE … SET</c>) must not change what Gatekeeper
/// keeps or says: what a default breaks is either pinned for Gatekeeper's own statements or refused in one sentence that
/// names the setting. Each test sets them on a database of its own (<c>ALTER DATABASE … SET</c>), so the shared server's
/// other databases keep theirs.
/// </summary>
public sealed class PostgresSessionDefaultsTests
{
    private static async Task<TestDatabase> DatabaseWithDefaultAsync(string setting)
    {
        var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        try
        {
            await database.ExecuteOnServerAsync($"ALTER DATABASE {database.Quote(database.Name)} SET {setting}");
            return database;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Postgres_the_migration_lock_outlives_an_idle_session_timeout()
    {
        // The lock's session sits idle while the files run: idle_session_timeout ended it, and with it the lock, so a
        // second runner got in while the first was still applying (reproduced with two `gatekeeper migrate` processes).
        await using var test = await DatabaseWithDefaultAsync("idle_session_timeout = '300ms'");
        await using var first = test.Open();
        await using var second = test.Open();
        await using var held = await first.AcquireMigrationLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        await Task.Delay(TimeSpan.FromSeconds(1.5));

        var refused = await Assert.ThrowsAsync<DatabaseException>(() => second.AcquireMigrationLockAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(DatabaseErrorKind.MigrationLockHeld, refused.Kind);
    }
    [Fact]
    public async Task Postgres_a_pooled_session_the_server_ended_while_idle_does_not_fail_the_history_read()
    {
        // migrate connects its history session while it waits for the lock; a second runner waiting longer than the
        // role's idle_session_timeout then read the history on a session the server had ended ("database error:
        // terminating connection due to idle-session timeout (57P05)"), as would the webhook after an idle spell.
        await using var test = await DatabaseWithDefaultAsync("idle_session_timeout = '300ms'");
        await using var database = test.Open();
        await database.ConnectAsync(CancellationToken.None);

        await Task.Delay(TimeSpan.FromSeconds(1.5));

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.False(history.Exists);
    }

    private static readonly MigrationDirectory TwoFiles = TestMigrations.Flyway(
        ("V1__create.sql", "CREATE TABLE a (id int PRIMARY KEY);\n"),
        ("V2__insert.sql", "INSERT INTO a VALUES (1);\n"));

    [Fact]
    public async Task Postgres_sessions_that_start_read_only_are_refused_in_one_sentence_that_names_the_setting()
    {
        // Before: "database error: cannot execute CREATE TABLE in a read-only transaction (25006)" from the history
        // table's creation, and a file's failure ("fix the failing statement") once the table existed.
        await using var fresh = await DatabaseWithDefaultAsync("default_transaction_read_only = on");
        await using (var database = fresh.Open())
        {
            var refused = await Assert.ThrowsAsync<DatabaseException>(() => new MigrationRunner(database).RunAsync(TwoFiles, null, CancellationToken.None));
            Assert.Equal(DatabaseErrorKind.PermissionDenied, refused.Kind);
            Assert.Contains("default_transaction_read_only = on, set for database", refused.Message, StringComparison.Ordinal);
            Assert.StartsWith("cannot apply migrations on database " + fresh.Name, refused.Message, StringComparison.Ordinal);
        }

        await using var started = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using (var database = started.Open())
        {
            var first = await new MigrationRunner(database).RunAsync(TestMigrations.Flyway(("V1__create.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")), null, CancellationToken.None);
            Assert.True(first.Succeeded, first.Message);
        }

        await started.ExecuteOnServerAsync($"ALTER DATABASE {started.Quote(started.Name)} SET default_transaction_read_only = on");
        await using (var database = started.Open())
        {
            var refused = await Assert.ThrowsAsync<DatabaseException>(() => new MigrationRunner(database).RunAsync(TwoFiles, null, CancellationToken.None));
            Assert.Contains("default_transaction_read_only = on", refused.Message, StringComparison.Ordinal);
            var dryRun = await Assert.ThrowsAsync<DatabaseException>(() => new MigrationRunner(database).DryRunAsync(TwoFiles, new DryRunSettings(DryRunMode.Transaction), CancellationToken.None));
            Assert.StartsWith("cannot try the plan in a rolled-back transaction on database " + started.Name, dryRun.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, await started.CountAsync("SELECT COUNT(*) FROM a"));
        Assert.Equal(1, await started.CountAsync("SELECT COUNT(*) FROM gatekeeper_schema_history"));
    }

    [Fact]
    public async Task Postgres_a_search_path_without_an_existing_schema_is_refused_in_one_sentence()
    {
        // Before: "database error: no schema has been selected to create in (3F000)".
        await using var test = await DatabaseWithDefaultAsync("search_path = missing_schema");
        await using var database = test.Open();

        var refused = await Assert.ThrowsAsync<DatabaseException>(() => new MigrationRunner(database).RunAsync(TwoFiles, null, CancellationToken.None));

        Assert.Equal(DatabaseErrorKind.HistoryTable, refused.Kind);
        Assert.Contains("search_path (missing_schema) names no schema that exists", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postgres_the_history_table_and_the_files_objects_land_in_the_first_schema_of_the_search_path()
    {
        // As documented: an unqualified history table lives where the session's unqualified names go.
        await using var test = await DatabaseWithDefaultAsync("search_path = app, public");
        await test.ExecuteAsync("CREATE SCHEMA app");
        await using var database = test.Open();

        var result = await new MigrationRunner(database).RunAsync(TwoFiles, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.True(await test.TableExistsAsync("gatekeeper_schema_history", "app"));
        Assert.True(await test.TableExistsAsync("a", "app"));
        Assert.False(await test.TableExistsAsync("gatekeeper_schema_history", "public"));
        Assert.Equal(MigrationRunStatus.UpToDate, (await new MigrationRunner(database).RunAsync(TwoFiles, null, CancellationToken.None)).Status);
    }
}
