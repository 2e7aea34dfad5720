using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Sql;

/// <summary>The splitter against every real migration file in ../shared/corpora.</summary>
public sealed class SqlCorpusTests
{
    public static TheoryData<string, string> CorpusDirectories => new()
    {
        { "fineract", "mysql" },
        { "kestra", "mysql" },
        { "kestra", "postgres" },
        { "goalert", "postgres" },
        { "hatchet", "postgres" },
        { "openmeter", "postgres" },
        { "supabase-postgres", "postgres" },
    };

    private static SqlDialect DialectOf(string engine) => engine == "mysql" ? SqlDialect.MySql : SqlDialect.Postgres;

    private static IEnumerable<(string Path, string Text)> FilesOf(string project, string engine) =>
        Directory.EnumerateFiles(Corpora.Dir(project, engine), "*.sql")
            .Order(StringComparer.Ordinal)
            .Select(path => (path, File.ReadAllText(path)));

    private static SqlSplitResult SplitCorpusFile(string project, string engine, string nameStart)
    {
        var path = Directory.EnumerateFiles(Corpora.Dir(project, engine), nameStart + "*.sql").Single();
        return SqlSplitter.Split(File.ReadAllText(path), DialectOf(engine), Path.GetFileName(path));
    }

    [Fact]
    public void Every_corpus_directory_with_sql_files_is_covered_by_these_tests()
    {
        var listed = CorpusDirectories.Select(row => Path.Combine((string)row[0], (string)row[1])).Order().ToArray();

        var present = Directory.EnumerateFiles(Corpora.Root, "*.sql", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(Corpora.Root, Path.GetDirectoryName(path)!))
            .Distinct()
            .Order()
            .ToArray();

        Assert.Equal(present, listed);
    }

    [Theory]
    [MemberData(nameof(CorpusDirectories))]
    public void Every_corpus_file_splits_without_problems(string project, string engine)
    {
        var problems = new List<string>();
        var files = 0;
        foreach (var (path, text) in FilesOf(project, engine))
        {
            files++;
            problems.AddRange(SqlSplitter.Split(text, DialectOf(engine), Path.GetFileName(path)).Problems.Select(p => p.ToString()));
        }

        Assert.True(files > 0, $"No .sql files in {Corpora.Dir(project, engine)}.");
        Assert.Empty(problems);
    }

    [Theory]
    [MemberData(nameof(CorpusDirectories))]
    public void Statements_cover_all_text_but_whitespace_comments_terminators_and_delimiter_lines(string project, string engine)
    {
        var dialect = DialectOf(engine);
        var failures = new List<string>();
        foreach (var (path, text) in FilesOf(project, engine))
        {
            var name = Path.GetFileName(path);
            var covered = new bool[text.Length];
            var previousEnd = 0;
            foreach (var statement in SqlSplitter.Split(text, dialect, name).Statements)
            {
                if (statement.Start < previousEnd || statement.Length == 0 || char.IsWhiteSpace(statement.Text[0]) || char.IsWhiteSpace(statement.Text[^1]))
                {
                    failures.Add($"{statement.Location}: statement overlaps the previous one, is empty or is not trimmed.");
                }

                Array.Fill(covered, true, statement.Start, statement.Length);
                previousEnd = statement.Start + statement.Length;
            }

            foreach (var token in SqlLexer.Tokenize(text, dialect))
            {
                if (token.Kind is SqlTokenKind.LineComment or SqlTokenKind.BlockComment or SqlTokenKind.Terminator or SqlTokenKind.DelimiterDirective)
                {
                    Array.Fill(covered, true, token.Start, token.Length);
                }
            }

            for (var i = 0; i < text.Length; i++)
            {
                if (!covered[i] && !char.IsWhiteSpace(text[i]) && !(i == 0 && text[i] == '\uFEFF'))
                {
                    failures.Add($"{name}: offset {i} ('{text[i]}') is in no statement.");
                    break;
                }
            }
        }

        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("goalert")]
    [InlineData("hatchet")]
    [InlineData("openmeter")]
    [InlineData("kestra")]
    [InlineData("supabase-postgres")]
    public void A_postgres_corpus_statement_split_again_is_one_identical_statement(string project)
    {
        var failures = new List<string>();
        foreach (var (path, text) in FilesOf(project, "postgres"))
        {
            foreach (var statement in SqlSplitter.Split(text, SqlDialect.Postgres, Path.GetFileName(path)).Statements)
            {
                var again = SqlSplitter.Split(statement.Text, SqlDialect.Postgres, "again.sql").Statements;
                if (again.Count != 1 || again[0].Text != statement.Text)
                {
                    failures.Add($"{statement.Location}: re-splitting gives {again.Count} statements.");
                }
            }
        }

        Assert.Empty(failures);
    }

    /// <summary>
    /// goalert's authors wrapped every body that holds semicolons in sql-migrate's StatementBegin/StatementEnd
    /// markers (201 pairs): an oracle written by people, not by this splitter. A block is one statement, except
    /// in notransaction files where some blocks wrap a whole <c>BEGIN; …; COMMIT;</c> transaction; no statement
    /// may straddle a marker either way.
    /// </summary>
    [Fact]
    public void Goalert_statement_begin_end_blocks_hold_one_statement_or_one_whole_transaction()
    {
        var pairs = 0;
        var transactions = 0;
        var failures = new List<string>();
        foreach (var (path, text) in FilesOf("goalert", "postgres"))
        {
            var name = Path.GetFileName(path);
            var lines = text.Split('\n');
            var statements = SqlSplitter.Split(text, SqlDialect.Postgres, name).Statements;
            var spans = statements.Select(s => (First: s.Location.Line, Last: 1 + text.AsSpan(0, s.Start + s.Length).Count('\n'), s.Text)).ToList();
            var begin = 0;
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line == "-- +migrate StatementBegin")
                {
                    begin = i + 1;
                }
                else if (line == "-- +migrate StatementEnd")
                {
                    pairs++;
                    var end = i + 1;
                    var inside = spans.Where(s => s.First > begin && s.First < end).ToList();
                    if (spans.Any(s => (s.First < begin && s.Last > begin) || (s.First < end && s.Last > end)))
                    {
                        failures.Add($"{name}:{begin}: a statement straddles a StatementBegin/StatementEnd marker.");
                    }

                    var isTransaction = inside.Count > 1
                        && inside[0].Text.Equals("BEGIN", StringComparison.OrdinalIgnoreCase)
                        && inside[^1].Text.Equals("COMMIT", StringComparison.OrdinalIgnoreCase);
                    if (isTransaction)
                    {
                        transactions++;
                    }
                    else if (inside.Count != 1)
                    {
                        failures.Add($"{name}:{begin}: StatementBegin..StatementEnd holds {inside.Count} statements.");
                    }
                }
            }
        }

        Assert.Equal(201, pairs);
        Assert.Empty(failures);
        Assert.Equal(37, transactions); // grep: 37 StatementBegin lines are followed by "BEGIN;"
    }

    [Fact]
    public void Fineract_delimiter_file_keeps_both_procedures_whole()
    {
        var result = SqlSplitCorpus("V118_7__");

        // Read from the file: 2 ALTERs, 2 procedures (delimiter //), 2 calls, 2 drops, 2 ALTERs.
        Assert.Equal(10, result.Statements.Count);
        var procedures = result.Statements.Where(s => s.Text.StartsWith("CREATE PROCEDURE", StringComparison.Ordinal)).ToList();
        Assert.Equal(["migrate_withdrwal_fees", "migrate_annual_fees"], procedures.Select(p => p.Text["CREATE PROCEDURE ".Length..p.Text.IndexOf('(')]));
        Assert.All(procedures, p => Assert.EndsWith("end loop LOOP1;\nend", p.Text, StringComparison.Ordinal));
        Assert.Equal([30, 146], procedures.Select(p => p.Location.Line));
        Assert.Equal("call migrate_withdrwal_fees()", result.Statements[4].Text);
        Assert.DoesNotContain(result.Statements, s => s.Text.Contains("delimiter", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Fineract_delimiter_inside_a_block_comment_does_not_switch_the_delimiter()
    {
        var result = SqlSplitCorpus("V48__");

        // Read from the file: 1 INSERT, CREATE TABLE, 3 INSERTs, CREATE TABLE, ALTER, (commented-out procedure), ALTER, ALTER, UPDATE.
        Assert.Equal(10, result.Statements.Count);
        var dropColumn = result.Statements[7];
        Assert.Equal("ALTER TABLE `m_client` DROP COLUMN `image_key`", dropColumn.Text);
        Assert.Contains(dropColumn.Tokens, t => t.Kind == SqlTokenKind.BlockComment && dropColumn.TextOf(t).Contains("delimiter #", StringComparison.Ordinal));
        Assert.Equal("UPDATE m_document set storage_type_enum=1", result.Statements[^1].Text);
    }

    [Fact]
    public void Fineract_raw_control_bytes_and_backslash_zero_stay_inside_their_strings()
    {
        var result = SqlSplitCorpus("V3__");

        Assert.Empty(result.Problems);
        Assert.Equal(11, result.Statements.Count);
        var appUser = Assert.Single(result.Statements, s => s.Text.StartsWith("INSERT INTO `m_appuser` ", StringComparison.Ordinal));
        var strings = appUser.Tokens.Where(t => t.Kind == SqlTokenKind.String).Select(t => appUser.TextOf(t).ToString()).ToList();
        Assert.Contains("'\\0'", strings);
        Assert.Contains("'\u0001'", strings);
    }

    [Fact]
    public void Fineract_64_kilobyte_line_is_one_statement()
    {
        var path = Directory.EnumerateFiles(Corpora.Dir("fineract", "mysql"), "V4__*.sql").Single();
        var line24 = File.ReadLines(path).ElementAt(23).TrimEnd();

        var result = SqlSplitCorpus("V4__");

        Assert.True(line24.Length > 64_000);
        Assert.Equal(7, result.Statements.Count);
        var insert = Assert.Single(result.Statements, s => s.Location.Line == 24);
        Assert.Equal(line24[..^1], insert.Text);
    }

    [Fact]
    public void Kestra_mysql_functions_between_delimiter_lines_stay_whole()
    {
        var result = SplitCorpusFile("kestra", "mysql", "V1_1__");

        // 38 = lines ending in ';' outside DELIMITER blocks plus lines ending in '//' inside them, counted with awk.
        Assert.Equal(38, result.Statements.Count);
        var functions = result.Statements.Where(s => s.Text.StartsWith("CREATE FUNCTION", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, functions.Count);
        Assert.All(functions, f => Assert.EndsWith("END", f.Text, StringComparison.Ordinal));
        Assert.Contains("RETURN", functions[0].Text, StringComparison.Ordinal);
        Assert.Equal(6, result.Statements.Count(s => s.Text.StartsWith("CREATE PROCEDURE IF NOT EXISTS `?`()", StringComparison.Ordinal)));
    }

    [Fact]
    public void Kestra_sql_standard_function_body_reads_dollar_digits_as_parameters()
    {
        var result = SplitCorpusFile("kestra", "postgres", "V1_27__");

        var statement = Assert.Single(result.Statements);
        Assert.DoesNotContain(statement.Tokens, t => t.Kind == SqlTokenKind.DollarString);
        Assert.Equal(["$2", "$1", "$2"], statement.Tokens.Where(t => t.Kind == SqlTokenKind.Parameter).Select(t => statement.TextOf(t).ToString()));
        Assert.EndsWith("$2\n))", statement.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Goalert_dollar_quoted_function_bodies_are_single_tokens_inside_one_statement()
    {
        var bodies = 0;
        foreach (var (path, text) in FilesOf("goalert", "postgres"))
        {
            foreach (var statement in SqlSplitter.Split(text, SqlDialect.Postgres, Path.GetFileName(path)).Statements)
            {
                foreach (var token in statement.Tokens.Where(t => t.Kind == SqlTokenKind.DollarString))
                {
                    bodies++;
                    var body = statement.TextOf(token);
                    var tagLength = body[1..].IndexOf('$') + 2;
                    Assert.True(body[..tagLength].SequenceEqual(body[^tagLength..]), $"{statement.Location}: dollar string does not end with its tag.");
                    Assert.InRange(token.Start, statement.Start, statement.Start + statement.Length - token.Length);
                }
            }
        }

        // 73 files have $$ bodies (SOURCE.md); many have several.
        Assert.True(bodies >= 73, $"Only {bodies} dollar-quoted bodies found.");
    }

    private static SqlSplitResult SqlSplitCorpus(string nameStart) => SplitCorpusFile("fineract", "mysql", nameStart);
}
