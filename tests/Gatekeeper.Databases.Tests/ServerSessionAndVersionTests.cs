using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// What the linter assumes about the server, proven on the real ones: each migration file runs on a session of its own
/// (a SET in one file does not reach the next, so the linter must not carry it either), and the version-dependent
/// rules read the server's real VERSION() (MariaDB 10.11 here) and say what that server really refuses.
/// </summary>
public sealed class ServerSessionAndVersionTests
{
    private const string ChildOfMissingParent =
        "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES no_such_parent (id)) ENGINE=InnoDB;\n";

    [Fact]
    public async Task MySql_FOREIGN_KEY_CHECKS_set_in_one_file_does_not_reach_the_next_file()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        // With the checks off a foreign key may name a table that does not exist yet; with them on it is refused.
        var split = TestMigrations.Flyway(("V1__checks_off.sql", "SET FOREIGN_KEY_CHECKS = 0;\n"), ("V2__child.sql", ChildOfMissingParent));
        var together = TestMigrations.Flyway(("V1__child.sql", "SET FOREIGN_KEY_CHECKS = 0;\n" + ChildOfMissingParent));

        var separate = await new MigrationRunner(database).RunAsync(split, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, separate.Status);
        Assert.Equal(["1"], separate.Applied.Select(a => a.Migration.Id));
        Assert.Equal("V2__child.sql", separate.Failure!.Location?.File);

        await using var other = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var otherDatabase = other.Open();
        var same = await new MigrationRunner(otherDatabase).RunAsync(together, null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Applied, same.Status);
    }

    [Fact]
    public async Task MySql_the_lock_timeout_Gatekeeper_sets_for_one_file_does_not_reach_the_next_file_on_the_same_session()
    {
        // Gatekeeper does not set its timeout back after a file that applied: the pool's reset before the next file does.
        // A file that sets its own timeout (innodb_lock_wait_timeout here) gets none of Gatekeeper's, so it must see the
        // server's lock_wait_timeout, not the 3 s of the file before, even on the same server session.
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open(new MigrationDatabaseOptions { StatementLockTimeout = TimeSpan.FromSeconds(3) });
        var directory = TestMigrations.Flyway(
            ("V1__imposed.sql", "CREATE TABLE seen_first AS SELECT @@SESSION.lock_wait_timeout AS v, CONNECTION_ID() AS session_id;\n"),
            ("V2__own.sql", "SET SESSION innodb_lock_wait_timeout = 5;\nCREATE TABLE seen_next AS SELECT @@SESSION.lock_wait_timeout AS v, CONNECTION_ID() AS session_id;\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(3, await db.CountAsync("SELECT v FROM seen_first"));
        Assert.Equal(await db.CountAsync("SELECT @@GLOBAL.lock_wait_timeout"), await db.CountAsync("SELECT v FROM seen_next"));
        Assert.Equal(1, await db.CountAsync("SELECT COUNT(DISTINCT session_id) FROM (SELECT session_id FROM seen_first UNION ALL SELECT session_id FROM seen_next) s"));
    }

    [Fact]
    public async Task Postgres_a_SET_in_one_file_does_not_reach_the_next_file()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open();
        // check_function_bodies = off lets a SQL function name a table that does not exist; on (the default) refuses it.
        const string Function = "CREATE FUNCTION count_missing() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM no_such_table';\n";
        var split = TestMigrations.Flyway(("V1__bodies_off.sql", "SET check_function_bodies = off;\n"), ("V2__function.sql", Function));

        var separate = await new MigrationRunner(database).RunAsync(split, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, separate.Status);
        Assert.Equal("V2__function.sql", separate.Failure!.Location?.File);

        await using var other = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var otherDatabase = other.Open();
        var same = await new MigrationRunner(otherDatabase).RunAsync(
            TestMigrations.Flyway(("V1__function.sql", "SET check_function_bodies = off;\n" + Function)), null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Applied, same.Status);
    }

    [Fact]
    public async Task The_shadow_dry_run_runs_each_file_on_a_session_of_its_own_as_migrate_does()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        var split = TestMigrations.Flyway(("V1__checks_off.sql", "SET FOREIGN_KEY_CHECKS = 0;\n"), ("V2__child.sql", ChildOfMissingParent));
        var together = TestMigrations.Flyway(("V1__child.sql", "SET FOREIGN_KEY_CHECKS = 0;\n" + ChildOfMissingParent));

        var separate = (await new MigrationRunner(database).DryRunAsync(split, CancellationToken.None)).Report!;
        var same = (await new MigrationRunner(database).DryRunAsync(together, CancellationToken.None)).Report!;

        Assert.Equal(DryRunMode.Shadow, separate.Mode);
        Assert.Equal("V2__child.sql", separate.Failure?.Location?.File);
        Assert.Null(same.Failure);
    }

    [Fact]
    public async Task MariaDB_refuses_DROP_CHECK_and_the_linter_says_so_with_the_real_server_version()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        await db.ExecuteAsync("CREATE TABLE orders (id INT PRIMARY KEY, total INT, CONSTRAINT orders_total CHECK (total >= 0))");
        var printed = (string)(await db.ScalarAsync("SELECT VERSION()"))!;
        var live = await database.ReadSchemaAsync(CancellationToken.None);
        Assert.True(live.Server!.IsMariaDb, $"this test needs the MariaDB test server; VERSION() is {printed}");

        var options = new LintOptions { Schema = live.Schema, Server = live.Server };
        var dropCheck = Linter.LintSql("ALTER TABLE orders DROP CHECK orders_total;", SqlDialect.MySql, options: options);
        var dropConstraint = Linter.LintSql("ALTER TABLE orders DROP CONSTRAINT orders_total;", SqlDialect.MySql, options: options);

        var finding = Assert.Single(dropCheck.Active, f => f.Rule.Id == "GK004");
        Assert.Equal(LintSeverity.Error, finding.Severity);
        Assert.StartsWith($"MariaDB {live.Server.Major}.{live.Server.Minor}.{live.Server.Patch} has no DROP CHECK", finding.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{live.Server.Major}.{live.Server.Minor}.{live.Server.Patch}-", printed, StringComparison.Ordinal);
        Assert.DoesNotContain(dropConstraint.Active, f => f.Rule.Id == "GK004");

        // What the finding says is what the server does.
        await Assert.ThrowsAnyAsync<Exception>(() => db.ExecuteAsync("ALTER TABLE orders DROP CHECK orders_total"));
        await db.ExecuteAsync("ALTER TABLE orders DROP CONSTRAINT orders_total");
        await db.ExecuteAsync("INSERT INTO orders (id, total) VALUES (1, -1)");
    }

    [Fact]
    public async Task MariaDB_10_11_adds_and_drops_columns_instantly_so_its_real_version_brings_no_rebuild_finding()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        await db.ExecuteAsync("CREATE TABLE orders (id INT PRIMARY KEY, note VARCHAR(20))");
        var live = await database.ReadSchemaAsync(CancellationToken.None);
        const string Sql = "ALTER TABLE orders ADD COLUMN code INT AFTER id, ALGORITHM=INSTANT;\nALTER TABLE orders DROP COLUMN note, ALGORITHM=INSTANT;";

        var report = Linter.LintSql(Sql, SqlDialect.MySql, options: new LintOptions { Schema = live.Schema, Server = live.Server });

        Assert.DoesNotContain(report.Active, f => f.Rule.Id is "GK004" or "GK312");
        // The server agrees: both run with ALGORITHM=INSTANT (it refuses when it cannot).
        foreach (var statement in Sql.Split(";\n", StringSplitOptions.RemoveEmptyEntries))
        {
            await db.ExecuteAsync(statement.TrimEnd(';'));
        }
    }
}
