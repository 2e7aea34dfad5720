using System.Text.RegularExpressions;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.DevDatabase;

/// <summary>
/// Reads a MySQL database's definitions (tables, sequences, views, procedures, functions, triggers) with SHOW CREATE,
/// so they can be replayed into a throwaway database: rows are not copied, only the structure the plan will change.
/// What the reading user may not see (routines of other definers without the right to read them, triggers without
/// the TRIGGER privilege) is not listed by the server and so not copied.
/// </summary>
internal static partial class MySqlSchemaSnapshot
{
    public static async Task<SchemaSnapshot> ReadAsync(DbSession live, string copyDatabase, CancellationToken cancellationToken)
    {
        var session = await live.QueryAsync("SELECT DATABASE(), @@SESSION.sql_mode", r => (Database: r.IsDBNull(0) ? string.Empty : r.GetString(0), Mode: r.GetString(1)), cancellationToken).ConfigureAwait(false);
        var (liveDatabase, liveMode) = session[0];

        // SHOW CREATE writes what it prints in the session's SQL mode: with ANSI_QUOTES identifiers in double quotes
        // (which a copy on a server without it cannot parse, and which Rewrite would not see), with NO_KEY_OPTIONS,
        // NO_TABLE_OPTIONS or NO_FIELD_OPTIONS (parts of MariaDB's POSTGRESQL and similar modes) without the options a
        // copy needs. Tables and views are read in the empty mode and replayed in it; routines and triggers keep the text
        // they were written in and are replayed in the mode they were created under.
        // Sent with the first query of the read (one round trip fewer than a statement of its own).
        live.SendAhead($"SET SESSION sql_mode = {ReadMode}");
        try
        {
            return await ReadInModeAsync(live, copyDatabase, liveDatabase, liveMode, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // The session is the caller's: whatever it sends next first takes the live mode back, in the same round trip,
            // so no later use of it reads or writes in the empty mode (a pooled session is also reset when it is handed
            // out again, but the caller may use this one before that).
            live.SendAhead($"SET SESSION sql_mode = {Literal(liveMode)}");
        }
    }

    private static async Task<SchemaSnapshot> ReadInModeAsync(DbSession live, string copyDatabase, string liveDatabase, string liveMode, CancellationToken cancellationToken)
    {
        var readSetting = $"SET SESSION sql_mode = {ReadMode}";
        var charset = await live.QueryAsync(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
            r => (Charset: r.GetString(0), Collation: r.GetString(1)),
            cancellationToken).ConfigureAwait(false);
        var definitions = new List<SchemaObject>();
        var tables = await live.QueryAsync(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
            r => (Name: r.GetString(0), Type: r.GetString(1)),
            cancellationToken).ConfigureAwait(false);
        foreach (var (name, type) in tables.OrderBy(t => t.Type == "VIEW" ? 1 : 0))
        {
            var kind = type switch
            {
                "VIEW" => "VIEW",
                "SEQUENCE" => "SEQUENCE",
                _ => "TABLE",
            };
            var (sql, _) = await ShowCreateAsync(live, kind, name, 1, cancellationToken).ConfigureAwait(false);
            if (sql is not null)
            {
                definitions.Add(new SchemaObject(kind.ToLowerInvariant(), name, Rewrite(sql, liveDatabase, copyDatabase), readSetting));
            }
        }

        var routines = await live.QueryAsync(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME",
            r => (Name: r.GetString(0), Type: r.GetString(1)),
            cancellationToken).ConfigureAwait(false);
        foreach (var (name, type) in routines)
        {
            var (sql, mode) = await ShowCreateAsync(live, type, name, 2, cancellationToken).ConfigureAwait(false);
            if (sql is not null)
            {
                definitions.Add(new SchemaObject(type.ToLowerInvariant(), name, Rewrite(sql, liveDatabase, copyDatabase), $"SET SESSION sql_mode = {Literal(mode)}"));
            }
        }

        var triggers = await live.QueryAsync(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
            r => r.GetString(0),
            cancellationToken).ConfigureAwait(false);
        foreach (var name in triggers)
        {
            var (sql, mode) = await ShowCreateAsync(live, "TRIGGER", name, 2, cancellationToken).ConfigureAwait(false);
            if (sql is not null)
            {
                definitions.Add(new SchemaObject("trigger", name, Rewrite(sql, liveDatabase, copyDatabase), $"SET SESSION sql_mode = {Literal(mode)}"));
            }
        }

        // Tables are created in name order, before the tables their foreign keys point at may exist.
        // The plan runs in the live session's SQL mode, as migrate's sessions there will: a dev server's own default
        // (strict or not, ANSI_QUOTES or not) must not make a file pass or fail that behaves otherwise on the target. And
        // with the commit settings migrate pins (SqlEngine.CommitEachStatement): under a server default of autocommit = 0
        // a file's ROLLBACK would take back rows here that migrate has already committed.
        return new SchemaSnapshot(
            definitions,
            ["SET SESSION foreign_key_checks = 0"],
            [$"SET SESSION foreign_key_checks = 1, SESSION sql_mode = {Literal(liveMode)}, SESSION autocommit = 1, SESSION completion_type = 'NO_CHAIN'"],
            charset.Count > 0 ? new ThrowawayDatabaseOptions(charset[0].Charset, charset[0].Collation) : new ThrowawayDatabaseOptions())
        {
            PlanModes = Core.Sql.SqlModeText.Parse(liveMode),
        };
    }

    // The empty mode: backquoted identifiers, every option printed, and the most lenient replay.
    private const string ReadMode = "''";

    /// <summary>The object's DDL, and for routines and triggers (whose DDL is in column 2) the SQL mode they were created under.</summary>
    private static async Task<(string? Sql, string Mode)> ShowCreateAsync(DbSession live, string kind, string name, int column, CancellationToken cancellationToken)
    {
        var rows = await live.QueryAsync(
            $"SHOW CREATE {kind} {live.Quote(name)}",
            r => (r.IsDBNull(column) ? null : r.GetString(column), column == 2 && !r.IsDBNull(1) ? r.GetString(1) : string.Empty),
            cancellationToken).ConfigureAwait(false);
        return rows.Count > 0 ? rows[0] : (null, string.Empty);
    }

    /// <summary>A string literal that reads the same whether or not the session has NO_BACKSLASH_ESCAPES (SQL modes hold neither quotes nor backslashes).</summary>
    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// Drops the DEFINER clause (the shadow's objects run as the current user, who may not be allowed to name another)
    /// and points references qualified with the live database at the shadow one.
    /// </summary>
    internal static string Rewrite(string sql, string liveDatabase, string shadowDatabase)
    {
        var withoutDefiner = Definer().Replace(sql, " ", 1);
        var live = "`" + liveDatabase.Replace("`", "``", StringComparison.Ordinal) + "`.";
        var shadow = "`" + shadowDatabase + "`.";
        return withoutDefiner.Replace(live, shadow, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\sDEFINER\s*=\s*(`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.$-]+)(\s*@\s*(`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%$-]+))?\s", RegexOptions.IgnoreCase)]
    private static partial Regex Definer();
}
