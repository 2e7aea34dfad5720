using System.Text;
using CsCheck;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Sql;

/// <summary>
/// The same properties on hostile input (issue 7, fault test 6): SQL built from the constructs that make a lexer keep
/// state (nested and unterminated dollar quotes, nested comments, quotes with escapes, DELIMITER lines, BEGIN … END
/// bodies), raw byte soup, tokens tens of kilobytes long and nesting thousands deep. Each input must be answered
/// (statements and problems, never an exception) within a hang limit, and the statements must rebuild the input: the
/// text outside them is only whitespace, comments, terminators and DELIMITER lines.
/// </summary>
public sealed partial class SqlPropertyTests
{
    // Up to 64 KB per input; at the splitter's tens of MB/s that is well under a millisecond each.
    private const int MaxAdversarialLength = 65_536;
    private const long AdversarialIterations = 400;

    /// <summary>A hang detector, not a speed target: every input here is answered in milliseconds.</summary>
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Splitter_answers_adversarial_sql_within_the_hang_limit_with_statements_and_gaps_that_rebuild_the_input(SqlDialect dialect) =>
        AdversarialSql(dialect).Sample(source => WithinHangLimit(() => AssertStatementsAndGapsRebuildTheInput(source, dialect)), iter: AdversarialIterations);

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Lexer_on_adversarial_sql_returns_ordered_tokens_at_their_true_line_and_column(SqlDialect dialect) =>
        AdversarialSql(dialect).Sample(source => WithinHangLimit(() => AssertLexesInOrderAtTrueLocations(source, dialect)), iter: AdversarialIterations);

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Splitter_on_adversarial_sql_keeps_every_significant_token_once(SqlDialect dialect) =>
        AdversarialSql(dialect).Sample(source => WithinHangLimit(() => AssertSplitsIntoStatementsHoldingEverySignificantTokenOnce(source, dialect)), iter: AdversarialIterations);

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Splitter_on_arbitrary_text_has_statements_and_gaps_that_rebuild_the_input(SqlDialect dialect) =>
        ArbitraryText.Sample(source => AssertStatementsAndGapsRebuildTheInput(source, dialect), iter: ArbitraryIterations);

    /// <summary>
    /// Splitting then joining gives the input back: statements are exact substrings in order, and every character
    /// between them is whitespace or part of a comment, terminator or DELIMITER line the lexer reported; lexical
    /// problems are one line each, ending with a full stop.
    /// </summary>
    private static void AssertStatementsAndGapsRebuildTheInput(string source, SqlDialect dialect)
    {
        var result = SqlSplitter.Split(source, dialect, "f.sql");
        var insignificant = new bool[source.Length];
        foreach (var token in SqlLexer.Tokenize(source, dialect).Where(t => !IsSignificant(t)))
        {
            insignificant.AsSpan(token.Start, token.Length).Fill(true);
        }

        var joined = new StringBuilder(source.Length);
        var end = 0;
        foreach (var statement in result.Statements)
        {
            Assert.Same(source, statement.Source);
            Assert.True(statement.Start >= end, $"statement at {statement.Start} overlaps the one ending at {end}");
            AssertOnlyGap(source, insignificant, end, statement.Start);
            joined.Append(source, end, statement.Start - end).Append(statement.Text);
            end = statement.Start + statement.Length;
        }

        AssertOnlyGap(source, insignificant, end, source.Length);
        joined.Append(source, end, source.Length - end);
        Assert.Equal(source, joined.ToString());

        foreach (var problem in result.Problems)
        {
            Assert.False(string.IsNullOrWhiteSpace(problem.Message), "a problem without a message");
            Assert.DoesNotContain('\n', problem.Message);
            Assert.EndsWith(".", problem.Message, StringComparison.Ordinal);
        }
    }

    private static void AssertOnlyGap(string source, bool[] insignificant, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var allowed = insignificant[i] || IsLexerWhitespace(source[i]) || (i == 0 && source[0] == '\uFEFF');
            Assert.True(allowed, $"character {i} ({(int)source[i]:x4}) between statements belongs to no statement and is no comment, terminator or whitespace");
        }
    }

    /// <summary>Runs one input's checks on the thread pool and fails, naming the input by its seed, if it does not finish.</summary>
    private static void WithinHangLimit(Action check)
    {
        var run = Task.Run(check);
        if (Task.WaitAny([run], HangLimit) < 0)
        {
            Assert.Fail($"no answer within {HangLimit.TotalSeconds:0}s: the lexer or splitter hangs on this input");
        }

        run.GetAwaiter().GetResult();
    }

    // ------------------------------------------------------------------ adversarial generators

    private static Gen<string> AdversarialSql(SqlDialect dialect) => dialect == SqlDialect.Postgres ? PostgresAdversarial : MySqlAdversarial;

    // A dollar-quote tag is an identifier without $ (empty for $$); one starting with a digit would be a parameter.
    private static readonly Gen<string> Tag = Gen.Char["abcXYZ_019"].Array[0, 11].Select(c => c.Length > 0 && char.IsDigit(c[0]) ? "_" + new string(c) : new string(c));

    private static readonly Gen<string> Word = Gen.OneOf(
        "CREATE", "FUNCTION", "PROCEDURE", "TRIGGER", "OR REPLACE", "BEGIN", "BEGIN ATOMIC", "END", "END IF", "END LOOP", "CASE", "WHEN",
        "THEN", "IF", "LOOP", "REPEAT", "WHILE", "DECLARE", "RETURN", "LANGUAGE plpgsql", "AS", "SELECT", "t", "x$y", "1", ";", " ", "\n");

    /// <summary>Dollar quotes, nested under other tags, closed or not, with tags that look alike.</summary>
    private static readonly Gen<string> DollarQuotes = Gen.Select(Tag, Tag, Gen.Int[0, 3], Gen.String, (outer, inner, shape, body) => shape switch
    {
        0 => $"${outer}$ {body} ${inner}$ ; ${inner}$ {body} ${outer}$",
        1 => $"${outer}$ {body}",
        2 => $"${outer}$ {body} ${outer}x$ ; $",
        _ => $"$${body}$ $${outer}$$",
    });

    /// <summary>Block and line comments: nested, unclosed, closing markers without openers, comments at the end of input.</summary>
    private static readonly Gen<string> Comments = Gen.Select(Gen.Int[0, 5], Gen.String, Gen.Int[1, 40], (shape, body, depth) => shape switch
    {
        0 => string.Concat(Enumerable.Repeat("/* ", depth)) + body + string.Concat(Enumerable.Repeat(" */", depth)),
        1 => string.Concat(Enumerable.Repeat("/* ", depth)) + body + " */",
        2 => "*/ " + body + " */",
        3 => "-- " + body,
        4 => "# " + body + "\n",
        _ => "/*!" + depth + " " + body,
    });

    /// <summary>Quotes of every kind with backslash and doubled-quote escapes, some left open.</summary>
    private static readonly Gen<string> Quotes = Gen.Select(Gen.OneOf("'", "\"", "`", "E'", "e'", "N'", "X'", "B'", "U&'", "U&\"", "@'", "@`"), Gen.String,
        Gen.OneOf("", "\\", "\\\\", "''", "\\'", "\"\"", "\\\"", "``", "\\\n"), Gen.Bool,
        (open, body, escape, closed) => open + body + escape + body + (closed ? open[^1].ToString() : string.Empty));

    /// <summary>MySQL client DELIMITER lines, ordinary and odd (empty, quoted, multi-character, repeated, at the end of input).</summary>
    private static readonly Gen<string> Delimiters = Gen.Select(Gen.OneOf("DELIMITER", "delimiter", "Delimiter", " DELIMITER", "\\d"),
        Gen.OneOf("//", "$$", ";;", ";", "|", "", " ", "abc", "'x'", "\"a b\"", "\\", "END", "--", "/*", "DELIMITER"), Gen.OneOf("\n", "\r\n", "", " x\n"),
        (command, delimiter, end) => "\n" + command + " " + delimiter + end);

    /// <summary>Routine bodies with BEGIN … END, matched, unmatched and nested, holding semicolons.</summary>
    private static readonly Gen<string> Blocks = Gen.Select(Word.Array[0, 30], Gen.Int[0, 60], Gen.Int[0, 60],
        (words, begins, ends) => "CREATE PROCEDURE p() " + string.Concat(Enumerable.Repeat("BEGIN ", begins)) + string.Join(" ", words)
            + string.Concat(Enumerable.Repeat(" END;", ends)));

    /// <summary>Bytes of any value decoded as UTF-8 (replacement characters) or Latin-1 (control characters, NUL).</summary>
    private static readonly Gen<string> ByteSoup = Gen.Select(Gen.Byte.Array[0, 512], Gen.Bool,
        (bytes, utf8) => utf8 ? Encoding.UTF8.GetString(bytes) : Encoding.Latin1.GetString(bytes));

    /// <summary>One token tens of kilobytes long: identifier, number, string, quoted identifier, comment, dollar tag.</summary>
    private static readonly Gen<string> LongTokens = Gen.Select(Gen.Int[0, 6], Gen.Int[1_000, 40_000], (shape, n) => shape switch
    {
        0 => new string('a', n),
        1 => new string('9', n),
        2 => "'" + new string('x', n) + "'",
        3 => "\"" + new string('y', n),
        4 => "/*" + new string('*', n),
        5 => "$" + new string('t', n) + "$ body $" + new string('t', n) + "$",
        _ => "-- " + new string(';', n),
    });

    /// <summary>Nesting thousands deep: parentheses, nested comments, BEGIN blocks, CASE expressions.</summary>
    private static readonly Gen<string> DeepNesting = Gen.Select(Gen.Int[0, 3], Gen.Int[100, 5_000], Gen.Bool, (shape, depth, closed) => shape switch
    {
        0 => new string('(', depth) + "; 1" + (closed ? new string(')', depth) : string.Empty),
        1 => string.Concat(Enumerable.Repeat("/*", depth)) + ";" + (closed ? string.Concat(Enumerable.Repeat("*/", depth)) : string.Empty),
        2 => string.Concat(Enumerable.Repeat("BEGIN ", depth)) + "; " + (closed ? string.Concat(Enumerable.Repeat("END ", depth)) : string.Empty),
        _ => string.Concat(Enumerable.Repeat("CASE WHEN ", depth)) + "1; " + (closed ? string.Concat(Enumerable.Repeat(" END", depth)) : string.Empty),
    });

    private static readonly Gen<string> Glue = Gen.OneOf("", " ", ";", "\n", ";\n", "\r\n", "\t", "\\");

    private static Gen<string> Adversarial(params (int Weight, IGen<string> Gen)[] pieces) => Gen.Select(
        Gen.Select(Gen.Frequency(pieces), Glue, (piece, glue) => piece + glue).Array[1, 24],
        parts =>
        {
            var text = string.Concat(parts);
            return text.Length <= MaxAdversarialLength ? text : text[..MaxAdversarialLength];
        });

    private static readonly Gen<string> PostgresAdversarial = Adversarial(
        Weighted(4, DollarQuotes), Weighted(3, Comments), Weighted(3, Quotes), Weighted(3, Blocks), Weighted(2, Word),
        Weighted(2, ByteSoup), Weighted(1, LongTokens), Weighted(1, DeepNesting), Weighted(1, Delimiters));

    private static readonly Gen<string> MySqlAdversarial = Adversarial(
        Weighted(4, Delimiters), Weighted(3, Comments), Weighted(3, Quotes), Weighted(3, Blocks), Weighted(2, Word),
        Weighted(2, ByteSoup), Weighted(1, LongTokens), Weighted(1, DeepNesting), Weighted(1, DollarQuotes));
}
