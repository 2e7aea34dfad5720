using System.Text;
using CsCheck;
using Gatekeeper.Core.Sql;
using static Gatekeeper.Core.Sql.SqlDialect;

namespace Gatekeeper.Core.Tests.Sql;

/// <summary>
/// Property-based tests of the lexer and the splitter: arbitrary text never breaks them, and well-formed SQL built
/// from a small grammar splits back into exactly the statements it was built from. A failure prints the CsCheck seed;
/// set the environment variable <c>CsCheck_Seed</c> to it to replay that input.
/// </summary>
public sealed partial class SqlPropertyTests
{
    // Inputs stay small and counts fixed so the whole class runs in a few seconds on a shared 2-core machine.
    private const int MaxInputLength = 4096;
    private const long ArbitraryIterations = 1_500;
    private const long WellFormedIterations = 800;

    public static TheoryData<SqlDialect> Dialects => [Postgres, MySql];

    // ------------------------------------------------------------------ (a) arbitrary text

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Lexer_on_arbitrary_text_returns_ordered_non_empty_tokens_inside_the_text_at_their_true_line_and_column(SqlDialect dialect) =>
        ArbitraryText.Sample(source => AssertLexesInOrderAtTrueLocations(source, dialect), iter: ArbitraryIterations);

    private static void AssertLexesInOrderAtTrueLocations(string source, SqlDialect dialect)
    {
        var reader = new SqlTokenReader(source, dialect, "f.sql", firstLine: 3);
        var tokens = new List<SqlToken>();
        while (reader.Read(out var token))
        {
            // Every token consumes at least one character, so Read cannot loop and the count is bounded.
            Assert.True(tokens.Count < source.Length, "more tokens than characters");
            tokens.Add(token);
        }

        Assert.False(reader.Read(out _));
        var end = source.StartsWith('\uFEFF') ? 1 : 0;
        foreach (var token in tokens)
        {
            Assert.True(token.Length > 0, $"empty token at {token.Start}");
            Assert.True(token.Start >= end, $"token at {token.Start} overlaps the one ending at {end}");
            Assert.True(token.Start + token.Length <= source.Length, $"token at {token.Start} runs past the end");
            Assert.False(IsLexerWhitespace(source[token.Start]), $"token at {token.Start} starts on whitespace");
            Assert.Equal(LineAndColumn(source, token.Start, firstLine: 3), (token.Line, token.Column));
            end = token.Start + token.Length;
        }

        foreach (var problem in reader.Problems)
        {
            Assert.Equal("f.sql", problem.Location.File);
            Assert.InRange(problem.Location.Line, 3, 3 + source.Count(c => c == '\n'));
            Assert.True(problem.Location.Column >= 1);
        }
    }

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Splitter_on_arbitrary_text_returns_ordered_statements_that_hold_every_significant_token_once(SqlDialect dialect) =>
        ArbitraryText.Sample(source => AssertSplitsIntoStatementsHoldingEverySignificantTokenOnce(source, dialect), iter: ArbitraryIterations);

    private static void AssertSplitsIntoStatementsHoldingEverySignificantTokenOnce(string source, SqlDialect dialect)
    {
        var result = SqlSplitter.Split(source, dialect, "f.sql");
        var lexed = SqlLexer.Tokenize(source, dialect);

        var end = 0;
        var kept = new List<SqlToken>();
        foreach (var statement in result.Statements)
        {
            Assert.True(statement.Length > 0, $"empty statement at {statement.Start}");
            Assert.True(statement.Start >= end, $"statement at {statement.Start} overlaps the one ending at {end}");
            Assert.True(statement.Start + statement.Length <= source.Length, $"statement at {statement.Start} runs past the end");
            var (line, column) = LineAndColumn(source, statement.Start, firstLine: 1);
            Assert.Equal(new SourceLocation("f.sql", line, column), statement.Location);

            var significant = statement.Tokens.Where(IsSignificant).ToArray();
            Assert.NotEmpty(significant);
            Assert.Equal(statement.Start, significant[0].Start);
            Assert.Equal(statement.Start + statement.Length, significant[^1].Start + significant[^1].Length);
            Assert.All(significant, t => Assert.InRange(t.Start, statement.Start, statement.Start + statement.Length - 1));
            kept.AddRange(statement.Tokens);
            end = statement.Start + statement.Length;
        }

        // The statements' tokens are the lexer's tokens, in order, none twice; only comments may be left out.
        for (var i = 1; i < kept.Count; i++)
        {
            Assert.True(kept[i].Start >= kept[i - 1].Start + kept[i - 1].Length, $"token at {kept[i].Start} is out of order");
        }

        Assert.Subset(lexed.ToHashSet(), kept.ToHashSet());
        Assert.Equal(lexed.Where(IsSignificant), kept.Where(IsSignificant));
    }

    // ------------------------------------------------------------------ (b) well-formed SQL round trip

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Splitting_generated_statements_joined_by_terminators_gives_back_each_statement_text_exactly(SqlDialect dialect) =>
        WellFormed(dialect).Sample(script =>
        {
            foreach (var (source, expected) in new[] { (script.Source, script.Statements), (ToCrLf(script.Source), script.Statements.Select(ToCrLf).ToArray()) })
            {
                var result = SqlSplitter.Split(source, dialect, "m.sql");

                Assert.Empty(result.Problems);
                Assert.Equal(expected.Length, result.Statements.Count);
                Assert.Equal(expected, result.Statements.Select(s => s.Text));
            }

            var starts = SqlSplitter.Split(script.Source, dialect, "m.sql").Statements.Select(s => s.Start);
            Assert.Equal(script.Starts, starts);
        }, iter: WellFormedIterations);

    // ------------------------------------------------------------------ (c) CRLF and LF split alike

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Generated_statements_split_the_same_with_crlf_and_lf_line_endings_at_the_same_lines_and_columns(SqlDialect dialect) =>
        WellFormed(dialect).Sample(script => AssertSplitsAlikeWithCrLf(script.Source, dialect), iter: WellFormedIterations);

    [Theory]
    [MemberData(nameof(Dialects))]
    public void Arbitrary_text_splits_the_same_with_crlf_and_lf_line_endings_at_the_same_lines_and_columns(SqlDialect dialect) =>
        ArbitraryText.Select(s => s.Replace("\r", "")).Sample(source => AssertSplitsAlikeWithCrLf(source, dialect), iter: ArbitraryIterations);

    private static void AssertSplitsAlikeWithCrLf(string lf, SqlDialect dialect)
    {
        var crlf = ToCrLf(lf);
        var fromLf = SqlSplitter.Split(lf, dialect, "m.sql");
        var fromCrLf = SqlSplitter.Split(crlf, dialect, "m.sql");

        Assert.Equal(fromLf.Statements.Count, fromCrLf.Statements.Count);
        for (var i = 0; i < fromLf.Statements.Count; i++)
        {
            var a = fromLf.Statements[i];
            var b = fromCrLf.Statements[i];
            Assert.Equal(a.Location, b.Location);
            Assert.Equal(a.Text, FromCrLf(b.Text));
            Assert.Equal(
                a.Tokens.Select(t => (t.Kind, t.Line, t.Column, a.TextOf(t).ToString())),
                b.Tokens.Select(t => (t.Kind, t.Line, t.Column, FromCrLf(b.TextOf(t).ToString()))));
        }

        Assert.Equal(fromLf.Problems, fromCrLf.Problems);
    }

    // ------------------------------------------------------------------ generators

    /// <summary>
    /// Text up to 4 KB made of any UTF-16 code units (control characters and lone surrogates included) mixed with the
    /// fragments the lexer treats specially, so quotes, comments, dollar tags and DELIMITER lines open and close often.
    /// </summary>
    private static readonly Gen<string> ArbitraryText = Gen.Select(
            Gen.Bool,
            Gen.Frequency(
                Weighted(3, Gen.Char['\0', '\uffff'].Select(c => c.ToString())),
                Weighted(2, Gen.Char['\0', '\u001f'].Select(c => c.ToString())),
                Weighted(1, Gen.Char['\ud800', '\udfff'].Select(c => c.ToString())),
                Weighted(3, Gen.String["abcdefgxyzEXNUB_019 \t\n.$@"]),
                Weighted(8, Gen.OneOf(
                    "$", "$$", "$tag$", "$a1$", "$1", "'", "''", "\"", "\"\"", "`", "``", "/*", "*/", "/*!", "/*!40101 ", "/*M!",
                    "--", "-- ", "#", "\\", "\\'", "\\\n", "\n", "\r\n", "\r", "\uFEFF", ";", ";;", "(", ")", "\nDELIMITER //\n",
                    "DELIMITER ;\n", "delimiter $$\r\n", "DELIMITER\n", "DELIMITER '\n", "DELIMITER \"x y\"\n", "//", "$$",
                    "E'", "e'", "U&\"", "U&'", "x'", "N'", "B'", "@", "@@", "@'", "@`", "?", ":", "::", ":=", "0x", "0b", "1e+", ".5",
                    "1..", "CREATE ", "FUNCTION ", "OR REPLACE ", "PROCEDURE ", "BEGIN ", "ATOMIC ", "CASE ", "END", "END ",
                    " ", "\t", "\f", "\v", "<=>", "->>", "=-", "+-", "~!", "*", "/", "-", "\u00e9", "\U0001F600"))).Array[0, 300],
            (bom, parts) =>
            {
                var text = (bom ? "\uFEFF" : "") + string.Concat(parts);
                return text.Length <= MaxInputLength ? text : text[..MaxInputLength];
            });

    /// <summary>A script built by joining generated statements with terminators, and the statements it must split into.</summary>
    public sealed record Script(string Source, string[] Statements, int[] Starts)
    {
        public override string ToString() => Source;
    }

    private static readonly Gen<string> Separator = Gen.OneOf(" ", " ", " ", "\n", "\n    ", "\t", "  \n\n");

    private static readonly Gen<string> PostgresSignificant = Gen.OneOf(
        "SELECT", "insert", "INTO", "t_1", "VALUES", "CREATE", "TABLE", "BEGIN", "END", "CASE", "ATOMIC", "x$y",
        "1", "2.5", "3e2", "0x1F", "$1", "=", "<>", "::", ",", "*", "||",
        "'a;b'", "'it''s; ok'", "'multi\nline; text'", "E'esc\\'; still'", "E'\\\\'", "B'101'", "X'1F'", "U&'d\\0061;'",
        "$$ body; 'x' $$", "$fn$ a $$ ; b $fn$", "$_x1$;$_x1$", "$$\nBEGIN\n  RETURN 1;\nEND;\n$$",
        "\"id;x\"", "\"q\"\"t;\"", "U&\"d;\"", "(a; b)", "(1, (2; 3))", "('('; \")\")");

    private static readonly Gen<string> PostgresComment = Gen.OneOf(
        "/* c; */", "/* a /* nested; */ b */", "/*\n multi; line\n*/", "-- line; c\n", "--\n", "-- 'quote\n");

    private static readonly Gen<string> PostgresBetween = Gen.OneOf(
        "", " ", "\n", "\n\n", " -- after; c\n", " /* after; */\n", "\n/* between; */\n", "\n-- own line;\n\n");

    private static readonly Gen<string> MySqlSignificant = Gen.OneOf(
        "SELECT", "insert", "INTO", "t_1", "VALUES", "CREATE", "TABLE", "BEGIN", "END", "x$y", "1abc",
        "1", "2.5", "3e2", "0x1F", "?", "=", "<=>", "->>", ",", "*", "(", ")", "@v", "@@session.sql_mode", "@`q;v`", "@'s;v'",
        "'a;b'", "'it''s; ok'", "'back\\'slash;'", "'multi\nline; text'", "\"dq; \\\" x\"", "\"\"\"\"", "x'4F'", "N'n;'", "b'01'",
        "`a;b`", "`we``ird;`", "/*!40101 SET x = 1 */", "/*!SET y = 2; */", "/*M!100100 SELECT 3 */");

    private static readonly Gen<string> MySqlComment = Gen.OneOf(
        "/* c; */", "/*\n multi; line\n*/", "-- dash; c\n", "--\tc;\n", "# hash; c\n", "#\n");

    private static readonly Gen<string> MySqlBetween = Gen.OneOf(
        "", " ", "\n", "\n\n", " -- after; c\n", " # after;\n", "\n/* between; */\n", "\n# own line;\n\n");

    private static Gen<string> Statement(Gen<string> significant, Gen<string> comment, Gen<string>? body = null)
    {
        var piece = body is null
            ? Gen.Frequency(Weighted(6, significant), Weighted(2, comment))
            : Gen.Frequency(Weighted(6, significant), Weighted(2, comment), Weighted(2, body));
        return Gen.Select(significant, Gen.Select(piece, Separator).Array[0, 6], Separator, significant, Gen.Bool,
            (first, middle, lastSeparator, last, single) =>
            {
                if (single && middle.Length == 0)
                {
                    return first;
                }

                var text = new StringBuilder(first);
                foreach (var (p, separator) in middle)
                {
                    text.Append(separator).Append(p);
                }

                return text.Append(lastSeparator).Append(last).ToString();
            });
    }

    private static Gen<Script> WellFormed(SqlDialect dialect) => dialect == Postgres ? PostgresScripts : MySqlScripts;

    private static readonly Gen<string> Leading = Gen.OneOf("", "\n", "\uFEFF", "-- header;\n", "\uFEFF/* h; */\n\n");

    private static readonly Gen<Script> PostgresScripts = Gen.Select(
        Leading,
        Gen.Select(Statement(PostgresSignificant, PostgresComment), PostgresBetween).Array[1, 12],
        Gen.Bool,
        (leading, statements, lastTerminated) =>
        {
            var source = new StringBuilder(leading);
            var starts = new List<int>();
            for (var i = 0; i < statements.Length; i++)
            {
                var (statement, between) = statements[i];
                starts.Add(source.Length);
                source.Append(statement);
                if (i < statements.Length - 1 || lastTerminated)
                {
                    source.Append(';').Append(between);
                }
            }

            return new Script(source.ToString(), statements.Select(s => s.Item1).ToArray(), starts.ToArray());
        });

    // MySQL scripts are runs of statements, each run under its own delimiter; under a custom one (DELIMITER //)
    // statements may also hold bare semicolons, as stored-routine bodies do.
    private static readonly Gen<Script> MySqlScripts = Gen.Select(
        Leading,
        Gen.Select(
            Gen.OneOf(";", ";", "//", "$$"),
            Gen.Select(Statement(MySqlSignificant, MySqlComment), MySqlBetween).Array[1, 5],
            Gen.Select(Statement(MySqlSignificant, MySqlComment, body: Gen.OneOf(";", "DECLARE v INT;", "SET v = v + 1;")), MySqlBetween).Array[1, 5],
            (delimiter, plain, routine) => (delimiter, statements: delimiter == ";" ? plain : routine)).Array[1, 4],
        Gen.Bool,
        (leading, runs, lastTerminated) =>
        {
            var source = new StringBuilder(leading);
            var starts = new List<int>();
            var expected = new List<string>();
            for (var r = 0; r < runs.Length; r++)
            {
                var (delimiter, statements) = runs[r];
                var custom = delimiter != ";";
                if (custom)
                {
                    StartLine(source).Append("DELIMITER ").Append(delimiter).Append('\n');
                }

                for (var i = 0; i < statements.Length; i++)
                {
                    var (statement, between) = statements[i];
                    starts.Add(source.Length);
                    expected.Add(statement);
                    source.Append(statement);
                    if (custom || r < runs.Length - 1 || i < statements.Length - 1 || lastTerminated)
                    {
                        source.Append(delimiter).Append(between);
                    }
                }

                if (custom)
                {
                    StartLine(source).Append("DELIMITER ;\n");
                }
            }

            return new Script(source.ToString(), expected.ToArray(), starts.ToArray());
        });

    // ------------------------------------------------------------------ helpers

    // Typed as IGen so Frequency picks the generator overload, not the one that would generate the generators.
    private static (int, IGen<string>) Weighted(int weight, Gen<string> gen) => (weight, gen);

    private static StringBuilder StartLine(StringBuilder source) =>
        source.Length == 0 || source[^1] == '\n' ? source : source.Append('\n');

    private static bool IsSignificant(SqlToken token) =>
        token.Kind is not (SqlTokenKind.LineComment or SqlTokenKind.BlockComment or SqlTokenKind.Terminator or SqlTokenKind.DelimiterDirective);

    private static bool IsLexerWhitespace(char c) => c is ' ' or '\t' or '\r' or '\n' or '\f' or '\v';

    private static string ToCrLf(string lf) => lf.Replace("\n", "\r\n");

    private static string FromCrLf(string crlf) => crlf.Replace("\r\n", "\n");

    /// <summary>Where an offset is, computed independently of the lexer: only <c>\n</c> ends a line; a leading BOM takes no column.</summary>
    private static (int Line, int Column) LineAndColumn(string source, int offset, int firstLine)
    {
        var before = source.AsSpan(0, offset);
        var lineStart = before.LastIndexOf('\n') + 1;
        if (lineStart == 0 && source.StartsWith('\uFEFF'))
        {
            lineStart = 1;
        }

        return (firstLine + before.Count('\n'), offset - lineStart + 1);
    }
}
