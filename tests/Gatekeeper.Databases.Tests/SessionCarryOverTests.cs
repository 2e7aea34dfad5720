using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// MySQL passes a file's session to the next file without the pool's reset only when the first file provably left
/// nothing on it; whatever a file changes on its session must still never reach the next file. Each file the next one
/// reads from is checked on the real server, with what the next file sees recorded in a table: the fractional digits
/// of a division (div_precision_increment), a named lock, a temporary table, the lock timeout, a sequence's last value,
/// the insert id.
/// </summary>
public sealed class SessionCarryOverTests
{
    // What the last file sees, written where the test can read it: 1/3 to div_precision_increment digits, whether the
    // named lock is held, and the rows of `tmp` (a temporary table of that name hides the empty base table).
    private const string Observer =
        "CREATE TABLE seen AS SELECT CAST(1/3 AS CHAR) AS quotient, IS_USED_LOCK('gk_carry') IS NOT NULL AS held, (SELECT COUNT(*) FROM tmp) AS temp_rows;\n";

    // A stored function that changes the session (DELIMITER: the body has semicolons of its own).
    private const string Widen = "DELIMITER //\nCREATE FUNCTION widen() RETURNS INT DETERMINISTIC BEGIN SET SESSION div_precision_increment = 9; RETURN 1; END//\nDELIMITER ;\n";

    [Theory]
    [InlineData("SET SESSION div_precision_increment = 9;\n")]
    [InlineData("DO GET_LOCK('gk_carry', 0);\n")]
    [InlineData("INSERT INTO log SELECT GET_LOCK('gk_carry', 0);\n")]
    [InlineData("INSERT INTO log SELECT RELEASE_LOCK('gk_none') + GET_LOCK('gk_carry', 0);\n")]
    [InlineData("CREATE TEMPORARY TABLE tmp (id INT);\nINSERT INTO tmp VALUES (1);\n")]
    [InlineData("INSERT INTO log SELECT 1 FROM tmp WHERE GET_LOCK('gk_carry', 0) = 1 UNION ALL SELECT 2;\n")]
    // A trigger runs inside a plain INSERT: the server is asked again after the file that created it.
    [InlineData("CREATE TRIGGER log_changes_session AFTER INSERT ON log FOR EACH ROW SET SESSION div_precision_increment = 9;\n", "INSERT INTO log VALUES (1);\n")]
    [InlineData(Widen, "CREATE TABLE plain (id INT);\n", "INSERT INTO log VALUES (widen());\n")]
    [InlineData(Widen, "CREATE VIEW widened AS SELECT widen() AS v;\n", "INSERT INTO log SELECT v FROM widened;\n")]
    public async Task MySql_what_a_file_changes_on_its_session_does_not_reach_the_next_file(params string[] changes)
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        var files = new List<(string, string)> { ("V1__tables.sql", "CREATE TABLE tmp (id INT);\nCREATE TABLE log (v INT);\n") };
        files.AddRange(changes.Select((sql, i) => ($"V{i + 2}__change.sql", sql)));
        files.Add(($"V{changes.Length + 2}__observe.sql", Observer));

        var result = await new MigrationRunner(database).RunAsync(TestMigrations.Flyway([.. files]), null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        var seen = Assert.Single(await db.RowsAsync("SELECT quotient, held, temp_rows FROM seen"));
        Assert.Equal("0.3333", Convert.ToString(seen[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0L, Convert.ToInt64(seen[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0L, Convert.ToInt64(seen[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task MySql_a_file_that_sets_its_own_lock_timeout_after_a_carried_file_sees_the_servers_until_its_SET()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open(new MigrationDatabaseOptions { StatementLockTimeout = TimeSpan.FromSeconds(3) });
        var directory = TestMigrations.Flyway(
            ("V1__plain.sql", "CREATE TABLE plain (id INT);\n"),
            ("V2__own.sql", "SET SESSION innodb_lock_wait_timeout = 5;\n" +
                "CREATE TABLE seen AS SELECT VARIABLE_VALUE AS v FROM information_schema.SESSION_VARIABLES WHERE VARIABLE_NAME = 'LOCK_WAIT_TIMEOUT';\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(await db.CountAsync("SELECT @@GLOBAL.lock_wait_timeout"), await db.CountAsync("SELECT v FROM seen"));
    }

    [Fact]
    public async Task MySql_a_sequence_value_taken_by_a_column_default_in_one_file_is_not_the_next_files_previous_value()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(
            ("V1__sequence.sql", "CREATE SEQUENCE ids;\nCREATE TABLE numbered (id INT DEFAULT NEXTVAL(ids), note INT);\n"),
            ("V2__insert.sql", "INSERT INTO numbered (note) VALUES (1);\n"),
            ("V3__observe.sql", "CREATE TABLE seen AS SELECT COALESCE(PREVIOUS VALUE FOR ids, 0) AS v;\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(0, await db.CountAsync("SELECT v FROM seen"));
    }

    [Fact]
    public async Task MySql_the_insert_id_of_one_files_INSERT_is_not_the_next_files_even_where_IS_NULL_finds_it()
    {
        // With sql_auto_is_null on, `id IS NULL` finds the row the session inserted last: a reset session has none.
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();
        var directory = TestMigrations.Flyway(
            ("V1__insert.sql", "CREATE TABLE numbered (id INT AUTO_INCREMENT PRIMARY KEY, note INT);\nINSERT INTO numbered (note) VALUES (1);\n"),
            ("V2__observe.sql", "SET SESSION sql_auto_is_null = 1;\nCREATE TABLE seen AS SELECT COUNT(*) AS n FROM numbered WHERE id IS NULL;\n"));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(0, await db.CountAsync("SELECT n FROM seen"));
    }

    [Theory]
    [InlineData("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20) DEFAULT 'x', KEY k (name))", "None")]
    [InlineData("CREATE UNIQUE INDEX u ON t (name)", "None")]
    [InlineData("ALTER TABLE t ADD COLUMN c DECIMAL(19,6) NULL", "None")]
    [InlineData("DROP TABLE IF EXISTS t", "None")]
    [InlineData("RENAME TABLE t TO u", "None")]
    [InlineData("INSERT INTO `m_permission` (`grouping`, `code`) VALUES ('a', CONCAT('b', NOW()))", "DataChanges")]
    [InlineData("UPDATE t JOIN u ON t.id = u.id SET t.name = IFNULL(u.name, 'x') WHERE t.id IN (1, 2)", "DataChanges")]
    [InlineData("DELETE FROM t WHERE id = 1", "DataChanges")]
    [InlineData("CREATE TEMPORARY TABLE t (id INT)", "Unknown")]
    [InlineData("CREATE TABLE t AS SELECT 1 AS id", "Unknown")]
    [InlineData("CREATE VIEW v AS SELECT 1 AS id", "Unknown")]
    [InlineData("SET FOREIGN_KEY_CHECKS = 0", "Unknown")]
    [InlineData("INSERT INTO t (id) VALUES (@next)", "Unknown")]
    [InlineData("INSERT INTO t (id) VALUES (RAND())", "Unknown")]
    [InlineData("INSERT INTO t (id) VALUES (my_function(1))", "Unknown")]
    [InlineData("INSERT INTO t (id) VALUES (other.f(1))", "Unknown")]
    [InlineData("INSERT INTO other.t (id) VALUES (1)", "Unknown")]
    [InlineData("INSERT INTO t (id) VALUES (NEXT VALUE FOR s)", "Unknown")]
    [InlineData("/*!40101 SET NAMES utf8 */", "Unknown")]
    [InlineData("LOCK TABLES t WRITE", "Unknown")]
    [InlineData("CALL p()", "Unknown")]
    [InlineData("USE other", "Unknown")]
    [InlineData("BEGIN", "Unknown")]
    public void A_MySQL_statement_is_known_to_leave_the_session_clean_only_when_every_part_of_it_is(string sql, string expected)
    {
        var migration = TestMigrations.Flyway(("V1__one.sql", sql + ";\n")).Migrations[0];
        var script = MigrationScript.Prepare(migration, SqlEngine.MySql, 10, Core.Sql.SqlModes.None, out var problems);

        Assert.Empty(problems);
        Assert.Equal(expected, SqlEngine.MySql.SessionFootprintOf(script).ToString());
    }
}
