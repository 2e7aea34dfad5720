using System.Text.RegularExpressions;

namespace Gatekeeper.Databases.Execution;

/// <summary>
/// Reads the live schema's definitions (tables, sequences, views, procedures, functions, triggers) with SHOW CREATE, so
/// they can be replayed into a throwaway database: rows are not copied, only the structure the plan will change.
/// </summary>
internal static partial class MySqlShadowSchema
{
    /// <summary>One object to replay, in replay order (tables first, triggers last).</summary>
    public sealed record Definition(string Kind, string Name, string Sql);

    public static async Task<List<Definition>> ReadAsync(DbSession live, string liveDatabase, string shadowDatabase, CancellationToken cancellationToken)
    {
        var definitions = new List<Definition>();
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
                definitions.Add(new Definition(kind, name, Rewrite(sql, liveDatabase, shadowDatabase)));
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
                definitions.Add(new Definition(type, name, Rewrite(sql, liveDatabase, shadowDatabase)));
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
                definitions.Add(new Definition("TRIGGER", name, Rewrite(sql, liveDatabase, shadowDatabase)));
            }
        }

        return definitions;
    }

    /// <summary>
    /// Replays the definitions; views that depend on views not created yet are retried until no more succeed. Returns
    /// the first definition that could not be created and the error, or null.
    /// </summary>
    public static async Task<(Definition Definition, Exception Error)?> ReplayAsync(DbSession shadow, IReadOnlyList<Definition> definitions, CancellationToken cancellationToken)
    {
        // Tables are created in name order, before the tables their foreign keys point at may exist.
        await shadow.ExecuteAsync("SET SESSION foreign_key_checks = 0", cancellationToken).ConfigureAwait(false);
        var pending = definitions.ToList();
        while (pending.Count > 0)
        {
            var failed = new List<(Definition Definition, Exception Error)>();
            foreach (var definition in pending)
            {
                try
                {
                    await shadow.ExecuteAsync(definition.Sql, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: not DatabaseErrorKind.ConnectionLost })
                {
                    failed.Add((definition, ex));
                }
            }

            if (failed.Count == 0)
            {
                break;
            }

            if (failed.Count == pending.Count)
            {
                return failed[0];
            }

            pending = failed.Select(f => f.Definition).ToList();
        }

        await shadow.ExecuteAsync("SET SESSION foreign_key_checks = 1", cancellationToken).ConfigureAwait(false);
        return null;
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
