using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>What the live schema changes: table sizes decide locking severities, current definitions decide type changes.</summary>
public sealed class LiveSchemaTests
{
    private const string CreateIndex = "CREATE INDEX orders_customer_idx ON orders (customer_id);";

    [Fact]
    public void Without_a_database_a_locking_finding_stays_an_error_and_says_it_might_change()
    {
        var finding = LintKit.Postgres(CreateIndex).Single("GK303");

        Assert.Equal(LintSeverity.Error, finding.Severity);
        Assert.True(finding.MayChangeWithLiveSchema);
    }

    [Fact]
    public void A_small_live_table_lowers_a_locking_finding_to_a_warning_and_says_how_small()
    {
        var options = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", 1_200)) };

        var finding = LintKit.Postgres(CreateIndex, options: options).Single("GK303");

        Assert.Equal(LintSeverity.Warning, finding.Severity);
        Assert.False(finding.MayChangeWithLiveSchema);
        Assert.EndsWith("(orders holds about 1,200 rows)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_large_live_table_keeps_a_locking_finding_an_error()
    {
        var options = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", 48_000_000)) };

        var finding = LintKit.Postgres(CreateIndex, options: options).Single("GK303");

        Assert.Equal(LintSeverity.Error, finding.Severity);
        Assert.Contains("48,000,000 rows", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_large_table_threshold_is_an_option()
    {
        var options = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", 5_000)), LargeTableRows = 1_000 };

        Assert.Equal(LintSeverity.Error, LintKit.Postgres(CreateIndex, options: options).Single("GK303").Severity);
    }

    [Fact]
    public void A_table_never_analysed_counts_as_unknown_size()
    {
        var options = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", -1)) };

        Assert.Equal(LintSeverity.Error, LintKit.Postgres(CreateIndex, options: options).Single("GK303").Severity);
    }

    [Fact]
    public void Destructive_findings_do_not_depend_on_table_size()
    {
        var options = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", 3)) };

        Assert.Equal(LintSeverity.Error, LintKit.Postgres("DROP TABLE orders;", options: options).Single("GK101").Severity);
    }

    [Fact]
    public void Create_table_if_not_exists_of_a_live_table_creates_nothing_new()
    {
        var options = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", 48_000_000)) };
        const string sql = "CREATE TABLE IF NOT EXISTS orders (id bigint, customer_id bigint);\n" + CreateIndex;

        LintKit.Postgres(sql, options: options).AssertFires("GK303");
        LintKit.Postgres(sql).AssertSilent("GK303");
    }

    [Fact]
    public void The_live_column_type_decides_whether_a_type_change_rewrites()
    {
        var integer = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", 10, new SchemaColumn("total", "integer", true, false))) };
        var varchar = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", 10, new SchemaColumn("total", "character varying(20)", true, false))) };
        const string sql = "ALTER TABLE orders ALTER COLUMN total TYPE text;";

        Assert.Contains("from integer to text", LintKit.Postgres(sql, options: integer).Single("GK301").Message, StringComparison.Ordinal);
        LintKit.Postgres(sql, options: varchar).AssertSilent("GK301");
    }

    [Fact]
    public void Mysql_table_sizes_decide_table_copy_severity_too()
    {
        var options = new LintOptions { Schema = new SchemaContext([new SchemaTable("shop", "ORDERS", 200, null)]) };

        var finding = LintKit.MySql("ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4;", options: options).Single("GK310");

        Assert.Equal(LintSeverity.Warning, finding.Severity);
    }

    [Fact]
    public void A_report_says_whether_it_knew_the_live_schema()
    {
        Assert.False(LintKit.Postgres("SELECT 1;").LiveSchemaKnown);
        Assert.True(LintKit.Postgres("SELECT 1;", options: new LintOptions { Schema = LintKit.Schema() }).LiveSchemaKnown);
    }

    [Fact]
    public void Only_pending_migrations_are_judged_so_an_applied_one_never_reappears()
    {
        var pending = new[] { LintKit.Migration("V2__index.sql", CreateIndex) };

        var report = Linter.Lint(pending, SqlDialect.Postgres);

        Assert.Equal(1, report.MigrationCount);
        Assert.All(report.Findings, f => Assert.Equal("V2__index.sql", f.Location.File));
    }

    [Fact]
    public void A_table_the_live_schema_does_not_have_cannot_be_harmed()
    {
        var options = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", 48_000_000)) };

        LintKit.Postgres("DROP TABLE IF EXISTS scratch;", options: options).AssertSilent("GK101");
        LintKit.Postgres("DROP TABLE IF EXISTS orders;", options: options).AssertFires("GK101");
        LintKit.Postgres("DROP TABLE IF EXISTS scratch;").AssertFires("GK101");
    }

    [Fact]
    public void A_live_table_renamed_by_the_plan_is_still_real_data_under_its_new_name()
    {
        var options = new LintOptions { Schema = LintKit.Schema(LintKit.Table("orders", 48_000_000)) };

        LintKit.Postgres("ALTER TABLE orders RENAME TO orders_old;\nDROP TABLE orders_old;", options: options).AssertFires("GK101");
    }

    [Fact]
    public void Schema_lookup_matches_schema_qualified_names_and_prefers_the_largest_of_several_unqualified_matches()
    {
        var schema = new SchemaContext([new SchemaTable("audit", "events", 10, null), new SchemaTable("public", "events", 9_000_000, null), new SchemaTable(null, "Orders", 5, null)]);

        Assert.Equal(9_000_000, schema.Find(null, "events", ignoreCase: false)!.EstimatedRows);
        Assert.Equal(10, schema.Find("audit", "events", ignoreCase: false)!.EstimatedRows);
        Assert.Null(schema.Find("billing", "events", ignoreCase: false));
        Assert.Null(schema.Find(null, "orders", ignoreCase: false));
        Assert.NotNull(schema.Find("shop", "orders", ignoreCase: true));
    }
}
