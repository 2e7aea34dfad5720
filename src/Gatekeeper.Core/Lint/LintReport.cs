using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint;

/// <summary>
/// The verdict on a set of pending migrations: every finding in file order, allowed ones included (they are shown,
/// never blocking). A plan is blocked when any error is not allowed.
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

    public bool IsBlocking => Findings.Any(f => f.IsBlocking);

    public IEnumerable<LintFinding> Active => Findings.Where(f => !f.IsAllowed);

    public IEnumerable<LintFinding> Allowed => Findings.Where(f => f.IsAllowed);

    public int ErrorCount => Findings.Count(f => !f.IsAllowed && f.Severity == LintSeverity.Error);

    public int WarningCount => Findings.Count(f => !f.IsAllowed && f.Severity == LintSeverity.Warning);

    public int AllowedCount => Findings.Count(f => f.IsAllowed);
}
