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
/// <remarks>
/// The linter's own findings keep only where <see cref="SourceLine"/> and <see cref="Statement"/> sit in the migration's
/// text and cut them out when asked: a file with tens of thousands of findings, most of them counted beyond the
/// per-rule cap and never printed, then neither allocates nor keeps two strings per finding (the garbage collector's
/// copying of surviving findings was a large part of linting such a file). Equality compares the texts, as before.
/// </remarks>
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
    /// <summary>A finding whose line and statement texts are cut from <paramref name="excerpt"/>'s source when asked for.</summary>
    internal LintFinding(LintRule rule, LintSeverity severity, string message, string hint, SourceLocation location, int length, FindingExcerpt excerpt,
        string migrationId, bool mayChange)
        : this(rule, severity, message, hint, location, length, null!, null!, migrationId, mayChange)
    {
        this.excerpt = excerpt;
    }

    private readonly FindingExcerpt excerpt;
    private readonly string? sourceLine = SourceLine;
    private readonly string? statement = Statement;

    public string SourceLine
    {
        get => sourceLine ?? (excerpt.LineSource is null ? null! : excerpt.Line());
        init => sourceLine = value;
    }

    public string Statement
    {
        get => statement ?? (excerpt.StatementSource is null ? null! : excerpt.Statement());
        init => statement = value;
    }

    public bool IsAllowed => AllowedBy is not null;

    public bool IsBlocking => Severity == LintSeverity.Error && AllowedBy is null;

    public bool Equals(LintFinding? other) =>
        other is not null && (ReferenceEquals(this, other) ||
            (Rule == other.Rule && Severity == other.Severity && Message == other.Message && Hint == other.Hint && Location == other.Location &&
             Length == other.Length && SourceLine == other.SourceLine && Statement == other.Statement && MigrationId == other.MigrationId &&
             MayChangeWithLiveSchema == other.MayChangeWithLiveSchema && Equals(AllowedBy, other.AllowedBy)));

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Rule);
        hash.Add(Severity);
        hash.Add(Message);
        hash.Add(Hint);
        hash.Add(Location);
        hash.Add(Length);
        hash.Add(SourceLine);
        hash.Add(Statement);
        hash.Add(MigrationId);
        hash.Add(MayChangeWithLiveSchema);
        hash.Add(AllowedBy);
        return hash.ToHashCode();
    }

    public override string ToString() => $"{Location}: {(Severity == LintSeverity.Error ? "error" : "warning")}[{Rule.Id}]: {Message}";
}

/// <summary>
/// Where a finding's source line and statement sit in the text they were cut from (the migration's SQL, which the
/// linter holds anyway): the line from <see cref="LineStart"/>, <see cref="LineLength"/> characters; the statement
/// from <see cref="StatementStart"/>, shortened to <see cref="SnippetLength"/> characters and " …" when longer.
/// </summary>
internal readonly record struct FindingExcerpt(string LineSource, int LineStart, int LineLength, string StatementSource, int StatementStart, int StatementLength)
{
    public const int SnippetLength = 300;

    public string Line() => LineSource.Substring(LineStart, LineLength);

    public string Statement() => StatementLength > SnippetLength
        ? string.Concat(StatementSource.AsSpan(StatementStart, SnippetLength), " …")
        : StatementSource.Substring(StatementStart, StatementLength);
}
