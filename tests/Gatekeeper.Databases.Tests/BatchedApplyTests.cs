using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A migration reaches the server in one round trip: on MySQL one multi-statement query with the dirty mark, all of the
/// file's statements (each still committing on its own) and the mark's clearing, on PostgreSQL one batch with the file's
/// transaction, its history row and COMMIT. What a failure reports and leaves behind must be exactly what it is when statements go one at a time:
/// the statement that failed with its file and line, what was committed, the dirty mark and the repair hint.
/// </summary>
public sealed class BatchedApplyTests
{
    // Five statements; the third fails, after two that committed on MySQL. The comment after the second is MySQL's own (#)
    // there and standard SQL's (--) on PostgreSQL.
    private static MigrationDirectory ThirdStatementFails(string comment = "# a trailing MySQL comment") => TestMigrations.Flyway(
        ("V1__first.sql", "CREATE TABLE first_table (id integer);\n"),
        ("V2__five.sql",
            "CREATE TABLE two_a (id integer);\n" +
            "-- a comment line between statements\n" +
            "INSERT INTO two_a (id) VALUES (1); " + comment + "\n" +
            "INSERT INTO missing_table (id)\n  VALUES (2);\n" +
            "CREATE TABLE two_b (id integer);\n" +
            "CREATE TABLE two_c (id integer);\n"),
        ("V3__after.sql", "CREATE TABLE third_table (id integer);\n"));

    [Fact]
    public async Task MySql_error_in_the_third_statement_of_a_file_names_that_statement_and_its_line_and_leaves_the_exact_repair_hint()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();

        var result = await new MigrationRunner(database).RunAsync(ThirdStatementFails(), null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.Equal(["1"], result.Applied.Select(a => a.Migration.Id));
        var failure = result.Failure!;
        Assert.True(failure.LeftDirty);
        Assert.Equal(new SourceLocation("V2__five.sql", 4, 1), failure.Location);
        Assert.EndsWith("INSERT INTO missing_table (id)\n  VALUES (2)", failure.Statement?.TrimEnd(';'), StringComparison.Ordinal);
        Assert.Equal($"Table '{db.Name}.missing_table' doesn't exist", failure.ServerMessage);
        Assert.Equal(
            $"migration 2 failed at V2__five.sql:4:1: Table '{db.Name}.missing_table' doesn't exist; it is marked dirty: repair the schema by hand, " +
            "then run `gatekeeper repair --version 2 --resolution retry|applied`",
            result.Message);

        // The two statements before it committed; nothing after it ran.
        Assert.True(await db.TableExistsAsync("two_a"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM two_a"));
        Assert.False(await db.TableExistsAsync("two_b"));
        Assert.False(await db.TableExistsAsync("third_table"));

        var again = await new MigrationRunner(database).RunAsync(ThirdStatementFails(), null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Dirty, again.Status);
        Assert.Equal(
            $"migration 2 failed half-way on {db.Name} at V2__five.sql:4:1: Table '{db.Name}.missing_table' doesn't exist; " +
            "repair the schema by hand, then run `gatekeeper repair --version 2 --resolution retry|applied`",
            again.Message);
    }

    [Fact]
    public async Task MySql_syntax_error_in_a_later_statement_is_located_at_its_own_line_and_column()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(
            ("V1__syntax.sql", "CREATE TABLE syntax_a (id integer);\n\nCREATE TABLE syntax_b (\n  id integer,\n  name varchar(10) NOT NUL\n);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        var failure = result.Failure!;
        Assert.Equal(new SourceLocation("V1__syntax.sql", 5, 24), failure.Location);
        // The server's quote ends where the statement does, as when it is sent alone.
        Assert.EndsWith("near 'NUL\n)' at line 3", failure.ServerMessage, StringComparison.Ordinal);
        Assert.True(failure.LeftDirty);
        Assert.True(await db.TableExistsAsync("syntax_a"));
    }

    [Fact]
    public async Task MySql_failure_in_the_first_statement_of_a_batched_file_commits_nothing_and_takes_its_mark_back()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("schema_migrations"), Format = MigrationFormat.Dbmate });
        var directory = TestMigrations.Directory(
            MigrationFormat.Dbmate,
            ("20240101000000_ok.sql", "-- migrate:up\nCREATE TABLE ok_table (id integer);\n"),
            ("20240102000000_bad.sql", "-- migrate:up\nINSERT INTO missing_table (id) VALUES (1);\nCREATE TABLE never_made (id integer);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.False(result.Failure!.LeftDirty);
        Assert.EndsWith("; nothing of it was applied", result.Message, StringComparison.Ordinal);
        Assert.False(await db.TableExistsAsync("never_made"));
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM gatekeeper_dirty_migrations"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task MySql_statement_reading_what_its_predecessor_did_sees_that_statement_not_a_marker()
    {
        // ROW_COUNT(), FOUND_ROWS(), SHOW WARNINGS and GET DIAGNOSTICS answer about the statement before them; the
        // batched query's markers run between statements and would answer instead (ROW_COUNT() -1, no warnings).
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(
            ("V1__counts.sql",
                "CREATE TABLE moved (id integer PRIMARY KEY);\n" +
                "CREATE TABLE moved_count (step varchar(20), n integer);\n" +
                "INSERT INTO moved VALUES (1), (2), (3);\n" +
                "INSERT INTO moved_count SELECT 'inserted', ROW_COUNT();\n" +
                "UPDATE moved SET id = id + 10 WHERE id > 1;\n" +
                "INSERT INTO moved_count VALUES ('updated', ROW_COUNT());\n"),
            ("V2__plain.sql", "INSERT INTO moved VALUES (4);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(3, await db.CountAsync("SELECT n FROM moved_count WHERE step = 'inserted'"));
        Assert.Equal(2, await db.CountAsync("SELECT n FROM moved_count WHERE step = 'updated'"));
        Assert.Equal(4, await db.CountAsync("SELECT COUNT(*) FROM moved"));
    }

    [Fact]
    public async Task MySql_file_with_procedures_own_transactions_and_calls_applies_as_written()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("schema_migrations"), Format = MigrationFormat.GolangMigrate });
        var directory = TestMigrations.Directory(
            MigrationFormat.GolangMigrate,
            ("1_procedure.up.sql",
                "CREATE TABLE counters (id integer PRIMARY KEY, n integer);\n" +
                "DELIMITER $$\nCREATE PROCEDURE seed_counters()\nBEGIN\n  INSERT INTO counters VALUES (1, 0);\n  SELECT n FROM counters;\nEND$$\nDELIMITER ;\n" +
                "START TRANSACTION;\nINSERT INTO counters VALUES (2, 0);\nCOMMIT;\n"),
            ("2_call.up.sql", "CALL seed_counters();\nUPDATE counters SET n = n + 1;\n"),
            ("3_after.up.sql", "SET @step := 5 -- a line comment before the semicolon\n;\nUPDATE counters SET n = n + @step;\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(12, await db.CountAsync("SELECT SUM(n) FROM counters"));
        Assert.Equal(3, await db.CountAsync("SELECT MAX(version) FROM schema_migrations WHERE dirty = 0"));
    }

    [Fact]
    public async Task Postgres_failure_at_commit_leaves_nothing_of_the_file_and_no_history_row()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(
            ("V1__parent.sql", "CREATE TABLE parent (id integer PRIMARY KEY);\n"),
            ("V2__deferred.sql",
                "CREATE TABLE child (parent_id integer REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);\n" +
                "INSERT INTO child VALUES (42);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.Equal("2", result.Failure!.MigrationId);
        Assert.False(result.Failure.LeftDirty);
        Assert.Contains("violates foreign key constraint", result.Failure.ServerMessage, StringComparison.Ordinal);
        Assert.EndsWith("; nothing of it was applied", result.Message, StringComparison.Ordinal);
        Assert.False(await db.TableExistsAsync("child"));
        Assert.Equal(["1"], (await database.ReadHistoryAsync(CancellationToken.None)).Applied.Select(a => a.Id));

        // The session is usable afterwards: the fixed file applies on the next run.
        var fixedDirectory = TestMigrations.Flyway(
            ("V1__parent.sql", "CREATE TABLE parent (id integer PRIMARY KEY);\n"),
            ("V2__deferred.sql",
                "CREATE TABLE child (parent_id integer REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);\n" +
                "INSERT INTO parent VALUES (42);\nINSERT INTO child VALUES (42);\n"));
        var second = await new MigrationRunner(database).RunAsync(fixedDirectory, null, CancellationToken.None);
        Assert.True(second.Succeeded, second.Message);
    }

    [Theory]
    [InlineData("gatekeeper_schema_history", null)]
    [InlineData("flyway_schema_history", null)]
    [InlineData("schema_migrations", MigrationFormat.GolangMigrate)]
    [InlineData("schema_migrations", MigrationFormat.Dbmate)]
    [InlineData("gorp_migrations", null)]
    [InlineData("atlas_schema_revisions", null)]
    public async Task Postgres_failing_file_rolls_back_with_every_history_layout_and_the_next_file_never_runs(string table, MigrationFormat? format)
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse(table), Format = format });

        var result = await new MigrationRunner(database).RunAsync(ThirdStatementFails("-- a trailing comment"), null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.False(result.Failure!.LeftDirty);
        Assert.Equal(new SourceLocation("V2__five.sql", 4, 13), result.Failure.Location);
        Assert.False(await db.TableExistsAsync("two_a"));
        Assert.False(await db.TableExistsAsync("third_table"));
        var history = await database.ReadHistoryAsync(CancellationToken.None);
        // golang-migrate keeps only the latest version.
        Assert.Equal("1", history.AppliedThrough ?? history.Applied.Select(a => a.Id).Single());
        Assert.DoesNotContain(history.Applied, a => a.Dirty);
    }

    [Fact]
    public async Task Postgres_history_write_that_fails_in_the_files_batch_leaves_nothing_of_the_file()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open();
        // The second file's statements succeed; its history row, in the same batch after them, then has no table to go to.
        var directory = TestMigrations.Flyway(
            ("V1__first.sql", "CREATE TABLE first_table (id integer);\n"),
            ("V2__drops_history.sql", "CREATE TABLE second_table (id integer);\nDROP TABLE gatekeeper_schema_history;\n"),
            ("V3__after.sql", "CREATE TABLE third_table (id integer);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.Equal("2", result.Failure!.MigrationId);
        Assert.False(result.Failure.LeftDirty);
        Assert.Null(result.Failure.Location);
        Assert.Contains("gatekeeper_schema_history", result.Failure.ServerMessage, StringComparison.Ordinal);
        Assert.EndsWith("; nothing of it was applied", result.Message, StringComparison.Ordinal);
        Assert.False(await db.TableExistsAsync("second_table"));
        Assert.False(await db.TableExistsAsync("third_table"));
        Assert.Equal(["1"], (await database.ReadHistoryAsync(CancellationToken.None)).Applied.Select(a => a.Id));
    }

    [Theory]
    [InlineData("gatekeeper_schema_history", true, true)]
    [InlineData("flyway_schema_history", true, false)]
    [InlineData("atlas_schema_revisions", true, true)]
    [InlineData("gorp_migrations", false, true)]
    public async Task Postgres_history_row_written_in_the_files_batch_carries_the_time_the_server_measured(string table, bool keepsExecutionTime, bool keepsFinishTime)
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse(table) });
        var directory = TestMigrations.Flyway(("V1__slow.sql", "CREATE TABLE slow (id integer);\nSELECT pg_sleep(0.3);\n"));
        var before = DateTimeOffset.UtcNow;

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        var after = DateTimeOffset.UtcNow;
        Assert.True(result.Succeeded, result.Message);
        var row = Assert.Single((await database.ReadHistoryAsync(CancellationToken.None)).Applied);
        if (keepsExecutionTime)
        {
            // From the file's BEGIN to its history row: at least the sleep, and not the whole run's time since.
            Assert.InRange(row.ExecutionTime!.Value, TimeSpan.FromMilliseconds(300), after - before);
        }

        // The finish time, not the transaction's start; server and test share this machine's clock. (Flyway's installed_on
        // is its column's default, the transaction's start, as Flyway leaves it.)
        if (keepsFinishTime)
        {
            Assert.InRange(row.AppliedAt!.Value, before.AddMilliseconds(300), after);
        }
    }

    [Fact]
    public async Task MySql_clearing_that_fails_after_every_statement_committed_leaves_the_file_marked_dirty()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        // The second file's statements all commit; the clearing of its mark, sent in the same query after them, is refused
        // (only the clearing: an UPDATE that keeps the row dirty, as recording a failure does, goes through, so a clearing
        // taken for the file's last statement would be recorded as that statement's failure, with its location).
        var directory = TestMigrations.Flyway(
            ("V1__first.sql", "CREATE TABLE first_table (id integer);\n"),
            ("V2__blocks_clearing.sql",
                "CREATE TABLE second_table (id integer);\n" +
                "DELIMITER $$\n" +
                "CREATE TRIGGER no_clearing BEFORE UPDATE ON gatekeeper_schema_history FOR EACH ROW\n" +
                "BEGIN IF NEW.dirty = 0 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no clearing'; END IF; END$$\n" +
                "DELIMITER ;\n"),
            ("V3__after.sql", "CREATE TABLE third_table (id integer);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.Equal("2", result.Failure!.MigrationId);
        Assert.True(result.Failure.LeftDirty);
        Assert.Null(result.Failure.Location);
        Assert.Equal("no clearing", result.Failure.ServerMessage);
        Assert.True(await db.TableExistsAsync("second_table"));
        Assert.False(await db.TableExistsAsync("third_table"));
        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(["1", "2"], history.Applied.Select(a => a.Id));
        Assert.True(history.Applied[1].Dirty);

        var again = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Dirty, again.Status);
    }

    [Fact]
    public async Task MySql_mark_the_server_refuses_runs_nothing_of_the_file_and_reports_no_statement()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        // The first file's own clearing is an UPDATE and goes through; the second file's mark, the INSERT sent in its query
        // before its statements, is refused: none of its statements may run, and none may be named as the one that failed.
        var directory = TestMigrations.Flyway(
            ("V1__blocks_marks.sql",
                "CREATE TABLE first_table (id integer);\n" +
                "CREATE TRIGGER no_marks BEFORE INSERT ON gatekeeper_schema_history FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no marks';\n"),
            ("V2__never_runs.sql", "CREATE TABLE second_table (id integer);\nCREATE TABLE second_table_b (id integer);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.Equal(["1"], result.Applied.Select(a => a.Migration.Id));
        Assert.Equal("2", result.Failure!.MigrationId);
        Assert.False(result.Failure.LeftDirty);
        Assert.Null(result.Failure.Location);
        Assert.Null(result.Failure.Statement);
        Assert.Equal("no marks", result.Failure.ServerMessage);
        Assert.EndsWith("; nothing of it was applied", result.Message, StringComparison.Ordinal);
        Assert.False(await db.TableExistsAsync("second_table"));
        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(["1"], history.Applied.Select(a => a.Id));
        Assert.DoesNotContain(history.Applied, a => a.Dirty);
    }

    [Fact]
    public async Task MySql_last_statement_that_fails_is_named_and_not_taken_for_the_clearing()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(
            ("V1__last_fails.sql", "CREATE TABLE last_a (id integer);\nINSERT INTO missing_table (id) VALUES (1);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        var failure = result.Failure!;
        Assert.Equal(new SourceLocation("V1__last_fails.sql", 2, 1), failure.Location);
        Assert.Equal($"Table '{db.Name}.missing_table' doesn't exist", failure.ServerMessage);
        Assert.True(failure.LeftDirty);
        Assert.True(await db.TableExistsAsync("last_a"));
        Assert.True(Assert.Single((await database.ReadHistoryAsync(CancellationToken.None)).Applied).Dirty);
    }

    [Fact]
    public async Task Postgres_file_outside_a_transaction_sends_its_lock_timeout_with_its_dirty_mark_and_the_marks_clearing_with_the_timeouts_reset()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open();
        var directory = TestMigrations.Directory(
            MigrationFormat.SqlMigrate,
            ("1-index.sql", "-- +migrate Up notransaction\nCREATE TABLE indexed (id integer);\nCREATE INDEX CONCURRENTLY indexed_id ON indexed (id);\n"));

        var (result, sent) = await DriverCommands.RecordAsync(() => new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None));

        Assert.True(result.Succeeded, result.Message);
        var fileStart = sent.FindIndex(c => c.StartsWith("SET lock_timeout = '", StringComparison.Ordinal));
        Assert.True(fileStart >= 0, string.Join("\n---\n", sent));
        // Four round trips for two statements: timeout and mark, each statement alone, clearing and reset; then the run ends.
        Assert.Collection(
            sent.Skip(fileStart),
            c => Assert.Matches(@"(?s)^SET lock_timeout = '\d+ms'.*INSERT INTO ""public"".""gatekeeper_schema_history""", c),
            c => Assert.Equal("CREATE TABLE indexed (id integer)", c),
            c => Assert.Equal("CREATE INDEX CONCURRENTLY indexed_id ON indexed (id)", c),
            c => Assert.Matches(@"(?s)^UPDATE ""public"".""gatekeeper_schema_history"" SET success.*RESET lock_timeout$", c),
            c => Assert.StartsWith("SELECT pg_advisory_unlock(", c, StringComparison.Ordinal));
        var row = Assert.Single((await database.ReadHistoryAsync(CancellationToken.None)).Applied);
        Assert.False(row.Dirty);
        Assert.True(await db.TableExistsAsync("indexed"));
    }

    [Theory]
    [InlineData("gatekeeper_schema_history", true)]
    [InlineData("flyway_schema_history", false)]
    [InlineData("atlas_schema_revisions", true)]
    public async Task MySql_clearing_sent_with_the_statements_carries_the_time_the_server_measured(string table, bool keepsFinishTime)
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse(table) });
        var directory = TestMigrations.Flyway(("V1__slow.sql", "CREATE TABLE slow (id integer);\nDO SLEEP(0.3);\n"));
        var before = DateTimeOffset.UtcNow;

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        var after = DateTimeOffset.UtcNow;
        Assert.True(result.Succeeded, result.Message);
        var row = Assert.Single((await database.ReadHistoryAsync(CancellationToken.None)).Applied);
        Assert.False(row.Dirty);
        // From the mark to its clearing: at least the sleep, and not the whole run's time since.
        Assert.InRange(row.ExecutionTime!.Value, TimeSpan.FromMilliseconds(300), after - before);
        // The finish time by the server's clock, which the test shares. (Flyway's installed_on is its column's default,
        // set when the mark was written, as Flyway leaves it.)
        if (keepsFinishTime)
        {
            Assert.InRange(row.AppliedAt!.Value, before.AddMilliseconds(300), after);
        }
    }
}
