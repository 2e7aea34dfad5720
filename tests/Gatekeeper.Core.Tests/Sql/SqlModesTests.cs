using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Sql;

/// <summary>
/// MySQL text is read as the session that runs it will read it: under NO_BACKSLASH_ESCAPES a backslash is an ordinary
/// character (so 'C:\' is closed and 'a\' ends before the next quote), under ANSI_QUOTES "…" is a name, and a
/// SET sql_mode in a file changes the reading of what follows it. Read in the stock mode, 'C:\' was an unclosed string
/// (a false GK001) and 'a\'); DROP TABLE keep; -- ' one string, so the DROP was never judged.
/// </summary>
public sealed class SqlModesTests
{
    private const SqlModes Nbe = SqlModes.NoBackslashEscapes;

    private static string[] Texts(string source, SqlModes modes = SqlModes.None) =>
        SqlSplitter.Split(source, SqlDialect.MySql, "m.sql", modes: modes).Statements.Select(s => s.Text).ToArray();

    private static IReadOnlyList<SqlSyntaxProblem> Problems(string source, SqlModes modes = SqlModes.None) =>
        SqlSplitter.Split(source, SqlDialect.MySql, "m.sql", modes: modes).Problems;

    [Fact]
    public void Under_NO_BACKSLASH_ESCAPES_a_string_that_ends_in_a_backslash_is_closed()
    {
        const string sql = "INSERT INTO paths VALUES ('C:\\');\nSELECT 1;\n";

        Assert.Empty(Problems(sql, Nbe));
        Assert.Equal(["INSERT INTO paths VALUES ('C:\\')", "SELECT 1"], Texts(sql, Nbe));
        Assert.Single(Problems(sql));
    }

    [Fact]
    public void Under_NO_BACKSLASH_ESCAPES_a_backslash_before_a_quote_does_not_hide_the_statements_after_it()
    {
        const string sql = "INSERT INTO notes VALUES ('a\\'); DROP TABLE keep; -- ');\nINSERT INTO notes VALUES ('b');\n";

        Assert.Equal(["INSERT INTO notes VALUES ('a\\')", "DROP TABLE keep", "INSERT INTO notes VALUES ('b')"], Texts(sql, Nbe));
        Assert.Equal(["INSERT INTO notes VALUES ('a\\'); DROP TABLE keep; -- ')", "INSERT INTO notes VALUES ('b')"], Texts(sql));
    }

    [Theory]
    [InlineData("SELECT \"a\\\"", SqlModes.NoBackslashEscapes | SqlModes.AnsiQuotes)]
    [InlineData("SELECT N'a\\'", SqlModes.NoBackslashEscapes)]
    [InlineData("SELECT @'a\\'", SqlModes.NoBackslashEscapes)]
    [InlineData("SELECT \"a\\\"", SqlModes.AnsiQuotes)]
    public void Every_quoted_form_reads_a_backslash_as_the_mode_says(string sql, SqlModes modes)
    {
        Assert.Empty(Problems(sql + ";\nSELECT 2;", modes));
        Assert.Equal(2, Texts(sql + ";\nSELECT 2;", modes).Length);
    }

    [Fact]
    public void Under_ANSI_QUOTES_a_double_quoted_text_is_a_name()
    {
        var ansi = SqlLexer.Tokenize("DROP TABLE \"keep\"", SqlDialect.MySql, modes: SqlModes.AnsiQuotes);
        var stock = SqlLexer.Tokenize("DROP TABLE \"keep\"", SqlDialect.MySql);

        Assert.Equal(SqlTokenKind.QuotedIdentifier, ansi[^1].Kind);
        Assert.Equal(SqlTokenKind.String, stock[^1].Kind);
    }

    [Theory]
    [InlineData("SET sql_mode = 'NO_BACKSLASH_ESCAPES'")]
    [InlineData("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES'")]
    [InlineData("set local SQL_MODE='no_backslash_escapes'")]
    [InlineData("SET @@sql_mode := \"NO_BACKSLASH_ESCAPES\"")]
    [InlineData("SET @@SESSION.sql_mode = 'NO_BACKSLASH_ESCAPES', @x = 1")]
    [InlineData("SET NAMES utf8mb4, sql_mode = 'NO_BACKSLASH_ESCAPES'")]
    [InlineData("/*!40101 SET SQL_MODE='NO_BACKSLASH_ESCAPES' */")]
    [InlineData("/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_BACKSLASH_ESCAPES' */")]
    public void A_SET_of_the_sessions_sql_mode_changes_how_the_rest_of_the_file_reads(string set)
    {
        var sql = set + ";\nINSERT INTO paths VALUES ('C:\\');\nSELECT 1;\n";

        var split = SqlSplitter.Split(sql, SqlDialect.MySql, "m.sql");

        Assert.Empty(split.Problems);
        Assert.Equal(3, split.Statements.Count);
        Assert.True(split.ModesChanged);
        Assert.Equal(SqlModes.None, split.Statements[0].Modes);
        Assert.Equal(Nbe, split.Statements[1].Modes);
    }

    [Theory]
    [InlineData("SET GLOBAL sql_mode = 'NO_BACKSLASH_ESCAPES'")]
    [InlineData("SET @@GLOBAL.sql_mode = 'NO_BACKSLASH_ESCAPES'")]
    [InlineData("SET PERSIST sql_mode = 'NO_BACKSLASH_ESCAPES'")]
    [InlineData("SET STATEMENT sql_mode = 'NO_BACKSLASH_ESCAPES' FOR SELECT 1")]
    [InlineData("SET @sql_mode = 'NO_BACKSLASH_ESCAPES'")]
    [InlineData("SET @saved = @@sql_mode")]
    [InlineData("SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")]
    [InlineData("SELECT 'SET sql_mode = NO_BACKSLASH_ESCAPES'")]
    public void Only_a_known_value_for_the_session_changes_the_reading(string set)
    {
        var sql = set + ";\nSELECT 'it\\'s';\nSELECT 1;\n";

        var split = SqlSplitter.Split(sql, SqlDialect.MySql, "m.sql");

        Assert.Empty(split.Problems);
        Assert.Equal(3, split.Statements.Count);
        Assert.False(split.ModesChanged);
    }

    [Fact]
    public void SET_sql_mode_DEFAULT_returns_to_the_mode_the_session_started_in()
    {
        const string sql = "SET sql_mode = '';\nSELECT 'it\\'s';\nSET sql_mode = DEFAULT;\nSELECT 'C:\\';\n";

        Assert.Empty(Problems(sql, Nbe));
        Assert.Equal(4, Texts(sql, Nbe).Length);
    }

    [Theory]
    [InlineData("NO_BACKSLASH_ESCAPES", SqlModes.NoBackslashEscapes)]
    [InlineData("STRICT_TRANS_TABLES,ANSI_QUOTES", SqlModes.AnsiQuotes)]
    [InlineData("REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI", SqlModes.AnsiQuotes)]
    [InlineData("ansi", SqlModes.AnsiQuotes)]
    [InlineData("ORACLE", SqlModes.AnsiQuotes)]
    [InlineData("POSTGRESQL, no_backslash_escapes", SqlModes.AnsiQuotes | SqlModes.NoBackslashEscapes)]
    [InlineData("STRICT_TRANS_TABLES,TRADITIONAL", SqlModes.None)]
    [InlineData("", SqlModes.None)]
    public void A_sql_mode_value_is_read_for_the_modes_that_change_reading(string value, SqlModes expected) =>
        Assert.Equal(expected, SqlModeText.Parse(value));

    [Fact]
    public void Lint_judges_the_statements_a_NO_BACKSLASH_ESCAPES_session_runs()
    {
        const string sql = "INSERT INTO notes VALUES ('a\\'); DROP TABLE keep; -- ');\n";

        var nbe = Linter.LintSql(sql, SqlDialect.MySql, options: new LintOptions { Modes = Nbe });
        var stock = Linter.LintSql(sql, SqlDialect.MySql);

        Assert.Contains(nbe.Findings, f => f.Rule.Id == "GK101");
        Assert.DoesNotContain(stock.Findings, f => f.Rule.Id == "GK101");
    }

    [Fact]
    public void Lint_reads_double_quoted_names_under_ANSI_QUOTES()
    {
        const string sql = "ALTER TABLE \"t\" DROP COLUMN \"c\";\nDROP TABLE \"keep\";\n";

        var ansi = Linter.LintSql(sql, SqlDialect.MySql, options: new LintOptions { Modes = SqlModes.AnsiQuotes });

        Assert.Contains(ansi.Findings, f => f.Rule.Id == "GK102" && f.Message.Contains("column c of table t", StringComparison.Ordinal));
        Assert.Contains(ansi.Findings, f => f.Rule.Id == "GK101" && f.Message.Contains("keep", StringComparison.Ordinal));
        Assert.Empty(Linter.LintSql(sql, SqlDialect.MySql).Findings);
    }

    [Fact]
    public void Lint_reads_a_file_after_its_SET_sql_mode_in_that_mode()
    {
        const string sql = "SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES';\nINSERT INTO p VALUES ('C:\\');\nALTER TABLE \"t\" DROP COLUMN \"c\";\n";

        var report = Linter.LintSql(sql, SqlDialect.MySql);

        Assert.DoesNotContain(report.Findings, f => f.Rule.Id == "GK001");
        Assert.Contains(report.Findings, f => f.Rule.Id == "GK102");
    }
}
