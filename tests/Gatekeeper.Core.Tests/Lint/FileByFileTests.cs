using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>
/// <c>lint --dir</c> as a pull request sees a directory: each file is its own rollout against the state after the files
/// before it; only the files chosen are reported, the rest are history. <c>plan</c> keeps one rollout for the pending set.
/// </summary>
public sealed class FileByFileTests
{
    private static readonly Migration CreateOrders = LintKit.Migration("V1__orders.sql",
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text, customer_id bigint NOT NULL);\nCREATE INDEX orders_customer ON orders (customer_id);\n");

    private static LintReport EachFile(params Migration[] migrations) =>
        Linter.LintEachAsRollout(migrations, _ => true, SqlDialect.Postgres);

    [Fact]
    public void A_later_file_dropping_a_column_of_a_table_an_earlier_file_created_is_a_finding()
    {
        var drop = LintKit.Migration("V2__drop_note.sql", "ALTER TABLE orders DROP COLUMN note;\n");

        EachFile(CreateOrders, drop).AssertFires("GK102");
        // One rollout (what plan judges for a database that has neither file): the table is new, nothing to lose.
        Linter.Lint([CreateOrders, drop], SqlDialect.Postgres).AssertSilent("GK102");
    }

    [Fact]
    public void Locks_on_a_table_an_earlier_file_created_are_judged_as_on_an_existing_table()
    {
        var later = LintKit.Migration("V2__index.sql", "CREATE INDEX orders_note ON orders (note);\nDROP INDEX orders_customer;\n");

        var report = EachFile(CreateOrders, later);

        report.AssertFires("GK303");
        report.AssertFires("GK304");
    }

    [Fact]
    public void Within_one_file_a_table_created_there_is_still_new()
    {
        var report = EachFile(LintKit.Migration("V1__scratch.sql", "CREATE TABLE scratch (id bigint PRIMARY KEY, note text);\nCREATE INDEX scratch_note ON scratch (note);\nALTER TABLE scratch DROP COLUMN note;\n"));

        Assert.Empty(report.Findings);
    }

    [Fact]
    public void History_files_are_replayed_for_what_they_create_but_not_reported()
    {
        var history = LintKit.Migration("V2__old_drop.sql", "DROP TABLE legacy;\n");
        var judged = LintKit.Migration("V3__drop_note.sql", "ALTER TABLE orders DROP COLUMN note;\n");

        var report = Linter.LintEachAsRollout([CreateOrders, history, judged], m => m == judged, SqlDialect.Postgres);

        Assert.Equal(["GK102"], report.ActiveIds());
        Assert.Equal("V3__drop_note.sql", report.Findings[0].Location.File);
        Assert.Equal(1, report.MigrationCount);
        Assert.Equal(2, report.HistoryCount);
        Assert.Contains("after 2 earlier files replayed as history", Gatekeeper.Core.Lint.Formatting.LintReportFormatter.Summary(report));
    }

    [Fact]
    public void A_live_schema_without_the_table_does_not_hide_a_table_an_earlier_file_created()
    {
        var drop = LintKit.Migration("V2__drop_note.sql", "ALTER TABLE orders DROP COLUMN note;\n");
        var options = new LintOptions { Schema = LintKit.Schema(LintKit.Table("customers", 10)) };

        Linter.LintEachAsRollout([CreateOrders, drop], _ => true, SqlDialect.Postgres, options).AssertFires("GK102");
    }

    [Fact]
    public void Columns_an_earlier_file_defined_are_still_known_to_later_files()
    {
        // The earlier file declared customer_id NOT NULL, so a later SET NOT NULL on it scans nothing.
        var later = LintKit.Migration("V2__not_null.sql", "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;\n");

        EachFile(CreateOrders, later).AssertSilent("GK302");
    }
}
