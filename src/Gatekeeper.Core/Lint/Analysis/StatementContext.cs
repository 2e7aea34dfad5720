using System.Globalization;
using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>
/// What a rule sees while judging one statement: the statement, the plan so far, the transaction it runs in, the
/// statements around it, and <see cref="Report"/>, which turns a hazard into a finding with the right severity.
/// </summary>
internal sealed class StatementContext
{
    /// <param name="embeddedIn">For SQL that runs inside another statement: "a DO block", "procedure p"; null otherwise.</param>
    /// <param name="via">Appended to messages when the SQL sits elsewhere than the statement that runs it ("it runs at CALL p() at f:3:1").</param>
    public StatementContext(MigrationScope scope, StatementUnit unit, long position, ParsedStatement statement, string? embeddedIn = null, string? via = null)
    {
        Scope = scope;
        Unit = unit;
        Position = position;
        Statement = statement;
        EmbeddedIn = embeddedIn;
        Via = via;
    }

    public MigrationScope Scope { get; }

    public PlanState Plan => Scope.Plan;

    public TransactionState Transaction => Scope.Transaction;

    public Migration Migration => Scope.Migration;

    /// <summary>Where declarations sit in this migration, for rules that look ahead or back.</summary>
    public MigrationOutline Outline => Scope.Outline;

    /// <summary>The statement's position in its migration (see <see cref="MigrationOutline.Position"/>).</summary>
    public long Position { get; }

    public StatementUnit Unit { get; }

    public ParsedStatement Statement { get; }

    public StatementTokens Tokens => Statement.Tokens;

    /// <summary>What the statement runs inside (a DO block, a procedure): a function context, no CONCURRENTLY, no transaction control.</summary>
    public string? EmbeddedIn { get; }

    public bool IsEmbedded => EmbeddedIn is not null;

    public string? Via { get; }

    public SqlDialect Dialect => Plan.Dialect;

    public LintOptions Options => Plan.Options;

    public bool IsPostgres => Dialect == SqlDialect.Postgres;

    public bool IsNewTable(ObjectName table) => Plan.IsNewTable(table);

    /// <summary>
    /// Records a finding on tokens [<paramref name="first"/>, <paramref name="last"/>] of this statement.
    /// When <paramref name="table"/> is given the finding concerns that table: it is dropped when the plan created the
    /// table (nothing can be harmed yet) or the live schema shows it does not exist (the statement is then a no-op
    /// such as DROP … IF EXISTS, or fails in the dry run), and a size-dependent rule becomes a warning when the live
    /// schema shows a small table.
    /// </summary>
    public void Report(LintRule rule, int first, int last, string message, ObjectName? table = null, bool mayChange = false, LintSeverity? severity = null)
    {
        if (!IsEnabled(rule))
        {
            return;
        }

        if (table is { } concerned && (IsNewTable(concerned) || Plan.KnownAbsent(concerned)))
        {
            return;
        }

        if (Via is not null)
        {
            message += $" ({Via})";
        }

        var finalSeverity = severity ?? rule.DefaultSeverity;
        if (rule.SizeDependent && table is { } sized)
        {
            if (Options.Schema is null)
            {
                mayChange = true;
            }
            else if (Plan.Live(sized) is { EstimatedRows: >= 0 } live)
            {
                message += string.Create(CultureInfo.InvariantCulture, $" ({sized} holds about {live.EstimatedRows:N0} rows)");
                if (live.EstimatedRows < Options.LargeTableRows)
                {
                    finalSeverity = LintSeverity.Warning;
                }
            }
        }

        Unit.Findings.Add(Build(rule, finalSeverity, message, Tokens, first, last, Unit.Statement, Migration.Id, mayChange));
    }

    public bool IsEnabled(LintRule rule) =>
        (rule.Dialects & (IsPostgres ? LintDialects.Postgres : LintDialects.MySql)) != 0 &&
        (rule.EnabledByDefault || Options.Enable.Contains(rule.Id, StringComparer.OrdinalIgnoreCase));

    public static LintFinding Build(LintRule rule, LintSeverity severity, string message, StatementTokens tokens, int first, int last, SqlStatement statement, string migrationId, bool mayChange)
    {
        var location = tokens.LocationOf(first);
        var start = first < tokens.Count ? tokens[first].Start : statement.Start;
        var (lineStart, lineLength, column) = LineRange(tokens.Source, start);
        var length = Math.Clamp(tokens.SpanLength(first, last), 1, Math.Max(1, lineLength - column));
        var excerpt = new FindingExcerpt(tokens.Source, lineStart, lineLength, statement.Source, statement.Start, statement.Length);
        return new LintFinding(rule, severity, message, rule.Hint, location, length, excerpt, migrationId, mayChange);
    }

    /// <summary>The text of the line holding <paramref name="offset"/> (without its line break) and the offset's index in it.</summary>
    public static (string Line, int Column) LineAround(string source, int offset)
    {
        var (start, length, column) = LineRange(source, offset);
        return (source.Substring(start, length), column);
    }

    /// <summary>Where <see cref="LineAround"/>'s line sits in <paramref name="source"/>, without cutting it out.</summary>
    private static (int Start, int Length, int Column) LineRange(string source, int offset)
    {
        offset = Math.Clamp(offset, 0, source.Length);
        var lineStart = offset == 0 ? 0 : source.LastIndexOf('\n', offset - 1) + 1;
        var lineEnd = source.IndexOf('\n', offset);
        if (lineEnd < 0)
        {
            lineEnd = source.Length;
        }

        if (lineEnd > lineStart && source[lineEnd - 1] == '\r')
        {
            lineEnd--;
        }

        // A 64 KB line (generated INSERTs) would drown the output; the caret still points at the right column.
        const int MaxLine = 400;
        return (lineStart, Math.Min(lineEnd - lineStart, Math.Max(MaxLine, offset - lineStart + 80)), offset - lineStart);
    }
}
