using System.Globalization;
using Gatekeeper.Core.Lint;
using Gatekeeper.Databases;

namespace Gatekeeper.Databases.Tests;

/// <summary>ReadSchemaAsync on real servers: what the linter is told about tables, columns and the server version.</summary>
public sealed class LiveSchemaTests
{
    [Fact]
    public async Task Postgres_reports_an_analysed_tables_row_estimate_and_its_columns()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("""
            CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY, email varchar(120) NOT NULL DEFAULT '', note text);
            COMMENT ON COLUMN orders.note IS 'free text';
            INSERT INTO orders (email) SELECT 'u' || g FROM generate_series(1, 500) g;
            ANALYZE orders;
            CREATE SCHEMA billing;
            CREATE TABLE billing.invoices (id integer);
            """);
        await using var database = db.Open();

        var live = await database.ReadSchemaAsync(CancellationToken.None);

        var orders = live.Schema.Find("public", "orders", ignoreCase: false);
        Assert.NotNull(orders);
        Assert.Equal(500, orders.EstimatedRows);
        Assert.Equal(["id", "email", "note"], orders.Columns!.Select(c => c.Name));
        Assert.Equal(new SchemaColumn("id", "bigint", NotNull: true, HasDefault: false, AutoIncrement: true, HasComment: false), orders.FindColumn("id", false));
        Assert.Equal(new SchemaColumn("email", "character varying(120)", NotNull: true, HasDefault: true), orders.FindColumn("email", false));
        Assert.Equal(new SchemaColumn("note", "text", NotNull: false, HasDefault: false, HasComment: true), orders.FindColumn("note", false));

        var invoices = live.Schema.Find("billing", "invoices", ignoreCase: false);
        Assert.NotNull(invoices);
        Assert.True(invoices.EstimatedRows < 0, $"a never-analysed table must be unknown, was {invoices.EstimatedRows}");
        Assert.DoesNotContain(live.Schema.Tables, t => t.Schema is "pg_catalog" or "information_schema" || t.Schema!.StartsWith("pg_toast", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Postgres_server_major_version_matches_the_version_string()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await using var database = db.Open();

        var live = await database.ReadSchemaAsync(CancellationToken.None);

        var printed = (string)(await db.ScalarAsync("SHOW server_version"))!;
        Assert.Equal(int.Parse(printed.Split('.')[0], CultureInfo.InvariantCulture), live.ServerMajorVersion);
        Assert.StartsWith($"{live.Server!.Major}.{live.Server.Minor}", printed, StringComparison.Ordinal);
        Assert.False(live.Server.IsMariaDb);
        Assert.Empty(live.Schema.Tables);
    }

    [Fact]
    public async Task MySql_reports_an_analysed_tables_row_estimate_and_its_columns()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await db.ExecuteAsync("""
            CREATE TABLE orders (
                id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
                email varchar(120) NOT NULL DEFAULT '' COMMENT 'login',
                note text NULL);
            INSERT INTO orders (email) SELECT CONCAT('u', seq) FROM (
                SELECT a.n + 10 * b.n + 100 * c.n AS seq
                FROM (SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) a,
                     (SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9) b,
                     (SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) c) digits;
            ANALYZE TABLE orders;
            CREATE VIEW recent AS SELECT id FROM orders;
            """);
        await using var database = db.Open();

        var live = await database.ReadSchemaAsync(CancellationToken.None);

        var orders = Assert.Single(live.Schema.Tables);
        Assert.Equal((db.Name, "orders"), (orders.Schema, orders.Name));
        // InnoDB's estimate comes from sampled pages: near the 500 rows, not exact.
        Assert.InRange(orders.EstimatedRows, 250, 1000);
        Assert.Equal(["id", "email", "note"], orders.Columns!.Select(c => c.Name));
        var id = orders.FindColumn("id", false)!;
        Assert.Matches(@"^int(\(10\))? unsigned$", id.DataType); // MySQL 8 no longer prints the display width
        Assert.Equal(new SchemaColumn("id", id.DataType, NotNull: true, HasDefault: false, AutoIncrement: true), id);
        Assert.Equal(new SchemaColumn("email", "varchar(120)", NotNull: true, HasDefault: true, HasComment: true), orders.FindColumn("email", false));
        Assert.Equal(new SchemaColumn("note", "text", NotNull: false, HasDefault: false), orders.FindColumn("note", false));
    }

    [Fact]
    public async Task MySql_server_major_version_matches_the_version_string()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open();

        var live = await database.ReadSchemaAsync(CancellationToken.None);

        var printed = (string)(await db.ScalarAsync("SELECT @@version"))!;
        Assert.NotNull(live.ServerMajorVersion);
        Assert.StartsWith(live.ServerMajorVersion.Value.ToString(CultureInfo.InvariantCulture) + ".", printed, StringComparison.Ordinal);
        // The patch level is kept, and MariaDB is told apart from MySQL (they read /*!80013 … */ differently).
        Assert.StartsWith($"{live.Server!.Major}.{live.Server.Minor}.{live.Server.Patch}", printed, StringComparison.Ordinal);
        Assert.Equal(printed.Contains("MariaDB", StringComparison.OrdinalIgnoreCase), live.Server.IsMariaDb);
    }

    [Theory]
    [InlineData("10.11.19-MariaDB", 10)]
    [InlineData("8.0.36", 8)]
    [InlineData("11.4.2-MariaDB-ubu2404-log", 11)]
    [InlineData("5.7.44-log", 5)]
    public void MySql_major_version_is_the_leading_number_of_the_version_string(string version, int major) =>
        Assert.Equal(major, MySqlMigrationDatabase.MajorVersion(version));

    [Fact]
    public void MySql_major_version_is_unknown_when_the_version_string_has_no_leading_number() =>
        Assert.Null(MySqlMigrationDatabase.MajorVersion("unknown"));
}
