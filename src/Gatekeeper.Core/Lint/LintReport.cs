using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint;

/// <summary>
/// The verdict on a set of pending migrations: every finding in file order, allowed ones included (they are shown,
/// never blocking). A plan is blocked when any error is not allowed. A report lints with a per-rule cap
/// (<see cref="LintCollector"/>) lists only the first findings of each rule; <see cref="RuleCounts"/> and the counts
/// below still cover every finding.
/// </summary>
public sealed record LintReport(
    SqlDialect Dialect,
    IReadOnlyList<LintFinding> Findings,
    int MigrationCount,
    int StatementCount,
    bool LiveSchemaKnown)
{
    /// <summary>Files replayed only for what they create, not judged (<c>lint --since</c> or FILES): history.</summary>
    public int HistoryCount { get; init; }

    private IReadOnlyList<LintRuleCount>? ruleCounts;

    /// <summary>Every rule that fired, in the order it first fired, with its counts (listed or not).</summary>
    public IReadOnlyList<LintRuleCount> RuleCounts
    {
        get => ruleCounts ??= LintRuleCount.Of(Findings);
        init => ruleCounts = value;
    }

    /// <summary>Findings counted but left out of <see cref="Findings"/> by the per-rule cap.</summary>
    public int NotListedCount => RuleCounts.Sum(r => r.NotListed);

    public int TotalCount => RuleCounts.Sum(r => r.Total);

    public bool IsBlocking => ErrorCount > 0;

    public IEnumerable<LintFinding> Active => Findings.Where(f => !f.IsAllowed);

    public IEnumerable<LintFinding> Allowed => Findings.Where(f => f.IsAllowed);

    public int ErrorCount => RuleCounts.Sum(r => r.Errors);

    public int WarningCount => RuleCounts.Sum(r => r.Warnings);

    public int AllowedCount => RuleCounts.Sum(r => r.Allowed);
}
