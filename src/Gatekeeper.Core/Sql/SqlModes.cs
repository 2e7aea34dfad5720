namespace Gatekeeper.Core.Sql;

/// <summary>
/// The parts of a MySQL/MariaDB session's <c>sql_mode</c> that change how its text is read (which quote ends a string,
/// whether a quoted name is a string): the lexer must read a file as the server that runs it will. None is the stock
/// mode, and PostgreSQL's only one. Two bits at most: <see cref="SqlStatement"/> keeps them beside its length.
/// </summary>
[Flags]
public enum SqlModes
{
    None = 0,

    /// <summary><c>NO_BACKSLASH_ESCAPES</c>: a backslash in a string is an ordinary character (<c>'C:\'</c> is closed).</summary>
    NoBackslashEscapes = 1,

    /// <summary><c>ANSI_QUOTES</c> (also set by <c>ANSI</c> and MariaDB's <c>DB2</c>, <c>MAXDB</c>, <c>MSSQL</c>, <c>ORACLE</c>, <c>POSTGRESQL</c>): <c>"…"</c> is a name, not a string.</summary>
    AnsiQuotes = 2,
}

/// <summary>Reads <see cref="SqlModes"/> from the text of a <c>sql_mode</c> value.</summary>
public static class SqlModeText
{
    /// <summary>
    /// The lexical modes in a comma-separated <c>sql_mode</c> value (<c>@@SESSION.sql_mode</c>, a <c>SET sql_mode = '…'</c>,
    /// <c>--sql-mode</c>), case-insensitive. Combination modes count for what they set: <c>ANSI</c> (MySQL and MariaDB),
    /// and MariaDB's <c>DB2</c>, <c>MAXDB</c>, <c>MSSQL</c>, <c>ORACLE</c>, <c>POSTGRESQL</c> (MySQL 5.7 had them too;
    /// 8.0 refuses them), all of which include <c>ANSI_QUOTES</c>. Other names change nothing of how text is read.
    /// </summary>
    public static SqlModes Parse(ReadOnlySpan<char> sqlMode)
    {
        var modes = SqlModes.None;
        foreach (var range in sqlMode.Split(','))
        {
            var name = sqlMode[range].Trim();
            if (name.Equals("NO_BACKSLASH_ESCAPES", StringComparison.OrdinalIgnoreCase))
            {
                modes |= SqlModes.NoBackslashEscapes;
            }
            else if (name.Equals("ANSI_QUOTES", StringComparison.OrdinalIgnoreCase) || name.Equals("ANSI", StringComparison.OrdinalIgnoreCase) ||
                     name.Equals("DB2", StringComparison.OrdinalIgnoreCase) || name.Equals("MAXDB", StringComparison.OrdinalIgnoreCase) ||
                     name.Equals("MSSQL", StringComparison.OrdinalIgnoreCase) || name.Equals("ORACLE", StringComparison.OrdinalIgnoreCase) ||
                     name.Equals("POSTGRESQL", StringComparison.OrdinalIgnoreCase))
            {
                modes |= SqlModes.AnsiQuotes;
            }
        }

        return modes;
    }

    // Every sql_mode name MySQL 8.0/8.4 or MariaDB 10.x/11.x accepts (and MySQL 5.7's, which MariaDB kept).
    private static readonly HashSet<string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        "ALLOW_INVALID_DATES", "ANSI_QUOTES", "ERROR_FOR_DIVISION_BY_ZERO", "HIGH_NOT_PRECEDENCE", "IGNORE_BAD_TABLE_OPTIONS", "IGNORE_SPACE",
        "NO_AUTO_CREATE_USER", "NO_AUTO_VALUE_ON_ZERO", "NO_BACKSLASH_ESCAPES", "NO_DIR_IN_CREATE", "NO_ENGINE_SUBSTITUTION", "NO_FIELD_OPTIONS",
        "NO_KEY_OPTIONS", "NO_TABLE_OPTIONS", "NO_UNSIGNED_SUBTRACTION", "NO_ZERO_DATE", "NO_ZERO_IN_DATE", "ONLY_FULL_GROUP_BY",
        "PAD_CHAR_TO_FULL_LENGTH", "PIPES_AS_CONCAT", "REAL_AS_FLOAT", "STRICT_ALL_TABLES", "STRICT_TRANS_TABLES", "TIME_TRUNCATE_FRACTIONAL",
        "SIMULTANEOUS_ASSIGNMENT", "EMPTY_STRING_IS_NULL", "TIME_ROUND_FRACTIONAL", "EXTENDED_ALIASES", "MYSQL323", "MYSQL40",
        "ANSI", "TRADITIONAL", "DB2", "MAXDB", "MSSQL", "ORACLE", "POSTGRESQL",
    };

    /// <summary>The first name in <paramref name="sqlMode"/> that no MySQL or MariaDB server knows (a typo); null when all are known.</summary>
    public static string? UnknownName(string sqlMode)
    {
        ArgumentNullException.ThrowIfNull(sqlMode);
        foreach (var name in sqlMode.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Names.Contains(name))
            {
                return name;
            }
        }

        return null;
    }
}

/// <summary>What a MySQL <c>SET</c> statement does to the session's <see cref="SqlModes"/>.</summary>
internal static class SqlModeAssignment
{
    /// <summary>
    /// The modes after <paramref name="set"/> (a statement from its <c>SET</c> keyword, without terminator) has run in
    /// <paramref name="current"/>: what its last assignment of the session's <c>sql_mode</c> (<c>sql_mode</c>,
    /// <c>SESSION sql_mode</c>, <c>LOCAL sql_mode</c>, <c>@@sql_mode</c>, <c>@@SESSION.sql_mode</c>) sets, given as a string
    /// literal, or <c>DEFAULT</c> (read as <paramref name="initial"/>, the modes a session starts with); null when it
    /// assigns none, or only an expression (<c>CONCAT(@@sql_mode, …)</c>, <c>@OLD_SQL_MODE</c>) that cannot be known
    /// without running it: then the reading goes on as before. <c>GLOBAL</c>/<c>PERSIST</c> change only later sessions,
    /// and <c>SET STATEMENT … FOR</c> only its own statement, which the server has already read.
    /// </summary>
    public static SqlModes? After(ReadOnlySpan<char> set, SqlModes current, SqlModes initial)
    {
        var text = set.ToString();
        var reader = new SqlTokenReader(text, SqlDialect.MySql, modes: current);
        var tokens = new List<SqlToken>();
        while (reader.Read(out var token))
        {
            if (token.Kind is not (SqlTokenKind.LineComment or SqlTokenKind.BlockComment))
            {
                tokens.Add(token);
            }
        }

        if (tokens.Count < 2 || !Is(text, tokens[0], "set") || Is(text, tokens[1], "statement"))
        {
            return null;
        }

        SqlModes? result = null;
        var i = 1;
        while (i < tokens.Count)
        {
            // [GLOBAL | SESSION | LOCAL | PERSIST | PERSIST_ONLY] name, or @@[scope.]name, then = or :=.
            var session = true;
            if (tokens[i].Kind == SqlTokenKind.Word && (Is(text, tokens[i], "global") || Is(text, tokens[i], "persist") || Is(text, tokens[i], "persist_only")))
            {
                session = false;
                i++;
            }
            else if (tokens[i].Kind == SqlTokenKind.Word && (Is(text, tokens[i], "session") || Is(text, tokens[i], "local")))
            {
                i++;
            }

            var namesSqlMode = false;
            if (i < tokens.Count)
            {
                var name = text.AsSpan(tokens[i].Start, tokens[i].Length);
                if (tokens[i].Kind == SqlTokenKind.Parameter && name.StartsWith("@@"))
                {
                    name = name[2..];
                    var dot = name.IndexOf('.');
                    if (dot >= 0)
                    {
                        var scope = name[..dot];
                        session = scope.Equals("session", StringComparison.OrdinalIgnoreCase) || scope.Equals("local", StringComparison.OrdinalIgnoreCase);
                        name = name[(dot + 1)..];
                    }

                    namesSqlMode = name.Equals("sql_mode", StringComparison.OrdinalIgnoreCase);
                }
                else if (tokens[i].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedIdentifier)
                {
                    namesSqlMode = Unquoted(name).Equals("sql_mode", StringComparison.OrdinalIgnoreCase);
                }

                i++;
            }

            if (i < tokens.Count && tokens[i].Kind == SqlTokenKind.Operator && text.AsSpan(tokens[i].Start, tokens[i].Length) is "=" or ":=")
            {
                i++;
            }

            // The value runs to the next comma outside parentheses.
            var valueStart = i;
            var depth = 0;
            while (i < tokens.Count && !(depth == 0 && tokens[i].Kind == SqlTokenKind.Operator && text[tokens[i].Start] == ','))
            {
                depth += tokens[i].Kind switch { SqlTokenKind.OpenParen => 1, SqlTokenKind.CloseParen => -1, _ => 0 };
                i++;
            }

            if (namesSqlMode && session)
            {
                result = i - valueStart == 1 ? ValueOf(text, tokens[valueStart], initial) : null;
            }

            i++;
        }

        return result;
    }

    private static SqlModes? ValueOf(string text, SqlToken value, SqlModes initial)
    {
        var span = text.AsSpan(value.Start, value.Length);
        if (value.Kind == SqlTokenKind.Word && span.Equals("default", StringComparison.OrdinalIgnoreCase))
        {
            return initial;
        }

        if (value.Kind != SqlTokenKind.String)
        {
            return null;
        }

        // 'A,B', "A,B", N'A,B': mode names hold neither quotes nor backslashes.
        var open = span.IndexOfAny('\'', '"');
        return open < 0 || span.Length - open < 2 ? null : SqlModeText.Parse(span[(open + 1)..^1]);
    }

    private static ReadOnlySpan<char> Unquoted(ReadOnlySpan<char> name) =>
        name.Length >= 2 && name[0] is '`' or '"' && name[^1] == name[0] ? name[1..^1] : name;

    private static bool Is(string text, SqlToken token, string word) =>
        token.Kind == SqlTokenKind.Word && text.AsSpan(token.Start, token.Length).Equals(word, StringComparison.OrdinalIgnoreCase);
}
