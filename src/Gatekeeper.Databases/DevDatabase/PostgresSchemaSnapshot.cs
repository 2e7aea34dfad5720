using System.Data;
using System.Globalization;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.DevDatabase;

/// <summary>
/// Reads a PostgreSQL database's structure from its catalog (schemas, extensions, types, sequences, functions and
/// procedures, tables with their columns and partitions, constraints, indexes, views, materialized views, row-level
/// security policies, triggers) as statements the server itself renders (<c>pg_get_*def</c>, <c>format_type</c>), the
/// way pg_dump does for a schema-only dump. No row is read, and the catalog is readable by every user, so a read-only
/// credential suffices. Objects that belong to an extension come with the extension. Not copied: grants, owners,
/// comments, rules, aggregates, foreign tables, custom collations and text search configurations.
/// </summary>
internal static class PostgresSchemaSnapshot
{
    private const string UserSchema = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";

    private static string NotInExtension(string catalog, string oid) =>
        $"NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass AND e.objid = {oid} AND e.deptype = 'e')";

    private static readonly string Schemas = $"""
        SELECT 'schema', n.nspname, format('CREATE SCHEMA IF NOT EXISTS %I', n.nspname)
        FROM pg_namespace n
        WHERE {UserSchema} AND {NotInExtension("pg_namespace", "n.oid")}
        ORDER BY n.nspname
        """;

    private const string Extensions = """
        SELECT 'extension', e.extname, format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I', e.extname, n.nspname)
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname <> 'plpgsql'
        ORDER BY e.extname
        """;

    private static readonly string Types = $"""
        SELECT 'type', n.nspname || '.' || t.typname,
          CASE t.typtype
            WHEN 'e' THEN format('CREATE TYPE %I.%I AS ENUM (%s)', n.nspname, t.typname,
              coalesce((SELECT string_agg(quote_literal(v.enumlabel), ', ' ORDER BY v.enumsortorder) FROM pg_enum v WHERE v.enumtypid = t.oid), ''))
            WHEN 'r' THEN format('CREATE TYPE %I.%I AS RANGE (SUBTYPE = %s)', n.nspname, t.typname,
              (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid))
            WHEN 'c' THEN format('CREATE TYPE %I.%I AS (%s)', n.nspname, t.typname,
              coalesce((SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
                        FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), ''))
            ELSE format('CREATE DOMAIN %I.%I AS %s', n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod))
              || CASE WHEN t.typdefault IS NOT NULL THEN ' DEFAULT ' || t.typdefault ELSE '' END
              || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
              || coalesce((SELECT string_agg(format(' CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)), '' ORDER BY c.conname)
                           FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '')
          END
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE {UserSchema} AND {NotInExtension("pg_type", "t.oid")}
          AND (t.typtype IN ('e', 'r', 'd') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class k WHERE k.oid = t.typrelid AND k.relkind = 'c')))
        ORDER BY t.typtype = 'd', n.nspname, t.typname
        """;

    // Identity columns bring their own sequence (dependency 'i'); serial columns' sequences are created here and
    // owned by their column afterwards (SequenceOwners).
    private static readonly string Sequences = $"""
        SELECT 'sequence', n.nspname || '.' || c.relname,
          format('CREATE SEQUENCE %I.%I AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s', n.nspname, c.relname,
            format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END)
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {UserSchema}
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('i', 'e'))
        ORDER BY n.nspname, c.relname
        """;

    private static readonly string Functions = $"""
        SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, n.nspname || '.' || p.proname, pg_get_functiondef(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE {UserSchema} AND p.prokind IN ('f', 'p') AND {NotInExtension("pg_proc", "p.oid")}
        ORDER BY n.nspname, p.proname, p.oid
        """;

    private const string Column = """
        format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod))
          || CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT ty.typcollation FROM pg_type ty WHERE ty.oid = a.atttypid)
                  THEN ' COLLATE ' || (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)
                  ELSE '' END
          || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(ad.adbin, ad.adrelid) || ') STORED'
                  WHEN ad.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid)
                  ELSE '' END
          || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END
          || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
        """;

    // Partitions after the tables they belong to; inheritance children list only their own columns.
    private static readonly string Tables = $"""
        SELECT 'table', n.nspname || '.' || c.relname,
          CASE WHEN c.relispartition THEN
            format('CREATE TABLE %I.%I PARTITION OF %I.%I %s', n.nspname, c.relname, pn.nspname, pc.relname, pg_get_expr(c.relpartbound, c.oid))
          ELSE
            format('CREATE %sTABLE %I.%I (%s)', CASE WHEN c.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, n.nspname, c.relname,
              coalesce((SELECT string_agg({Column}, ', ' ORDER BY a.attnum)
                        FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attislocal), ''))
            || coalesce((SELECT ' INHERITS (' || string_agg(format('%I.%I', hn.nspname, hc.relname), ', ' ORDER BY h.inhseqno) || ')'
                         FROM pg_inherits h JOIN pg_class hc ON hc.oid = h.inhparent JOIN pg_namespace hn ON hn.oid = hc.relnamespace
                         WHERE h.inhrelid = c.oid), '')
          END
          || CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_inherits pi ON c.relispartition AND pi.inhrelid = c.oid
          LEFT JOIN pg_class pc ON pc.oid = pi.inhparent
          LEFT JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE c.relkind IN ('r', 'p') AND {UserSchema} AND {NotInExtension("pg_class", "c.oid")}
        ORDER BY c.relispartition, n.nspname, c.relname
        """;

    // Constraints a partitioned parent passed down (conparentid) or a parent table handed on (not conislocal) come
    // back by themselves when the parent's is added; foreign keys last, after the keys they reference.
    private static readonly string Constraints = $"""
        SELECT CASE WHEN con.contype = 'f' THEN 'foreign key' ELSE 'constraint' END, n.nspname || '.' || c.relname || '.' || con.conname,
          format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid))
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE con.contype IN ('p', 'u', 'x', 'c', 'f') AND con.conislocal AND con.conparentid = 0
          AND c.relkind IN ('r', 'p') AND {UserSchema} AND {NotInExtension("pg_class", "c.oid")}
        ORDER BY con.contype = 'f', con.contype = 'c', n.nspname, c.relname, con.conname
        """;

    // Indexes behind a key come with the key; a partitioned table's index creates its partitions' (ON ONLY would not).
    private static readonly string Indexes = $"""
        SELECT 'index', n.nspname || '.' || ic.relname,
          CASE WHEN c.relkind = 'p' THEN replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ') ELSE pg_get_indexdef(i.indexrelid) END
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm') AND NOT ic.relispartition AND {UserSchema} AND {NotInExtension("pg_class", "c.oid")}
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
        ORDER BY c.relkind = 'm', n.nspname, ic.relname
        """;

    private static readonly string Views = $"""
        SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, n.nspname || '.' || c.relname,
          CASE c.relkind
            WHEN 'v' THEN format('CREATE VIEW %I.%I AS %s', n.nspname, c.relname, rtrim(rtrim(pg_get_viewdef(c.oid)), ';'))
            ELSE format('CREATE MATERIALIZED VIEW %I.%I AS %s WITH NO DATA', n.nspname, c.relname, rtrim(rtrim(pg_get_viewdef(c.oid)), ';'))
          END
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm') AND {UserSchema} AND {NotInExtension("pg_class", "c.oid")}
        ORDER BY n.nspname, c.relname
        """;

    // Roles are not copied (they belong to the server), so policies apply to PUBLIC in the copy: their names and
    // expressions are what a plan's DROP POLICY or ALTER POLICY needs.
    private static readonly string Policies = $"""
        SELECT 'row security', n.nspname || '.' || c.relname, format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relrowsecurity AND {UserSchema}
        UNION ALL
        SELECT 'policy', n.nspname || '.' || c.relname || '.' || p.polname,
          format('CREATE POLICY %I ON %I.%I AS %s FOR %s TO PUBLIC', p.polname, n.nspname, c.relname,
            CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
            CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END)
          || CASE WHEN p.polqual IS NOT NULL THEN ' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')' ELSE '' END
          || CASE WHEN p.polwithcheck IS NOT NULL THEN ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')' ELSE '' END
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {UserSchema}
        """;

    private static string Triggers(int serverVersion) => $"""
        SELECT 'trigger', n.nspname || '.' || c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal {(serverVersion >= 130000 ? "AND t.tgparentid = 0" : string.Empty)}
          AND {UserSchema} AND {NotInExtension("pg_class", "c.oid")}
        ORDER BY n.nspname, c.relname, t.tgname
        """;

    private static readonly string SequenceOwners = $"""
        SELECT 'sequence owner', n.nspname || '.' || s.relname,
          format('ALTER SEQUENCE %I.%I OWNED BY %I.%I.%I', n.nspname, s.relname, tn.nspname, t.relname, a.attname)
        FROM pg_depend d
          JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_namespace n ON n.oid = s.relnamespace
          JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' AND d.refobjsubid > 0 AND {UserSchema}
        ORDER BY n.nspname, s.relname
        """;

    public static async Task<SchemaSnapshot> ReadAsync(DbSession live, CancellationToken cancellationToken)
    {
        // One snapshot of the catalog, and every name the server renders qualified with its schema (as pg_dump reads).
        await live.BeginAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        try
        {
            var searchPath = Convert.ToString(
                await live.ScalarAsync("SELECT replace(current_setting('search_path'), '\"$user\"', quote_ident(current_user))", cancellationToken).ConfigureAwait(false),
                CultureInfo.InvariantCulture) ?? string.Empty;
            var serverVersion = Convert.ToInt32(await live.ScalarAsync("SELECT current_setting('server_version_num')::int", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            await live.ExecuteAsync("SET LOCAL search_path TO pg_catalog", cancellationToken).ConfigureAwait(false);

            var objects = new List<SchemaObject>();
            foreach (var query in new[] { Schemas, Extensions, Types, Sequences, Functions, Tables, Constraints, Indexes, Views, Policies, Triggers(serverVersion), SequenceOwners })
            {
                objects.AddRange(await live.QueryAsync(query, r => new SchemaObject(r.GetString(0), r.GetString(1), r.GetString(2)), cancellationToken).ConfigureAwait(false));
            }

            return new SchemaSnapshot(
                objects,
                ["SET check_function_bodies = off", "SET search_path TO pg_catalog"],
                ["RESET check_function_bodies", searchPath.Length == 0 ? "SET search_path TO ''" : $"SET search_path TO {searchPath}"],
                new ThrowawayDatabaseOptions());
        }
        finally
        {
            await live.RollbackQuietlyAsync().ConfigureAwait(false);
        }
    }
}
