using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint;

public enum LintAllowanceSource
{
    /// <summary>A <c>-- gatekeeper:allow GKnnn reason</c> comment on the statement.</summary>
    Directive,
    /// <summary>The Deployment's <c>gatekeeper.dev/allow</c> annotation (or <see cref="LintOptions.Allow"/>).</summary>
    Annotation,
}

/// <summary>Why a finding does not block: who allowed it and, for a directive, where and why.</summary>
public sealed record LintAllowance(LintAllowanceSource Source, string Reason, SourceLocation? Location);

/// <summary>
/// One hazard found in one statement.
/// </summary>
/// <param name="Rule">The rule that fired.</param>
/// <param name="Severity">The rule's severity, possibly lowered by a live schema that shows the table is small.</param>
/// <param name="Message">What is wrong, naming the objects involved.</param>
/// <param name="Hint">The safe way to do it.</param>
/// <param name="Location">Where, in the migration file (1-based line and column).</param>
/// <param name="Length">How many characters of <see cref="SourceLine"/> to underline from <see cref="Location"/>'s column.</param>
/// <param name="SourceLine">The text of the file line at <see cref="Location"/>, for compiler-style output.</param>
/// <param name="Statement">The statement's text, shortened when long.</param>
/// <param name="MigrationId">The migration the statement belongs to (empty for annotation problems).</param>
/// <param name="MayChangeWithLiveSchema">True when the verdict depends on what only a live database knows (table size, current column type).</param>
/// <param name="AllowedBy">Set when a directive or the annotation accepts the finding; it then never blocks.</param>
public sealed record LintFinding(
    LintRule Rule,
    LintSeverity Severity,
    string Message,
    string Hint,
    SourceLocation Location,
    int Length,
    string SourceLine,
    string Statement,
    string MigrationId,
    bool MayChangeWithLiveSchema,
    LintAllowance? AllowedBy = null)
{
    public bool IsAllowed => AllowedBy is not null;

    public bool IsBlocking => Severity == LintSeverity.Error && AllowedBy is null;

    public override string ToString() => $"{Location}: {(Severity == LintSeverity.Error ? "error" : "warning")}[{Rule.Id}]: {Message}";
}
