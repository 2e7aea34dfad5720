using System.Data.Common;
using System.Globalization;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A file retried after a lock timeout runs again on the same session, and must run there as its first attempt did.
/// Before, the retry inherited what the first attempt left: on MySQL the history writes after the failure had set
/// sql_safe_updates = 0 (so the retried file's UPDATE whose WHERE names no key column was applied where the server
/// refuses it, and so was the next file's on the session carried over to it); on PostgreSQL what the file ran before the
/// lock timed out and that outlives a rollback (a PREPARE) made the retry fail on the file's own first statement.
/// Each test holds a row lock from another connection until the first attempt has timed out on it: the backoff's timer
/// on the injected clock says when, so the blocker lets go then and the clock moves on to the retry (no sleep for time).
/// </summary>
public sealed class LockTimeoutRetrySessionTests
{
    private const string SafeUpdatesFile = "UPDATE t SET v = 2, note = 'ü' WHERE id = 1;\nUPDATE t SET v = 1 WHERE n = 5;\n";

    /// <summary>A private MariaDB whose sessions start with sql_safe_updates = 1 and give up a row lock after 1 s.</summary>
    private static async Task<PrivateDatabaseServer> SafeUpdatesServerAsync(params string[] databases)
    {
        var server = await PrivateDatabaseServer.StartAsync(DatabaseEngine.MySql);
        try
        {
            await server.ExecuteAsync("mysql", "SET GLOBAL sql_safe_updates = 1, GLOBAL innodb_lock_wait_timeout = 1");
            foreach (var database in databases)
            {
                await server.ExecuteAsync("mysql", $"CREATE DATABASE {database}");
                await server.ExecuteAsync(database, "CREATE TABLE t (id INT PRIMARY KEY, n INT, v INT, note VARCHAR(10) CHARACTER SET utf8mb4)");
                await server.ExecuteAsync(database, "INSERT INTO t VALUES (1, 5, 0, NULL)");
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static MigrationDatabaseOptions OneRetry(TimeProvider clock) => new()
    {
        StatementLockTimeout = TimeSpan.FromSeconds(1),
        LockTimeoutRetries = 1,
        LockTimeoutBackoff = TimeSpan.FromMilliseconds(200),
        TimeProvider = clock,
    };

    /// <summary>Row id = 1 of t, held by another connection's open transaction until the first attempt timed out on it.</summary>
    private static async Task<MigrationApplyResult> ApplyBehindRowLockAsync(DbConnection blocker, string lockQuery, Func<Task<MigrationApplyResult>> apply, SignallingTimeProvider clock)
    {
        var backoffStarted = clock.NextTimer();
        var transaction = await blocker.BeginTransactionAsync();
        await using (var hold = blocker.CreateCommand())
        {
            hold.Transaction = transaction;
            hold.CommandText = lockQuery;
            await hold.ExecuteScalarAsync();
        }

        var applying = apply();
        var backoff = await backoffStarted.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(applying.IsCompleted);
        await transaction.RollbackAsync();
        clock.Advance(backoff);
        return await applying;
    }

    [Fact]
    public async Task MySql_a_file_retried_after_a_lock_timeout_is_refused_by_sql_safe_updates_as_without_the_lock()
    {
        await using var server = await SafeUpdatesServerAsync("calm", "busy");
        var directory = TestMigrations.Flyway(("V1__safe_updates.sql", SafeUpdatesFile));

        // Without the lock: the first UPDATE is applied, the server refuses the second (1175), the file is left dirty.
        await using var calm = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("calm")), OneRetry(new SignallingTimeProvider()));
        var unblocked = await calm.ApplyAsync(directory, directory.Migrations[0], CancellationToken.None);
        Assert.False(unblocked.Succeeded);
        Assert.Equal(1, unblocked.Attempts);
        Assert.Equal("1175", unblocked.Failure.ServerCode);

        // Behind the lock: the first attempt times out on the first UPDATE, and the retry must end as above.
        var clock = new SignallingTimeProvider();
        await using var busy = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("busy")), OneRetry(clock));
        await using var blocker = await server.OpenAsync("busy");
        var retried = await ApplyBehindRowLockAsync(
            blocker, "SELECT v FROM t WHERE id = 1 FOR UPDATE", () => busy.ApplyAsync(directory, directory.Migrations[0], CancellationToken.None), clock);

        Assert.Equal(2, retried.Attempts);
        Assert.False(retried.Succeeded, "the retry applied UPDATE t SET v = 1 WHERE n = 5, which sql_safe_updates refuses");
        Assert.Equal(unblocked.Failure.ServerCode, retried.Failure.ServerCode);
        Assert.Equal(unblocked.Failure.Location, retried.Failure.Location);
        Assert.Equal(unblocked.Failure.LeftDirty, retried.Failure.LeftDirty);
        foreach (var database in new[] { "calm", "busy" })
        {
            // 'ü' arrives as it was sent: the retry's session reads the driver's utf8mb4, as a new one does.
            Assert.Equal("2 ü", Convert.ToString(await server.ScalarAsync(database, "SELECT CONCAT(v, ' ', note) FROM t WHERE id = 1"), CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task MySql_the_file_after_a_retried_one_runs_under_sql_safe_updates_on_the_session_it_takes_over()
    {
        await using var server = await SafeUpdatesServerAsync("app");
        var directory = TestMigrations.Flyway(
            ("V1__key.sql", "UPDATE t SET v = 2 WHERE id = 1;\n"),
            ("V2__no_key.sql", "UPDATE t SET v = 1 WHERE n = 5;\n"));
        var clock = new SignallingTimeProvider();
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse(server.Url("app")), OneRetry(clock));
        await using var blocker = await server.OpenAsync("app");

        var first = await ApplyBehindRowLockAsync(
            blocker, "SELECT v FROM t WHERE id = 1 FOR UPDATE", () => database.ApplyAsync(directory, directory.Migrations[0], CancellationToken.None), clock);
        Assert.True(first.Succeeded, first.Failure?.ToString());
        Assert.Equal(2, first.Attempts);

        // V1 left nothing on its session (DDL and plain DML), so V2 runs on it without the pool's reset.
        var second = await database.ApplyAsync(directory, directory.Migrations[1], CancellationToken.None);

        Assert.False(second.Succeeded, "V2 ran with sql_safe_updates = 0 on the session the retried V1 left");
        Assert.Equal("1175", second.Failure.ServerCode);
        Assert.Equal(2L, Convert.ToInt64(await server.ScalarAsync("app", "SELECT v FROM t WHERE id = 1"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Postgres_a_file_retried_after_a_lock_timeout_does_not_find_what_its_first_attempt_prepared()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY, v int)");
        await db.ExecuteAsync("INSERT INTO t VALUES (1, 0)");
        // A prepared statement is the session's, not the transaction's: the first attempt's ROLLBACK leaves it.
        var directory = TestMigrations.Flyway(("V1__prepared.sql", "PREPARE bump AS UPDATE t SET v = v + 1 WHERE id = 1;\nEXECUTE bump;\nDEALLOCATE bump;\n"));
        var clock = new SignallingTimeProvider();
        await using var database = db.Open(OneRetry(clock));
        await using var blocker = await db.OpenConnectionAsync();

        var result = await ApplyBehindRowLockAsync(
            blocker, "SELECT v FROM t WHERE id = 1 FOR UPDATE", () => database.ApplyAsync(directory, directory.Migrations[0], CancellationToken.None), clock);

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.Equal(2, result.Attempts);
        Assert.Equal(1, await db.CountAsync("SELECT v FROM t WHERE id = 1"));
    }
}
