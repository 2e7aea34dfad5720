using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>
/// Classifies a statement by its leading keywords and reads the parts migration rules need. Anything it does not
/// recognise becomes an <see cref="OtherStatement"/>: unknown SQL is never a finding by itself.
/// </summary>
internal static class StatementParser
{
    // Words that may sit between CREATE and the object keyword (CREATE OR REPLACE TEMP TABLE, CREATE UNIQUE INDEX …).
    private static readonly string[] CreateModifiers =
    [
        "or", "replace", "global", "local", "temp", "temporary", "unlogged", "unique", "fulltext", "spatial", "recursive",
        "constraint", "trusted", "procedural", "aggregate", "if", "not", "exists", "online", "offline", "ignore",
    ];

    private static readonly string[] ClauseOrObjectKeywords =
    [
        "table", "index", "view", "function", "procedure", "trigger", "event", "type", "domain", "schema", "database", "sequence",
        "extension", "materialized", "sql", "algorithm", "definer", "or", "aggregate",
    ];

    // Looking the first word up by span saves two strings per statement on files with a million statements.
    private static readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> KnownVerbs = new Dictionary<string, string>(
        new[]
        {
            "alter", "create", "drop", "truncate", "update", "delete", "insert", "with", "replace", "begin", "start", "commit", "end", "rollback",
            "abort", "vacuum", "cluster", "reindex", "refresh", "optimize", "lock", "do", "set", "rename", "select", "grant", "revoke", "comment",
            "call", "analyze", "copy", "reset", "unlock", "savepoint", "release", "values", "merge", "notify", "use", "show", "explain",
        }.ToDictionary(v => v, v => v, StringComparer.OrdinalIgnoreCase),
        StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();

    public static ParsedStatement Parse(StatementTokens t)
    {
        if (t.Count == 0 || !t.IsKind(0, SqlTokenKind.Word))
        {
            return new OtherStatement(t, t.Count == 0 ? string.Empty : t.TextString(0));
        }

        var first = t.Text(0);
        var verb = KnownVerbs.TryGetValue(first, out var known) ? known : first.ToString().ToLowerInvariant();
        return verb switch
        {
            "alter" => ParseAlter(t),
            "create" => ParseCreate(t),
            "drop" => ParseDrop(t),
            "truncate" => ParseTruncate(t),
            "update" or "delete" or "insert" or "with" or "replace" => (ParsedStatement?)DmlParser.Parse(t) ?? new OtherStatement(t, verb),
            "begin" or "start" or "commit" or "end" or "rollback" or "abort" => ParseTransaction(t, verb),
            "vacuum" => ParseVacuum(t),
            "cluster" => new MaintenanceStatement(t, MaintenanceKind.Cluster, NameAfter(t, t.IsWord(1, "verbose") ? 2 : 1), false),
            "reindex" => ParseReindex(t),
            "refresh" when t.IsWord(1, "materialized", "view") => ParseRefresh(t),
            "optimize" => new MaintenanceStatement(t, MaintenanceKind.OptimizeTable, NameAfter(t, Math.Max(t.FindWord(1, t.Count, "table") + 1, 1)), false),
            "lock" => ParseLock(t),
            "do" => ParseDo(t),
            "set" => ParseSet(t),
            "reset" when t.Dialect == SqlDialect.Postgres && t.Count >= 2 => new ResetStatement(t, t.IsWord(1, "all") ? null : SettingName(t, 1)),
            "rename" when t.IsWord(1, "table") => ParseRenameTables(t),
            "call" when NameAfter(t, 1) is { } procedure => new CallStatement(t, procedure),
            _ => new OtherStatement(t, verb),
        };
    }

    private static ObjectName? NameAfter(StatementTokens t, int index) => t.ReadName(ref index);

    private static ParsedStatement ParseAlter(StatementTokens t)
    {
        var i = 1;
        while (t.IsAnyWord(i, ["online", "offline", "ignore"]))
        {
            i++;
        }

        if (t.IsWord(i, "table"))
        {
            return AlterTableParser.Parse(t, i + 1);
        }

        if (t.IsWord(i, "system"))
        {
            return new NonTransactionalStatement(t, "ALTER SYSTEM");
        }

        if (t.IsWord(i, "type"))
        {
            return ParseAlterType(t, i + 1);
        }

        if (t.IsWord(i, "domain"))
        {
            i++;
            if (t.TryReadName(ref i, out var domain) && t.IsWord(i, "add"))
            {
                return new AlterDomainAddConstraint(t, domain, ConstraintParser.IsNotValid(t, i, t.Count));
            }

            return new OtherStatement(t, "alter domain");
        }

        var (kind, kindText, next) =
            t.IsWord(i, "materialized", "view") ? (RenamedObjectKind.MaterializedView, "materialized view", i + 2) :
            t.IsWord(i, "view") ? (RenamedObjectKind.View, "view", i + 1) :
            t.IsWord(i, "sequence") ? (RenamedObjectKind.Sequence, "sequence", i + 1) :
            t.IsWord(i, "function") ? (RenamedObjectKind.Function, "function", i + 1) :
            t.IsWord(i, "procedure") ? (RenamedObjectKind.Procedure, "procedure", i + 1) :
            t.IsWord(i, "schema") ? (RenamedObjectKind.Schema, "schema", i + 1) :
            t.IsWord(i, "index") ? (RenamedObjectKind.Index, "index", i + 1) :
            (RenamedObjectKind.Other, string.Empty, -1);
        if (next > 0)
        {
            if (t.IsWord(next, "if", "exists"))
            {
                next += 2;
            }

            if (t.TryReadName(ref next, out var name))
            {
                if (t.IsOpen(next))
                {
                    next = t.SkipParens(next);
                }

                if (t.IsWord(next, "rename", "to"))
                {
                    return new RenameObjectStatement(t, kind, kindText, name, NameAfter(t, next + 2));
                }
            }
        }

        return new OtherStatement(t, "alter " + (i < t.Count ? t.TextString(i).ToLowerInvariant() : string.Empty));
    }

    private static ParsedStatement ParseAlterType(StatementTokens t, int i)
    {
        if (!t.TryReadName(ref i, out var type))
        {
            return new OtherStatement(t, "alter type");
        }

        if (t.IsWord(i, "add", "value"))
        {
            i += 2;
            var ifNotExists = false;
            if (t.IsWord(i, "if", "not", "exists"))
            {
                ifNotExists = true;
                i += 3;
            }

            var value = t.IsKind(i, SqlTokenKind.String) ? t.StringValue(i) : string.Empty;
            var positioned = t.IsWord(i + 1, "before") || t.IsWord(i + 1, "after");
            return new AlterEnumAddValue(t, type, value, ifNotExists, positioned);
        }

        if (t.IsWord(i, "rename", "value"))
        {
            return new RenameObjectStatement(t, RenamedObjectKind.EnumValue, "enum value", type, null);
        }

        if (t.IsWord(i, "rename", "to"))
        {
            return new RenameObjectStatement(t, RenamedObjectKind.Type, "type", type, NameAfter(t, i + 2));
        }

        return new OtherStatement(t, "alter type");
    }

    private static ParsedStatement ParseCreate(StatementTokens t)
    {
        var i = 1;
        bool temporary = false, unlogged = false, unique = false, ifNotExists = false;
        var indexKind = ConstraintKind.Index;
        while (i < t.Count)
        {
            if (t.IsWord(i, "sql", "security"))
            {
                i += 3;
                continue;
            }

            if (t.IsWord(i, "definer") || t.IsWord(i, "algorithm"))
            {
                // MySQL: CREATE DEFINER=`u`@`h` ALGORITHM=MERGE VIEW … — skip the clause's value, whatever its tokens.
                i++;
                while (i < t.Count && !t.IsAnyWord(i, ClauseOrObjectKeywords))
                {
                    i++;
                }

                continue;
            }

            if (!t.IsAnyWord(i, CreateModifiers))
            {
                break;
            }

            temporary |= t.IsWord(i, "temp") || t.IsWord(i, "temporary");
            unlogged |= t.IsWord(i, "unlogged");
            unique |= t.IsWord(i, "unique");
            if (t.IsWord(i, "fulltext"))
            {
                indexKind = ConstraintKind.FullText;
            }
            else if (t.IsWord(i, "spatial"))
            {
                indexKind = ConstraintKind.Spatial;
            }

            i++;
        }

        if (t.IsWord(i, "table"))
        {
            i++;
            if (t.IsWord(i, "if", "not", "exists"))
            {
                ifNotExists = true;
                i += 3;
            }

            return t.TryReadName(ref i, out var table)
                ? CreateTable(t, table, i, ifNotExists, temporary, unlogged)
                : new OtherStatement(t, "create table");
        }

        if (t.IsWord(i, "index"))
        {
            return ParseCreateIndex(t, i + 1, unique, indexKind);
        }

        if (t.IsWord(i, "type"))
        {
            i++;
            if (t.TryReadName(ref i, out var type) && t.IsWord(i, "as", "enum") && t.IsOpen(i + 2))
            {
                var values = new List<string>();
                var close = t.SkipParens(i + 2);
                for (var v = i + 3; v < close; v++)
                {
                    if (t.IsKind(v, SqlTokenKind.String))
                    {
                        values.Add(t.StringValue(v));
                    }
                }

                return new CreateEnumType(t, type, values);
            }

            return new OtherStatement(t, "create type");
        }

        if (t.IsWord(i, "function") || t.IsWord(i, "procedure"))
        {
            var kindText = t.TextString(i).ToLowerInvariant();
            i++;
            if (t.IsWord(i, "if", "not", "exists"))
            {
                i += 3;
            }

            return t.TryReadName(ref i, out var routine) ? new CreateRoutineStatement(t, routine, kindText) : new OtherStatement(t, "create " + kindText);
        }

        if (t.IsWord(i, "trigger"))
        {
            var on = t.FindWord(i + 1, t.Count, "on");
            var at = on + 1;
            return on > 0 && t.TryReadName(ref at, out var triggerTable) ? new CreateTriggerStatement(t, triggerTable) : new OtherStatement(t, "create trigger");
        }

        if (t.IsWord(i, "view") || t.IsWord(i, "materialized", "view"))
        {
            var materialized = t.IsWord(i, "materialized");
            i += materialized ? 2 : 1;
            if (t.IsWord(i, "if", "not", "exists"))
            {
                i += 3;
            }

            return t.TryReadName(ref i, out var view) ? new CreateViewStatement(t, view, materialized) : new OtherStatement(t, "create view");
        }

        if (t.IsWord(i, "domain"))
        {
            i++;
            var hasConstraint = t.FindWord(i, t.Count, "check") >= 0 || t.FindWord(i, t.Count, "constraint") >= 0;
            return t.TryReadName(ref i, out var domain) ? new CreateDomainStatement(t, domain, hasConstraint) : new OtherStatement(t, "create domain");
        }

        if (t.Dialect == SqlDialect.Postgres && (t.IsWord(i, "database") || t.IsWord(i, "tablespace")))
        {
            return new NonTransactionalStatement(t, "CREATE " + t.TextString(i).ToUpperInvariant());
        }

        return new OtherStatement(t, "create " + (i < t.Count ? t.TextString(i).ToLowerInvariant() : string.Empty));
    }

    private static CreateTableStatement CreateTable(StatementTokens t, ObjectName table, int i, bool ifNotExists, bool temporary, bool unlogged)
    {
        var columns = new List<ColumnDefinition>();
        var constraints = new List<ConstraintDefinition>();
        ObjectName? partitionOf = null;
        if (t.Dialect == SqlDialect.Postgres && t.IsWord(i, "partition", "of"))
        {
            i += 2;
            partitionOf = t.ReadName(ref i);
        }

        if (t.IsOpen(i))
        {
            var close = t.SkipParens(i);
            foreach (var (start, end) in t.SplitTopLevel(i + 1, close - 1))
            {
                if (ConstraintParser.StartsConstraint(t, start))
                {
                    constraints.Add(ConstraintParser.Read(t, start, end));
                }
                else if (t.IsWord(start, "like"))
                {
                    continue;
                }
                else if (ColumnDefinition.Read(t, start, end) is { } column)
                {
                    columns.Add(column);
                }
            }
        }

        return new CreateTableStatement(t, table, ifNotExists, temporary, unlogged, columns, constraints, partitionOf);
    }

    private static ParsedStatement ParseCreateIndex(StatementTokens t, int i, bool unique, ConstraintKind kind)
    {
        var concurrently = false;
        var ifNotExists = false;
        if (t.IsWord(i, "concurrently"))
        {
            concurrently = true;
            i++;
        }

        if (t.IsWord(i, "if", "not", "exists"))
        {
            ifNotExists = true;
            i += 3;
        }

        string? name = null;
        if (!t.IsWord(i, "on") && t.IsName(i))
        {
            var nameIndex = i;
            if (t.TryReadName(ref nameIndex, out var indexName))
            {
                name = indexName.Name;
                i = nameIndex;
            }
        }

        var on = t.FindWord(i, t.Count, "on");
        if (on < 0)
        {
            return new OtherStatement(t, "create index");
        }

        i = on + 1;
        var only = false;
        if (t.IsWord(i, "only"))
        {
            only = true;
            i++;
        }

        if (!t.TryReadName(ref i, out var table))
        {
            return new OtherStatement(t, "create index");
        }

        var columnsStart = i;
        if (t.IsWord(i, "using") && i + 1 < t.Count)
        {
            i += 2;
        }

        IReadOnlyList<string>? columns = null;
        if (t.IsOpen(i))
        {
            columns = IndexColumns(t, i);
        }

        var nullsNotDistinct = t.FindWord(columnsStart, t.Count, "distinct") is var distinct and > 0 && t.IsWord(distinct - 2, "nulls", "not");
        return new CreateIndexStatement(t, name, table, unique, concurrently, ifNotExists, only, unique ? ConstraintKind.Unique : kind, columnsStart, columns, nullsNotDistinct);
    }

    /// <summary>The plain column names of an index's key list, or null when a key is an expression (its values are not known).</summary>
    public static IReadOnlyList<string>? IndexColumns(StatementTokens t, int open)
    {
        var close = t.SkipParens(open);
        var columns = new List<string>();
        foreach (var (start, end) in t.SplitTopLevel(open + 1, close - 1))
        {
            // A column, optionally with a prefix length (MySQL name(10)), COLLATE, an operator class and ASC/DESC/NULLS FIRST.
            if (!t.IsName(start) || (t.IsOpen(start + 1) && t.Dialect == SqlDialect.Postgres))
            {
                return null;
            }

            columns.Add(t.Identifier(start));
        }

        return columns;
    }

    private static ParsedStatement ParseDrop(StatementTokens t)
    {
        var i = 1;
        if (t.IsWord(i, "temporary"))
        {
            i++;
        }

        var (kind, width) =
            t.IsWord(i, "table") ? (DropKind.Table, 1) :
            t.IsWord(i, "schema") ? (DropKind.Schema, 1) :
            t.IsWord(i, "database") ? (DropKind.Database, 1) :
            t.IsWord(i, "view") ? (DropKind.View, 1) :
            t.IsWord(i, "materialized", "view") ? (DropKind.MaterializedView, 2) :
            t.IsWord(i, "type") ? (DropKind.Type, 1) :
            t.IsWord(i, "domain") ? (DropKind.Domain, 1) :
            t.IsWord(i, "function") ? (DropKind.Function, 1) :
            t.IsWord(i, "procedure") ? (DropKind.Procedure, 1) :
            t.IsWord(i, "sequence") ? (DropKind.Sequence, 1) :
            t.IsWord(i, "trigger") ? (DropKind.Trigger, 1) :
            t.IsWord(i, "extension") ? (DropKind.Extension, 1) :
            (DropKind.Other, 1);
        if (t.IsWord(i, "index"))
        {
            return ParseDropIndex(t, i + 1);
        }

        var kindText = i + width <= t.Count ? string.Join(' ', Enumerable.Range(i, width).Select(k => t.TextString(k).ToUpperInvariant())) : string.Empty;
        i += width;
        var ifExists = false;
        if (t.IsWord(i, "if", "exists"))
        {
            ifExists = true;
            i += 2;
        }

        var names = new List<ObjectName>();
        var end = t.Count;
        if (kind == DropKind.Trigger)
        {
            var on = t.FindWord(i, t.Count, "on");
            end = on > 0 ? on : end;
        }

        foreach (var (start, partEnd) in t.SplitTopLevel(i, end))
        {
            var at = start;
            if (t.TryReadName(ref at, out var name))
            {
                names.Add(name);
            }
        }

        var cascade = t.FindWord(i, t.Count, "cascade") >= 0;
        return new DropStatement(t, kind, kindText, names, ifExists, cascade);
    }

    private static DropIndexStatement ParseDropIndex(StatementTokens t, int i)
    {
        var concurrently = false;
        var ifExists = false;
        if (t.IsWord(i, "concurrently"))
        {
            concurrently = true;
            i++;
        }

        if (t.IsWord(i, "if", "exists"))
        {
            ifExists = true;
            i += 2;
        }

        var on = t.FindWord(i, t.Count, "on");
        var names = new List<ObjectName>();
        foreach (var (start, _) in t.SplitTopLevel(i, on > 0 ? on : t.Count))
        {
            var at = start;
            if (t.TryReadName(ref at, out var name))
            {
                names.Add(name);
            }
        }

        ObjectName? table = null;
        if (on > 0)
        {
            var at = on + 1;
            table = t.ReadName(ref at);
        }

        return new DropIndexStatement(t, names, table, concurrently, ifExists);
    }

    private static TruncateStatement ParseTruncate(StatementTokens t)
    {
        var i = 1;
        if (t.IsWord(i, "table"))
        {
            i++;
        }

        if (t.IsWord(i, "only"))
        {
            i++;
        }

        var tables = new List<ObjectName>();
        foreach (var (start, _) in t.SplitTopLevel(i, t.Count))
        {
            var at = start;
            if (t.TryReadName(ref at, out var name))
            {
                tables.Add(name);
            }
        }

        return new TruncateStatement(t, tables, t.FindWord(i, t.Count, "cascade") >= 0);
    }

    private static ParsedStatement ParseTransaction(StatementTokens t, string verb)
    {
        switch (verb)
        {
            // Only a bare BEGIN [WORK | TRANSACTION | transaction modes] opens a transaction; BEGIN followed by anything
            // else is a compound-statement block (MariaDB BEGIN NOT ATOMIC, a routine body split without DELIMITER).
            case "begin" when t.Count == 1 || (t.Count == 2 && t.IsWord(1, "work")) ||
                              (t.Dialect == SqlDialect.Postgres && t.IsAnyWord(1, ["work", "transaction", "isolation", "read", "deferrable", "not"]) && !t.IsWord(1, "not", "atomic")):
                return new TransactionStatement(t, TransactionControl.Begin);
            case "start" when t.IsWord(1, "transaction"):
                return new TransactionStatement(t, TransactionControl.Begin);
            case "commit" when !t.IsWord(1, "prepared"):
                return new TransactionStatement(t, TransactionControl.Commit);
            case "end" when t.Dialect == SqlDialect.Postgres && (t.Count == 1 || t.IsWord(1, "transaction") || t.IsWord(1, "work")):
                return new TransactionStatement(t, TransactionControl.Commit);
            case "rollback" or "abort" when !t.IsWord(1, "to") && !t.IsWord(1, "prepared") && t.FindWord(1, t.Count, "to") < 0:
                return new TransactionStatement(t, TransactionControl.Rollback);
            default:
                return new OtherStatement(t, verb);
        }
    }

    private static MaintenanceStatement ParseVacuum(StatementTokens t)
    {
        var i = 1;
        var full = false;
        if (t.IsOpen(i))
        {
            var close = t.SkipParens(i);
            for (var k = i + 1; k < close; k++)
            {
                if (t.IsWord(k, "full") && !t.IsAnyWord(k + 1, ["false", "off", "0"]))
                {
                    full = true;
                }
            }

            i = close;
        }

        while (t.IsAnyWord(i, ["full", "freeze", "verbose", "analyze", "analyse"]))
        {
            full |= t.IsWord(i, "full");
            i++;
        }

        return new MaintenanceStatement(t, full ? MaintenanceKind.VacuumFull : MaintenanceKind.Vacuum, NameAfter(t, i), false);
    }

    private static ParsedStatement ParseReindex(StatementTokens t)
    {
        var i = 1;
        var concurrently = false;
        if (t.IsOpen(i))
        {
            var close = t.SkipParens(i);
            concurrently = t.ContainsWord(i, close, "concurrently");
            i = close;
        }

        var target = i < t.Count ? t.TextString(i).ToLowerInvariant() : string.Empty;
        i++;
        if (t.IsWord(i, "concurrently"))
        {
            concurrently = true;
            i++;
        }

        if (target is "schema" or "database" or "system")
        {
            return new NonTransactionalStatement(t, "REINDEX " + target.ToUpperInvariant());
        }

        return new MaintenanceStatement(t, MaintenanceKind.Reindex, NameAfter(t, i), concurrently);
    }

    private static MaintenanceStatement ParseRefresh(StatementTokens t)
    {
        var i = 3;
        var concurrently = t.IsWord(i, "concurrently");
        if (concurrently)
        {
            i++;
        }

        return new MaintenanceStatement(t, MaintenanceKind.RefreshMaterializedView, NameAfter(t, i), concurrently);
    }

    private static LockTableStatement ParseLock(StatementTokens t)
    {
        var i = 1;
        var mysql = t.Dialect == SqlDialect.MySql;
        if (t.IsWord(i, "table") || t.IsWord(i, "tables"))
        {
            i++;
        }

        if (t.IsWord(i, "only"))
        {
            i++;
        }

        var tables = new List<ObjectName>();
        var mode = mysql ? "READ" : "ACCESS EXCLUSIVE";
        var inIndex = mysql ? -1 : t.FindWord(i, t.Count, "in");
        foreach (var (start, end) in t.SplitTopLevel(i, inIndex > 0 ? inIndex : t.Count))
        {
            var at = start;
            if (t.TryReadName(ref at, out var name))
            {
                tables.Add(name);
            }

            if (mysql && t.FindWord(at, end, "write") >= 0)
            {
                mode = "WRITE";
            }
        }

        if (inIndex > 0)
        {
            var modeEnd = t.FindWord(inIndex, t.Count, "mode");
            if (modeEnd > inIndex)
            {
                mode = string.Join(' ', Enumerable.Range(inIndex + 1, modeEnd - inIndex - 1).Select(k => t.TextString(k).ToUpperInvariant()));
            }
        }

        return new LockTableStatement(t, tables, mode);
    }

    private static ParsedStatement ParseDo(StatementTokens t)
    {
        for (var i = 1; i < t.Count; i++)
        {
            if (t.IsKind(i, SqlTokenKind.DollarString) || t.IsKind(i, SqlTokenKind.String))
            {
                return new DoStatement(t, i);
            }
        }

        return new OtherStatement(t, "do");
    }

    private static ParsedStatement ParseSet(StatementTokens t)
    {
        var i = 1;
        var local = false;
        while (t.IsAnyWord(i, ["session", "local", "global", "persist"]))
        {
            local |= t.IsWord(i, "local") && t.Dialect == SqlDialect.Postgres;
            i++;
        }

        if (i >= t.Count)
        {
            return new OtherStatement(t, "set");
        }

        var name = SettingName(t, i);
        var valueIndex = t.IsWord(i, "time", "zone") ? i + 2 : t.IsOperator(i + 1, "=") || t.IsWord(i + 1, "to") ? i + 2 : i + 1;
        var value = valueIndex < t.Count ? t.TextString(valueIndex).Trim('\'').ToLowerInvariant() : string.Empty;
        return new SetStatement(t, name, value, local);
    }

    /// <summary>A setting's name as the server knows it: lower case, without @@/session. prefixes; <c>TIME ZONE</c> is PostgreSQL's timezone.</summary>
    private static string SettingName(StatementTokens t, int i)
    {
        if (t.IsWord(i, "time", "zone"))
        {
            return "timezone";
        }

        var name = t.TextString(i).TrimStart('@').ToLowerInvariant();
        return name.StartsWith("session.", StringComparison.Ordinal) ? name["session.".Length..] : name;
    }

    private static RenameTablesStatement ParseRenameTables(StatementTokens t)
    {
        var pairs = new List<(ObjectName, ObjectName)>();
        foreach (var (start, _) in t.SplitTopLevel(2, t.Count))
        {
            var at = start;
            if (t.TryReadName(ref at, out var from) && t.IsWord(at, "to"))
            {
                at++;
                if (t.TryReadName(ref at, out var to))
                {
                    pairs.Add((from, to));
                }
            }
        }

        return new RenameTablesStatement(t, pairs);
    }
}
