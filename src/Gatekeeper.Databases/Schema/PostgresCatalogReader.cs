using System.Data.Common;
using System.Globalization;
using System.Text;
using Gatekeeper.Core.Schema;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.Schema;

/// <summary>
/// PostgreSQL's schema from pg_catalog, one query per kind. Everything textual comes from the server's own printers
/// (<c>format_type</c>, <c>pg_get_expr</c>, <c>pg_get_constraintdef</c>, <c>pg_get_indexdef</c>, <c>pg_get_viewdef</c>,
/// <c>pg_get_functiondef</c>, <c>pg_get_triggerdef</c>) with <c>search_path</c> empty, so names come out qualified exactly
/// as pg_dump writes them. Objects that belong to an extension and the server's own schemas are left out; dependencies
/// between views, routines, tables and types come from pg_depend. Single-letter codes (pg_catalog's <c>"char"</c>) are read
/// as text: Gatekeeper's connections do not load the database's types (<see cref="PostgresDataSources"/>), and
/// <c>"char"</c> is not among the ones Npgsql knows without asking.
/// </summary>
internal sealed class PostgresCatalogReader : CatalogReader
{
    public static readonly PostgresCatalogReader Instance = new();

    // User schemas: not the server's own, not temporary or toast ones, not created by an extension.
    private const string UserSchema = """
        n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
        """;

    private const string NotFromExtension = """
        NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = {0}::regclass AND e.objid = {1} AND e.deptype = 'e')
        """;

    private static readonly CompositeFormat NotFromExtensionFormat = CompositeFormat.Parse(NotFromExtension);

    private static string NotExtensionMember(string catalog, string oid) => string.Format(CultureInfo.InvariantCulture, NotFromExtensionFormat, $"'{catalog}'", oid);

    public override async Task<string> ServerFlavorAsync(DbSession session, CancellationToken cancellationToken)
    {
        var number = Convert.ToInt32(await session.ScalarAsync("SELECT current_setting('server_version_num')::int", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        return $"PostgreSQL {number / 10000}";
    }

    public override async Task<IReadOnlyList<string>> UserObjectsAsync(DbSession session, int limit, CancellationToken cancellationToken)
    {
        var sql = $"""
            SELECT kind || ' ' || name FROM (
                SELECT 'schema' AS kind, quote_ident(n.nspname) AS name FROM pg_namespace n
                WHERE {UserSchema} AND n.nspname <> 'public' AND {NotExtensionMember("pg_namespace", "n.oid")}
                UNION ALL
                SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' ELSE 'table' END,
                       quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE {UserSchema} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {NotExtensionMember("pg_class", "c.oid")}
                UNION ALL
                SELECT 'type', quote_ident(n.nspname) || '.' || quote_ident(t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE {UserSchema} AND t.typtype IN ('e', 'd', 'r', 'm') AND {NotExtensionMember("pg_type", "t.oid")}
                UNION ALL
                SELECT 'function', quote_ident(n.nspname) || '.' || quote_ident(p.proname) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE {UserSchema} AND {NotExtensionMember("pg_proc", "p.oid")}
                UNION ALL
                SELECT 'extension', quote_ident(x.extname) FROM pg_extension x WHERE x.extname <> 'plpgsql'
            ) o ORDER BY 1 LIMIT @limit
            """;
        return await session.QueryAsync(sql, r => r.GetString(0), cancellationToken, ("limit", limit)).ConfigureAwait(false);
    }

    public override async Task<(SchemaModel Model, LiveServerFacts Facts)> ReadLiveAsync(DbSession session, CancellationToken cancellationToken)
    {
        await session.ExecuteAsync("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", cancellationToken).ConfigureAwait(false);
        try
        {
            var facts = new LiveServerFacts(await ServerFlavorAsync(session, cancellationToken).ConfigureAwait(false));
            return (await ReadAsync(session, cancellationToken).ConfigureAwait(false), facts);
        }
        finally
        {
            await session.ExecuteAsync("ROLLBACK", CancellationToken.None).ConfigureAwait(false);
        }
    }

    public override async Task<SchemaModel> ReadAsync(DbSession session, CancellationToken cancellationToken)
    {
        // Every printer qualifies what is not on the search path: with it empty, everything user-defined is qualified.
        await session.ExecuteAsync("SET LOCAL search_path = ''", cancellationToken).ConfigureAwait(false);

        var schemas = await session.QueryAsync($"""
            SELECT n.nspname, obj_description(n.oid, 'pg_namespace') FROM pg_namespace n
            WHERE {UserSchema} AND {NotExtensionMember("pg_namespace", "n.oid")} ORDER BY 1
            """, r => new NamespaceModel(r.GetString(0)) { Comment = NullableString(r, 1) }, cancellationToken).ConfigureAwait(false);

        var extensions = await session.QueryAsync("""
            SELECT x.extname, n.nspname FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
            WHERE x.extname <> 'plpgsql' ORDER BY 1
            """, r => new ExtensionModel(r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);

        var enumRows = await session.QueryAsync($"""
            SELECT t.oid, n.nspname, t.typname, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
                   obj_description(t.oid, 'pg_type')
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE t.typtype = 'e' AND {UserSchema} AND {NotExtensionMember("pg_type", "t.oid")} ORDER BY 2, 3
            """, r => (Oid: r.GetFieldValue<uint>(0), Model: new EnumModel(new ObjectName(r.GetString(1), r.GetString(2)), r.GetFieldValue<string[]>(3)) { Comment = NullableString(r, 4) }),
            cancellationToken).ConfigureAwait(false);

        var sequences = await session.QueryAsync($"""
            SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
                   tn.nspname, tc.relname, a.attname, obj_description(c.oid, 'pg_class'), c.relpersistence = 'u'
            FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
            LEFT JOIN pg_class tc ON tc.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
            LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE {UserSchema} AND {NotExtensionMember("pg_class", "c.oid")} AND (d.deptype IS NULL OR d.deptype = 'a')
            ORDER BY 1, 2
            """, r => new SequenceModel(new ObjectName(r.GetString(0), r.GetString(1)), new SequenceOptions(
                r.GetString(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.GetBoolean(8)))
            {
                OwnedBy = r.IsDBNull(10) || r.IsDBNull(11) ? null : (new ObjectName(r.GetString(9), r.GetString(10)), r.GetString(11)),
                Comment = NullableString(r, 12),
                Unlogged = r.GetBoolean(13),
            }, cancellationToken).ConfigureAwait(false);

        var tableRows = await session.QueryAsync($"""
            SELECT c.oid, n.nspname, c.relname, c.relpersistence::text, c.reloptions, obj_description(c.oid, 'pg_class'), c.reltype
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {UserSchema} AND {NotExtensionMember("pg_class", "c.oid")}
            ORDER BY 2, 3
            """, r => (Oid: r.GetFieldValue<uint>(0), Name: new ObjectName(r.GetString(1), r.GetString(2)), Unlogged: r.GetString(3) == "u",
                Options: r.IsDBNull(4) ? [] : r.GetFieldValue<string[]>(4), Comment: NullableString(r, 5), RowType: r.GetFieldValue<uint>(6)), cancellationToken).ConfigureAwait(false);
        var tableOids = tableRows.Select(t => t.Oid).ToHashSet();

        var columns = await session.QueryAsync($"""
            SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
                   CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
                   a.attidentity::text,
                   CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                        THEN CASE WHEN cn.nspname = 'pg_catalog' THEN 'pg_catalog.' ELSE quote_ident(cn.nspname) || '.' END || quote_ident(co.collname) END,
                   col_description(a.attrelid, a.attnum),
                   quote_ident(sn.nspname) || '.' || quote_ident(sc.relname), format_type(s.seqtypid, NULL),
                   s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
            LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
            LEFT JOIN pg_depend d ON a.attidentity <> '' AND d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid
                                 AND d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass AND d.deptype = 'i'
            LEFT JOIN pg_sequence s ON s.seqrelid = d.objid
            LEFT JOIN pg_class sc ON sc.oid = s.seqrelid LEFT JOIN pg_namespace sn ON sn.oid = sc.relnamespace
            WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND {UserSchema}
            ORDER BY a.attrelid, a.attnum
            """, r => (Table: r.GetFieldValue<uint>(0), Column: new ColumnModel(r.GetString(1), r.GetString(2))
            {
                NotNull = r.GetBoolean(3),
                Default = NullableString(r, 4),
                Generated = r.IsDBNull(5) ? null : new GeneratedColumn(r.GetString(5), Stored: true),
                Identity = r.GetString(6) is "a" or "d" && !r.IsDBNull(9)
                    ? new IdentityModel(r.GetString(6) == "a", r.GetString(9), new SequenceOptions(
                        r.GetString(10), r.GetInt64(11), r.GetInt64(12), r.GetInt64(13), r.GetInt64(14), r.GetInt64(15), r.GetBoolean(16)))
                    : null,
                Collation = NullableString(r, 7),
                Comment = NullableString(r, 8),
            }), cancellationToken).ConfigureAwait(false);

        var constraints = await session.QueryAsync($"""
            SELECT con.conrelid, con.conname, con.contype::text, pg_get_constraintdef(con.oid),
                   ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
                   fn.nspname, fc.relname,
                   ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                         JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord),
                   obj_description(con.oid, 'pg_constraint')
            FROM pg_constraint con
            JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
            WHERE con.contype IN ('p', 'u', 'c', 'f', 'x') AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND {UserSchema}
            ORDER BY con.conrelid, con.conname
            """, r => (Table: r.GetFieldValue<uint>(0), Constraint: new ConstraintModel(r.GetString(1), KindOf(r.GetString(2)[0]), r.GetString(3))
            {
                Columns = r.GetFieldValue<string[]>(4),
                References = r.IsDBNull(6) ? null : new ObjectName(r.GetString(5), r.GetString(6)),
                ReferencedColumns = r.GetFieldValue<string[]>(7),
                Comment = NullableString(r, 8),
            }), cancellationToken).ConfigureAwait(false);

        var indexes = await session.QueryAsync($"""
            SELECT i.indrelid, ic.relname, i.indisunique, pg_get_indexdef(i.indexrelid), i.indisvalid,
                   ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(num, ord)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.num ORDER BY k.ord),
                   obj_description(i.indexrelid, 'pg_class')
            FROM pg_index i
            JOIN pg_class ic ON ic.oid = i.indexrelid
            JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {UserSchema}
              AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
            ORDER BY i.indrelid, ic.relname
            """, r => (Table: r.GetFieldValue<uint>(0), Index: new IndexModel(r.GetString(1), r.GetBoolean(2), IndexTail(r.GetString(3), r.GetBoolean(4)))
            {
                Columns = r.GetFieldValue<string[]>(5),
                Comment = NullableString(r, 6),
            }), cancellationToken).ConfigureAwait(false);

        var viewRows = await session.QueryAsync($"""
            SELECT c.oid, n.nspname, c.relname, c.relkind = 'm', pg_get_viewdef(c.oid), c.reloptions, obj_description(c.oid, 'pg_class'), c.reltype
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('v', 'm') AND {UserSchema} AND {NotExtensionMember("pg_class", "c.oid")}
            ORDER BY 2, 3
            """, r => (Oid: r.GetFieldValue<uint>(0), Model: new ViewModel(new ObjectName(r.GetString(1), r.GetString(2)), r.GetString(4).Trim().TrimEnd(';'))
            {
                Materialized = r.GetBoolean(3),
                Options = Options(r.IsDBNull(5) ? [] : r.GetFieldValue<string[]>(5)),
                Comment = NullableString(r, 6),
            }, RowType: r.GetFieldValue<uint>(7)), cancellationToken).ConfigureAwait(false);

        var routineRows = await session.QueryAsync($"""
            SELECT p.oid, n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind = 'p', pg_get_functiondef(p.oid),
                   pg_get_function_result(p.oid), obj_description(p.oid, 'pg_proc')
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prokind IN ('f', 'p') AND {UserSchema} AND {NotExtensionMember("pg_proc", "p.oid")}
            ORDER BY 2, 3, 4
            """, r => (Oid: r.GetFieldValue<uint>(0), Model: new RoutineModel(new ObjectName(r.GetString(1), r.GetString(2)), "(" + r.GetString(3) + ")", r.GetString(5).Trim())
            {
                IsProcedure = r.GetBoolean(4),
                ResultType = NullableString(r, 6),
                Comment = NullableString(r, 7),
            }), cancellationToken).ConfigureAwait(false);

        var triggerRows = await session.QueryAsync($"""
            SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger'), t.tgfoid
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition AND {UserSchema}
            ORDER BY 1, 2, 3
            """, r => (Model: new TriggerModel(new ObjectName(r.GetString(0), r.GetString(1)), r.GetString(2), r.GetString(3)) { Comment = NullableString(r, 4) },
                Function: r.GetFieldValue<uint>(5)), cancellationToken).ConfigureAwait(false);

        // What depends on what, by oid: the rewrite rule of a view, a column default or generated expression, a
        // constraint, a routine (SQL-standard bodies record what they read) on tables, views, routines and types.
        var dependencies = await session.QueryAsync("""
            SELECT DISTINCT
                   CASE d.classid WHEN 'pg_rewrite'::regclass THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid)
                                  WHEN 'pg_attrdef'::regclass THEN (SELECT ad.adrelid FROM pg_attrdef ad WHERE ad.oid = d.objid)
                                  WHEN 'pg_constraint'::regclass THEN (SELECT con.conrelid FROM pg_constraint con WHERE con.oid = d.objid)
                                  ELSE d.objid END,
                   d.classid = 'pg_proc'::regclass,
                   d.refobjid,
                   d.refclassid = 'pg_proc'::regclass
            FROM pg_depend d
            WHERE d.deptype = 'n' AND d.objid >= 16384
              AND d.classid IN ('pg_rewrite'::regclass, 'pg_attrdef'::regclass, 'pg_constraint'::regclass, 'pg_proc'::regclass, 'pg_class'::regclass)
              AND d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass)
            """, r => (Object: r.IsDBNull(0) ? 0u : r.GetFieldValue<uint>(0), ObjectIsRoutine: r.GetBoolean(1), Referenced: r.GetFieldValue<uint>(2), ReferencedIsRoutine: r.GetBoolean(3)),
            cancellationToken).ConfigureAwait(false);

        var relationKeys = new Dictionary<uint, ObjectKey>();
        foreach (var table in tableRows)
        {
            relationKeys[table.Oid] = ObjectKey.Of(SchemaObjectKind.Table, table.Name);
        }

        foreach (var view in viewRows)
        {
            relationKeys[view.Oid] = ObjectKey.Of(SchemaObjectKind.View, view.Model.Name);
        }

        var routineKeys = routineRows.ToDictionary(r => r.Oid, r => r.Model.Key);
        // A table's or view's row type stands for the relation (a function taking a table's row depends on the table).
        var typeKeys = enumRows.ToDictionary(e => e.Oid, e => ObjectKey.Of(SchemaObjectKind.Enum, e.Model.Name));
        foreach (var table in tableRows)
        {
            typeKeys[table.RowType] = ObjectKey.Of(SchemaObjectKind.Table, table.Name);
        }

        foreach (var view in viewRows)
        {
            typeKeys[view.RowType] = ObjectKey.Of(SchemaObjectKind.View, view.Model.Name);
        }
        var dependsOn = new Dictionary<ObjectKey, HashSet<ObjectKey>>();
        foreach (var (obj, objectIsRoutine, referenced, referencedIsRoutine) in dependencies)
        {
            ObjectKey? from = objectIsRoutine
                ? routineKeys.TryGetValue(obj, out var routine) ? routine : null
                : relationKeys.TryGetValue(obj, out var relation) ? relation : null;
            ObjectKey? to = referencedIsRoutine
                ? routineKeys.TryGetValue(referenced, out var refRoutine) ? refRoutine : null
                : relationKeys.TryGetValue(referenced, out var refRelation) ? refRelation
                : typeKeys.TryGetValue(referenced, out var type) ? type : null;
            if (from is { } f && to is { } t && f != t)
            {
                if (!dependsOn.TryGetValue(f, out var set))
                {
                    dependsOn[f] = set = [];
                }

                set.Add(t);
            }
        }

        IReadOnlyList<ObjectKey> DependenciesOf(ObjectKey key) =>
            dependsOn.TryGetValue(key, out var set) ? set.Order().ToList() : [];

        var columnsByTable = columns.ToLookup(c => c.Table, c => c.Column);
        var constraintsByTable = constraints.ToLookup(c => c.Table, c => c.Constraint);
        var indexesByTable = indexes.ToLookup(i => i.Table, i => i.Index);
        var tables = tableRows.Select(t =>
        {
            var options = Options(t.Options).ToDictionary(StringComparer.Ordinal);
            if (t.Unlogged)
            {
                options[TableModel.PersistenceOption] = "unlogged";
            }

            var key = ObjectKey.Of(SchemaObjectKind.Table, t.Name);
            return new TableModel(t.Name)
            {
                Columns = columnsByTable[t.Oid].ToList(),
                Constraints = constraintsByTable[t.Oid].ToList(),
                Indexes = indexesByTable[t.Oid].ToList(),
                Comment = t.Comment,
                Options = options,
                DependsOn = DependenciesOf(key),
            };
        }).ToList();

        return new SchemaModel
        {
            Dialect = SqlDialect.Postgres,
            Schemas = schemas,
            Extensions = extensions,
            Enums = enumRows.Select(e => e.Model).ToList(),
            Sequences = sequences,
            Tables = tables,
            Views = viewRows.Select(v => v.Model with { DependsOn = DependenciesOf(ObjectKey.Of(SchemaObjectKind.View, v.Model.Name)) }).ToList(),
            Routines = routineRows.Select(r => r.Model with { DependsOn = DependenciesOf(r.Model.Key) }).ToList(),
            Triggers = triggerRows.Select(t => t.Model with { DependsOn = routineKeys.TryGetValue(t.Function, out var f) ? [f] : [] }).ToList(),
        };
    }

    private static ConstraintKind KindOf(char type) => type switch
    {
        'p' => ConstraintKind.PrimaryKey,
        'u' => ConstraintKind.Unique,
        'c' => ConstraintKind.Check,
        'f' => ConstraintKind.ForeignKey,
        'x' => ConstraintKind.Exclusion,
        _ => throw new InvalidOperationException($"unexpected constraint type '{type}'"),
    };

    /// <summary>
    /// <c>USING btree (a) WHERE …</c>: what follows the table in <c>pg_get_indexdef</c>, so an index compares by what it
    /// indexes, not by the table's spelling. An index left invalid by a failed <c>CREATE INDEX CONCURRENTLY</c> is marked,
    /// so it never matches and is built again.
    /// </summary>
    private static string IndexTail(string definition, bool valid)
    {
        var at = definition.IndexOf(" USING ", StringComparison.Ordinal);
        var tail = at >= 0 ? definition[(at + 1)..] : definition;
        return valid ? tail : tail + " /* invalid: left by a failed build */";
    }

    private static Dictionary<string, string> Options(string[] options) =>
        options.Select(o => o.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal);

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
