using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>
/// One statement of a migration, ready for the rules: its tokens, what it does, the allow directives in its
/// comments, the SQL it embeds (statements of a DO body), and the findings collected for it.
/// </summary>
/// <remarks>
/// Also what the preparing pass hands the judging pass (with <see cref="DirectiveProblems"/>): a wrapper record for
/// that was one more object for each of a 10 MB file's 110,000 statements.
/// </remarks>
internal sealed class StatementUnit
{
    public StatementUnit(SqlStatement statement, StatementTokens code, ParsedStatement parsed, IReadOnlyList<AllowDirective> directives, IReadOnlyList<ParsedStatement> embedded,
        List<LintFinding>? directiveProblems = null)
    {
        Statement = statement;
        Code = code;
        Parsed = parsed;
        Directives = directives;
        Embedded = embedded;
        DirectiveProblems = directiveProblems;
    }

    /// <summary>Malformed allow directives in the statement's comments (added as it is judged), or null when there are none.</summary>
    public List<LintFinding>? DirectiveProblems { get; }

    public SqlStatement Statement { get; }

    /// <summary>The statement's code tokens (comments left out, MySQL executable comments read as the server does), as parsed.</summary>
    public StatementTokens Code { get; }

    public ParsedStatement Parsed { get; }

    public StatementTokens Tokens => Parsed.Tokens;

    public IReadOnlyList<AllowDirective> Directives { get; }

    /// <summary>Statements that run as part of this one: the SQL inside a DO block.</summary>
    public IReadOnlyList<ParsedStatement> Embedded { get; }

    private List<LintFinding>? findings;

    /// <summary>Findings collected for this statement (allocated on first use: most statements have none).</summary>
    public List<LintFinding> Findings => findings ??= [];

    public bool HasFindings => findings is { Count: > 0 };
}
