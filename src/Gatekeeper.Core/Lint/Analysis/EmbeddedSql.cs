using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>
/// SQL that runs although it does not look like a statement of its own: the body of a PostgreSQL DO block and the
/// content of MySQL executable comments (<c>/*!40101 … */</c>). Both are lexed again and placed at their real file
/// positions, so findings inside them point at the right line and column.
/// </summary>
internal static class EmbeddedSql
{
    // PL/pgSQL and MySQL compound-statement words after which a plain SQL statement may begin.
    private static readonly string[] BlockStarts = ["begin", "else", "loop", "exception", "then", "repeat"];
    private static readonly string[] ConditionStarts = ["if", "elsif", "elseif", "while", "for", "foreach", "when", "case"];
    private static readonly string[] StatementVerbs =
    [
        "alter", "create", "drop", "truncate", "update", "delete", "insert", "with", "lock", "refresh", "reindex", "vacuum", "cluster",
        "comment", "grant", "revoke", "rename", "optimize", "set", "call",
    ];

    /// <summary>The statements of a DO block's body, as linted statements.</summary>
    public static List<StatementTokens> FromDoBody(StatementTokens outer, int bodyToken)
    {
        var result = new List<StatementTokens>();
        var token = outer[bodyToken];
        var text = outer.Text(bodyToken);
        int open;
        int close;
        if (token.Kind == SqlTokenKind.DollarString)
        {
            var tagEnd = text[1..].IndexOf('$') + 2;
            if (tagEnd <= 1 || text.Length < 2 * tagEnd)
            {
                return result;
            }

            open = tagEnd;
            close = tagEnd;
        }
        else
        {
            // A single-quoted body: its doubled quotes make offsets drift only inside string literals, which is acceptable here.
            open = text.IndexOf('\'') + 1;
            close = 1;
            if (open <= 0 || text.Length < open + close)
            {
                return result;
            }
        }

        foreach (var tokens in Relex(outer, token, open, text.Length - open - close, SqlDialect.Postgres))
        {
            if (StripBlockPrefix(outer, tokens) is { Length: > 0 } statement)
            {
                result.Add(new StatementTokens(outer.Source, outer.File, SqlDialect.Postgres, statement));
            }
        }

        return result;
    }

    /// <summary>
    /// The statements a procedure runs when it is called: a PostgreSQL body in dollar quotes, or a MySQL
    /// <c>BEGIN … END</c> block (or single statement) after the parameter list.
    /// </summary>
    public static List<StatementTokens> FromRoutineBody(CreateRoutineStatement routine)
    {
        var t = routine.Tokens;
        if (t.Dialect == SqlDialect.Postgres)
        {
            for (var i = 0; i < t.Count; i++)
            {
                if (t.IsKind(i, SqlTokenKind.DollarString) || (t.IsKind(i, SqlTokenKind.String) && t.IsWord(i - 1, "as")))
                {
                    return FromDoBody(t, i);
                }
            }

            return [];
        }

        var afterName = routine.Name.Token + 1;
        while (t.IsOperator(afterName, ".") || (afterName < t.Count && t.IsName(afterName) && !t.IsOpen(afterName)))
        {
            afterName++;
        }

        // Skip the characteristics (COMMENT '…', LANGUAGE SQL, [NOT] DETERMINISTIC, … SQL DATA, SQL SECURITY …).
        var bodyStart = t.IsOpen(afterName) ? t.SkipParens(afterName) : afterName;
        while (bodyStart < t.Count && (t.IsAnyWord(bodyStart, RoutineCharacteristics) || t.IsKind(bodyStart, SqlTokenKind.String)))
        {
            bodyStart++;
        }

        if (bodyStart >= t.Count)
        {
            return [];
        }

        var first = t[bodyStart];
        var last = t[t.Count - 1];
        var span = first with { Length = last.Start + last.Length - first.Start };
        var result = new List<StatementTokens>();
        foreach (var tokens in Relex(t, span, 0, span.Length, SqlDialect.MySql))
        {
            if (StripBlockPrefix(t, tokens) is { Length: > 0 } statement)
            {
                result.Add(new StatementTokens(t.Source, t.File, SqlDialect.MySql, statement, t.Modes));
            }
        }

        return result;
    }

    private static readonly string[] RoutineCharacteristics =
    [
        "comment", "language", "sql", "not", "deterministic", "contains", "no", "reads", "modifies", "data", "security", "definer", "invoker",
    ];

    private static bool IsLabel(StatementTokens t, int i) => t.IsKind(i, SqlTokenKind.Word) && t.IsOperator(i + 1, ":");

    /// <summary>
    /// The code tokens of a MySQL statement with each executable comment replaced by the tokens of its content,
    /// because MySQL (and MariaDB) run that content as part of the statement.
    /// </summary>
    /// <param name="server">The MySQL or MariaDB server the file will run on, when known: comments it skips stay comments.</param>
    /// <param name="modes">The MySQL modes the statement was read in, which its comments' content is read in too.</param>
    public static SqlToken[] ExpandExecutableComments(string source, string file, IReadOnlyList<SqlToken> tokens, ServerVersion? server = null, SqlModes modes = SqlModes.None)
    {
        var result = new List<SqlToken>(tokens.Count);
        foreach (var token in tokens)
        {
            if (token.Kind != SqlTokenKind.ExecutableComment)
            {
                if (StatementTokens.IsCode(token.Kind))
                {
                    result.Add(token);
                }

                continue;
            }

            var text = source.AsSpan(token.Start, token.Length);
            var (prefixLength, version) = ExecutableCommentVersion(text);
            if (server is not null && !ExecutableCommentRuns(text.StartsWith("/*M!"), version, server))
            {
                continue;
            }

            var contentLength = text.Length - prefixLength - (text.EndsWith("*/") ? 2 : 0);
            if (contentLength <= 0)
            {
                continue;
            }

            var outer = new StatementTokens(source, file, SqlDialect.MySql, new[] { token }, modes);
            foreach (var inner in Relex(outer, token, prefixLength, contentLength, SqlDialect.MySql))
            {
                result.AddRange(inner);
            }
        }

        return [.. result];
    }

    /// <summary>
    /// Whether <paramref name="server"/> runs an executable comment, as its lexer decides: MySQL runs <c>/*!NNNNN</c> from
    /// that version on and skips <c>/*M!</c>; MariaDB runs <c>/*M!</c> and <c>/*!</c> up to its own version, but skips the
    /// MySQL 5.7+ numbers 50700–99999 (checked on MariaDB 10.11: <c>SELECT 1 /*!80013 + 1 */</c> is 1, <c>/*!50699 + 1 */</c> is 2).
    /// </summary>
    public static bool ExecutableCommentRuns(bool mariaDbOnly, string? version, ServerVersion server)
    {
        var number = version is null ? 0 : version.Length > 9 ? int.MaxValue : int.Parse(version, System.Globalization.CultureInfo.InvariantCulture);
        if (!server.IsMariaDb)
        {
            return !mariaDbOnly && (version is null || server.Number >= (version.Length > 5 ? number / 10 : number));
        }

        return version is null || (version.Length == 5 && number >= 50700 ? false : server.Number >= number);
    }

    /// <summary>Splits an executable comment's opening into its length and version: <c>/*!</c> (none), <c>/*!50700</c>, <c>/*M!100100</c>.</summary>
    public static (int PrefixLength, string? Version) ExecutableCommentVersion(ReadOnlySpan<char> text)
    {
        var i = text.StartsWith("/*M!") ? 4 : text.StartsWith("/*!") ? 3 : 0;
        var digits = i;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        return (digits, digits > i ? text[i..digits].ToString() : null);
    }

    /// <summary>
    /// Lexes <paramref name="length"/> characters of a token's text from <paramref name="offset"/>, and moves the resulting
    /// tokens to their position in the whole file: offsets by the token's start, first-line columns by the prefix.
    /// </summary>
    private static IEnumerable<SqlToken[]> Relex(StatementTokens outer, SqlToken token, int offset, int length, SqlDialect dialect)
    {
        var content = outer.Source.Substring(token.Start + offset, length);
        var prefix = outer.Source.AsSpan(token.Start, offset);
        var newlines = prefix.Count('\n');
        var firstLine = token.Line + newlines;
        var firstColumn = newlines == 0 ? token.Column + offset : offset - prefix.LastIndexOf('\n');
        var split = SqlSplitter.Split(content, dialect, outer.File, firstLine, modes: outer.Modes);
        foreach (var statement in split.Statements)
        {
            var moved = new List<SqlToken>(statement.Tokens.Count);
            foreach (var inner in statement.Tokens)
            {
                if (!StatementTokens.IsCode(inner.Kind))
                {
                    continue;
                }

                var column = inner.Line == firstLine ? inner.Column + firstColumn - 1 : inner.Column;
                moved.Add(inner with { Start = inner.Start + token.Start + offset, Column = column });
            }

            if (moved.Count > 0)
            {
                yield return [.. moved];
            }
        }
    }

    /// <summary>
    /// A PL/pgSQL or MySQL compound-statement fragment (one piece between semicolons) may begin with block or control
    /// words (BEGIN, IF … THEN, FOR … LOOP, WHILE … DO, EXCEPTION WHEN … THEN, labels); returns the SQL statement after
    /// them, or an empty array when there is none.
    /// </summary>
    private static SqlToken[] StripBlockPrefix(StatementTokens outer, SqlToken[] tokens)
    {
        var t = new StatementTokens(outer.Source, outer.File, outer.Dialect, tokens, outer.Modes);
        var i = 0;
        while (i < t.Count)
        {
            if (t.IsOperator(i, "<<"))
            {
                while (i < t.Count && !t.IsOperator(i, ">>"))
                {
                    i++;
                }

                i++;
            }
            else if (IsLabel(t, i))
            {
                i += 2;
            }
            else if (t.IsWord(i, "declare"))
            {
                var begin = t.FindWord(i, t.Count, "begin");
                if (begin < 0)
                {
                    return [];
                }

                i = begin;
            }
            else if (t.IsAnyWord(i, BlockStarts))
            {
                i++;
            }
            else if (t.IsAnyWord(i, ConditionStarts))
            {
                var then = FindConditionEnd(t, i + 1);
                if (then < 0)
                {
                    return [];
                }

                i = then + 1;
            }
            else
            {
                break;
            }
        }

        if (i >= t.Count || !t.IsAnyWord(i, StatementVerbs))
        {
            return [];
        }

        return tokens[i..];
    }

    /// <summary>The THEN, LOOP or (MySQL WHILE) DO that ends a condition, whichever comes first.</summary>
    private static int FindConditionEnd(StatementTokens t, int from)
    {
        var end = -1;
        foreach (var word in (ReadOnlySpan<string>)["then", "loop", "do"])
        {
            var at = t.FindWord(from, t.Count, word);
            if (at >= 0 && (end < 0 || at < end))
            {
                end = at;
            }
        }

        return end;
    }
}
