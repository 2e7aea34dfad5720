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
internal static class FlywayTransactions
{
    /// <summary>Flyway stops looking for a non-transactional statement after this many leading words.</summary>
    private const int DetectionCutoff = 10;

    /// <summary>
    /// golang-migrate sends a PostgreSQL file as one query: a file holding a single statement that PostgreSQL refuses
    /// inside a transaction block (Flyway's list, and <c>REINDEX … CONCURRENTLY</c>) runs outside one; with more
    /// statements the query is one implicit transaction, where such a statement fails as it would in Gatekeeper's.
    /// </summary>
    public static bool IsSingleStatementPostgresRefusesInTransaction(string sql, string file)
    {
        var reader = new SqlTokenReader(sql, SqlDialect.Postgres, file);
        var words = new LeadingWords(reindexConcurrently: true);
        var statements = 0;
        var inStatement = false;
        var first = Kind.Any;
        while (reader.Read(out var token))
        {
            switch (token.Kind)
            {
                case SqlTokenKind.Terminator:
                    inStatement = false;
                    continue;
                case SqlTokenKind.LineComment or SqlTokenKind.BlockComment:
                    continue;
            }

            if (!inStatement)
            {
                // A statement is cut where its first code token is (comments and empty statements make none).
                inStatement = true;
                if (++statements > 1)
                {
                    return false;
                }
            }

            if (words.Add(token, sql) is { } decided)
            {
                first = decided;
            }
        }

        return statements == 1 && first == Kind.Never;
    }

    /// <summary>How Flyway would run a PostgreSQL script.</summary>
    /// <returns>Transactional: false when a statement can never run in a transaction; TransactionalFromPostgres: 12 when
    /// only <c>ALTER TYPE … ADD VALUE</c> keeps it out on older servers.</returns>
    /// <remarks>
    /// One pass of the lexer, each statement's leading words compared as they come: this runs on every Flyway file
    /// before the linter or the runner reads it, and cutting statements and matching grown prefixes of words with
    /// regular expressions cost 13 % of a 10 MB file's lint (and 28 % of what it allocated).
    /// </remarks>
    public static (bool Transactional, int? TransactionalFromPostgres) Decide(string sql, string file)
    {
        var reader = new SqlTokenReader(sql, SqlDialect.Postgres, file);
        var words = new LeadingWords(reindexConcurrently: false);
        var addsEnumValue = false;
        while (reader.Read(out var token))
        {
            if (token.Kind == SqlTokenKind.Terminator)
            {
                words = new LeadingWords(reindexConcurrently: false);
                continue;
            }

            switch (words.Add(token, sql))
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

    internal enum Kind
    {
        Any,
        Never,
        AddEnumValue,
    }

    /// <summary>The words Flyway's patterns are made of; every other word is <see cref="Other"/>.</summary>
    private enum Keyword : byte
    {
        Other,
        Create,
        Drop,
        Alter,
        Reindex,
        Vacuum,
        Discard,
        Database,
        Tablespace,
        Subscription,
        System,
        Unique,
        Index,
        Concurrently,
        Verbose,
        Schema,
        All,
        Type,
        Add,
        Value,
        Table,
    }

    /// <summary>
    /// One statement's leading words (outside parentheses, at most ten), matched as Flyway matches them: after each
    /// word, the words so far, upper-cased and joined by spaces, are tried against its patterns
    /// <c>(CREATE|DROP) (DATABASE|TABLESPACE|SUBSCRIPTION)</c>, <c>ALTER SYSTEM</c>,
    /// <c>(CREATE|DROP)( UNIQUE)? INDEX CONCURRENTLY</c>, <c>REINDEX( VERBOSE)? (SCHEMA|DATABASE|SYSTEM)</c>,
    /// <c>VACUUM</c>, <c>DISCARD ALL</c> (never in a transaction), then <c>ALTER TYPE( .*)? ADD VALUE</c> (before
    /// PostgreSQL 12). Each pattern is anchored at both ends and words hold no spaces, so a pattern matches exactly
    /// when the words in its positions are its keywords: the first four words and the last two are all it needs.
    /// </summary>
    private struct LeadingWords(bool reindexConcurrently)
    {
        // The longest keyword; a longer word cannot be one (upper-casing keeps a word's length).
        private const int LongestKeyword = 12;

        private int count;
        private int depth;
        private bool decided;
        private Keyword first, second, third, fourth, previous;

        /// <summary>Takes the statement's next token; returns what the words so far decide, once, or null.</summary>
        public Kind? Add(SqlToken token, string source)
        {
            if (decided)
            {
                return null;
            }

            switch (token.Kind)
            {
                case SqlTokenKind.OpenParen:
                    depth++;
                    return null;
                case SqlTokenKind.CloseParen:
                    depth = Math.Max(0, depth - 1);
                    return null;
                case SqlTokenKind.Word when depth == 0:
                    break;
                default:
                    return null;
            }

            if (++count > DetectionCutoff)
            {
                return Decided(Kind.Any);
            }

            var word = KeywordOf(source.AsSpan(token.Start, token.Length));
            switch (count)
            {
                case 1:
                    if (word is not (Keyword.Create or Keyword.Drop or Keyword.Alter or Keyword.Reindex or Keyword.Vacuum or Keyword.Discard))
                    {
                        // Every pattern starts with one of these words, so no longer run of words can match either.
                        return Decided(Kind.Any);
                    }

                    first = word;
                    break;
                case 2:
                    second = word;
                    break;
                case 3:
                    third = word;
                    break;
                case 4:
                    fourth = word;
                    break;
            }

            var last = word;
            var kind = NeverInTransaction() || (reindexConcurrently && ReindexConcurrently()) ? Kind.Never
                : count >= 4 && first == Keyword.Alter && second == Keyword.Type && previous == Keyword.Add && last == Keyword.Value ? Kind.AddEnumValue
                : (Kind?)null;
            previous = last;
            return kind is { } found ? Decided(found) : null;
        }

        private Kind Decided(Kind kind)
        {
            decided = true;
            return kind;
        }

        private readonly bool NeverInTransaction() => count switch
        {
            1 => first == Keyword.Vacuum,
            2 => (first is Keyword.Create or Keyword.Drop && second is Keyword.Database or Keyword.Tablespace or Keyword.Subscription)
                 || (first == Keyword.Alter && second == Keyword.System)
                 || (first == Keyword.Reindex && second is Keyword.Schema or Keyword.Database or Keyword.System)
                 || (first == Keyword.Discard && second == Keyword.All),
            3 => (first is Keyword.Create or Keyword.Drop && second == Keyword.Index && third == Keyword.Concurrently)
                 || (first == Keyword.Reindex && second == Keyword.Verbose && third is Keyword.Schema or Keyword.Database or Keyword.System),
            4 => first is Keyword.Create or Keyword.Drop && second == Keyword.Unique && third == Keyword.Index && fourth == Keyword.Concurrently,
            _ => false,
        };

        /// <summary><c>REINDEX( VERBOSE)? (TABLE|INDEX|SCHEMA|DATABASE|SYSTEM) CONCURRENTLY</c>, which PostgreSQL refuses in a transaction block.</summary>
        private readonly bool ReindexConcurrently() => first == Keyword.Reindex && count switch
        {
            3 => IsReindexTarget(second) && third == Keyword.Concurrently,
            4 => second == Keyword.Verbose && IsReindexTarget(third) && fourth == Keyword.Concurrently,
            _ => false,
        };

        private static bool IsReindexTarget(Keyword word) => word is Keyword.Table or Keyword.Index or Keyword.Schema or Keyword.Database or Keyword.System;

        /// <summary>The keyword a word upper-cases to (invariant culture, as Flyway's patterns were matched: ı becomes I).</summary>
        private static Keyword KeywordOf(ReadOnlySpan<char> word)
        {
            if (word.Length > LongestKeyword)
            {
                return Keyword.Other;
            }

            Span<char> upper = stackalloc char[LongestKeyword];
            upper = upper[..word.Length];
            for (var i = 0; i < word.Length; i++)
            {
                var c = word[i];
                if (c >= 0x80)
                {
                    // Invariant-globalization ToUpperInvariant goes char by char through its full casing table (1.6 % of
                    // the whole `gatekeeper lint` of a 10 MB file); ASCII, nearly every word, is upper-cased here instead.
                    upper = upper[..word.ToUpperInvariant(upper)];
                    break;
                }

                upper[i] = (uint)(c - 'a') <= 'z' - 'a' ? (char)(c & ~0x20) : c;
            }

            return upper switch
            {
                "CREATE" => Keyword.Create,
                "DROP" => Keyword.Drop,
                "ALTER" => Keyword.Alter,
                "REINDEX" => Keyword.Reindex,
                "VACUUM" => Keyword.Vacuum,
                "DISCARD" => Keyword.Discard,
                "DATABASE" => Keyword.Database,
                "TABLESPACE" => Keyword.Tablespace,
                "SUBSCRIPTION" => Keyword.Subscription,
                "SYSTEM" => Keyword.System,
                "UNIQUE" => Keyword.Unique,
                "INDEX" => Keyword.Index,
                "CONCURRENTLY" => Keyword.Concurrently,
                "VERBOSE" => Keyword.Verbose,
                "SCHEMA" => Keyword.Schema,
                "ALL" => Keyword.All,
                "TYPE" => Keyword.Type,
                "ADD" => Keyword.Add,
                "VALUE" => Keyword.Value,
                "TABLE" => Keyword.Table,
                _ => Keyword.Other,
            };
        }
    }
}
