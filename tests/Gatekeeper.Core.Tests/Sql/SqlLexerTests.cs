using Gatekeeper.Core.Sql;
using static Gatekeeper.Core.Sql.SqlDialect;

namespace Gatekeeper.Core.Tests.Sql;

public sealed class SqlLexerTests
{
    /// <summary>Each token as "Kind text", so a table row reads like the lexer's output.</summary>
    private static string[] Describe(string source, SqlDialect dialect) =>
        SqlLexer.Tokenize(source, dialect).Select(t => $"{t.Kind} {source.Substring(t.Start, t.Length)}").ToArray();

    private static IReadOnlyList<SqlSyntaxProblem> ProblemsOf(string source, SqlDialect dialect)
    {
        SqlLexer.Tokenize(source, dialect, "m.sql", 1, out var problems);
        return problems;
    }

    [Theory]
    [InlineData(Postgres, "$$a; b$$", "DollarString $$a; b$$")]
    [InlineData(Postgres, "$fn$ x $$ ; $$ y $fn$;", "DollarString $fn$ x $$ ; $$ y $fn$", "Terminator ;")]
    [InlineData(Postgres, "$_1$a$_1$", "DollarString $_1$a$_1$")]
    [InlineData(Postgres, "$1 || $2", "Parameter $1", "Operator ||", "Parameter $2")]
    [InlineData(Postgres, "a$1$", "Word a$1$")]
    [InlineData(Postgres, "$tag", "Operator $", "Word tag")]
    [InlineData(Postgres, "$a$ x $A$ y $a$", "DollarString $a$ x $A$ y $a$")]
    public void Postgres_dollar_quotes_are_one_token_and_dollar_digits_are_parameters(SqlDialect dialect, string source, params string[] expected) =>
        Assert.Equal(expected, Describe(source, dialect));

    [Theory]
    [InlineData(Postgres, "/* a /* b */ c */ x", "BlockComment /* a /* b */ c */", "Word x")]
    [InlineData(Postgres, "/*/**/*/x", "BlockComment /*/**/*/", "Word x")]
    [InlineData(MySql, "/* a /* b */ c", "BlockComment /* a /* b */", "Word c")]
    [InlineData(MySql, "/*!40101 SET x = 1; */;", "ExecutableComment /*!40101 SET x = 1; */", "Terminator ;")]
    [InlineData(MySql, "/*M!100100 SET y = 2 */", "ExecutableComment /*M!100100 SET y = 2 */")]
    [InlineData(Postgres, "/*! not special */", "BlockComment /*! not special */")]
    [InlineData(MySql, "/*+ BKA(t1) */", "BlockComment /*+ BKA(t1) */")]
    public void Block_comments_nest_in_Postgres_only_and_MySql_executable_comments_are_their_own_kind(SqlDialect dialect, string source, params string[] expected) =>
        Assert.Equal(expected, Describe(source, dialect));

    [Theory]
    [InlineData(Postgres, "1--1\n2", "Number 1", "LineComment --1", "Number 2")]
    [InlineData(MySql, "1--1", "Number 1", "Operator -", "Operator -", "Number 1")]
    [InlineData(MySql, "1-- c\n2", "Number 1", "LineComment -- c", "Number 2")]
    [InlineData(MySql, "1--\tc", "Number 1", "LineComment --\tc")]
    [InlineData(MySql, "x --", "Word x", "LineComment --")]
    [InlineData(MySql, "x # hash\ny", "Word x", "LineComment # hash", "Word y")]
    [InlineData(Postgres, "x # y", "Word x", "Operator #", "Word y")]
    [InlineData(Postgres, "a -- c\r\nb", "Word a", "LineComment -- c", "Word b")]
    public void Line_comments_follow_each_dialect(SqlDialect dialect, string source, params string[] expected) =>
        Assert.Equal(expected, Describe(source, dialect));

    [Theory]
    [InlineData(Postgres, "'it''s'", "String 'it''s'")]
    [InlineData(Postgres, "E'a\\'b' x", "String E'a\\'b'", "Word x")]
    [InlineData(Postgres, "e'\\\\' x", "String e'\\\\'", "Word x")]
    [InlineData(Postgres, "'C:\\' x", "String 'C:\\'", "Word x")]
    [InlineData(Postgres, "B'101' X'1F' N'n'", "String B'101'", "String X'1F'", "String N'n'")]
    [InlineData(Postgres, "U&'d\\0061t' U&\"c\"", "String U&'d\\0061t'", "QuotedIdentifier U&\"c\"")]
    [InlineData(Postgres, "\"a\"\"b\".c", "QuotedIdentifier \"a\"\"b\"", "Operator .", "Word c")]
    [InlineData(MySql, "'a\\'b' 'c''d'", "String 'a\\'b'", "String 'c''d'")]
    [InlineData(MySql, "\"a\\\"b\" \"\"", "String \"a\\\"b\"", "String \"\"")]
    [InlineData(MySql, "'\\0' '\\\\'", "String '\\0'", "String '\\\\'")]
    [InlineData(MySql, "`a``b`.`c`", "QuotedIdentifier `a``b`", "Operator .", "QuotedIdentifier `c`")]
    [InlineData(MySql, "X'1F' b'01' _utf8mb4'x'", "String X'1F'", "String b'01'", "Word _utf8mb4", "String 'x'")]
    [InlineData(Postgres, "`x`", "Operator `", "Word x", "Operator `")]
    public void Strings_and_quoted_identifiers_follow_each_dialect(SqlDialect dialect, string source, params string[] expected) =>
        Assert.Equal(expected, Describe(source, dialect));

    [Theory]
    [InlineData(Postgres, "a::int", "Word a", "Operator ::", "Word int")]
    [InlineData(Postgres, "x=-1", "Word x", "Operator =", "Operator -", "Number 1")]
    [InlineData(Postgres, "j->>'k' @> '{}'", "Word j", "Operator ->>", "String 'k'", "Operator @>", "String '{}'")]
    [InlineData(Postgres, "a<>b", "Word a", "Operator <>", "Word b")]
    [InlineData(Postgres, "a*/*c*/b", "Word a", "Operator *", "BlockComment /*c*/", "Word b")]
    [InlineData(Postgres, "1.5e-3 .5 10", "Number 1.5e-3", "Number .5", "Number 10")]
    [InlineData(Postgres, "arr[1:2]", "Word arr", "Operator [", "Number 1", "Operator :", "Number 2", "Operator ]")]
    [InlineData(Postgres, "x ? 'k'", "Word x", "Operator ?", "String 'k'")]
    [InlineData(MySql, "a<=>b", "Word a", "Operator <=>", "Word b")]
    [InlineData(MySql, "v->>'$.k'", "Word v", "Operator ->>", "String '$.k'")]
    [InlineData(MySql, "@v := @@session.sql_mode", "Parameter @v", "Operator :=", "Parameter @@session.sql_mode")]
    [InlineData(MySql, "'u'@'localhost'", "String 'u'", "Operator @", "String 'localhost'")]
    [InlineData(MySql, "@'my var' ?", "Parameter @'my var'", "Parameter ?")]
    [InlineData(MySql, "0x1F 1e3 $a 1abc", "Number 0x1F", "Number 1e3", "Word $a", "Word 1abc")]
    public void Operators_numbers_and_parameters_are_tokens_a_linter_can_match(SqlDialect dialect, string source, params string[] expected) =>
        Assert.Equal(expected, Describe(source, dialect));

    [Fact]
    public void Lines_and_columns_are_one_based_and_a_crlf_counts_as_one_line()
    {
        var tokens = SqlLexer.Tokenize("a\r\n  'x\r\ny' b\n\t$$\n$$ c", Postgres);

        Assert.Equal(
            [(1, 1), (2, 3), (3, 4), (4, 2), (5, 4)],
            tokens.Select(t => (t.Line, t.Column)));
    }

    [Fact]
    public void First_line_shifts_every_line_number()
    {
        var tokens = SqlLexer.Tokenize("a\nb", Postgres, firstLine: 40);

        Assert.Equal([40, 41], tokens.Select(t => t.Line));
    }

    [Fact]
    public void A_byte_order_mark_is_skipped_and_does_not_shift_the_first_column()
    {
        var source = "\uFEFFSELECT 1";

        var tokens = SqlLexer.Tokenize(source, MySql);

        Assert.Equal(SqlTokenKind.Word, tokens[0].Kind);
        Assert.Equal(1, tokens[0].Start);
        Assert.Equal(1, tokens[0].Column);
        Assert.Equal(2, tokens.Count);
    }

    [Theory]
    [InlineData(Postgres, "SELECT 'abc", 1, 8, "string literal")]
    [InlineData(Postgres, "SELECT E'abc\\'", 1, 8, "string literal")]
    [InlineData(Postgres, "SELECT\n  \"abc", 2, 3, "quoted identifier")]
    [InlineData(Postgres, "x /* a /* b */", 1, 3, "block comment")]
    [InlineData(Postgres, "DO $body$ BEGIN END $$;", 1, 4, "dollar-quoted")]
    [InlineData(MySql, "SELECT 'a\\'", 1, 8, "string literal")]
    [InlineData(MySql, "SELECT `a", 1, 8, "quoted identifier")]
    [InlineData(MySql, "x\n/*!40101 y", 2, 1, "executable comment")]
    [InlineData(MySql, "SELECT \"x\\", 1, 8, "string literal")]
    public void An_unterminated_quote_or_comment_is_reported_where_it_opened(SqlDialect dialect, string source, int line, int column, string what)
    {
        var problems = ProblemsOf(source, dialect);

        var problem = Assert.Single(problems);
        Assert.Equal(new SourceLocation("m.sql", line, column), problem.Location);
        Assert.Contains(what, problem.Message);
    }

    [Theory]
    [InlineData(Postgres, "SELECT 'a''b', E'\\'', $$'$$, \"q\"\"\" /* /* */ */")]
    [InlineData(MySql, "SELECT 'a\\'b', \"c\\\"\", `d```, /* x */ 1 -- y")]
    public void Well_formed_text_has_no_problems(SqlDialect dialect, string source) =>
        Assert.Empty(ProblemsOf(source, dialect));

    [Fact]
    public void The_token_reader_streams_the_same_tokens_as_tokenize()
    {
        const string source = "CREATE TABLE t (id int); -- done\nINSERT INTO t VALUES ($1);";
        var reader = new SqlTokenReader(source, Postgres);
        var streamed = new List<SqlToken>();
        while (reader.Read(out var token))
        {
            streamed.Add(token);
        }

        Assert.Equal(SqlLexer.Tokenize(source, Postgres), streamed);
        Assert.False(reader.Read(out _));
    }
}
