using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Lint;

public sealed class RuleCaseTests
{
    [Theory]
    [MemberData(nameof(RuleCases.PositiveData), MemberType = typeof(RuleCases))]
    public void Each_rule_fires_on_its_hazard(RuleCase c)
    {
        var report = LintKit.Lint(c.Dialect, c.Sql, c.Transactional, c.Options);

        report.AssertFires(c.Rule);
    }

    [Theory]
    [MemberData(nameof(RuleCases.NegativeData), MemberType = typeof(RuleCases))]
    public void Each_rule_stays_silent_on_its_tricky_neighbour(RuleCase c)
    {
        var report = LintKit.Lint(c.Dialect, c.Sql, c.Transactional, c.Options);

        report.AssertSilent(c.Rule);
    }

    [Fact]
    public void Every_rule_has_a_positive_and_a_negative_case_for_each_dialect_it_applies_to()
    {
        var missing = new List<string>();
        foreach (var rule in LintRules.All)
        {
            foreach (var (dialect, flag) in new[] { (SqlDialect.Postgres, LintDialects.Postgres), (SqlDialect.MySql, LintDialects.MySql) })
            {
                if ((rule.Dialects & flag) == 0)
                {
                    continue;
                }

                if (!RuleCases.Positive.Any(c => c.Rule == rule.Id && c.Dialect == dialect))
                {
                    missing.Add($"{rule.Id} {dialect} positive");
                }

                if (!RuleCases.Negative.Any(c => c.Rule == rule.Id && c.Dialect == dialect))
                {
                    missing.Add($"{rule.Id} {dialect} negative");
                }
            }
        }

        Assert.Empty(missing);
    }

    [Fact]
    public void A_rule_never_fires_on_a_dialect_it_does_not_apply_to()
    {
        foreach (var c in RuleCases.Positive.Where(c => c.Dialect == SqlDialect.MySql))
        {
            var report = LintKit.Lint(c.Dialect, c.Sql, c.Transactional, c.Options);
            Assert.All(report.Findings, f => Assert.True((f.Rule.Dialects & LintDialects.MySql) != 0, $"{f.Rule.Id} is PostgreSQL-only but fired on MySQL: {f.Message}"));
        }

        foreach (var c in RuleCases.Positive.Where(c => c.Dialect == SqlDialect.Postgres))
        {
            var report = LintKit.Lint(c.Dialect, c.Sql, c.Transactional, c.Options);
            Assert.All(report.Findings, f => Assert.True((f.Rule.Dialects & LintDialects.Postgres) != 0, $"{f.Rule.Id} is MySQL-only but fired on PostgreSQL: {f.Message}"));
        }
    }
}
