using System.Data.Common;
using System.Text;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Preflight;

namespace Gatekeeper.Databases.Tests;

/// <summary>The read-only lock pre-flight and data pre-checks against the real servers, from the plan's own text.</summary>
public sealed class PreflightTests
{
    private static readonly PreflightOptions AnyAge = new() { MinimumTransactionAge = TimeSpan.Zero };

    private static PlanTargets Targets(DatabaseEngine engine, string sql) => PlanTargets.Find(
        [new Migration("9", MigrationVersion.Parse("9"), "change", MigrationKind.Versioned, "V9__change.sql", sql, 1, null, true, string.Empty, Encoding.UTF8.GetBytes(sql))],
        engine == DatabaseEngine.Postgres ? Core.Sql.SqlDialect.Postgres : Core.Sql.SqlDialect.MySql);

    /// <summary>A session that read the table in a transaction it keeps open: it holds a lock any ALTER must wait for.</summary>
    private static async Task<(DbConnection Connection, DbTransaction Transaction)> HoldAsync(TestDatabase db, string table)
    {
        var connection = await db.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = $"SELECT COUNT(*) FROM {table}";
        await read.ExecuteScalarAsync();
        return (connection, transaction);
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task A_session_holding_a_plan_table_in_an_open_transaction_is_named_by_id_user_state_and_age_never_by_its_query(DatabaseEngine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.ExecuteAsync("CREATE TABLE customers (id integer PRIMARY KEY, secret_note varchar(50))");
        await db.ExecuteAsync("INSERT INTO customers VALUES (1, 'hunter2-in-a-row')");
        // A monitoring agent that reads the server's transaction list more often than every 0.1 s: MariaDB (and MySQL)
        // then keep serving INNODB_TRX from a copy taken before the holder's transaction began, so a pre-flight that
        // relies on it misses the holder (what failed on CI, where many tests read it at once).
        await using var monitor = await TransactionListMonitor.StartAsync(db);
        var (connection, transaction) = await HoldAsync(db, "customers");
        await using var _ = connection;
        await using var __ = transaction;
        await using var database = db.Open();

        var found = await database.InspectLocksAsync(Targets(engine, "ALTER TABLE customers ADD COLUMN email varchar(100);").Locks, AnyAge, CancellationToken.None);
        var patient = await database.InspectLocksAsync(Targets(engine, "ALTER TABLE customers ADD COLUMN email varchar(100);").Locks,
            new PreflightOptions { MinimumTransactionAge = TimeSpan.FromHours(1) }, CancellationToken.None);

        var blocker = Assert.Single(found.Blockers);
        var text = blocker.ToString();
        Assert.Equal(engine == DatabaseEngine.Postgres ? "postgres" : "root", blocker.User);
        Assert.NotNull(blocker.TransactionAge);
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SELECT", text, StringComparison.OrdinalIgnoreCase);
        if (engine == DatabaseEngine.Postgres)
        {
            Assert.Matches(@"^pid \d+ \(user postgres\) holds AccessShareLock on public\.customers, idle in transaction, transaction open for \d+s$", text);
        }
        else
        {
            Assert.Matches(@"^connection \d+ \(user root\) holds SHARED_READ on customers, Sleep, transaction open for \d+s$", text);
        }

        Assert.Empty(found.Notes);
        Assert.Empty(patient.Blockers);
    }

    [Fact]
    public async Task An_index_a_failed_concurrent_build_left_invalid_is_reported_on_the_plans_table()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE TABLE customers (id integer PRIMARY KEY, email text); INSERT INTO customers VALUES (1, 'a'), (2, 'a')");
        await Assert.ThrowsAnyAsync<DbException>(() => db.ExecuteAsync("CREATE UNIQUE INDEX CONCURRENTLY customers_email ON customers (email)"));
        await using var database = db.Open();

        var found = await database.InspectLocksAsync(Targets(DatabaseEngine.Postgres, "CREATE INDEX CONCURRENTLY customers_email2 ON customers (email);").Locks, AnyAge, CancellationToken.None);

        Assert.Empty(found.Blockers);
        var invalid = Assert.Single(found.InvalidIndexes);
        Assert.StartsWith("index customers_email on public.customers is INVALID", invalid.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task Existing_rows_that_would_fail_the_plan_are_found_and_named_by_their_key_only(DatabaseEngine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.ExecuteAsync("CREATE TABLE customers (id integer PRIMARY KEY, email varchar(100), name varchar(50), age integer, code varchar(20))");
        await db.ExecuteAsync("CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer)");
        await db.ExecuteAsync("CREATE TABLE loose (note varchar(20))");
        await db.ExecuteAsync("INSERT INTO customers VALUES (1, 'ada@example.com', 'Ada', 36, 'short'), (2, 'bob@example.com', NULL, -3, 'a-rather-long-code'), (3, 'ada@example.com', 'Ada2', 40, 'x')");
        await db.ExecuteAsync("INSERT INTO orders VALUES (10, 1), (11, 99), (12, NULL)");
        await db.ExecuteAsync("INSERT INTO loose VALUES ('a'), ('a')");
        var sql = engine == DatabaseEngine.Postgres
            ? "CREATE UNIQUE INDEX customers_email ON customers (email);\n" +
              "ALTER TABLE customers ALTER COLUMN name SET NOT NULL;\n" +
              "ALTER TABLE customers ADD CONSTRAINT adult CHECK (age >= 0);\n" +
              "ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id);\n" +
              "ALTER TABLE customers ALTER COLUMN code TYPE varchar(10);\n" +
              "ALTER TABLE orders ADD COLUMN region text NOT NULL;\n" +
              "ALTER TABLE loose ADD CONSTRAINT loose_note UNIQUE (note);\n" +
              "ALTER TABLE customers ADD CONSTRAINT fine UNIQUE (id, email);\n"
            : "CREATE UNIQUE INDEX customers_email ON customers (email);\n" +
              "ALTER TABLE customers MODIFY name varchar(50) NOT NULL;\n" +
              "ALTER TABLE customers ADD CONSTRAINT adult CHECK (age >= 0);\n" +
              "ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id);\n" +
              "ALTER TABLE customers MODIFY code varchar(10);\n" +
              "ALTER TABLE loose ADD UNIQUE KEY loose_note (note);\n" +
              "ALTER TABLE customers ADD UNIQUE KEY fine (id, email);\n";
        await using var database = db.Open();

        var result = await database.PrecheckDataAsync(Targets(engine, sql).DataChecks, new PreflightOptions(), CancellationToken.None);

        Assert.Empty(result.NotChecked);
        var found = result.Violations.Select(v => v.ToString()).ToList();
        Assert.Matches(@"^V9__change\.sql:1:1: UNIQUE INDEX customers_email \(email\) on customers fails on existing rows: rows share a value of email, e\.g\. the row with id = [13]$", found[0]);
        Assert.Equal("V9__change.sql:2:" + (engine == DatabaseEngine.Postgres ? "23: SET NOT NULL on name" : "23: name NOT NULL") + " on customers fails on existing rows: name is NULL in the row with id = 2", found[1]);
        Assert.Equal("V9__change.sql:3:27: CHECK (age >= 0) on customers fails on existing rows: the row with id = 2 does not satisfy it", found[2]);
        Assert.Equal("V9__change.sql:4:24: FOREIGN KEY (customer_id) REFERENCES customers on orders fails on existing rows: the row with id = 11 has a customer_id that customers does not have", found[3]);
        Assert.EndsWith("on customers fails on existing rows: the code of the row with id = 2 does not fit varchar(10)", found[4], StringComparison.Ordinal);
        if (engine == DatabaseEngine.Postgres)
        {
            Assert.Equal("V9__change.sql:6:20: ADD COLUMN region NOT NULL without a default on orders fails on existing rows: the table has rows (the row with id = 10), which would get NULL in region", found[5]);
        }

        Assert.EndsWith("on loose fails on existing rows: rows share a value of note, e.g. a row (the table has no primary key to name it by)", found[^1], StringComparison.Ordinal);
        Assert.DoesNotContain(found, f => f.Contains("example.com", StringComparison.Ordinal) || f.Contains("fine", StringComparison.Ordinal));
        Assert.Equal(engine == DatabaseEngine.Postgres ? 7 : 6, found.Count);
    }

    [Fact]
    public async Task A_row_whose_primary_key_is_an_enum_a_citext_or_a_domain_is_named_by_it_on_postgres()
    {
        // Gatekeeper's PostgreSQL connections do not load the database's own types: a key of such a type was read as
        // an object and crashed `gatekeeper plan` with an InvalidCastException instead of naming the row.
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS citext");
        await db.ExecuteAsync("CREATE TYPE color AS ENUM ('red', 'green')");
        await db.ExecuteAsync("CREATE DOMAIN sku AS text CHECK (VALUE <> '')");
        await db.ExecuteAsync("CREATE TABLE paint (c color PRIMARY KEY, name text)");
        await db.ExecuteAsync("CREATE TABLE tags (t citext PRIMARY KEY, name text)");
        await db.ExecuteAsync("CREATE TABLE items (s sku, n integer, name text, PRIMARY KEY (s, n))");
        await db.ExecuteAsync("INSERT INTO paint VALUES ('red', NULL)");
        await db.ExecuteAsync("INSERT INTO tags VALUES ('Ada', NULL)");
        await db.ExecuteAsync("INSERT INTO items VALUES ('A-1', -7, NULL)");
        await using var database = db.Open();

        var result = await database.PrecheckDataAsync(Targets(DatabaseEngine.Postgres,
            "ALTER TABLE paint ALTER COLUMN name SET NOT NULL;\nALTER TABLE tags ALTER COLUMN name SET NOT NULL;\nALTER TABLE items ALTER COLUMN name SET NOT NULL;\n").DataChecks,
            new PreflightOptions(), CancellationToken.None);

        Assert.Empty(result.NotChecked);
        var found = result.Violations.Select(v => v.ToString()).ToList();
        Assert.EndsWith("name is NULL in the row with c = 'red'", found[0], StringComparison.Ordinal);
        Assert.EndsWith("name is NULL in the row with t = 'Ada'", found[1], StringComparison.Ordinal);
        Assert.EndsWith("name is NULL in the row with (s, n) = ('A-1', -7)", found[2], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task A_pre_check_that_takes_too_long_is_reported_as_not_checked_and_the_next_one_still_runs(DatabaseEngine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await db.ExecuteAsync("CREATE TABLE slow (id integer PRIMARY KEY, v integer)");
        await db.ExecuteAsync("INSERT INTO slow VALUES (1, NULL)");
        var sleep = engine == DatabaseEngine.Postgres ? "pg_sleep(5) IS NOT NULL" : "SLEEP(5) = 0";
        await using var database = db.Open();

        var result = await database.PrecheckDataAsync(
            Targets(engine, $"ALTER TABLE slow ADD CONSTRAINT sleepy CHECK ({sleep});\nALTER TABLE slow ADD CONSTRAINT present CHECK (v IS NOT NULL);\n").DataChecks,
            new PreflightOptions { QueryTimeout = TimeSpan.FromSeconds(1) }, CancellationToken.None);

        Assert.Equal($"V9__change.sql:1:22: CHECK ({sleep}) on slow was not checked against existing rows: the query did not finish within 1 s", Assert.Single(result.NotChecked));
        Assert.Equal("V9__change.sql:2:22: CHECK (v IS NOT NULL) on slow fails on existing rows: the row with id = 1 does not satisfy it", Assert.Single(result.Violations).ToString());
    }
}
