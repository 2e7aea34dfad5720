using System.Text;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Migrations;

/// <summary>
/// Flyway's own choice of a transaction for a PostgreSQL script (its PostgreSQLParser.detectCanExecuteInTransaction):
/// a statement whose leading words, read outside parentheses and up to ten of them, are
/// <c>CREATE|DROP DATABASE|TABLESPACE|SUBSCRIPTION</c>, <c>ALTER SYSTEM</c>, <c>CREATE|DROP [UNIQUE] INDEX CONCURRENTLY</c>,
/// <c>REINDEX [VERBOSE] SCHEMA|DATABASE|SYSTEM</c>, <c>VACUUM</c> or <c>DISCARD ALL</c> cannot run in a transaction, and
/// neither can <c>ALTER TYPE … ADD VALUE</c> on a server before PostgreSQL 12 (or one whose version Flyway cannot
/// read). A script with any such statement runs without a transaction (a script that mixes both kinds is refused by
/// Flyway unless <c>mixed</c> is on, so one found in a directory ran that way). Note what the list leaves out:
/// <c>REINDEX TABLE|INDEX … CONCURRENTLY</c> stays in Flyway's transaction, where PostgreSQL refuses it.
/// </summary>
internal static partial class FlywayTransactions
{
    /// <summary>Flyway stops looking for a non-transactional statement after this many leading words.</summary>
    private const int DetectionCutoff = 10;

    [GeneratedRegex(@"^(?:(?:CREATE|DROP) (?:DATABASE|TABLESPACE|SUBSCRIPTION)|ALTER SYSTEM|(?:CREATE|DROP)(?: UNIQUE)? INDEX CONCURRENTLY|REINDEX(?: VERBOSE)? (?:SCHEMA|DATABASE|SYSTEM)|VACUUM|DISCARD ALL)$", RegexOptions.CultureInvariant)]
    private static partial Regex NeverInTransaction();

    [GeneratedRegex(@"^ALTER TYPE(?: .*)? ADD VALUE$", RegexOptions.CultureInvariant)]
    private static partial Regex AddEnumValue();

    [GeneratedRegex(@"^REINDEX(?: VERBOSE)? (?:TABLE|INDEX|SCHEMA|DATABASE|SYSTEM) CONCURRENTLY$", RegexOptions.CultureInvariant)]
    private static partial Regex ReindexConcurrently();

    /// <summary>
    /// golang-migrate sends a PostgreSQL file as one query: a file holding a single statement that PostgreSQL refuses
    /// inside a transaction block (Flyway's list, and <c>REINDEX … CONCURRENTLY</c>) runs outside one; with more
    /// statements the query is one implicit transaction, where such a statement fails as it would in Gatekeeper's.
    /// </summary>
    public static bool IsSingleStatementPostgresRefusesInTransaction(string sql, string file)
    {
        var statements = SqlSplitter.Statements(sql, SqlDialect.Postgres, file, new SqlSplitProblems()).Take(2).ToList();
        return statements.Count == 1 && Classify(statements[0], ReindexConcurrently()) == Kind.Never;
    }

    /// <summary>How Flyway would run a PostgreSQL script.</summary>
    /// <returns>Transactional: false when a statement can never run in a transaction; TransactionalFromPostgres: 12 when
    /// only <c>ALTER TYPE … ADD VALUE</c> keeps it out on older servers.</returns>
    public static (bool Transactional, int? TransactionalFromPostgres) Decide(string sql, string file)
    {
        var addsEnumValue = false;
        foreach (var statement in SqlSplitter.Statements(sql, SqlDialect.Postgres, file, new SqlSplitProblems()))
        {
            switch (Classify(statement))
            {
                case Kind.Never:
                    return (false, null);
                case Kind.AddEnumValue:
                    addsEnumValue = true;
                    break;
            }
        }

        return (true, addsEnumValue ? 12 : null);
    }

    private enum Kind
    {
        Any,
        Never,
        AddEnumValue,
    }

    /// <summary>
    /// Whether a statement starting with <paramref name="word"/> can match any pattern here (or <c>REINDEX … CONCURRENTLY</c>):
    /// the first word of all of them. Statements that start otherwise (INSERT, UPDATE, COMMENT, GRANT …) stop at it
    /// instead of building and matching up to ten prefixes. A word with non-ASCII letters goes the long way, where it is
    /// upper-cased exactly as before (ı becomes I).
    /// </summary>
    private static bool MayDecide(ReadOnlySpan<char> word) =>
        !System.Text.Ascii.IsValid(word)
        || word.Equals("CREATE", StringComparison.OrdinalIgnoreCase) || word.Equals("DROP", StringComparison.OrdinalIgnoreCase)
        || word.Equals("ALTER", StringComparison.OrdinalIgnoreCase) || word.Equals("REINDEX", StringComparison.OrdinalIgnoreCase)
        || word.Equals("VACUUM", StringComparison.OrdinalIgnoreCase) || word.Equals("DISCARD", StringComparison.OrdinalIgnoreCase);

    /// <summary>Grows the statement's leading words one at a time, as Flyway does, and stops at the first that decides.</summary>
    private static Kind Classify(SqlStatement statement, Regex? alsoNever = null)
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

            if (++count > DetectionCutoff)
            {
                return Kind.Any;
            }

            if (count == 1 && !MayDecide(statement.TextOf(token)))
            {
                // Every pattern starts with one of these words, so no longer run of words can match either.
                return Kind.Any;
            }

            if (words.Length > 0)
            {
                words.Append(' ');
            }

            words.Append(statement.TextOf(token).ToString().ToUpperInvariant());
            var text = words.ToString();
            if (NeverInTransaction().IsMatch(text) || alsoNever?.IsMatch(text) == true)
            {
                return Kind.Never;
            }

            if (AddEnumValue().IsMatch(text))
            {
                return Kind.AddEnumValue;
            }
        }

        return Kind.Any;
    }
}
