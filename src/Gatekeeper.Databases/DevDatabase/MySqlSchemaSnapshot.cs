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
        var liveDatabase = Convert.ToString(await live.ScalarAsync("SELECT DATABASE()", cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty;
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
            var sql = await ShowCreateAsync(live, kind, name, 1, cancellationToken).ConfigureAwait(false);
            if (sql is not null)
            {
                definitions.Add(new SchemaObject(kind.ToLowerInvariant(), name, Rewrite(sql, liveDatabase, copyDatabase)));
            }
        }

        var routines = await live.QueryAsync(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME",
            r => (Name: r.GetString(0), Type: r.GetString(1)),
            cancellationToken).ConfigureAwait(false);
        foreach (var (name, type) in routines)
        {
            var sql = await ShowCreateAsync(live, type, name, 2, cancellationToken).ConfigureAwait(false);
            if (sql is not null)
            {
                definitions.Add(new SchemaObject(type.ToLowerInvariant(), name, Rewrite(sql, liveDatabase, copyDatabase)));
            }
        }

        var triggers = await live.QueryAsync(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
            r => r.GetString(0),
            cancellationToken).ConfigureAwait(false);
        foreach (var name in triggers)
        {
            var sql = await ShowCreateAsync(live, "TRIGGER", name, 2, cancellationToken).ConfigureAwait(false);
            if (sql is not null)
            {
                definitions.Add(new SchemaObject("trigger", name, Rewrite(sql, liveDatabase, copyDatabase)));
            }
        }

        // Tables are created in name order, before the tables their foreign keys point at may exist.
        return new SchemaSnapshot(
            definitions,
            ["SET SESSION foreign_key_checks = 0"],
            ["SET SESSION foreign_key_checks = 1"],
            charset.Count > 0 ? new ThrowawayDatabaseOptions(charset[0].Charset, charset[0].Collation) : new ThrowawayDatabaseOptions());
    }

    private static async Task<string?> ShowCreateAsync(DbSession live, string kind, string name, int column, CancellationToken cancellationToken)
    {
        var rows = await live.QueryAsync(
            $"SHOW CREATE {kind} {live.Quote(name)}",
            r => r.IsDBNull(column) ? null : r.GetString(column),
            cancellationToken).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

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
