using System.Text;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Migrations;

/// <summary>
/// Flyway's detection (PostgreSQLParser.detectCanExecuteInTransaction) matches regular expressions against the grown,
/// upper-cased run of a statement's leading words; Gatekeeper compares the words one by one instead. These tests hold
/// Flyway's patterns as written and check that both read every short run of the words they are made of alike.
/// </summary>
public sealed partial class FlywayTransactionsTests
{
    [GeneratedRegex(@"^(?:(?:CREATE|DROP) (?:DATABASE|TABLESPACE|SUBSCRIPTION)|ALTER SYSTEM|(?:CREATE|DROP)(?: UNIQUE)? INDEX CONCURRENTLY|REINDEX(?: VERBOSE)? (?:SCHEMA|DATABASE|SYSTEM)|VACUUM|DISCARD ALL)$", RegexOptions.CultureInvariant)]
    private static partial Regex NeverInTransaction();

    [GeneratedRegex(@"^ALTER TYPE(?: .*)? ADD VALUE$", RegexOptions.CultureInvariant)]
    private static partial Regex AddEnumValue();

    [GeneratedRegex(@"^REINDEX(?: VERBOSE)? (?:TABLE|INDEX|SCHEMA|DATABASE|SYSTEM) CONCURRENTLY$", RegexOptions.CultureInvariant)]
    private static partial Regex ReindexConcurrently();

    // Every keyword of the patterns, in mixed case, a plain word and a word that upper-cases to a keyword (ı is I).
    private static readonly string[] Vocabulary =
    [
        "create", "DROP", "Alter", "REINDEX", "vacuum", "DISCARD", "database", "TABLESPACE", "subscription", "SYSTEM",
        "unique", "INDEX", "concurrently", "VERBOSE", "schema", "ALL", "type", "ADD", "value", "TABLE", "x", "ındex",
    ];

    [Fact]
    public void Every_run_of_up_to_four_pattern_words_is_read_as_flyways_regular_expressions_read_it()
    {
        var mismatches = new List<string>();
        foreach (var words in Runs(4))
        {
            Check(string.Join(' ', words) + ";", mismatches);
        }

        Assert.Empty(mismatches);
    }

    [Theory]
    [InlineData("ALTER TYPE mood ADD VALUE 'x';")]
    [InlineData("ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'x';")]
    [InlineData("alter type a b c d e add value;")]
    [InlineData("ALTER TYPE (x) ADD VALUE;")]
    [InlineData("ALTER TYPE a ADD VALUE b ADD VALUE;")]
    [InlineData("alter type a b c d e f g h add value;")]
    [InlineData("alter type a b c d e f g h i add value;")]
    [InlineData("CREATE (UNIQUE) INDEX CONCURRENTLY i ON t (a);")]
    [InlineData("REINDEX (VERBOSE) TABLE CONCURRENTLY t;")]
    [InlineData("select 1; VACUUM; ALTER TYPE m ADD VALUE 'a';")]
    [InlineData("ALTER TYPE m ADD VALUE 'a'; select 1;")]
    [InlineData("CREATE INDEX CONCURRENTLY i ON t (a)) ;")]
    [InlineData("DROP /* c */ INDEX -- c\n CONCURRENTLY i;")]
    [InlineData(";; VACUUM")]
    [InlineData("-- only a comment")]
    [InlineData("")]
    public void Statements_with_comments_parentheses_and_long_word_runs_are_read_as_flyways_regular_expressions_read_them(string sql)
    {
        var mismatches = new List<string>();
        Check(sql, mismatches);
        Assert.Empty(mismatches);
    }

    private static void Check(string sql, List<string> mismatches)
    {
        var expected = ExpectedDecision(sql);
        var actual = FlywayTransactions.Decide(sql, "V1__x.sql");
        if (expected != actual)
        {
            mismatches.Add($"{sql}: Flyway's expressions {expected}, Gatekeeper {actual}");
        }

        var expectedSingle = ExpectedSingleStatementRefused(sql);
        var actualSingle = FlywayTransactions.IsSingleStatementPostgresRefusesInTransaction(sql, "1_x.up.sql");
        if (expectedSingle != actualSingle)
        {
            mismatches.Add($"{sql}: lone statement refused in a transaction by the expressions {expectedSingle}, Gatekeeper {actualSingle}");
        }
    }

    private static IEnumerable<string[]> Runs(int longest)
    {
        var runs = new List<string[]> { Array.Empty<string>() };
        for (var length = 1; length <= longest; length++)
        {
            runs = [.. runs.Where(r => r.Length == length - 1).SelectMany(r => Vocabulary.Select(w => (string[])[.. r, w]))];
            foreach (var run in runs)
            {
                yield return run;
            }
        }
    }

    private static (bool, int?) ExpectedDecision(string sql)
    {
        var addsEnumValue = false;
        foreach (var statement in SqlSplitter.Split(sql, SqlDialect.Postgres, "V1__x.sql").Statements)
        {
            switch (Classify(statement, null))
            {
                case 1:
                    return (false, null);
                case 2:
                    addsEnumValue = true;
                    break;
            }
        }

        return (true, addsEnumValue ? 12 : null);
    }

    private static bool ExpectedSingleStatementRefused(string sql)
    {
        var statements = SqlSplitter.Split(sql, SqlDialect.Postgres, "1_x.up.sql").Statements;
        return statements.Count == 1 && Classify(statements[0], ReindexConcurrently()) == 1;
    }

    /// <summary>Flyway's way: grow the leading words (outside parentheses, at most ten) and match after each. 1 never, 2 add enum value, 0 any.</summary>
    private static int Classify(SqlStatement statement, Regex? alsoNever)
    {
        var words = new StringBuilder();
        var count = 0;
        var depth = 0;
        foreach (var token in statement.Tokens)
        {
            switch (token.Kind)
            {
                case SqlTokenKind.OpenParen:
                    depth++;
                    continue;
                case SqlTokenKind.CloseParen:
                    depth = Math.Max(0, depth - 1);
                    continue;
                case SqlTokenKind.Word when depth == 0:
                    break;
                default:
                    continue;
            }

            if (++count > 10)
            {
                return 0;
            }

            if (words.Length > 0)
            {
                words.Append(' ');
            }

            words.Append(statement.TextOf(token).ToString().ToUpperInvariant());
            var text = words.ToString();
            if (NeverInTransaction().IsMatch(text) || alsoNever?.IsMatch(text) == true)
            {
                return 1;
            }

            if (AddEnumValue().IsMatch(text))
            {
                return 2;
            }
        }

        return 0;
    }
}
