using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Schema;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.Schema;

/// <summary>
/// MySQL's and MariaDB's schema of the connected database: tables from <c>SHOW CREATE TABLE</c> (the server's one
/// canonical text, so an explicit charset or <c>USING BTREE</c> survives a round trip), with information_schema for the
/// column facts the model names; views, routines and triggers from information_schema and SHOW CREATE without their
/// DEFINER (the dev database's user is not the live one's). References qualified with the database's own name are made
/// unqualified, so a dev database and the live one, which have different names, compare equal.
/// </summary>
internal sealed partial class MySqlCatalogReader : CatalogReader
{
    public static readonly MySqlCatalogReader Instance = new();

    public override async Task<string> ServerFlavorAsync(DbSession session, CancellationToken cancellationToken)
    {
        var version = (string?)await session.ScalarAsync("SELECT VERSION()", cancellationToken).ConfigureAwait(false) ?? string.Empty;
        var parts = version.Split('.', '-');
        var flavor = version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) ? "MariaDB" : "MySQL";
        return parts.Length >= 2 ? $"{flavor} {parts[0]}.{parts[1]}" : $"{flavor} {version}";
    }

    public override async Task<IReadOnlyList<string>> UserObjectsAsync(DbSession session, int limit, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT kind, name FROM (
                SELECT LOWER(REPLACE(TABLE_TYPE, 'BASE ', '')) AS kind, TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
                UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
                UNION ALL SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
                UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()
            ) o ORDER BY kind, name LIMIT @limit
            """;
        return await session.QueryAsync(sql, r => $"{r.GetString(0)} {r.GetString(1)}", cancellationToken, ("limit", limit)).ConfigureAwait(false);
    }

    public override async Task<(SchemaModel Model, LiveServerFacts Facts)> ReadLiveAsync(DbSession session, CancellationToken cancellationToken)
    {
        // MySQL has no snapshot for DDL: the catalog is read as it is, one table after another.
        var flavor = await ServerFlavorAsync(session, cancellationToken).ConfigureAwait(false);
        var defaults = await session.QueryAsync(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
            r => (Charset: r.GetString(0), Collation: r.GetString(1)), cancellationToken).ConfigureAwait(false);
        var facts = new LiveServerFacts(flavor, defaults[0].Charset, defaults[0].Collation);
        return (await ReadAsync(session, cancellationToken).ConfigureAwait(false), facts);
    }

    public override async Task<SchemaModel> ReadAsync(DbSession session, CancellationToken cancellationToken)
    {
        var database = (string?)await session.ScalarAsync("SELECT DATABASE()", cancellationToken).ConfigureAwait(false)
                       ?? throw new InvalidOperationException("the MySQL session has no current database");
        var objects = await session.QueryAsync(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
            r => (Name: r.GetString(0), Type: r.GetString(1)), cancellationToken).ConfigureAwait(false);

        var columnFacts = (await session.QueryAsync("""
                SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME,
                       GENERATION_EXPRESSION, COLUMN_COMMENT
                FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION
                """, r => (Table: r.GetString(0), Column: ColumnFacts(r)), cancellationToken).ConfigureAwait(false))
            .ToLookup(c => c.Table, c => c.Column, StringComparer.Ordinal);

        var tables = new List<TableModel>();
        var sequences = new List<SequenceModel>();
        var views = new List<ViewModel>();
        foreach (var (name, type) in objects)
        {
            switch (type)
            {
                case "BASE TABLE" or "SYSTEM VERSIONED":
                    var text = await ShowCreateAsync(session, "TABLE", name, 1, cancellationToken).ConfigureAwait(false);
                    if (text is null)
                    {
                        continue;
                    }

                    var table = MySqlCreateTableParser.Parse(text);
                    var facts = columnFacts[name].ToDictionary(c => c.Name, StringComparer.Ordinal);
                    tables.Add(table with
                    {
                        Columns = table.Columns.Select(c => facts.TryGetValue(c.Name, out var fact) ? fact with { Definition = c.Definition } : c).ToList(),
                        Constraints = table.Constraints.Select(c => c.References is { Schema: { } schema } target && schema == database
                            ? c with { References = target with { Schema = null }, Definition = Unqualify(c.Definition, database) }
                            : c).ToList(),
                    });
                    break;
                case "SEQUENCE":
                    sequences.Add(await ReadSequenceAsync(session, name, cancellationToken).ConfigureAwait(false));
                    break;
            }
        }

        var viewRows = await session.QueryAsync(
            "SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE, ALGORITHM FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
            r => (Name: r.GetString(0), Definition: r.GetString(1), Check: r.GetString(2), Security: r.GetString(3), Algorithm: r.GetString(4)),
            cancellationToken).ConfigureAwait(false);
        var tableNames = tables.Select(t => t.Name.Name).ToHashSet(StringComparer.Ordinal);
        var viewNames = viewRows.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var view in viewRows)
        {
            var options = new Dictionary<string, string>(StringComparer.Ordinal) { ["ALGORITHM"] = view.Algorithm, ["SQL SECURITY"] = view.Security };
            if (view.Check != "NONE")
            {
                options["CHECK OPTION"] = view.Check;
            }

            var definition = Unqualify(view.Definition, database);
            views.Add(new ViewModel(new ObjectName(null, view.Name), definition)
            {
                Options = options,
                DependsOn = ReferencedNames(definition)
                    .Select(n => viewNames.Contains(n) ? ObjectKey.Of(SchemaObjectKind.View, new ObjectName(null, n))
                        : tableNames.Contains(n) ? ObjectKey.Of(SchemaObjectKind.Table, new ObjectName(null, n)) : (ObjectKey?)null)
                    .OfType<ObjectKey>().Where(k => k.Id != view.Name || k.Kind != SchemaObjectKind.View).Distinct().ToList(),
            });
        }

        var routines = new List<RoutineModel>();
        var routineRows = await session.QueryAsync(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
            r => (Name: r.GetString(0), Type: r.GetString(1)), cancellationToken).ConfigureAwait(false);
        foreach (var (name, type) in routineRows)
        {
            if (await ShowCreateAsync(session, type, name, 2, cancellationToken).ConfigureAwait(false) is { } text)
            {
                routines.Add(new RoutineModel(new ObjectName(null, name), string.Empty, Unqualify(WithoutDefiner(text), database)) { IsProcedure = type == "PROCEDURE" });
            }
        }

        var triggers = new List<TriggerModel>();
        var triggerRows = await session.QueryAsync(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
            r => (Name: r.GetString(0), Table: r.GetString(1)), cancellationToken).ConfigureAwait(false);
        foreach (var (name, table) in triggerRows)
        {
            if (await ShowCreateAsync(session, "TRIGGER", name, 2, cancellationToken).ConfigureAwait(false) is { } text)
            {
                triggers.Add(new TriggerModel(new ObjectName(null, table), name, Unqualify(WithoutDefiner(text), database)));
            }
        }

        return new SchemaModel { Dialect = SqlDialect.MySql, Tables = tables, Sequences = sequences, Views = views, Routines = routines, Triggers = triggers };
    }

    private static ColumnModel ColumnFacts(DbDataReader r)
    {
        var extra = r.IsDBNull(5) ? string.Empty : r.GetString(5);
        var generated = r.IsDBNull(8) || r.GetString(8).Length == 0 ? null
            : new GeneratedColumn(r.GetString(8), Stored: extra.Contains("STORED", StringComparison.OrdinalIgnoreCase) || extra.Contains("PERSISTENT", StringComparison.OrdinalIgnoreCase));
        var onUpdate = OnUpdate().Match(extra);
        return new ColumnModel(r.GetString(1), r.GetString(2))
        {
            NotNull = r.GetString(3) == "NO",
            Default = r.IsDBNull(4) ? null : r.GetString(4),
            AutoIncrement = extra.Contains("auto_increment", StringComparison.OrdinalIgnoreCase),
            Generated = generated,
            Charset = r.IsDBNull(6) ? null : r.GetString(6),
            Collation = r.IsDBNull(7) ? null : r.GetString(7),
            OnUpdate = onUpdate.Success ? onUpdate.Groups["expression"].Value : null,
            Comment = r.IsDBNull(9) || r.GetString(9).Length == 0 ? null : r.GetString(9),
        };
    }

    private static async Task<SequenceModel> ReadSequenceAsync(DbSession session, string name, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync(
            $"SELECT start_value, increment, minimum_value, maximum_value, cache_size, cycle_option FROM {session.Quote(name)}",
            r => new SequenceOptions(null, Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture),
                Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture), Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture),
                Convert.ToInt64(r.GetValue(4), CultureInfo.InvariantCulture), Convert.ToInt64(r.GetValue(5), CultureInfo.InvariantCulture) != 0),
            cancellationToken).ConfigureAwait(false);
        return new SequenceModel(new ObjectName(null, name), rows[0]);
    }

    private static async Task<string?> ShowCreateAsync(DbSession session, string kind, string name, int column, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync($"SHOW CREATE {kind} {session.Quote(name)}", r => r.IsDBNull(column) ? null : r.GetString(column), cancellationToken).ConfigureAwait(false);
        return rows.FirstOrDefault();
    }

    /// <summary>Removes <c>`database`.</c> qualifiers of the connected database (a dev database has another name).</summary>
    private static string Unqualify(string text, string database) =>
        text.Replace("`" + database.Replace("`", "``", StringComparison.Ordinal) + "`.", string.Empty, StringComparison.Ordinal);

    private static string WithoutDefiner(string text) => Definer().Replace(text, " ", 1);

    /// <summary>Every backquoted name a view's definition mentions (tables, views, columns: the caller keeps the known ones).</summary>
    private static IEnumerable<string> ReferencedNames(string definition) =>
        SqlLexer.Tokenize(definition, SqlDialect.MySql).Where(t => t.Kind == SqlTokenKind.QuotedIdentifier)
            .Select(t => MySqlCreateTableParser.UnquoteName(definition.Substring(t.Start, t.Length)));

    [GeneratedRegex(@"\sDEFINER\s*=\s*(`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.$-]+)(\s*@\s*(`(?:[^`]|``)*`|'(?:[^']|'')*'|[\w.%$-]+))?\s", RegexOptions.IgnoreCase)]
    private static partial Regex Definer();

    [GeneratedRegex(@"on update (?<expression>\S+(?:\(\d*\))?)", RegexOptions.IgnoreCase)]
    private static partial Regex OnUpdate();
}
