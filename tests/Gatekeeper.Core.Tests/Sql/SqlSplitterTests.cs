using Gatekeeper.Core.Sql;
using static Gatekeeper.Core.Sql.SqlDialect;

namespace Gatekeeper.Core.Tests.Sql;

public sealed class SqlSplitterTests
{
    private static string[] Texts(string source, SqlDialect dialect) =>
        SqlSplitter.Split(source, dialect, "m.sql").Statements.Select(s => s.Text).ToArray();

    [Theory]
    [InlineData(Postgres)]
    [InlineData(MySql)]
    public void Statements_one_at_a_time_are_the_statements_split_at_once_across_token_chunks(SqlDialect dialect)
    {
        // Long enough for many 4,096-token chunks, with comments after terminators (they extend the statement before
        // them, also when the chunk is full), a statement longer than a chunk, empty statements and a syntax problem.
        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < 3000; i++)
        {
            builder.Append("-- before ").Append(i).Append("\nUPDATE t SET a = ").Append(i).Append(" WHERE b IN (1, 2, 3); -- after ").Append(i).Append("\n;;\n");
        }

        builder.Append("INSERT INTO t VALUES ").AppendJoin(", ", Enumerable.Range(0, 5000).Select(i => $"({i})")).Append("; /* tail */\nSELECT 'open");
        var source = builder.ToString();
        var problems = new SqlSplitProblems();

        var streamed = SqlSplitter.Statements(source, dialect, "m.sql", problems, firstLine: 3).ToList();
        var split = SqlSplitter.Split(source, dialect, "m.sql", firstLine: 3);

        Assert.Equal(split.Statements.Count, streamed.Count);
        Assert.Equal(3002, streamed.Count);
        for (var i = 0; i < streamed.Count; i++)
        {
            Assert.Equal((split.Statements[i].Text, split.Statements[i].Location), (streamed[i].Text, streamed[i].Location));
            Assert.Equal(split.Statements[i].Tokens, streamed[i].Tokens);
        }

        Assert.Equal(split.Problems, problems.Found);
        Assert.NotEmpty(problems.Found);
        Assert.Contains(streamed[0].Tokens, t => t.Kind == SqlTokenKind.LineComment && streamed[0].TextOf(t).ToString() == "-- after 0");

        // The outline pass's way: chunks are written over again, so each statement is read before the next is cut.
        var reusedProblems = new SqlSplitProblems();
        var reused = SqlSplitter.StatementsUsedOneAtATime(source, dialect, "m.sql", reusedProblems, firstLine: 3)
            .Select(s => (s.Text, s.Location, Tokens: s.Tokens.ToArray())).ToList();
        Assert.Equal(split.Statements.Select(s => (s.Text, s.Location, Tokens: s.Tokens.ToArray())), reused, ReadTheSame.Instance);
        Assert.Equal(split.Problems, reusedProblems.Found);
    }

    [Fact]
    public void Statements_used_one_at_a_time_never_write_over_the_chunk_of_a_statement_not_yet_handed_out()
    {
        // A 16,000-token INSERT grows the chunks to 16,384 tokens; SELECT 1 is cut near that chunk's end and waits (a
        // comment on its line could still extend it) while the next, 18,000-token INSERT fills the spare 8,192-token
        // chunk, so the next spare big enough is the waiting statement's own chunk: taken, the INSERT would write over it.
        static string Insert(int rows) => "INSERT INTO t VALUES " + string.Join(", ", Enumerable.Range(0, rows).Select(i => $"({i})"));
        var source = $"{Insert(4000)};\nSELECT 1;\n{Insert(4500)};\nSELECT 2;\n";

        var reused = SqlSplitter.StatementsUsedOneAtATime(source, Postgres, "m.sql", new SqlSplitProblems())
            .Select(s => (s.Text, s.Location, Tokens: s.Tokens.ToArray())).ToList();

        var split = SqlSplitter.Split(source, Postgres, "m.sql").Statements;
        Assert.Equal(4, split.Count);
        Assert.Equal(split.Select(s => (s.Text, s.Location, Tokens: s.Tokens.ToArray())), reused, ReadTheSame.Instance);
    }

    private sealed class ReadTheSame : IEqualityComparer<(string Text, SourceLocation Location, SqlToken[] Tokens)>
    {
        public static readonly ReadTheSame Instance = new();

        public bool Equals((string Text, SourceLocation Location, SqlToken[] Tokens) x, (string Text, SourceLocation Location, SqlToken[] Tokens) y) =>
            x.Text == y.Text && x.Location == y.Location && x.Tokens.SequenceEqual(y.Tokens);

        public int GetHashCode((string Text, SourceLocation Location, SqlToken[] Tokens) obj) => obj.Text.GetHashCode(StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Postgres, "SELECT 1; SELECT 2", "SELECT 1", "SELECT 2")]
    [InlineData(Postgres, "  SELECT 1  ;\n\n  SELECT 2 ;  ", "SELECT 1", "SELECT 2")]
    [InlineData(Postgres, ";;SELECT 1;;;SELECT 2;;", "SELECT 1", "SELECT 2")]
    [InlineData(MySql, "SELECT 1;\n-- the end\n/* really */\n", "SELECT 1")]
    [InlineData(Postgres, "-- only a comment\n", new string[0])]
    [InlineData(Postgres, "", new string[0])]
    [InlineData(Postgres, "SELECT ';', \";\", $$;$$, E'\\';' /* ; */ -- ;\n, 1; SELECT 2", "SELECT ';', \";\", $$;$$, E'\\';' /* ; */ -- ;\n, 1", "SELECT 2")]
    [InlineData(Postgres, "SELECT 1 -- trailing ; comment\n; SELECT 2", "SELECT 1", "SELECT 2")]
    [InlineData(MySql, "SELECT ';', \";\", '\\';', `;` # ;\n, 1; SELECT 2", "SELECT ';', \";\", '\\';', `;` # ;\n, 1", "SELECT 2")]
    [InlineData(MySql, "/*!40101 SET NAMES utf8 */;\nSELECT 1;", "/*!40101 SET NAMES utf8 */", "SELECT 1")]
    public void Statements_are_cut_at_terminators_outside_quotes_and_comments_and_trimmed(SqlDialect dialect, string source, params string[] expected) =>
        Assert.Equal(expected, Texts(source, dialect));

    [Theory]
    [InlineData("CREATE TABLE t (a int,\nbegin int); SELECT 1;", "CREATE TABLE t (a int,\nbegin int)", "SELECT 1")]
    [InlineData("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)); SELECT 1",
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))", "SELECT 1")]
    [InlineData("BEGIN; CREATE TABLE t (id int); COMMIT; END;", "BEGIN", "CREATE TABLE t (id int)", "COMMIT", "END")]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT 3",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END", "SELECT 3")]
    [InlineData("create or replace procedure p() begin atomic insert into t values (1); end; select 1",
        "create or replace procedure p() begin atomic insert into t values (1); end", "select 1")]
    [InlineData("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql RETURN $1 + 1; SELECT f(1)",
        "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql RETURN $1 + 1", "SELECT f(1)")]
    [InlineData("CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql; SELECT 1",
        "CREATE OR REPLACE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql", "SELECT 1")]
    [InlineData("CREATE TABLE begin_log (x int); SELECT CASE WHEN true THEN 1 END; SELECT 2",
        "CREATE TABLE begin_log (x int)", "SELECT CASE WHEN true THEN 1 END", "SELECT 2")]
    [InlineData("DO $$ BEGIN PERFORM 1; END $$; CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION f(); SELECT 1",
        "DO $$ BEGIN PERFORM 1; END $$", "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION f()", "SELECT 1")]
    public void Postgres_keeps_semicolons_inside_parentheses_and_begin_atomic_bodies_like_psql(string source, params string[] expected) =>
        Assert.Equal(expected, Texts(source, Postgres));

    [Fact]
    public void Postgres_reports_an_unclosed_parenthesis_that_swallowed_semicolons()
    {
        var result = SqlSplitter.Split("SELECT 1;\nINSERT INTO t VALUES (1;\nSELECT 2;", Postgres, "m.sql");

        var problem = Assert.Single(result.Problems);
        Assert.Equal(new SourceLocation("m.sql", 2, 22), problem.Location);
        Assert.Equal(2, result.Statements.Count);
    }

    [Fact]
    public void Postgres_reports_a_begin_atomic_body_without_end()
    {
        var result = SqlSplitter.Split("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC SELECT 1; SELECT 2;", Postgres, "m.sql");

        var problem = Assert.Single(result.Problems);
        Assert.Equal(new SourceLocation("m.sql", 2, 1), problem.Location);
        Assert.Contains("END", problem.Message);
    }

    [Theory]
    [InlineData("DELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND //\nDELIMITER ;\nCALL p();",
        "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND", "CALL p()")]
    [InlineData("delimiter $$\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END$$\ndelimiter ;\nSELECT 1",
        "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END", "SELECT 1")]
    [InlineData("  Delimiter ;;\r\nSELECT 1;;\r\nSELECT 2; SELECT 3;;\r\nDELIMITER ;\r\nSELECT 4;",
        "SELECT 1", "SELECT 2; SELECT 3", "SELECT 4")]
    [InlineData("DELIMITER '//' trailing words\nSELECT 1 //\nSELECT '//' //", "SELECT 1", "SELECT '//'")]
    [InlineData("/*\ndelimiter #\nselect 1#\n*/\nSELECT 2; # delimiter //\nSELECT 3;", "SELECT 2", "SELECT 3")]
    [InlineData("SELECT 1; DELIMITER //\nSELECT 2;", "SELECT 1", "DELIMITER //\nSELECT 2")]
    [InlineData("CREATE TABLE t (\ndelimiter int);\nSELECT 1;", "CREATE TABLE t (\ndelimiter int)", "SELECT 1")]
    [InlineData("SELECT 'DELIMITER //';\nSELECT 2;", "SELECT 'DELIMITER //'", "SELECT 2")]
    public void MySql_delimiter_lines_change_the_terminator_and_are_never_part_of_a_statement(string source, params string[] expected) =>
        Assert.Equal(expected, Texts(source, MySql));

    // golang-migrate and dbmate send a MySQL file as one multi-statement query (multiStatements=true) and sql-migrate
    // sends a StatementBegin/End block whole: the server's parser reads a routine's BEGIN … END as one statement, so
    // Gatekeeper cuts there too, without DELIMITER.
    [Theory]
    [InlineData("CREATE PROCEDURE p() BEGIN SELECT 1; END;\nCALL p();", "CREATE PROCEDURE p() BEGIN SELECT 1; END", "CALL p()")]
    [InlineData("CREATE DEFINER=`root`@`%` PROCEDURE p()\nBEGIN\n  INSERT INTO t VALUES (1);\n  UPDATE t SET a = 2;\nEND;\nSELECT 1;",
        "CREATE DEFINER=`root`@`%` PROCEDURE p()\nBEGIN\n  INSERT INTO t VALUES (1);\n  UPDATE t SET a = 2;\nEND", "SELECT 1")]
    [InlineData("CREATE DEFINER = 'app'@'localhost' SQL SECURITY INVOKER FUNCTION f(x INT) RETURNS INT DETERMINISTIC\nBEGIN\n  DECLARE y INT;\n  SET y = CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  RETURN y;\nEND;",
        "CREATE DEFINER = 'app'@'localhost' SQL SECURITY INVOKER FUNCTION f(x INT) RETURNS INT DETERMINISTIC\nBEGIN\n  DECLARE y INT;\n  SET y = CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  RETURN y;\nEND")]
    [InlineData("CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a IS NULL THEN SET NEW.a = 0; END IF; END;\nSELECT 2;",
        "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a IS NULL THEN SET NEW.a = 0; END IF; END", "SELECT 2")]
    [InlineData("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t WHERE a < 0; END;", "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t WHERE a < 0; END")]
    [InlineData("CREATE OR REPLACE PROCEDURE p() BEGIN\n lbl: LOOP SET @i = @i + 1; IF @i > 3 THEN LEAVE lbl; END IF; END LOOP lbl;\n CASE @i WHEN 4 THEN SELECT 1; ELSE SELECT 2; END CASE;\n WHILE @i > 0 DO SET @i = @i - 1; END WHILE;\n REPEAT SET @i = @i + 1; UNTIL @i > 2 END REPEAT;\n BEGIN SELECT 3; END;\nEND;\nSELECT 4;",
        "CREATE OR REPLACE PROCEDURE p() BEGIN\n lbl: LOOP SET @i = @i + 1; IF @i > 3 THEN LEAVE lbl; END IF; END LOOP lbl;\n CASE @i WHEN 4 THEN SELECT 1; ELSE SELECT 2; END CASE;\n WHILE @i > 0 DO SET @i = @i - 1; END WHILE;\n REPEAT SET @i = @i + 1; UNTIL @i > 2 END REPEAT;\n BEGIN SELECT 3; END;\nEND", "SELECT 4")]
    [InlineData("BEGIN NOT ATOMIC\n  INSERT INTO t VALUES (1);\nEND;\nSELECT 5;", "BEGIN NOT ATOMIC\n  INSERT INTO t VALUES (1);\nEND", "SELECT 5")]
    [InlineData("BEGIN;\nINSERT INTO t VALUES (1);\nCOMMIT;", "BEGIN", "INSERT INTO t VALUES (1)", "COMMIT")]
    [InlineData("CREATE VIEW v AS SELECT CASE WHEN a THEN 1 END AS c FROM t;\nSELECT 6;", "CREATE VIEW v AS SELECT CASE WHEN a THEN 1 END AS c FROM t", "SELECT 6")]
    [InlineData("CREATE TABLE `begin` (`end` int);\nSELECT 7;", "CREATE TABLE `begin` (`end` int)", "SELECT 7")]
    [InlineData("CREATE FUNCTION g() RETURNS INT RETURN 1;\nSELECT 8;", "CREATE FUNCTION g() RETURNS INT RETURN 1", "SELECT 8")]
    public void MySql_routine_bodies_without_delimiter_stay_one_statement_as_the_server_reads_them(string source, params string[] expected) =>
        Assert.Equal(expected, Texts(source, MySql));

    [Fact]
    public void MySql_routine_body_never_closed_is_a_problem_at_its_begin()
    {
        var result = SqlSplitter.Split("CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n", MySql, "m.sql");

        var problem = Assert.Single(result.Problems);
        Assert.Equal(new SourceLocation("m.sql", 2, 1), problem.Location);
        Assert.Contains("BEGIN block is never closed by END", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_delimiter_line_without_a_delimiter_is_a_problem()
    {
        var result = SqlSplitter.Split("SELECT 1;\nDELIMITER   \nSELECT 2;", MySql, "m.sql");

        var problem = Assert.Single(result.Problems);
        Assert.Equal(new SourceLocation("m.sql", 2, 1), problem.Location);
        Assert.Equal(["SELECT 1", "SELECT 2"], result.Statements.Select(s => s.Text));
    }

    [Fact]
    public void Each_statement_is_located_at_its_first_significant_token_in_the_file()
    {
        var result = SqlSplitter.Split("-- header\n\nCREATE TABLE a (id int);\n  /* c */ SELECT\n 1;", Postgres, "dir/V1__a.sql", firstLine: 5);

        Assert.Equal(
            [new SourceLocation("dir/V1__a.sql", 7, 1), new SourceLocation("dir/V1__a.sql", 8, 11)],
            result.Statements.Select(s => s.Location));
        Assert.Equal("dir/V1__a.sql:8:11", result.Statements[1].Location.ToString());
    }

    [Fact]
    public void Comments_on_the_lines_before_a_statement_travel_with_it()
    {
        const string source = "CREATE TABLE a (id int);\n-- gatekeeper:allow GK101 backfill is tiny\nCREATE INDEX i ON a (id);\n";

        var statements = SqlSplitter.Split(source, Postgres, "m.sql").Statements;

        var index = statements[1];
        Assert.Equal("CREATE INDEX i ON a (id)", index.Text);
        var comment = index.Tokens[0];
        Assert.Equal(SqlTokenKind.LineComment, comment.Kind);
        Assert.Equal("-- gatekeeper:allow GK101 backfill is tiny", index.TextOf(comment).ToString());
        Assert.Equal(2, comment.Line);
        Assert.DoesNotContain(statements[0].Tokens, t => t.Kind == SqlTokenKind.LineComment);
    }

    [Fact]
    public void A_comment_after_a_terminator_on_the_same_line_belongs_to_the_statement_it_ends()
    {
        const string source = "CREATE INDEX i ON a (id); -- gatekeeper:allow GK101 tiny\n-- next\nSELECT 1;";

        var statements = SqlSplitter.Split(source, Postgres, "m.sql").Statements;

        Assert.Equal("-- gatekeeper:allow GK101 tiny", statements[0].TextOf(statements[0].Tokens[^1]).ToString());
        Assert.Equal("-- next", statements[1].TextOf(statements[1].Tokens[0]).ToString());
        Assert.Equal("CREATE INDEX i ON a (id)", statements[0].Text);
    }

    [Fact]
    public void Comments_before_a_delimiter_line_travel_with_the_statement_after_it()
    {
        const string source = "-- gatekeeper:allow GK200 reason\nDELIMITER //\nCREATE PROCEDURE p() BEGIN END //\nDELIMITER ;\n";

        var statement = Assert.Single(SqlSplitter.Split(source, MySql, "m.sql").Statements);

        Assert.Equal("CREATE PROCEDURE p() BEGIN END", statement.Text);
        Assert.Equal(SqlTokenKind.LineComment, statement.Tokens[0].Kind);
        Assert.DoesNotContain(statement.Tokens, t => t.Kind is SqlTokenKind.DelimiterDirective or SqlTokenKind.Terminator);
    }

    [Fact]
    public void Terminators_are_not_among_a_statements_tokens()
    {
        var statement = SqlSplitter.Split("SELECT 1;", Postgres, "m.sql").Statements[0];

        Assert.Equal([SqlTokenKind.Word, SqlTokenKind.Number], statement.Tokens.Select(t => t.Kind));
    }

    [Theory]
    [InlineData(Postgres, "SELECT 1;\nSELECT 'unterminated;\nSELECT 3;", 2, "SELECT 'unterminated;\nSELECT 3;")]
    [InlineData(MySql, "SELECT 1;\nSELECT `x /* ; */", 2, "SELECT `x /* ; */")]
    [InlineData(Postgres, "SELECT 1;\nSELECT 2 /* open", 2, "SELECT 2")]
    public void An_unterminated_quote_still_yields_the_statement_so_callers_can_report_it(SqlDialect dialect, string source, int line, string lastText)
    {
        var result = SqlSplitter.Split(source, dialect, "m.sql");

        Assert.Equal(line, Assert.Single(result.Problems).Location.Line);
        Assert.Equal(lastText, result.Statements[^1].Text);
    }

    [Fact]
    public void A_crlf_file_with_a_bom_splits_like_its_lf_twin()
    {
        const string lf = "CREATE TABLE a (\n  id int\n);\n-- c\nSELECT 1;\n";
        var crlf = "\uFEFF" + lf.Replace("\n", "\r\n");

        var fromLf = SqlSplitter.Split(lf, MySql, "m.sql").Statements;
        var fromCrlf = SqlSplitter.Split(crlf, MySql, "m.sql").Statements;

        Assert.Equal(fromLf.Select(s => s.Location), fromCrlf.Select(s => s.Location));
        Assert.Equal(fromLf.Select(s => s.Text.Replace("\n", "\r\n")), fromCrlf.Select(s => s.Text));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Statements_and_their_trailing_comments_stay_whole_where_a_file_outgrows_one_token_chunk(int padding)
    {
        // 22,000 three-token statements pass the first 65,536-token chunk end; padding them by 0, 1 or 2 two-token
        // statements puts that end on each of their tokens in turn, the trailing comment included. The 100,001-token
        // INSERT after them is longer than a chunk.
        var source = new System.Text.StringBuilder();
        source.Insert(0, "SELECT 0;\n", padding);
        var expected = new List<string>(Enumerable.Repeat("SELECT 0", padding));
        for (var i = 1; i <= 22_000; i++)
        {
            source.Append("SELECT ").Append(i).Append("; -- after ").Append(i).Append('\n');
            expected.Add($"SELECT {i}|-- after {i}");
        }

        var insert = "INSERT" + string.Concat(Enumerable.Repeat(" 1,", 50_000));
        source.Append(insert).Append(";\n");
        expected.Add(insert);
        for (var i = 22_001; i <= 23_000; i++)
        {
            source.Append("SELECT ").Append(i).Append("; -- after ").Append(i).Append('\n');
            expected.Add($"SELECT {i}|-- after {i}");
        }

        var statements = SqlSplitter.Split(source.ToString(), MySql, "m.sql").Statements;

        Assert.Equal(expected, statements.Select(s => s.Tokens.Count == 3 ? $"{s.Text}|{s.TextOf(s.Tokens[2])}" : s.Text));
        Assert.Equal(100_001, statements[padding + 22_000].Tokens.Count);
        Assert.All(statements.Where(s => s.Tokens.Count == 3), s => Assert.Equal(SqlTokenKind.LineComment, s.Tokens[2].Kind));
    }
}
