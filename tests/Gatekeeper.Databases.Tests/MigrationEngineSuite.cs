using System.Net;
using System.Net.Sockets;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// The behaviour every engine must have, run once per engine by the subclasses below (one shared suite, as DbUp does):
/// apply and re-run, failure locations, the migration lock, concurrency, lock-timeout retries, connection errors.
/// </summary>
public abstract class MigrationEngineSuite
{
    private const string WrongPassword = "Wr0ng-s3cret-pw";

    protected abstract DatabaseEngine Engine { get; }

    private static MigrationDirectory ThreeMigrations() => TestMigrations.Flyway(
        ("V1__create_customers.sql", "CREATE TABLE customers (id integer PRIMARY KEY, name varchar(100));\n"),
        ("V2__seed.sql", "INSERT INTO customers (id, name) VALUES (1, 'ada');\nINSERT INTO customers (id, name) VALUES (2, 'grace');\n"),
        ("V1_10__add_email.sql", "ALTER TABLE customers ADD email varchar(200);\n"));

    [Fact]
    public async Task Runner_applies_pending_migrations_in_version_order_and_a_second_run_is_a_no_op()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        var directory = ThreeMigrations();
        var progress = new List<MigrationProgress>();

        await using (var database = db.Open())
        {
            var first = await new MigrationRunner(database).RunAsync(directory, new SynchronousProgress<MigrationProgress>(progress.Add), CancellationToken.None);
            Assert.Equal(MigrationRunStatus.Applied, first.Status);
            Assert.Equal(["1", "1.10", "2"], first.Applied.Select(a => a.Migration.Id));
            Assert.Equal(6, progress.Count);
            Assert.All(progress.Where(p => p.Kind == MigrationProgressKind.Finished), p => Assert.NotNull(p.Elapsed));

            var second = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);
            Assert.Equal(MigrationRunStatus.UpToDate, second.Status);
            Assert.Empty(second.Applied);
        }

        Assert.Equal(2, await db.CountAsync("SELECT COUNT(*) FROM customers WHERE email IS NULL"));
        Assert.Equal(3, await db.CountAsync("SELECT COUNT(*) FROM gatekeeper_schema_history WHERE success = true AND dirty = false"));
    }

    [Fact]
    public async Task History_rows_take_the_rank_after_the_highest_one_read_and_one_more_for_each_migration_applied_since()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await using var database = db.Open();
        var first = await new MigrationRunner(database).RunAsync(
            TestMigrations.Flyway(("V1__one.sql", "CREATE TABLE ranked_one (id integer);\n"), ("V2__two.sql", "CREATE TABLE ranked_two (id integer);\n")),
            null, CancellationToken.None);
        Assert.True(first.Succeeded, first.Message);
        // A history with a gap (rows removed by hand, or ranked by another writer): the next row goes after the highest.
        await db.ExecuteAsync("UPDATE gatekeeper_schema_history SET installed_rank = 7 WHERE version = '2'");

        var later = TestMigrations.Flyway(
            ("V1__one.sql", "CREATE TABLE ranked_one (id integer);\n"),
            ("V2__two.sql", "CREATE TABLE ranked_two (id integer);\n"),
            ("V3__three.sql", "CREATE TABLE ranked_three (id integer);\n"),
            ("V4__four.sql", "INSERT INTO ranked_missing (id) VALUES (1);\n"));
        var failed = await new MigrationRunner(database).RunAsync(later, null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Failed, failed.Status);
        Assert.Equal(["3"], failed.Applied.Select(a => a.Migration.Id));

        // Fixed, with one more after it; the same database object, as a long-lived caller keeps it.
        var fixedUp = TestMigrations.Flyway(
            ("V1__one.sql", "CREATE TABLE ranked_one (id integer);\n"),
            ("V2__two.sql", "CREATE TABLE ranked_two (id integer);\n"),
            ("V3__three.sql", "CREATE TABLE ranked_three (id integer);\n"),
            ("V4__four.sql", "CREATE TABLE ranked_four (id integer);\n"),
            ("V5__five.sql", "CREATE TABLE ranked_five (id integer);\n"));
        var applied = await new MigrationRunner(database).RunAsync(fixedUp, null, CancellationToken.None);
        Assert.True(applied.Succeeded, applied.Message);

        var ranks = await db.RowsAsync("SELECT version, installed_rank FROM gatekeeper_schema_history ORDER BY installed_rank");
        Assert.Equal(
            ["1:1", "2:7", "3:8", "4:9", "5:10"],
            ranks.Select(r => $"{r[0]}:{Convert.ToInt64(r[1], System.Globalization.CultureInfo.InvariantCulture)}"));
    }

    [Fact]
    public async Task A_history_row_written_by_someone_else_after_the_read_under_the_lock_refuses_the_next_migration_whole()
    {
        // The rank of a new row comes from the history read under the lock, so the server need not look at the table for
        // every row. A writer that ignores the lock and adds a row meanwhile takes that rank: the key then refuses the
        // migration's row, and the migration goes with it, never recorded twice, out of order or half.
        await using var db = await TestDatabase.CreateAsync(Engine);
        await using var database = db.Open();
        var first = await new MigrationRunner(database).RunAsync(TestMigrations.Flyway(("V1__one.sql", "CREATE TABLE intruded_one (id integer);\n")), null, CancellationToken.None);
        Assert.True(first.Succeeded, first.Message);
        var intrude = new MigrationRunnerOptions
        {
            Judge = async (plan, cancellationToken) =>
            {
                await db.ExecuteAsync(
                    "INSERT INTO gatekeeper_schema_history (installed_rank, version, description, kind, file_name, checksum, checksum_algorithm, applied_at, execution_time_ms, success, dirty) " +
                    "VALUES (2, '9', 'by hand', 'versioned', 'V9__by_hand.sql', 'x', 'sha256', CURRENT_TIMESTAMP, 0, true, false)");
                return Core.Planning.PlanVerdict.Allow([]);
            },
        };

        var result = await new MigrationRunner(database, intrude).RunAsync(
            TestMigrations.Flyway(("V1__one.sql", "CREATE TABLE intruded_one (id integer);\n"), ("V2__two.sql", "CREATE TABLE intruded_two (id integer);\n")),
            null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.Equal("2", result.Failure!.MigrationId);
        Assert.False(result.Failure.LeftDirty);
        Assert.EndsWith("; nothing of it was applied", result.Message, StringComparison.Ordinal);
        Assert.False(await db.TableExistsAsync("intruded_two"));
        Assert.Equal(["1", "9"], (await db.RowsAsync("SELECT version FROM gatekeeper_schema_history ORDER BY installed_rank")).Select(r => (string)r[0]!));

        // Once the stray row is gone, the next run applies the migration, after what is left.
        await db.ExecuteAsync("DELETE FROM gatekeeper_schema_history WHERE version = '9'");
        var again = await new MigrationRunner(database).RunAsync(
            TestMigrations.Flyway(("V1__one.sql", "CREATE TABLE intruded_one (id integer);\n"), ("V2__two.sql", "CREATE TABLE intruded_two (id integer);\n")),
            null, CancellationToken.None);
        Assert.True(again.Succeeded, again.Message);
        Assert.True(await db.TableExistsAsync("intruded_two"));
    }

    [Fact]
    public async Task A_failing_statement_is_reported_with_file_line_and_the_servers_message_and_later_files_do_not_run()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        var directory = TestMigrations.Flyway(
            ("V1__create.sql", "CREATE TABLE orders (id integer PRIMARY KEY);\n"),
            ("V2__broken.sql", "-- inserts into a table that does not exist\n\nINSERT INTO missing_table (id) VALUES (1);\n"),
            ("V3__never.sql", "CREATE TABLE never_created (id integer);\n"));

        await using var database = db.Open();
        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        var failure = result.Failure!;
        Assert.Equal("2", failure.MigrationId);
        Assert.Equal("V2__broken.sql", failure.Location!.Value.File);
        Assert.Equal(3, failure.Location.Value.Line);
        Assert.Contains("missing_table", failure.ServerMessage, StringComparison.Ordinal);
        Assert.False(failure.LeftDirty);
        Assert.StartsWith("migration 2 failed at V2__broken.sql:3:", result.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(PasswordOf(db.Url), result.Message, StringComparison.Ordinal);
        Assert.False(await db.TableExistsAsync("never_created"));

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(["1"], history.Applied.Select(a => a.Id));
    }

    [Fact]
    public async Task The_failing_statement_is_located_among_many_in_one_file_including_after_a_query_that_returns_rows()
    {
        // PostgreSQL sends a transactional file as one batch; the location must still be the statement that failed.
        await using var db = await TestDatabase.CreateAsync(Engine);
        var directory = TestMigrations.Flyway(
            ("V1__many.sql", "CREATE TABLE counted (id integer);\nINSERT INTO counted VALUES (1);\nSELECT count(*) FROM counted;\nINSERT INTO counted VALUES (2);\nINSERT INTO nowhere VALUES (3);\nINSERT INTO counted VALUES (4);\n"));

        await using var database = db.Open();
        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.Equal(5, result.Failure!.Location!.Value.Line);
        Assert.Contains("nowhere", result.Failure.ServerMessage, StringComparison.Ordinal);
        Assert.Equal("INSERT INTO nowhere VALUES (3)", result.Failure.Statement?.TrimEnd(';'));
    }

    [Fact]
    public async Task A_second_lock_holder_times_out_with_a_message_naming_the_database_and_the_wait()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await using var first = db.Open();
        await using var second = db.Open();

        var held = await first.AcquireMigrationLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        var error = await Assert.ThrowsAsync<DatabaseException>(() => second.AcquireMigrationLockAsync(TimeSpan.FromMilliseconds(600), CancellationToken.None));
        Assert.Equal(DatabaseErrorKind.MigrationLockHeld, error.Kind);
        Assert.Equal($"another migration holds the lock on database {db.Name} at {db.Url.Endpoint} (waited 600ms)", error.Message);

        var runner = await new MigrationRunner(second, new MigrationRunnerOptions { LockTimeout = TimeSpan.FromMilliseconds(300) })
            .RunAsync(ThreeMigrations(), null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.LockNotAcquired, runner.Status);
        Assert.False(await db.TableExistsAsync("customers"));

        await held.DisposeAsync();
        await using var again = await second.AcquireMigrationLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
    }

    [Fact]
    public async Task A_directory_read_while_the_lock_is_taken_fails_the_run_and_frees_the_lock_with_nothing_written()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await using var database = db.Open();
        await using var other = db.Open();
        var reading = new TaskCompletionSource<MigrationDirectory>(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = new MigrationRunner(database).RunAsync(reading.Task, null, CancellationToken.None);
        await WaitUntilLockedAsync(other);
        reading.SetException(new InvalidDataException("V2__x.sql cannot be read"));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => run);
        Assert.Equal("V2__x.sql cannot be read", error.Message);
        await using (await other.AcquireMigrationLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None))
        {
            // Released: another runner takes it at once.
        }

        Assert.False(await db.TableExistsAsync("gatekeeper_schema_history"));
    }

    [Fact]
    public async Task A_directory_that_cannot_be_read_is_reported_while_the_server_has_not_answered_the_connection()
    {
        // A server that took the connection and never answers (overloaded, paused, a proxy with nothing behind it): the
        // handshake would wait out the URL's connect_timeout, here ten minutes. The directory's error must not wait for it.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var clients = new System.Collections.Concurrent.ConcurrentQueue<TcpClient>();
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    clients.Enqueue(await silent.AcceptTcpClientAsync());
                    connected.TrySetResult();
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped at the end of the test.
            }
        });
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var scheme = Engine == DatabaseEngine.Postgres ? "postgres" : "mysql";
        await using var database = MigrationDatabase.Open(DatabaseUrl.Parse($"{scheme}://app:secret@127.0.0.1:{port}/shop?connect_timeout=600"));
        var reading = new TaskCompletionSource<MigrationDirectory>(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = new MigrationRunner(database).RunAsync(reading.Task, null, CancellationToken.None);
        await connected.Task.WaitAsync(TimeSpan.FromMinutes(1));
        reading.SetException(new InvalidDataException("V2__x.sql cannot be read"));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => run.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal("V2__x.sql cannot be read", error.Message);
        silent.Stop();
        await accepting;
        while (clients.TryDequeue(out var client))
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task A_directory_that_cannot_be_read_is_reported_rather_than_another_runners_lock()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await using var holder = db.Open();
        await using var database = db.Open();
        await using var held = await holder.AcquireMigrationLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        // As when the directory was read before the lock was asked for: bad input is the answer, not the busy lock
        // (and it comes without waiting out the lock timeout).
        var runner = new MigrationRunner(database, new MigrationRunnerOptions { LockTimeout = TimeSpan.FromMilliseconds(300) });
        var error = await Assert.ThrowsAsync<InvalidDataException>(() =>
            runner.RunAsync(Task.FromException<MigrationDirectory>(new InvalidDataException("unreadable")), null, CancellationToken.None));
        Assert.Equal("unreadable", error.Message);
    }

    [Fact]
    public async Task A_directory_that_arrives_after_the_lock_applies_up_to_a_failing_file_and_records_exactly_the_files_before_it()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await using var database = db.Open();
        await using var other = db.Open();
        var reading = new TaskCompletionSource<MigrationDirectory>(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = new MigrationRunner(database).RunAsync(reading.Task, null, CancellationToken.None);
        await WaitUntilLockedAsync(other);
        reading.SetResult(TestMigrations.Flyway(
            ("V1__create.sql", "CREATE TABLE parcels (id integer PRIMARY KEY);\n"),
            ("V2__fill.sql", "INSERT INTO parcels (id) VALUES (1);\n"),
            ("V3__broken.sql", "CREATE TABLE half (id integer);\nINSERT INTO nowhere VALUES (1);\n"),
            ("V4__never.sql", "CREATE TABLE never_created (id integer);\n")));
        var result = await run;

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.Equal("3", result.Failure!.MigrationId);
        Assert.Equal(2, result.Failure.Location!.Value.Line);
        Assert.Equal(["1", "2"], result.Applied.Select(a => a.Migration.Id));
        Assert.False(await db.TableExistsAsync("never_created"));
        var history = await database.ReadHistoryAsync(CancellationToken.None);
        if (Engine == DatabaseEngine.Postgres)
        {
            // One transaction per file: nothing of the failed file stays, and it is not in the history.
            Assert.False(await db.TableExistsAsync("half"));
            Assert.Equal(["1", "2"], history.Applied.Select(a => a.Id));
        }
        else
        {
            // MySQL commits each DDL statement: the file that failed half-way is recorded dirty, where it stopped.
            Assert.True(await db.TableExistsAsync("half"));
            Assert.Equal(["1", "2", "3"], history.Applied.Select(a => a.Id));
            Assert.Equal([false, false, true], history.Applied.Select(a => a.Dirty));
        }

        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM parcels"));
    }

    /// <summary>Returns once another session finds the migration lock taken.</summary>
    private static async Task WaitUntilLockedAsync(IMigrationDatabase other)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            try
            {
                var probe = await other.AcquireMigrationLockAsync(TimeSpan.Zero, CancellationToken.None);
                await probe.DisposeAsync();
            }
            catch (DatabaseException e) when (e.Kind == DatabaseErrorKind.MigrationLockHeld)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the runner never took the migration lock");
    }

    [Fact]
    public async Task Locks_on_different_history_tables_of_one_database_do_not_block_each_other()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await using var app = db.Open(new MigrationDatabaseOptions { HistoryTable = new(null, "app_history") });
        await using var audit = db.Open(new MigrationDatabaseOptions { HistoryTable = new(null, "audit_history") });

        await using var appLock = await app.AcquireMigrationLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        await using var auditLock = await audit.AcquireMigrationLockAsync(TimeSpan.FromMilliseconds(500), CancellationToken.None);
    }

    [Fact]
    public async Task Twelve_runners_started_at_once_apply_each_migration_exactly_once_and_all_succeed()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        var directory = TestMigrations.Flyway(
            ("V1__create.sql", "CREATE TABLE applications (migration varchar(10));\nINSERT INTO applications VALUES ('1');\n"),
            ("V2__second.sql", "INSERT INTO applications VALUES ('2');\n"),
            ("V3__third.sql", "INSERT INTO applications VALUES ('3');\nCREATE TABLE third (id integer);\n"));

        var databases = Enumerable.Range(0, 12).Select(_ => db.Open()).ToList();
        try
        {
            var runs = databases.Select(d => Task.Run(() =>
                new MigrationRunner(d, new MigrationRunnerOptions { LockTimeout = TimeSpan.FromSeconds(60) }).RunAsync(directory, null, CancellationToken.None)));
            var results = await Task.WhenAll(runs);

            Assert.All(results, r => Assert.True(r.Succeeded, r.Message));
            Assert.Single(results, r => r.Status == MigrationRunStatus.Applied);
            Assert.Equal(11, results.Count(r => r.Status == MigrationRunStatus.UpToDate));
        }
        finally
        {
            foreach (var database in databases)
            {
                await database.DisposeAsync();
            }
        }

        Assert.Equal(3, await db.CountAsync("SELECT COUNT(*) FROM applications"));
        Assert.Equal(3, await db.CountAsync("SELECT COUNT(DISTINCT migration) FROM applications"));
        Assert.Equal(3, await db.CountAsync("SELECT COUNT(*) FROM gatekeeper_schema_history"));
    }

    [Fact]
    public async Task A_migration_that_times_out_on_a_lock_is_retried_with_backoff_and_then_reported_without_a_dirty_mark()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await db.ExecuteAsync("CREATE TABLE busy (id integer)");
        var directory = TestMigrations.Flyway(("V1__alter_busy.sql", "ALTER TABLE busy ADD note varchar(20);\n"));

        await using var blocker = await db.OpenConnectionAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var read = blocker.CreateCommand())
        {
            // An open transaction that read the table holds a lock the ALTER must wait for.
            read.Transaction = transaction;
            read.CommandText = "SELECT COUNT(*) FROM busy";
            await read.ExecuteScalarAsync();
        }

        var options = new MigrationDatabaseOptions
        {
            StatementLockTimeout = TimeSpan.FromSeconds(1),
            LockTimeoutRetries = 2,
            LockTimeoutBackoff = TimeSpan.FromMilliseconds(50),
        };
        await using var database = db.Open(options);
        var result = await database.ApplyAsync(directory, directory.Migrations[0], CancellationToken.None);

        Assert.False(result.Succeeded);
        Assert.Equal(3, result.Attempts);
        Assert.Equal(DatabaseErrorKind.LockTimeout, result.Failure!.Kind);
        Assert.False(result.Failure.LeftDirty);
        Assert.Equal(1, result.Failure.Location!.Value.Line);
        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Empty(history.Applied);
    }

    [Fact]
    public async Task A_lock_timeout_retry_succeeds_once_the_blocking_transaction_ends()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await db.ExecuteAsync("CREATE TABLE busy (id integer)");
        var directory = TestMigrations.Flyway(("V1__alter_busy.sql", "ALTER TABLE busy ADD note varchar(20);\n"));

        var blocker = await db.OpenConnectionAsync();
        var transaction = await blocker.BeginTransactionAsync();
        await using (var read = blocker.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT COUNT(*) FROM busy";
            await read.ExecuteScalarAsync();
        }

        // The retry's backoff runs on the injected clock: the timer it creates says the first attempt has timed out on
        // the lock, so the blocker ends exactly then and the clock moves on to the retry (no sleep for time).
        var clock = new SignallingTimeProvider();
        var backoffStarted = clock.NextTimer();
        var options = new MigrationDatabaseOptions
        {
            StatementLockTimeout = TimeSpan.FromSeconds(1),
            LockTimeoutRetries = 5,
            LockTimeoutBackoff = TimeSpan.FromMilliseconds(200),
            TimeProvider = clock,
        };
        await using var database = db.Open(options);
        var apply = database.ApplyAsync(directory, directory.Migrations[0], CancellationToken.None);
        var backoff = await backoffStarted.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(apply.IsCompleted);
        await transaction.RollbackAsync();
        await blocker.DisposeAsync();
        clock.Advance(backoff);
        var result = await apply;

        Assert.True(result.Succeeded, result.Failure?.ToString());
        Assert.True(result.Attempts >= 2, $"attempts: {result.Attempts}");
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(note) FROM busy"));
    }

    [Fact]
    public async Task The_runner_sets_its_lock_timeout_before_a_migration_unless_the_file_sets_its_own()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        var (read, own) = Engine == DatabaseEngine.Postgres
            ? ("current_setting('lock_timeout')", "SET lock_timeout = '4321ms';\n")
            : ("@@SESSION.lock_wait_timeout", "SET SESSION lock_wait_timeout = 7;\n");
        var directory = TestMigrations.Flyway(
            ("V1__default.sql", $"CREATE TABLE seen_default AS SELECT {read} AS v;\n"),
            ("V2__own.sql", $"{own}CREATE TABLE seen_own AS SELECT {read} AS v;\n"));

        await using var database = db.Open(new MigrationDatabaseOptions { StatementLockTimeout = TimeSpan.FromSeconds(3) });
        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var expected = Engine == DatabaseEngine.Postgres ? ("3s", "4321ms") : ("3", "7");
        Assert.Equal(expected.Item1, Convert.ToString(await db.ScalarAsync("SELECT v FROM seen_default"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expected.Item2, Convert.ToString(await db.ScalarAsync("SELECT v FROM seen_own"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_wrong_password_gives_one_line_naming_the_user_and_server_without_the_password()
    {
        var server = TestServers.Server(Engine);
        var url = DatabaseUrl.Parse($"{server.Scheme}://{server.User}:{WrongPassword}@{server.Endpoint}/{server.Database}");
        await using var database = MigrationDatabase.Open(url);

        var error = await Assert.ThrowsAsync<DatabaseException>(() => database.ReadHistoryAsync(CancellationToken.None));

        Assert.True(
            error.Kind == DatabaseErrorKind.AuthenticationFailed,
            $"expected an authentication failure, got {error.Kind}: {error.Message} (a server with trust authentication accepts any password; start one with scripts/db/start-postgres.sh)");
        Assert.Equal($"authentication failed for user {server.User} on {server.Endpoint}", error.Message);
        Assert.DoesNotContain(WrongPassword, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_port_gives_database_unreachable_with_host_port_and_reason()
    {
        var server = TestServers.Server(Engine);
        var port = FreePort();
        var url = DatabaseUrl.Parse($"{server.Scheme}://{server.User}:{WrongPassword}@127.0.0.1:{port}/{server.Database}?connect_timeout=5");
        await using var database = MigrationDatabase.Open(url);

        var error = await Assert.ThrowsAsync<DatabaseException>(() => database.AcquireMigrationLockAsync(TimeSpan.FromSeconds(1), CancellationToken.None));

        Assert.Equal(DatabaseErrorKind.Unreachable, error.Kind);
        Assert.Equal($"database unreachable: 127.0.0.1:{port} (connection refused)", error.Message);
        Assert.DoesNotContain(WrongPassword, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_database_is_named_in_the_error()
    {
        var server = TestServers.Server(Engine);
        await using var database = MigrationDatabase.Open(server.WithDatabase("gk_no_such_database"));

        var error = await Assert.ThrowsAsync<DatabaseException>(() => database.ReadHistoryAsync(CancellationToken.None));

        Assert.Equal(DatabaseErrorKind.UnknownDatabase, error.Kind);
        Assert.Equal($"database gk_no_such_database does not exist on {server.Endpoint}", error.Message);
    }

    [Fact]
    public async Task Reading_history_of_a_fresh_database_creates_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await using var database = db.Open();

        var history = await database.ReadHistoryAsync(CancellationToken.None);

        Assert.False(history.Exists);
        Assert.Equal(HistoryTableKind.Gatekeeper, history.Kind);
        Assert.False(await db.TableExistsAsync("gatekeeper_schema_history"));
    }

    [Fact]
    public async Task A_history_table_with_an_unknown_layout_is_refused_with_its_columns()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await db.ExecuteAsync("CREATE TABLE my_history (step integer, label varchar(10))");
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = new(null, "my_history") });

        var error = await Assert.ThrowsAsync<DatabaseException>(() => database.ReadHistoryAsync(CancellationToken.None));

        Assert.Equal(DatabaseErrorKind.HistoryTable, error.Kind);
        Assert.StartsWith("history table my_history has columns (step, label), which match no layout", error.Message, StringComparison.Ordinal);
    }

    protected static string PasswordOf(DatabaseUrl url) =>
        url.ToNpgsqlOrMySqlPassword() is { Length: > 0 } password ? password : "\u0001no password\u0001";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class PostgresEngineTests : MigrationEngineSuite
{
    protected override DatabaseEngine Engine => DatabaseEngine.Postgres;
}

public sealed class MySqlEngineTests : MigrationEngineSuite
{
    protected override DatabaseEngine Engine => DatabaseEngine.MySql;
}

/// <summary>Reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

internal static class UrlTestExtensions
{
    public static string? ToNpgsqlOrMySqlPassword(this DatabaseUrl url) =>
        url.Engine == DatabaseEngine.Postgres ? url.ToNpgsqlConnectionStringBuilder().Password : url.ToMySqlConnectionStringBuilder().Password;
}
