using System.Text.Json;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Lint.Formatting;

namespace Gatekeeper.Core.Tests.Lint;

public sealed class FormatterTests
{
    private const string Sql = "SELECT 1;\n  ALTER TABLE users DROP COLUMN email;\n";

    [Fact]
    public void Human_output_reads_like_a_compiler_with_the_offending_line_and_a_caret_under_the_hazard()
    {
        var text = LintReportFormatter.FormatHuman(LintKit.Postgres(Sql));
        var lines = text.Split('\n');

        Assert.Equal("error[GK102]: drops column email of table users with its data", lines[0]);
        Assert.Equal(" --> V1__test.sql:2:21", lines[1]);
        Assert.Equal("2 |   ALTER TABLE users DROP COLUMN email;", lines[3]);
        var caretLine = lines[4];
        Assert.Equal(lines[3].IndexOf("DROP", StringComparison.Ordinal), caretLine.IndexOf('^', StringComparison.Ordinal));
        Assert.Equal("DROP COLUMN email".Length, caretLine.Count(c => c == '^'));
        Assert.StartsWith("  = help: Expand/contract", lines[5], StringComparison.Ordinal);
        Assert.Contains("1 error, 0 warnings in 1 migration (2 statements): the plan is blocked.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Human_output_notes_findings_that_might_change_with_the_live_schema_and_allowed_ones()
    {
        var text = LintReportFormatter.FormatHuman(LintKit.Postgres("CREATE INDEX i ON t (c);\n-- gatekeeper:allow GK101 archived first\nDROP TABLE old;"));

        Assert.Contains("= note: might change with the live schema", text, StringComparison.Ordinal);
        Assert.Contains("allowed[GK101]: drops table old", text, StringComparison.Ordinal);
        Assert.Contains("= note: allowed by directive at V1__test.sql:2:1: archived first", text, StringComparison.Ordinal);
        Assert.Contains("lint with --url", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Human_output_shows_a_window_of_a_very_long_line_with_the_caret_still_under_the_hazard()
    {
        var padding = string.Join(", ", Enumerable.Range(0, 5000).Select(i => $"c{i} int"));
        var text = LintReportFormatter.FormatHuman(LintKit.Postgres($"CREATE TABLE wide ({padding}, at timestamp);"));
        var lines = text.Split('\n');
        var sourceLine = lines.First(l => l.StartsWith("1 | ", StringComparison.Ordinal));
        var caretLine = lines[Array.IndexOf(lines, sourceLine) + 1];

        Assert.True(sourceLine.Length < 200, $"line of {sourceLine.Length} characters");
        Assert.Equal("timestamp", sourceLine.Substring(caretLine.IndexOf('^', StringComparison.Ordinal), "timestamp".Length));
    }

    [Fact]
    public void Human_output_says_when_there_is_nothing_to_report()
    {
        Assert.Equal("no findings in 1 migration (1 statement).", LintReportFormatter.FormatHuman(LintKit.Postgres("SELECT 1;")).Trim());
    }

    [Fact]
    public void Colour_wraps_severities_in_ansi_codes_only_when_asked()
    {
        var report = LintKit.Postgres(Sql);

        Assert.Contains("\u001b[31m", LintReportFormatter.FormatHuman(report, color: true), StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", LintReportFormatter.FormatHuman(report), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_output_carries_every_field_a_machine_needs()
    {
        var report = LintKit.Postgres("-- gatekeeper:allow GK101 archived\nDROP TABLE old;\n" + Sql);

        using var json = JsonDocument.Parse(LintReportFormatter.FormatJson(report));
        var root = json.RootElement;

        Assert.True(root.GetProperty("blocking").GetBoolean());
        Assert.Equal("postgres", root.GetProperty("dialect").GetString());
        Assert.Equal(1, root.GetProperty("summary").GetProperty("errors").GetInt32());
        Assert.Equal(1, root.GetProperty("summary").GetProperty("allowed").GetInt32());
        var findings = root.GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(2, findings.Count);
        var allowed = findings[0];
        Assert.Equal("GK101", allowed.GetProperty("rule").GetString());
        Assert.Equal("destructive", allowed.GetProperty("category").GetString());
        Assert.Equal("directive", allowed.GetProperty("allowed").GetProperty("by").GetString());
        Assert.False(allowed.GetProperty("blocking").GetBoolean());
        var active = findings[1];
        Assert.Equal("drop-column", active.GetProperty("name").GetString());
        Assert.Equal(4, active.GetProperty("line").GetInt32());
        Assert.Equal(21, active.GetProperty("column").GetInt32());
        Assert.Equal(JsonValueKind.Null, active.GetProperty("allowed").ValueKind);
        Assert.Equal("ALTER TABLE users DROP COLUMN email", active.GetProperty("statement").GetString());
    }

    [Fact]
    public void Github_output_is_one_workflow_command_per_finding_with_the_file_under_the_given_directory()
    {
        var text = LintReportFormatter.FormatGitHub(LintKit.Postgres(Sql), "db/migrations/");

        Assert.Equal(
            "::error file=db/migrations/V1__test.sql,line=2,col=21,endColumn=38,title=GK102 drop-column::drops column email of table users with its data%0AExpand/contract: ship a release that no longer uses the column, then drop it in a later migration.\n",
            text);
    }

    [Fact]
    public void Github_output_escapes_what_would_break_a_workflow_command()
    {
        var migration = LintKit.Migration("V1__100%,done:x.sql", "CREATE INDEX i ON t (c);");
        var report = Linter.Lint([migration], Core.Sql.SqlDialect.Postgres, new LintOptions { Allow = ["GK303"] });

        var text = LintReportFormatter.FormatGitHub(report);

        Assert.StartsWith("::notice file=V1__100%25%2Cdone%3Ax.sql,line=1,", text, StringComparison.Ordinal);
        Assert.Contains("%0Aallowed: allowed by the gatekeeper.dev/allow annotation", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Github_output_gives_annotation_problems_no_file()
    {
        var report = LintKit.Postgres("SELECT 1;", options: new LintOptions { Allow = ["nonsense"] });

        Assert.StartsWith("::error title=GK002 invalid-allow-directive::", LintReportFormatter.FormatGitHub(report), StringComparison.Ordinal);
    }

    [Fact]
    public void Text_output_caps_findings_per_rule_and_counts_the_rest_by_rule()
    {
        var sql = string.Concat(Enumerable.Range(1, 30).Select(i => $"DROP TABLE old_{i};\n")) + "CREATE INDEX i ON t (c);\n";
        var report = LintKit.Postgres(sql);

        var capped = LintReportFormatter.FormatHuman(report);
        var all = LintReportFormatter.FormatHuman(report, maxPerRule: 0);

        Assert.Equal(26, CountOf(capped, "error[GK"));
        Assert.Contains("  GK101 drop-table: 30 errors (and 5 more not shown; --max-per-rule 0 shows all)", capped);
        Assert.Contains("  GK303 create-index-not-concurrently: 1 error\n", capped.ReplaceLineEndings("\n"));
        Assert.Equal(31, CountOf(all, "error[GK"));
        Assert.Contains("31 errors, 0 warnings", capped);
    }

    [Fact]
    public void A_capped_lint_lists_the_first_findings_of_each_rule_and_counts_every_one()
    {
        var sql = string.Concat(Enumerable.Range(1, 30).Select(i => $"DROP TABLE old_{i};\n")) + "CREATE INDEX i ON t (c);\n";
        var listed = new List<LintFinding>();

        var report = Linter.Lint([LintKit.Migration("V1__drops.sql", sql)], Core.Sql.SqlDialect.Postgres, collector: new LintCollector(maxPerRule: 4, listed.Add));

        Assert.Equal(5, report.Findings.Count);
        Assert.Equal(report.Findings, listed);
        Assert.Equal([1, 2, 3, 4], report.Findings.Where(f => f.Rule.Id == "GK101").Select(f => f.Location.Line));
        Assert.Equal(31, report.ErrorCount);
        Assert.True(report.IsBlocking);
        Assert.Equal(26, report.NotListedCount);
        var drops = Assert.Single(report.RuleCounts, r => r.Rule.Id == "GK101");
        Assert.Equal((30, 4, 26), (drops.Errors, drops.Listed, drops.NotListed));
    }

    [Fact]
    public void A_cap_keeps_the_first_findings_by_place_even_when_a_transaction_is_judged_at_its_end()
    {
        // The BEGIN's GK505 (a transaction never committed) is made last but sits on line 1, so it is listed first.
        var sql = "BEGIN;\n" + string.Concat(Enumerable.Range(1, 5).Select(i => $"DROP TABLE old_{i};\n"));
        var report = Linter.Lint([LintKit.Migration("V1__open.sql", sql, transactional: false)], Core.Sql.SqlDialect.Postgres, collector: new LintCollector(maxPerRule: 2));

        Assert.Equal(report.Findings.OrderBy(f => f.Location.Line), report.Findings);
        Assert.Equal("GK505", report.Findings[0].Rule.Id);
        Assert.Equal([2, 3], report.Findings.Where(f => f.Rule.Id == "GK101").Select(f => f.Location.Line));
    }

    [Fact]
    public void Json_output_lists_at_most_the_cap_per_rule_and_says_how_many_it_left_out()
    {
        var sql = string.Concat(Enumerable.Range(1, 30).Select(i => $"DROP TABLE old_{i};\n")) + "CREATE INDEX i ON t (c);\n";

        using var json = JsonDocument.Parse(LintReportFormatter.FormatJson(LintKit.Postgres(sql), maxPerRule: 10));
        var root = json.RootElement;

        Assert.Equal(11, root.GetProperty("findings").GetArrayLength());
        Assert.Equal(31, root.GetProperty("summary").GetProperty("findings").GetInt32());
        Assert.Equal(20, root.GetProperty("summary").GetProperty("notListed").GetInt32());
        Assert.Equal(31, root.GetProperty("summary").GetProperty("errors").GetInt32());
        var drops = root.GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("rule").GetString() == "GK101");
        Assert.Equal((30, 10, 20), (drops.GetProperty("errors").GetInt32(), drops.GetProperty("listed").GetInt32(), drops.GetProperty("notListed").GetInt32()));
    }

    [Fact]
    public void Github_output_annotates_at_most_the_cap_per_rule_and_counts_the_rest_in_one_notice()
    {
        var sql = string.Concat(Enumerable.Range(1, 30).Select(i => $"DROP TABLE old_{i};\n"));

        var lines = LintReportFormatter.FormatGitHub(LintKit.Postgres(sql), "db", maxPerRule: 3).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(4, lines.Length);
        Assert.All(lines[..3], l => Assert.StartsWith("::error file=db/V1__test.sql,", l, StringComparison.Ordinal));
        Assert.Equal("::notice title=GK101 drop-table::27 more findings of GK101 not annotated (30 in all; --max-per-rule 0 annotates every one)", lines[3]);
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;
}
