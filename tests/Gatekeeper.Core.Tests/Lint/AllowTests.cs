using Gatekeeper.Core.Lint;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>The exceptions a team controls: inline directives with a reason, and the gatekeeper.dev/allow annotation.</summary>
public sealed class AllowTests
{
    [Fact]
    public void A_directive_with_a_reason_allows_the_finding_which_is_shown_but_does_not_block()
    {
        var report = LintKit.Postgres("-- gatekeeper:allow GK101 archived to S3 in ticket OPS-12\nDROP TABLE legacy_orders;");

        var finding = report.Single("GK101");
        Assert.True(finding.IsAllowed);
        Assert.Equal(LintAllowanceSource.Directive, finding.AllowedBy!.Source);
        Assert.Equal("archived to S3 in ticket OPS-12", finding.AllowedBy.Reason);
        Assert.Equal(1, finding.AllowedBy.Location!.Value.Line);
        Assert.False(report.IsBlocking);
        Assert.Equal(1, report.AllowedCount);
    }

    [Fact]
    public void A_directive_may_list_several_rules_and_categories()
    {
        var report = LintKit.Postgres("/* gatekeeper:allow GK102, locking the column was never read */\nALTER TABLE t DROP COLUMN c, ALTER COLUMN d TYPE bigint;");

        Assert.True(report.Single("GK102").IsAllowed);
        Assert.True(report.Single("GK301").IsAllowed);
        Assert.Equal("the column was never read", report.Single("GK102").AllowedBy!.Reason);
    }

    [Fact]
    public void A_directive_covers_only_the_statement_it_precedes()
    {
        var report = LintKit.Postgres("-- gatekeeper:allow GK101 old\nDROP TABLE a;\nDROP TABLE b;");

        Assert.Equal(["GK101"], report.ActiveIds());
        Assert.Equal(3, report.Active.Single().Location.Line);
    }

    [Fact]
    public void A_directive_covers_findings_from_sql_embedded_in_its_statement()
    {
        var report = LintKit.Postgres("-- gatekeeper:allow GK102 dropped by design\nDO $$ BEGIN ALTER TABLE t DROP COLUMN c; END $$;");

        Assert.True(report.Single("GK102").IsAllowed);
    }

    [Theory]
    [InlineData("-- gatekeeper:allow GK101", "gives no reason")]
    [InlineData("-- gatekeeper:allow GK999 because", "unknown rule GK999")]
    [InlineData("-- gatekeeper:allow drop table because", "`drop` is neither")]
    [InlineData("-- gatekeeper:allow", "names no rule")]
    [InlineData("-- gatekeeper:alow GK101 typo", "unknown directive `gatekeeper:alow`")]
    public void A_malformed_directive_is_an_error_and_allows_nothing(string directive, string expected)
    {
        var report = LintKit.Postgres(directive + "\nDROP TABLE users;");

        var problem = report.Single("GK002");
        Assert.Contains(expected, problem.Message, StringComparison.Ordinal);
        Assert.Equal(1, problem.Location.Line);
        Assert.False(report.Single("GK101").IsAllowed);
    }

    [Fact]
    public void The_annotation_allows_rules_and_categories_for_the_whole_plan()
    {
        var options = new LintOptions { Allow = LintAllowList.Parse("GK303, destructive") };

        var report = LintKit.Postgres("CREATE INDEX i ON t (c);\nDROP TABLE a;\nALTER TABLE b RENAME TO c;", options: options);

        Assert.True(report.Single("GK303").IsAllowed);
        Assert.True(report.Single("GK101").IsAllowed);
        Assert.Equal(LintAllowanceSource.Annotation, report.Single("GK101").AllowedBy!.Source);
        Assert.Equal(["GK201"], report.ActiveIds());
    }

    [Fact]
    public void An_unknown_annotation_entry_is_an_error_pointing_into_the_annotation_and_cannot_be_allowed()
    {
        var options = new LintOptions { Allow = LintAllowList.Parse("GK101,GK77,input") };

        var problem = LintKit.Postgres("SELECT 1;", options: options).Single("GK002");

        Assert.Equal("annotation gatekeeper.dev/allow", problem.Location.File);
        Assert.Equal(7, problem.Location.Column);
        Assert.False(problem.IsAllowed);
    }

    [Theory]
    [InlineData(null, new string[0])]
    [InlineData("", new string[0])]
    [InlineData("GK101", new[] { "GK101" })]
    [InlineData(" GK101, destructive\tlocking ,", new[] { "GK101", "destructive", "locking" })]
    public void The_annotation_is_a_comma_or_space_separated_list(string? annotation, string[] expected)
    {
        Assert.Equal(expected, LintAllowList.Parse(annotation));
    }

    [Fact]
    public void Opt_in_rules_run_only_when_enabled()
    {
        const string sql = "CREATE TABLE t (name varchar(100));";

        LintKit.Postgres(sql).AssertSilent("GK603");
        LintKit.Postgres(sql, options: new LintOptions { Enable = ["gk603"] }).AssertFires("GK603");
        Assert.False(LintRules.PreferText.EnabledByDefault);
    }

    [Fact]
    public void A_directive_after_the_statement_on_the_same_line_covers_it()
    {
        var report = LintKit.Postgres("DROP TABLE a; -- gatekeeper:allow GK101 emptied in release 41\nDROP TABLE b;");

        Assert.True(report.Findings.Single(f => f.Location.Line == 1).IsAllowed);
        Assert.False(report.Findings.Single(f => f.Location.Line == 2).IsAllowed);
    }

    [Fact]
    public void A_directive_may_allow_a_whole_category()
    {
        var report = LintKit.Postgres("-- gatekeeper:allow backward-incompatible the old version is already drained\nALTER TABLE t RENAME COLUMN a TO b;");

        Assert.True(report.Single("GK202").IsAllowed);
    }
}
