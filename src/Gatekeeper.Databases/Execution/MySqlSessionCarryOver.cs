using Gatekeeper.Core.Sql;

namespace Gatekeeper.Databases.Execution;

/// <summary>What applying a migration file may leave on the session that ran it, for the file after it.</summary>
internal enum SessionFootprint
{
    /// <summary>It may change the session's state, or nothing shows it cannot: the next file gets a reset session.</summary>
    Unknown,

    /// <summary>DDL on named tables only: nothing of it stays with the session.</summary>
    None,

    /// <summary>
    /// Also plain INSERT, REPLACE, UPDATE or DELETE calling only built-in functions: nothing stays with the session unless
    /// a trigger (or a stored function a view calls) runs inside them, which the caller rules out on the server.
    /// </summary>
    DataChanges,
}

/// <summary>
/// MySQL/MariaDB: whether a file's session may apply the next file as it is, without the pool's COM_RESET_CONNECTION and
/// SET NAMES (a round trip and two commands per file). Both sides are a conservative reading of the file's tokens: a
/// file that might change anything a reset undoes (a SET, USE, a user or system variable, a temporary table, LOCK,
/// PREPARE, CALL, a transaction of its own, HANDLER, GET_LOCK, a sequence, any function that is not a pure built-in) is
/// <see cref="SessionFootprint.Unknown"/>, and a file that might read what an earlier one left (its own lock timeout,
/// a variable, LAST_INSERT_ID, a sequence's last value, diagnostics) takes a reset session.
/// </summary>
/// <remarks>
/// What a carried session still holds from the file before is Gatekeeper's own: <c>@gatekeeper_started</c> and the lock
/// timeout, both set again by the next file's first statement, and the insert id of the file's INSERTs, which that
/// statement sets back to 0 as a reset does (<c>last_insert_id = 0</c>, which also keeps <c>sql_auto_is_null</c> from
/// finding the previous file's row).
/// </remarks>
internal static class MySqlSessionCarryOver
{
    public static SessionFootprint FootprintOf(MigrationScript script)
    {
        var footprint = SessionFootprint.None;
        foreach (var statement in script.Statements)
        {
            switch (FootprintOf(statement.Statement))
            {
                case SessionFootprint.Unknown:
                    return SessionFootprint.Unknown;
                case SessionFootprint.DataChanges:
                    footprint = SessionFootprint.DataChanges;
                    break;
                default:
                    break;
            }
        }

        return footprint;
    }

    /// <summary>Whether the file may run on the session the file before it left, as far as the file itself goes.</summary>
    public static bool TakesCarriedSession(MigrationScript script)
    {
        if (script.SetsOwnLockTimeout)
        {
            // It must see the server's lock timeout until its own SET, not Gatekeeper's from the file before.
            return false;
        }

        foreach (var statement in script.Statements)
        {
            var sql = statement.Statement;
            foreach (var token in sql.Tokens)
            {
                if (token.Kind is SqlTokenKind.Parameter or SqlTokenKind.ExecutableComment or SqlTokenKind.DelimiterDirective
                    || (token.Kind == SqlTokenKind.Word && Is(ReadsLeftovers, sql, token)))
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Whether the file may create a trigger, stored function or view (or run a routine or dynamic SQL that could): a
    /// later file's plain DML could then run code that changes the session, so the server is asked again.
    /// </summary>
    public static bool MayCreateServerCode(MigrationScript script)
    {
        foreach (var statement in script.Statements)
        {
            var sql = statement.Statement;
            foreach (var token in sql.Tokens)
            {
                if (token.Kind is SqlTokenKind.ExecutableComment or SqlTokenKind.DelimiterDirective
                    || (token.Kind == SqlTokenKind.Word && Is(CreatesCode, sql, token)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static SessionFootprint FootprintOf(SqlStatement statement)
    {
        var words = new List<string>(8);
        foreach (var token in statement.Tokens)
        {
            switch (token.Kind)
            {
                case SqlTokenKind.LineComment or SqlTokenKind.BlockComment:
                    continue;
                case SqlTokenKind.Parameter or SqlTokenKind.ExecutableComment or SqlTokenKind.DelimiterDirective or SqlTokenKind.DollarString:
                    // A variable (@x, @@x), a comment the server runs, a client directive: nothing to reason about.
                    return SessionFootprint.Unknown;
                case SqlTokenKind.Word when Is(Stateful, statement, token):
                    return SessionFootprint.Unknown;
                case SqlTokenKind.Word when words.Count < 3:
                    words.Add(Upper(statement, token));
                    break;
                default:
                    break;
            }
        }

        var first = words.Count > 0 ? words[0] : string.Empty;
        var second = words.Count > 1 ? words[1] : string.Empty;
        var third = words.Count > 2 ? words[2] : string.Empty;
        return first switch
        {
            // CREATE TABLE … SELECT runs a query; CREATE TEMPORARY TABLE, OR REPLACE, VIEW, TRIGGER, routines: never.
            "CREATE" when (second == "TABLE" && !HasWord(statement, "SELECT"))
                || second == "INDEX"
                || (second is "UNIQUE" or "FULLTEXT" or "SPATIAL" && third == "INDEX") => SessionFootprint.None,
            "ALTER" when second == "TABLE" => SessionFootprint.None,
            "DROP" when second is "TABLE" or "INDEX" => SessionFootprint.None,
            "RENAME" when second == "TABLE" => SessionFootprint.None,
            "TRUNCATE" => SessionFootprint.None,
            "INSERT" or "REPLACE" or "UPDATE" or "DELETE" when CallsOnlyBuiltIns(statement) => SessionFootprint.DataChanges,
            _ => SessionFootprint.Unknown,
        };
    }

    /// <summary>
    /// Every <c>name(</c> in a DML statement is a keyword, a type, a pure built-in function or the target table's column
    /// list, and no table or function is named in another database (whose triggers and functions are not checked).
    /// </summary>
    private static bool CallsOnlyBuiltIns(SqlStatement statement)
    {
        var tokens = statement.Tokens;
        SqlToken? previous = null, beforePrevious = null;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token.Kind is SqlTokenKind.LineComment or SqlTokenKind.BlockComment)
            {
                continue;
            }

            if (token.Kind == SqlTokenKind.Operator && statement.TextOf(token) is ".")
            {
                // db.table after INTO, UPDATE, FROM, JOIN: another database's triggers could run.
                if (beforePrevious is { Kind: SqlTokenKind.Word } keyword && Is(TableKeywords, statement, keyword))
                {
                    return false;
                }
            }

            if (token.Kind == SqlTokenKind.OpenParen && previous is { } name && name.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
            {
                var targetTable = beforePrevious is { Kind: SqlTokenKind.Word } before && Is(TargetKeywords, statement, before);
                var known = name.Kind == SqlTokenKind.Word && (Is(NotCalls, statement, name) || Is(PureBuiltIns, statement, name));
                if (!targetTable && !known)
                {
                    return false;
                }

                if (beforePrevious is { Kind: SqlTokenKind.Operator } dot && statement.TextOf(dot) is ".")
                {
                    // db.function(…)
                    return false;
                }
            }

            beforePrevious = previous;
            previous = token;
        }

        return true;
    }

    private static bool HasWord(SqlStatement statement, string word)
    {
        foreach (var token in statement.Tokens)
        {
            if (token.Kind == SqlTokenKind.Word && statement.TextOf(token).Equals(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static string Upper(SqlStatement statement, SqlToken token) => statement.TextOf(token).ToString().ToUpperInvariant();

    // Looked up by the token's text in place: every file is read three times, most of its words by several sets.
    private static bool Is(HashSet<string> words, SqlStatement statement, SqlToken token) =>
        words.GetAlternateLookup<ReadOnlySpan<char>>().Contains(statement.TextOf(token));

    // Words whose presence anywhere means the statement may touch session state (sequences, found rows, locks).
    private static readonly HashSet<string> Stateful = new(StringComparer.OrdinalIgnoreCase)
    {
        "TEMPORARY", "NEXTVAL", "SETVAL", "LASTVAL", "PREVVAL", "NEXT", "PREVIOUS", "SQL_CALC_FOUND_ROWS", "LOCK", "UNLOCK",
        "GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS", "LAST_INSERT_ID", "HANDLER", "PREPARE", "EXECUTE", "CALL", "USE", "XA",
    };

    // Words of the statements that create code the server runs inside DML, or that run code which could.
    private static readonly HashSet<string> CreatesCode = new(StringComparer.OrdinalIgnoreCase)
    {
        "TRIGGER", "FUNCTION", "VIEW", "PROCEDURE", "CALL", "EXECUTE", "PREPARE", "EVENT", "SONAME",
    };

    // Words in a file that reads what the session holds from an earlier statement.
    private static readonly HashSet<string> ReadsLeftovers = new(StringComparer.OrdinalIgnoreCase)
    {
        "LAST_INSERT_ID", "LASTVAL", "PREVVAL", "PREVIOUS", "FOUND_ROWS", "ROW_COUNT", "SHOW", "DIAGNOSTICS",
    };

    // The word before a table that may be named with its database.
    private static readonly HashSet<string> TableKeywords = new(StringComparer.OrdinalIgnoreCase) { "INTO", "UPDATE", "FROM", "JOIN", "INSERT", "REPLACE", "TABLE" };

    // The word before the table whose column list follows it: INSERT INTO t (a, b).
    private static readonly HashSet<string> TargetKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "INTO", "INSERT", "REPLACE", "IGNORE", "LOW_PRIORITY", "HIGH_PRIORITY", "DELAYED",
    };

    // Keywords and type names that a parenthesis follows without a call.
    private static readonly HashSet<string> NotCalls = new(StringComparer.OrdinalIgnoreCase)
    {
        "VALUES", "VALUE", "IN", "EXISTS", "AND", "OR", "NOT", "XOR", "ON", "AS", "SELECT", "WHERE", "FROM", "JOIN", "HAVING",
        "WHEN", "THEN", "ELSE", "IS", "ALL", "ANY", "SOME", "UNION", "SET", "BY", "USING", "BETWEEN", "LIKE", "LIMIT",
        "DISTINCT", "INTERVAL", "CASE", "ROW", "PARTITION", "KEY", "UPDATE", "DUPLICATE", "CHAR", "VARCHAR", "NCHAR",
        "BINARY", "DECIMAL", "DATETIME", "TIME", "DOUBLE", "FLOAT", "INT", "INTEGER", "SIGNED", "UNSIGNED",
    };

    // Built-in functions that read only their arguments, the clock or the catalog and change nothing on the session
    // (not RAND, whose sequence is the session's, nor LAST_INSERT_ID, GET_LOCK, SLEEP, sequences or user functions).
    private static readonly HashSet<string> PureBuiltIns = new(StringComparer.OrdinalIgnoreCase)
    {
        "NOW", "CURDATE", "CURTIME", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP",
        "LOCALTIME", "LOCALTIMESTAMP", "SYSDATE", "DATE", "TIMESTAMP", "YEAR", "MONTH", "DAY", "DAYOFMONTH", "DAYOFWEEK",
        "DAYOFYEAR", "WEEKDAY", "WEEK", "HOUR", "MINUTE", "SECOND", "DATE_ADD", "DATE_SUB", "ADDDATE", "SUBDATE", "DATEDIFF",
        "TIMESTAMPDIFF", "TIMESTAMPADD", "STR_TO_DATE", "DATE_FORMAT", "FROM_UNIXTIME", "UNIX_TIMESTAMP", "LAST_DAY",
        "MAKEDATE", "EXTRACT", "IFNULL", "COALESCE", "NULLIF", "IF", "ISNULL", "CONCAT", "CONCAT_WS", "SUBSTRING", "SUBSTR",
        "SUBSTRING_INDEX", "MID", "REPLACE", "UPPER", "LOWER", "UCASE", "LCASE", "TRIM", "LTRIM", "RTRIM", "LENGTH",
        "CHAR_LENGTH", "CHARACTER_LENGTH", "OCTET_LENGTH", "LEFT", "RIGHT", "LPAD", "RPAD", "LOCATE", "INSTR", "POSITION",
        "REPEAT", "REVERSE", "SPACE", "FIELD", "FIND_IN_SET", "ELT", "FORMAT", "CAST", "CONVERT", "ABS", "ROUND", "TRUNCATE",
        "FLOOR", "CEIL", "CEILING", "MOD", "POW", "POWER", "SQRT", "SIGN", "GREATEST", "LEAST", "SUM", "MAX", "MIN", "COUNT",
        "AVG", "GROUP_CONCAT", "MD5", "SHA1", "SHA", "SHA2", "HEX", "UNHEX", "UUID", "TO_BASE64", "FROM_BASE64", "ASCII",
        "ORD", "BIN", "OCT", "CONV", "DATABASE", "SCHEMA", "JSON_OBJECT", "JSON_ARRAY", "JSON_EXTRACT", "JSON_UNQUOTE",
        "JSON_SET", "JSON_VALUE",
    };
}
