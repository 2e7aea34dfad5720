using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;

namespace Gatekeeper.Databases.Tests;

public sealed class PostgresDryRunTests
{
    private static readonly DryRunSettings Live = new(DryRunMode.Transaction);

    [Fact]
    public async Task Transaction_dry_run_checks_the_whole_plan_and_leaves_nothing_behind()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE TABLE existing (id integer)");
        var directory = TestMigrations.Flyway(
            ("V1__create.sql", "CREATE TABLE planned (id integer);\nINSERT INTO planned VALUES (1);\n"),
            ("V2__alter.sql", "ALTER TABLE existing ADD name text;\nALTER TABLE planned ADD note text;\n"));
        await using var database = db.Open();

        var result = await new MigrationRunner(database).DryRunAsync(directory, Live, CancellationToken.None);

        Assert.True(result.Succeeded, result.Report?.Failure?.ToString());
        Assert.Equal(DryRunMode.Transaction, result.Report!.Mode);
        Assert.Equal(2, result.Report.Checked.Count);
        Assert.False(await db.TableExistsAsync("planned"));
        Assert.False(await db.TableExistsAsync("gatekeeper_schema_history"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'existing'"));
    }

    [Fact]
    public async Task Transaction_dry_run_reports_the_failing_statement_where_it_is_and_the_servers_message()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        var directory = TestMigrations.Flyway(
            ("V1__create.sql", "CREATE TABLE planned (id integer);\n"),
            ("V2__typo.sql", "ALTER TABLE planned\n    ADD COLUMN note txt;\n"));
        await using var database = db.Open();

        var report = (await new MigrationRunner(database).DryRunAsync(directory, Live, CancellationToken.None)).Report!;

        Assert.False(report.Succeeded);
        Assert.Equal(["1"], report.Checked.Select(m => m.Id));
        Assert.Equal("V2__typo.sql:2:21: type \"txt\" does not exist", report.Failure!.ToString());
        Assert.False(await db.TableExistsAsync("planned"));
    }

    [Fact]
    public async Task Transaction_dry_run_runs_each_file_without_what_the_files_before_it_set_on_the_session_as_migrate_does()
    {
        // migrate runs each file on a session the pool has reset; the dry-run ran them all on one session, so V2 saw V1's
        // search_path and passed, while migrate fails it.
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE SCHEMA elsewhere");
        var directory = TestMigrations.Flyway(
            ("V1__elsewhere.sql", "SET search_path = elsewhere;\nCREATE TABLE a (id integer PRIMARY KEY);\nPREPARE seen AS SELECT 1;\n"),
            ("V2__refers.sql", "PREPARE seen AS SELECT 2;\nCREATE TABLE b (a_id integer REFERENCES a (id));\n"));
        await using var database = db.Open();

        var report = (await new MigrationRunner(database).DryRunAsync(directory, Live, CancellationToken.None)).Report!;
        var applied = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.False(applied.Succeeded);
        Assert.Contains("V2__refers.sql:2:", applied.Message, StringComparison.Ordinal);
        Assert.Contains("relation \"a\" does not exist", applied.Message, StringComparison.Ordinal);
        Assert.False(report.Succeeded, "the dry-run passed V2, which migrate fails");
        Assert.Equal(["1"], report.Checked.Select(m => m.Id));
        Assert.StartsWith("V2__refers.sql:2:", report.Failure!.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("relation \"a\" does not exist", report.Failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transaction_dry_run_notes_statements_that_only_run_outside_a_transaction_and_checks_the_rest()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE TABLE people (id integer)");
        var directory = TestMigrations.Directory(
            MigrationFormat.SqlMigrate,
            ("1-index.sql", "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY people_id ON people (id);\nALTER TABLE people ADD name text;\n"),
            ("2-broken.sql", "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY broken ON nowhere (id);\nALTER TABLE nowhere ADD name text;\n"));
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = Databases.History.HistoryTableName.Parse("gorp_migrations") });

        var report = (await new MigrationRunner(database).DryRunAsync(directory, Live, CancellationToken.None)).Report!;

        Assert.Equal(["1-index.sql"], report.Checked.Select(m => m.Id));
        Assert.Equal("2-broken.sql:3:1: relation \"nowhere\" does not exist", report.Failure!.ToString());
        Assert.Equal(2, report.Notes.Count);
        Assert.Equal(new Core.Sql.SourceLocation("1-index.sql", 2, 1), report.Notes[0].Location);
        Assert.Contains("CREATE INDEX CONCURRENTLY cannot run inside a transaction block", report.Notes[0].Message, StringComparison.Ordinal);
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'people'"));
    }

    [Fact]
    public async Task Transaction_dry_run_gives_up_on_a_lock_after_its_lock_timeout()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE TABLE busy (id integer)");
        await using var blocker = await db.OpenConnectionAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var read = blocker.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT COUNT(*) FROM busy";
            await read.ExecuteScalarAsync();
        }

        var directory = TestMigrations.Flyway(("V1__alter.sql", "ALTER TABLE busy ADD note text;\n"));
        await using var database = db.Open(new MigrationDatabaseOptions { DryRunLockTimeout = TimeSpan.FromMilliseconds(300) });

        var report = (await new MigrationRunner(database).DryRunAsync(directory, Live, CancellationToken.None)).Report!;

        Assert.Equal(DatabaseErrorKind.LockTimeout, report.Failure!.Kind);
        Assert.Equal("canceling statement due to lock timeout", report.Failure.ServerMessage);
    }
}

/// <summary>The shadow dry-run creates and drops databases, so its tests run one after the other (one class).</summary>
public sealed class MySqlShadowDryRunTests
{
    private static async Task CreateLiveSchemaAsync(TestDatabase db)
    {
        await db.ExecuteAsync("CREATE TABLE customers (id integer PRIMARY KEY, name varchar(50))");
        await db.ExecuteAsync("CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer, total integer, CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id))");
        await db.ExecuteAsync("INSERT INTO customers VALUES (1, 'ada')");
        await db.ExecuteAsync("CREATE VIEW big_orders AS SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 100");
        await db.ExecuteAsync("CREATE VIEW big_order_names AS SELECT name FROM big_orders");
        await db.ExecuteAsync("CREATE FUNCTION double_it(x integer) RETURNS integer DETERMINISTIC RETURN x * 2");
        await db.ExecuteAsync("CREATE PROCEDURE touch_orders() BEGIN UPDATE orders SET total = total WHERE id < 0; END");
        await db.ExecuteAsync("CREATE TRIGGER orders_total BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = COALESCE(NEW.total, 0)");
    }

    [Fact]
    public async Task Shadow_dry_run_applies_the_plan_to_a_copy_of_the_live_schema_and_drops_the_copy()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await CreateLiveSchemaAsync(db);
        var directory = TestMigrations.Flyway(
            ("V1__add_email.sql", "ALTER TABLE customers ADD email varchar(100);\n"),
            ("V2__use_everything.sql",
                "CREATE VIEW order_report AS SELECT name, double_it(id) AS doubled FROM big_order_names JOIN customers USING (name);\n" +
                "DELIMITER //\nCREATE PROCEDURE report() BEGIN CALL touch_orders(); SELECT * FROM order_report; END//\nDELIMITER ;\n" +
                "ALTER TABLE orders DROP FOREIGN KEY fk_customer;\n"));
        await using var database = db.Open();

        var report = (await new MigrationRunner(database).DryRunAsync(directory, CancellationToken.None)).Report!;

        Assert.True(report.Succeeded, report.Failure?.ToString());
        Assert.Equal(DryRunMode.Shadow, report.Mode);
        Assert.Equal(2, report.Checked.Count);
        Assert.StartsWith("gk_shadow_", report.ShadowDatabase, StringComparison.Ordinal);
        Assert.Equal(0, await db.CountAsync($"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{report.ShadowDatabase}'"));
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name = 'email'"));
        Assert.False(await db.TableExistsAsync("order_report"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM customers"));
    }

    [Fact]
    public async Task Shadow_dry_run_reports_the_failing_statement_and_still_drops_the_copy()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await CreateLiveSchemaAsync(db);
        var directory = TestMigrations.Flyway(
            ("V1__fine.sql", "ALTER TABLE customers ADD email varchar(100);\n"),
            ("V2__clash.sql", "-- name already exists on the live table\nALTER TABLE customers\n  ADD name varchar(10);\n"));
        await using var database = db.Open();

        var report = (await new MigrationRunner(database).DryRunAsync(directory, CancellationToken.None)).Report!;

        Assert.Equal(["1"], report.Checked.Select(m => m.Id));
        Assert.Equal("V2__clash.sql:2:1: Duplicate column name 'name'", report.Failure!.ToString());
        Assert.Equal(0, await db.CountAsync($"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{report.ShadowDatabase}'"));
    }
}
