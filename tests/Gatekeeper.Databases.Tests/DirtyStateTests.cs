using System.Globalization;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// Migrations that cannot run atomically (every MySQL migration, PostgreSQL files outside a transaction) record a dirty
/// state when they fail half-way, in the history table's own vocabulary, and the next run refuses until a repair.
/// </summary>
public sealed class DirtyStateTests
{
    private static MigrationDirectory HalfFailing() => TestMigrations.Flyway(
        ("V1__create_a.sql", "CREATE TABLE table_a (id integer);\n"),
        ("V2__half.sql", "CREATE TABLE table_b (id integer);\nINSERT INTO missing_table (id) VALUES (1);\n"),
        ("V3__after.sql", "CREATE TABLE table_c (id integer);\n"));

    private static MigrationDirectory Fixed() => TestMigrations.Flyway(
        ("V1__create_a.sql", "CREATE TABLE table_a (id integer);\n"),
        ("V2__half.sql", "CREATE TABLE table_b (id integer);\nCREATE TABLE missing_table (id integer);\n"),
        ("V3__after.sql", "CREATE TABLE table_c (id integer);\n"));

    /// <summary>Every history layout Gatekeeper writes on MySQL: its table and, where the name is shared, the format.</summary>
    public static TheoryData<string, MigrationFormat?> HistoryLayouts { get; } = new()
    {
        { "gatekeeper_schema_history", null },
        { "flyway_schema_history", null },
        { "schema_migrations", MigrationFormat.GolangMigrate },
        { "schema_migrations", MigrationFormat.Dbmate },
        { "gorp_migrations", null },
        { "atlas_schema_revisions", null },
    };

    [Theory]
    [MemberData(nameof(HistoryLayouts))]
    public async Task MySql_failure_half_way_marks_the_migration_dirty_and_the_next_run_refuses_with_the_repair_command(string table, MigrationFormat? format)
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        var options = new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse(table), Format = format };
        await using var database = db.Open(options);

        var first = await new MigrationRunner(database).RunAsync(HalfFailing(), null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Failed, first.Status);
        Assert.True(first.Failure!.LeftDirty);
        Assert.Equal(new Core.Sql.SourceLocation("V2__half.sql", 2, 1), first.Failure.Location);
        Assert.EndsWith("it is marked dirty: repair the schema by hand, then run `gatekeeper repair --version 2 --resolution retry|applied`", first.Message, StringComparison.Ordinal);
        Assert.True(await db.TableExistsAsync("table_b"));

        var second = await new MigrationRunner(database).RunAsync(HalfFailing(), null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Dirty, second.Status);
        Assert.StartsWith($"migration 2 failed half-way on {db.Name}", second.Message, StringComparison.Ordinal);
        Assert.EndsWith("repair the schema by hand, then run `gatekeeper repair --version 2 --resolution retry|applied`", second.Message, StringComparison.Ordinal);
        Assert.False(await db.TableExistsAsync("table_c"));

        // The person undoes the half-applied part and fixes the file; repair forgets the attempt, and the run goes on.
        await db.ExecuteAsync("DROP TABLE table_b");
        var repair = await database.RepairAsync(Fixed(), "2", RepairResolution.Retry, CancellationToken.None);
        Assert.True(repair.Cleared, repair.Message);

        var third = await new MigrationRunner(database).RunAsync(Fixed(), null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Applied, third.Status);
        Assert.Equal(["2", "3"], third.Applied.Select(a => a.Migration.Id));
        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.DoesNotContain(history.Applied, a => a.Dirty);
    }

    [Fact]
    public async Task MySql_gatekeeper_history_keeps_where_and_why_the_migration_stopped()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        await new MigrationRunner(database).RunAsync(HalfFailing(), null, CancellationToken.None);

        var second = await new MigrationRunner(database).RunAsync(HalfFailing(), null, CancellationToken.None);

        Assert.Equal(
            $"migration 2 failed half-way on {db.Name} at V2__half.sql:2:1: Table '{db.Name}.missing_table' doesn't exist; " +
            "repair the schema by hand, then run `gatekeeper repair --version 2 --resolution retry|applied`",
            second.Message);
    }

    [Fact]
    public async Task Repair_that_marks_applied_records_a_migration_completed_by_hand()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("schema_migrations"), Format = MigrationFormat.GolangMigrate });
        await new MigrationRunner(database).RunAsync(HalfFailing(), null, CancellationToken.None);
        var dirty = (await db.RowsAsync("SELECT version, dirty FROM schema_migrations")).Single();
        Assert.Equal((2L, true), (Convert.ToInt64(dirty[0], CultureInfo.InvariantCulture), Convert.ToBoolean(dirty[1], CultureInfo.InvariantCulture)));

        await db.ExecuteAsync("CREATE TABLE missing_table (id integer)");
        var repair = await database.RepairAsync(HalfFailing(), "2", RepairResolution.MarkApplied, CancellationToken.None);
        var again = await database.RepairAsync(HalfFailing(), "2", RepairResolution.MarkApplied, CancellationToken.None);
        var run = await new MigrationRunner(database).RunAsync(HalfFailing(), null, CancellationToken.None);

        Assert.True(repair.Cleared);
        Assert.False(again.Cleared);
        Assert.Equal("migration 2 is not marked dirty in schema_migrations on database " + db.Name + " at " + db.Url.Endpoint + "; nothing was changed", again.Message);
        Assert.Equal(["3"], run.Applied.Select(a => a.Migration.Id));
    }

    [Fact]
    public async Task MySql_failure_on_the_first_statement_commits_nothing_and_leaves_no_dirty_mark()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(("V1__bad_first.sql", "INSERT INTO missing_table (id) VALUES (1);\nCREATE TABLE never (id integer);\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.False(result.Failure!.LeftDirty);
        Assert.EndsWith("; nothing of it was applied", result.Message, StringComparison.Ordinal);
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM gatekeeper_schema_history"));
    }

    [Fact]
    public async Task Postgres_failure_in_a_transactional_file_leaves_nothing_of_it()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open();

        var result = await new MigrationRunner(database).RunAsync(HalfFailing(), null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        Assert.False(result.Failure!.LeftDirty);
        Assert.Equal(new Core.Sql.SourceLocation("V2__half.sql", 2, 13), result.Failure.Location);
        Assert.Equal("relation \"missing_table\" does not exist", result.Failure.ServerMessage);
        Assert.False(await db.TableExistsAsync("table_b"));
        Assert.Equal(["1"], (await database.ReadHistoryAsync(CancellationToken.None)).Applied.Select(a => a.Id));
    }

    [Fact]
    public async Task Postgres_failure_half_way_through_a_file_outside_a_transaction_marks_it_dirty()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("gorp_migrations") });
        var directory = TestMigrations.Directory(
            MigrationFormat.SqlMigrate,
            ("1-index.sql", "-- +migrate Up notransaction\nCREATE TABLE people (id integer);\nCREATE INDEX CONCURRENTLY people_id ON people (id);\nCREATE INDEX CONCURRENTLY broken ON nowhere (id);\n"));

        var first = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);
        var second = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(first.Failure!.LeftDirty);
        Assert.Equal(4, first.Failure.Location!.Value.Line);
        Assert.True(await db.TableExistsAsync("people"));
        Assert.Equal(MigrationRunStatus.Dirty, second.Status);
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM gorp_migrations"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM gatekeeper_dirty_migrations WHERE history_table = 'gorp_migrations'"));
    }

    [Fact]
    public async Task Postgres_file_wrapped_in_its_own_begin_and_commit_applies_atomically_with_its_history_row()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(
            ("V1__wrapped.sql", "BEGIN;\nCREATE TABLE wrapped (id integer);\nINSERT INTO wrapped VALUES (1);\nCOMMIT;\n"),
            ("V2__wrapped_broken.sql", "BEGIN;\nCREATE TABLE wrapped_two (id integer);\nINSERT INTO nowhere VALUES (1);\nCOMMIT;\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(["1"], result.Applied.Select(a => a.Migration.Id));
        Assert.Equal(3, result.Failure!.Location!.Value.Line);
        Assert.False(result.Failure.LeftDirty);
        Assert.False(await db.TableExistsAsync("wrapped_two"));
    }

    [Fact]
    public async Task Postgres_file_with_several_own_transactions_runs_them_as_written()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(
            ("V1__two_transactions.sql", "BEGIN;\nCREATE TABLE first_tx (id integer);\nCOMMIT;\nBEGIN;\nCREATE TABLE second_tx (id integer);\nCOMMIT;\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.True(await db.TableExistsAsync("second_tx"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM gatekeeper_schema_history WHERE dirty = false AND success = true"));
    }
}
