namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>
/// Decides whether a default expression is volatile. PostgreSQL 11+ adds a column with a non-volatile default
/// without rewriting the table (the value is stored once in the catalog); a volatile one is evaluated per row.
/// </summary>
internal static class DefaultExpression
{
    private static readonly HashSet<string> Volatile = new(StringComparer.OrdinalIgnoreCase)
    {
        "random", "random_normal", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
        "uuidv4", "uuidv7", "uuid_generate_v7", "clock_timestamp", "timeofday", "nextval", "setval", "gen_random_bytes",
        "txid_current", "pg_current_xact_id",
        // MySQL/MariaDB: non-deterministic defaults, which MariaDB 10.11 can only add by copying the table (checked with ALGORITHM=INPLACE).
        "uuid", "uuid_short", "sysdate",
    };

    // Immutable or stable built-ins seen in real defaults; stable ones (now()) are evaluated once per ALTER.
    private static readonly HashSet<string> NonVolatile = new(StringComparer.OrdinalIgnoreCase)
    {
        "now", "current_timestamp", "current_date", "current_time", "localtimestamp", "localtime", "statement_timestamp",
        "transaction_timestamp", "lower", "upper", "coalesce", "concat", "length", "jsonb_build_object", "json_build_object",
        "jsonb_build_array", "json_build_array", "to_jsonb", "to_json", "make_interval", "make_date", "date_trunc", "timezone",
        "current_setting", "current_user", "session_user", "current_schema", "nullif", "greatest", "least", "abs", "round",
        "md5", "encode", "decode", "replace", "substring", "trim", "btrim", "cast", "to_timestamp", "to_char", "to_date",
        "array", "row", "utc_timestamp", "curdate", "curtime", "'{}'", "interval", "date", "int4range", "tstzrange",
    };

    public static ColumnDefault Classify(StatementTokens t, int start, int end)
    {
        var isNull = end - start == 1 && t.IsWord(start, "null");
        var volatility = DefaultVolatility.NonVolatile;
        string? function = null;
        for (var i = start; i < end; i++)
        {
            if (!t.IsName(i) || !t.IsOpen(i + 1))
            {
                continue;
            }

            var name = t.Identifier(i);
            if (Volatile.Contains(name))
            {
                return new ColumnDefault(start, end, false, DefaultVolatility.Volatile, name);
            }

            if (!NonVolatile.Contains(name) && volatility == DefaultVolatility.NonVolatile)
            {
                volatility = DefaultVolatility.Unknown;
                function = name;
            }
        }

        return new ColumnDefault(start, end, isNull, volatility, function);
    }
}
