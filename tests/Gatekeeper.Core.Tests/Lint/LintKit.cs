using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>Short ways to lint SQL in tests and to ask what was found.</summary>
internal static class LintKit
{
    public static LintReport Postgres(string sql, bool transactional = true, LintOptions? options = null) =>
        Linter.LintSql(sql, SqlDialect.Postgres, "V1__test.sql", transactional, options);

    public static LintReport MySql(string sql, bool transactional = true, LintOptions? options = null) =>
        Linter.LintSql(sql, SqlDialect.MySql, "V1__test.sql", transactional, options);

    public static LintReport Lint(SqlDialect dialect, string sql, bool transactional = true, LintOptions? options = null) =>
        Linter.LintSql(sql, dialect, "V1__test.sql", transactional, options);

    public static Migration Migration(string fileName, string sql, bool transactional = true, int upStartLine = 1) =>
        new(fileName, MigrationVersion.Parse(fileName.Split("__")[0].TrimStart('V')), fileName, MigrationKind.Versioned, fileName, sql, upStartLine, null,
            transactional, string.Empty, ReadOnlyMemory<byte>.Empty);

    /// <summary>Ids of the findings that are not allowed, in report order.</summary>
    public static IReadOnlyList<string> ActiveIds(this LintReport report) => report.Active.Select(f => f.Rule.Id).ToList();

    public static LintFinding Single(this LintReport report, string ruleId)
    {
        var matching = report.Findings.Where(f => f.Rule.Id == ruleId).ToList();
        Assert.True(matching.Count == 1, $"expected one {ruleId}, found {matching.Count}: {Describe(report)}");
        return matching[0];
    }

    public static void AssertFires(this LintReport report, string ruleId) =>
        Assert.True(report.Active.Any(f => f.Rule.Id == ruleId), $"expected {ruleId}; found: {Describe(report)}");

    public static void AssertSilent(this LintReport report, string ruleId) =>
        Assert.False(report.Findings.Any(f => f.Rule.Id == ruleId), $"expected no {ruleId}; found: {Describe(report)}");

    public static string Describe(LintReport report) =>
        report.Findings.Count == 0 ? "(nothing)" : string.Join("; ", report.Findings.Select(f => $"{f.Location} {f.Rule.Id} {f.Message}"));

    public static SchemaContext Schema(params SchemaTable[] tables) => new(tables);

    public static SchemaTable Table(string name, long rows, params SchemaColumn[] columns) => new("public", name, rows, columns);
}
