using System.Globalization;
using System.Text;

namespace Gatekeeper.Core.Schema;

/// <summary>
/// PostgreSQL: one statement per change (each is linted on its own and the whole plan runs in one transaction),
/// comments as <c>COMMENT ON</c>, names quoted only where PostgreSQL needs it (as <c>pg_dump</c> writes them).
/// </summary>
internal sealed class PostgresSchemaDdl : SchemaDdl
{
    public static readonly PostgresSchemaDdl Instance = new();

    // Keywords that are not "unreserved" in PostgreSQL 15 (reserved, column-name and type/function-name keywords):
    // an identifier spelled like one of them must be quoted.
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between", "bigint",
        "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce", "collate", "collation",
        "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date", "current_role",
        "current_schema", "current_time", "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable",
        "desc", "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float", "for", "foreign",
        "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in", "initially", "inner",
        "inout", "int", "integer", "intersect", "interval", "into", "is", "isnull", "join", "lateral", "leading", "least",
        "left", "like", "limit", "localtime", "localtimestamp", "national", "natural", "nchar", "none", "normalize", "not",
        "notnull", "null", "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay",
        "placing", "position", "precision", "primary", "real", "references", "returning", "right", "row", "select",
        "session_user", "setof", "similar", "smallint", "some", "substring", "symmetric", "table", "tablesample", "then",
        "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using", "values",
        "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement",
        "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
    };

    public override bool CanPlaceColumns => false;

    public override bool ViewsPinColumns => true;

    public override bool ReplacesViewsInPlace => false;

    public override bool RoutinesAfterTables => false;

    public override bool EnumLabelsNeedCommit => true;

    public override bool RenamesConstraints => true;

    public override string Quote(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var plain = identifier.Length > 0 && (identifier[0] is >= 'a' and <= 'z' or '_') &&
                    identifier.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '$') && !Keywords.Contains(identifier);
        return plain ? identifier : QuoteWith(identifier, '"');
    }

    public override string Literal(string text) => QuoteWith(text, '\'');

    public override IEnumerable<string> CreateSchema(NamespaceModel schema)
    {
        yield return $"CREATE SCHEMA {Quote(schema.Name)}";
        if (CommentOnSchema(schema.Name, schema.Comment) is { } comment)
        {
            yield return comment;
        }
    }

    public override string DropSchema(string name) => $"DROP SCHEMA {Quote(name)}";

    public override string? CommentOnSchema(string name, string? comment) => Comment("SCHEMA", Quote(name), comment, onCreate: true);

    public override string CreateExtension(ExtensionModel extension) =>
        $"CREATE EXTENSION IF NOT EXISTS {Quote(extension.Name)} WITH SCHEMA {Quote(extension.Schema)}";

    public override string DropExtension(string name) => $"DROP EXTENSION {Quote(name)}";

    public override IEnumerable<string> CreateEnum(EnumModel type)
    {
        yield return $"CREATE TYPE {Name(type.Name)} AS ENUM ({string.Join(", ", type.Values.Select(Literal))})";
        if (CommentOnEnum(type.Name, type.Comment) is { } comment)
        {
            yield return comment;
        }
    }

    public override string AddEnumValue(ObjectName type, string value, string? before) =>
        before is null
            ? $"ALTER TYPE {Name(type)} ADD VALUE {Literal(value)}"
            : $"ALTER TYPE {Name(type)} ADD VALUE {Literal(value)} BEFORE {Literal(before)}";

    public override string RenameEnumValue(ObjectName type, string from, string to) =>
        $"ALTER TYPE {Name(type)} RENAME VALUE {Literal(from)} TO {Literal(to)}";

    public override string DropEnum(ObjectName type) => $"DROP TYPE {Name(type)}";

    public override string? CommentOnEnum(ObjectName type, string? comment) => Comment("TYPE", Name(type), comment, onCreate: true);

    public override IEnumerable<string> CreateSequence(SequenceModel sequence)
    {
        var options = sequence.Options;
        var text = new StringBuilder(sequence.Unlogged ? "CREATE UNLOGGED SEQUENCE " : "CREATE SEQUENCE ").Append(Name(sequence.Name));
        if (options.Type is not null)
        {
            text.Append(" AS ").Append(options.Type);
        }

        text.Append(" START WITH ").Append(Number(options.Start)).Append(" INCREMENT BY ").Append(Number(options.Increment))
            .Append(' ').Append(MinValue(options)).Append(' ').Append(MaxValue(options)).Append(" CACHE ").Append(Number(options.Cache));
        if (options.Cycle)
        {
            text.Append(" CYCLE");
        }

        yield return text.ToString();
        if (CommentOnSequence(sequence.Name, sequence.Comment) is { } comment)
        {
            yield return comment;
        }
    }

    public override IEnumerable<string> AlterSequence(SequenceModel from, SequenceModel to)
    {
        if (from.Options != to.Options)
        {
            yield return $"ALTER SEQUENCE {Name(to.Name)}{SequenceChanges(from.Options, to.Options)}";
        }

        if (from.Unlogged != to.Unlogged)
        {
            yield return $"ALTER SEQUENCE {Name(to.Name)} SET {(to.Unlogged ? "UNLOGGED" : "LOGGED")}";
        }
    }

    public override string? SetSequenceOwner(SequenceModel sequence) =>
        sequence.OwnedBy is { } owner
            ? $"ALTER SEQUENCE {Name(sequence.Name)} OWNED BY {Name(owner.Table)}.{Quote(owner.Column)}"
            : $"ALTER SEQUENCE {Name(sequence.Name)} OWNED BY NONE";

    public override string DropSequence(ObjectName sequence) => $"DROP SEQUENCE {Name(sequence)}";

    public override string? CommentOnSequence(ObjectName sequence, string? comment) => Comment("SEQUENCE", Name(sequence), comment, onCreate: true);

    public override IEnumerable<(string Summary, string Sql)> CreateTable(TableModel table)
    {
        var name = Name(table.Name);
        var lines = table.Columns.Select(ColumnDefinition)
            .Concat(table.Constraints.Where(c => c.Kind != ConstraintKind.ForeignKey).Select(c => $"CONSTRAINT {Quote(c.Name)} {c.Definition}"))
            .ToList();
        var unlogged = table.Options.TryGetValue(TableModel.PersistenceOption, out var persistence) && persistence == "unlogged";
        var text = new StringBuilder(unlogged ? "CREATE UNLOGGED TABLE " : "CREATE TABLE ").Append(name).Append(" (\n    ")
            .Append(string.Join(",\n    ", lines)).Append("\n)");
        var storage = table.Options.Where(o => o.Key != TableModel.PersistenceOption).ToList();
        if (storage.Count > 0)
        {
            text.Append(" WITH (").Append(string.Join(", ", storage.Select(o => $"{o.Key}={o.Value}"))).Append(')');
        }

        yield return ("create table", text.ToString());
        foreach (var index in table.Indexes)
        {
            yield return ($"create index {index.Name}", CreateIndex(table.Name, index));
        }

        foreach (var comment in TableComments(table))
        {
            yield return ("comment", comment);
        }
    }

    public override string RenameTable(ObjectName from, string to) => $"ALTER TABLE {Name(from)} RENAME TO {Quote(to)}";

    public override IEnumerable<(string Summary, string Sql)> AlterTable(TableAlteration alteration)
    {
        var table = Name(alteration.Desired.Name);
        var schema = alteration.Desired.Name.Schema;
        foreach (var (from, to) in alteration.RenamedColumns)
        {
            yield return ($"rename column {from} to {to}", $"ALTER TABLE {table} RENAME COLUMN {Quote(from)} TO {Quote(to)}");
        }

        foreach (var (from, to) in alteration.RenamedIndexes)
        {
            yield return ($"rename index {from} to {to}", $"ALTER INDEX {Name(new ObjectName(schema, from))} RENAME TO {Quote(to)}");
        }

        foreach (var (from, to) in alteration.RenamedConstraints)
        {
            yield return ($"rename constraint {from} to {to}", $"ALTER TABLE {table} RENAME CONSTRAINT {Quote(from)} TO {Quote(to)}");
        }

        foreach (var constraint in alteration.DroppedConstraints)
        {
            yield return ($"drop constraint {constraint.Name}", $"ALTER TABLE {table} DROP CONSTRAINT {Quote(constraint.Name)}");
        }

        foreach (var index in alteration.DroppedIndexes)
        {
            yield return ($"drop index {index.Name}", $"DROP INDEX {Name(new ObjectName(schema, index.Name))}");
        }

        foreach (var column in alteration.DroppedColumns)
        {
            yield return ($"drop column {column.Name}", $"ALTER TABLE {table} DROP COLUMN {Quote(column.Name)}");
        }

        foreach (var placed in alteration.AddedColumns)
        {
            yield return ($"add column {placed.Column.Name}", $"ALTER TABLE {table} ADD COLUMN {ColumnDefinition(placed.Column)}");
            if (Comment("COLUMN", $"{table}.{Quote(placed.Column.Name)}", placed.Column.Comment, onCreate: true) is { } comment)
            {
                yield return ($"comment on column {placed.Column.Name}", comment);
            }
        }

        foreach (var change in alteration.ChangedColumns)
        {
            foreach (var statement in AlterColumn(table, change.From, change.To))
            {
                yield return ($"alter column {change.To.Name}", statement);
            }
        }

        foreach (var constraint in alteration.AddedConstraints)
        {
            yield return ($"add constraint {constraint.Name}", $"ALTER TABLE {table} ADD CONSTRAINT {Quote(constraint.Name)} {constraint.Definition}");
            if (CommentOnConstraint(alteration.Desired.Name, constraint) is { } comment)
            {
                yield return ($"comment on constraint {constraint.Name}", comment);
            }
        }

        foreach (var index in alteration.AddedIndexes)
        {
            yield return ($"create index {index.Name}", CreateIndex(alteration.Desired.Name, index));
            if (IndexComment(schema, index, onCreate: true) is { } comment)
            {
                yield return ($"comment on index {index.Name}", comment);
            }
        }

        foreach (var constraint in alteration.RecommentedConstraints)
        {
            yield return ($"comment on constraint {constraint.Name}", Comment($"CONSTRAINT {Quote(constraint.Name)} ON", table, constraint.Comment, onCreate: false)!);
        }

        foreach (var index in alteration.RecommentedIndexes)
        {
            yield return ($"comment on index {index.Name}", IndexComment(schema, index, onCreate: false)!);
        }

        var persistence = alteration.ChangedOptions.Where(o => o.Key == TableModel.PersistenceOption).ToList();
        foreach (var (_, value) in persistence)
        {
            yield return (value == "unlogged" ? "set unlogged" : "set logged", $"ALTER TABLE {table} SET {(value == "unlogged" ? "UNLOGGED" : "LOGGED")}");
        }

        var set = alteration.ChangedOptions.Where(o => o.Key != TableModel.PersistenceOption && o.Value is not null).ToList();
        if (set.Count > 0)
        {
            yield return ("set storage parameters", $"ALTER TABLE {table} SET ({string.Join(", ", set.Select(o => $"{o.Key}={o.Value}"))})");
        }

        var reset = alteration.ChangedOptions.Where(o => o.Key != TableModel.PersistenceOption && o.Value is null).ToList();
        if (reset.Count > 0)
        {
            yield return ("reset storage parameters", $"ALTER TABLE {table} RESET ({string.Join(", ", reset.Select(o => o.Key))})");
        }

        if (alteration.CommentChanged)
        {
            yield return ("comment on table", Comment("TABLE", table, alteration.Desired.Comment, onCreate: false)!);
        }
    }

    public override string DropTable(ObjectName table) => $"DROP TABLE {Name(table)}";

    public override string AddForeignKey(ObjectName table, ConstraintModel key) =>
        $"ALTER TABLE {Name(table)} ADD CONSTRAINT {Quote(key.Name)} {key.Definition}";

    public override string DropForeignKey(ObjectName table, ConstraintModel key) =>
        $"ALTER TABLE {Name(table)} DROP CONSTRAINT {Quote(key.Name)}";

    public override string? CommentOnConstraint(ObjectName table, ConstraintModel constraint) =>
        Comment($"CONSTRAINT {Quote(constraint.Name)} ON", Name(table), constraint.Comment, onCreate: true);

    public override IEnumerable<string> CreateView(ViewModel view)
    {
        var kind = view.Materialized ? "MATERIALIZED VIEW" : "VIEW";
        var options = view.Options.Count == 0 ? string.Empty : $" WITH ({string.Join(", ", view.Options.Select(o => $"{o.Key}={o.Value}"))})";
        yield return $"CREATE {kind} {Name(view.Name)}{options} AS\n{view.Definition}";
        if (Comment(kind, Name(view.Name), view.Comment, onCreate: true) is { } comment)
        {
            yield return comment;
        }
    }

    public override string? CommentOnView(ViewModel view) =>
        Comment(view.Materialized ? "MATERIALIZED VIEW" : "VIEW", Name(view.Name), view.Comment, onCreate: false);

    public override string? CommentOnRoutine(RoutineModel routine) =>
        Comment(routine.IsProcedure ? "PROCEDURE" : "FUNCTION", Name(routine.Name) + routine.Signature, routine.Comment, onCreate: false);

    public override string? CommentOnTrigger(TriggerModel trigger) =>
        Comment($"TRIGGER {Quote(trigger.Name)} ON", Name(trigger.Table), trigger.Comment, onCreate: false);

    public override string DropView(ViewModel view) => $"DROP {(view.Materialized ? "MATERIALIZED VIEW" : "VIEW")} {Name(view.Name)}";

    public override IEnumerable<string> CreateRoutine(RoutineModel routine, bool replacing)
    {
        yield return routine.Definition;
        if (routine.Comment is not null && CommentOnRoutine(routine) is { } comment)
        {
            yield return comment;
        }
    }

    public override string DropRoutine(RoutineModel routine) =>
        $"DROP {(routine.IsProcedure ? "PROCEDURE" : "FUNCTION")} {Name(routine.Name)}{routine.Signature}";

    public override IEnumerable<string> CreateTrigger(TriggerModel trigger)
    {
        yield return trigger.Definition;
        if (Comment($"TRIGGER {Quote(trigger.Name)} ON", Name(trigger.Table), trigger.Comment, onCreate: true) is { } comment)
        {
            yield return comment;
        }
    }

    public override string DropTrigger(TriggerModel trigger) => $"DROP TRIGGER {Quote(trigger.Name)} ON {Name(trigger.Table)}";

    private string ColumnDefinition(ColumnModel column)
    {
        var text = new StringBuilder(Quote(column.Name)).Append(' ').Append(column.Type);
        if (column.Collation is not null)
        {
            text.Append(" COLLATE ").Append(column.Collation);
        }

        if (column.Generated is { } generated)
        {
            text.Append(" GENERATED ALWAYS AS (").Append(generated.Expression).Append(") STORED");
        }

        if (column.Identity is { } identity)
        {
            text.Append(" GENERATED ").Append(identity.Always ? "ALWAYS" : "BY DEFAULT").Append(" AS IDENTITY").Append(IdentityOptions(identity));
        }

        if (column.Default is not null)
        {
            text.Append(" DEFAULT ").Append(column.Default);
        }

        if (column.NotNull && column.Identity is null)
        {
            text.Append(" NOT NULL");
        }

        return text.ToString();
    }

    private static string IdentityOptions(IdentityModel identity)
    {
        var options = identity.Options;
        var text = new StringBuilder(" (");
        if (identity.SequenceName is not null)
        {
            text.Append("SEQUENCE NAME ").Append(identity.SequenceName).Append(' ');
        }

        text.Append("START WITH ").Append(Number(options.Start)).Append(" INCREMENT BY ").Append(Number(options.Increment))
            .Append(' ').Append(MinValue(options)).Append(' ').Append(MaxValue(options)).Append(" CACHE ").Append(Number(options.Cache));
        if (options.Cycle)
        {
            text.Append(" CYCLE");
        }

        return text.Append(')').ToString();
    }

    private IEnumerable<string> AlterColumn(string table, ColumnModel from, ColumnModel to)
    {
        var column = $"ALTER TABLE {table} ALTER COLUMN {Quote(to.Name)}";
        if (from.Generated != to.Generated)
        {
            if (to.Generated is null)
            {
                yield return $"{column} DROP EXPRESSION";
            }
            else
            {
                // PostgreSQL 15 cannot give a column a new generation expression: the column is computed again.
                yield return $"ALTER TABLE {table} DROP COLUMN {Quote(to.Name)}";
                yield return $"ALTER TABLE {table} ADD COLUMN {ColumnDefinition(to)}";
                if (Comment("COLUMN", $"{table}.{Quote(to.Name)}", to.Comment, onCreate: true) is { } recomment)
                {
                    yield return recomment;
                }

                yield break;
            }
        }

        if (from.Identity is not null && to.Identity is null)
        {
            yield return $"{column} DROP IDENTITY";
        }

        var retyped = from.Type != to.Type || from.Collation != to.Collation;
        var defaultDropped = false;
        if (retyped && from.Default is not null)
        {
            // The old default may not convert to the new type (an enum label, a text literal): it goes first.
            yield return $"{column} DROP DEFAULT";
            defaultDropped = true;
        }

        if (retyped)
        {
            yield return $"{column} TYPE {to.Type}{(to.Collation is null ? string.Empty : " COLLATE " + to.Collation)}";
        }

        if (to.Default != from.Default || (defaultDropped && to.Default is not null))
        {
            if (to.Default is not null)
            {
                yield return $"{column} SET DEFAULT {to.Default}";
            }
            else if (!defaultDropped)
            {
                yield return $"{column} DROP DEFAULT";
            }
        }

        if (to.NotNull && !from.NotNull)
        {
            yield return $"{column} SET NOT NULL";
        }
        else if (!to.NotNull && from.NotNull && to.Identity is null)
        {
            yield return $"{column} DROP NOT NULL";
        }

        if (to.Identity is { } identity)
        {
            if (from.Identity is null)
            {
                yield return $"{column} ADD GENERATED {(identity.Always ? "ALWAYS" : "BY DEFAULT")} AS IDENTITY{IdentityOptions(identity)}";
            }
            else
            {
                if (from.Identity.Always != identity.Always)
                {
                    yield return $"{column} SET GENERATED {(identity.Always ? "ALWAYS" : "BY DEFAULT")}";
                }

                var changes = SequenceChanges(from.Identity.Options with { Type = null }, identity.Options with { Type = null }, setPrefix: true);
                if (changes.Length > 0)
                {
                    yield return $"{column}{changes}";
                }
            }
        }

        if (from.Comment != to.Comment)
        {
            yield return Comment("COLUMN", $"{table}.{Quote(to.Name)}", to.Comment, onCreate: false)!;
        }
    }

    private string CreateIndex(ObjectName table, IndexModel index) =>
        $"CREATE {(index.Unique ? "UNIQUE " : string.Empty)}INDEX {Quote(index.Name)} ON {Name(table)} {index.Definition}";

    private string? IndexComment(string? schema, IndexModel index, bool onCreate) =>
        Comment("INDEX", Name(new ObjectName(schema, index.Name)), index.Comment, onCreate);

    private IEnumerable<string> TableComments(TableModel table)
    {
        var name = Name(table.Name);
        if (Comment("TABLE", name, table.Comment, onCreate: true) is { } tableComment)
        {
            yield return tableComment;
        }

        foreach (var column in table.Columns)
        {
            if (Comment("COLUMN", $"{name}.{Quote(column.Name)}", column.Comment, onCreate: true) is { } comment)
            {
                yield return comment;
            }
        }

        foreach (var constraint in table.Constraints.Where(c => c.Kind != ConstraintKind.ForeignKey))
        {
            if (CommentOnConstraint(table.Name, constraint) is { } comment)
            {
                yield return comment;
            }
        }

        foreach (var index in table.Indexes)
        {
            if (IndexComment(table.Name.Schema, index, onCreate: true) is { } comment)
            {
                yield return comment;
            }
        }
    }

    /// <summary><c>COMMENT ON kind target IS …</c>; nothing for an absent comment on a new object.</summary>
    private string? Comment(string kind, string target, string? comment, bool onCreate) =>
        comment is null && onCreate ? null : $"COMMENT ON {kind} {target} IS {(comment is null ? "NULL" : Literal(comment))}";

    private static string SequenceChanges(SequenceOptions from, SequenceOptions to, bool setPrefix = false)
    {
        var set = setPrefix ? " SET" : string.Empty;
        var text = new StringBuilder();
        if (to.Type != from.Type && to.Type is not null)
        {
            text.Append(" AS ").Append(to.Type);
        }

        if (to.Increment != from.Increment)
        {
            text.Append(set).Append(" INCREMENT BY ").Append(Number(to.Increment));
        }

        if (to.MinValue != from.MinValue || to.Type != from.Type)
        {
            text.Append(set).Append(' ').Append(MinValue(to));
        }

        if (to.MaxValue != from.MaxValue || to.Type != from.Type)
        {
            text.Append(set).Append(' ').Append(MaxValue(to));
        }

        if (to.Start != from.Start)
        {
            text.Append(set).Append(" START WITH ").Append(Number(to.Start));
        }

        if (to.Cache != from.Cache)
        {
            text.Append(set).Append(" CACHE ").Append(Number(to.Cache));
        }

        if (to.Cycle != from.Cycle)
        {
            text.Append(set).Append(to.Cycle ? " CYCLE" : " NO CYCLE");
        }

        return text.ToString();
    }

    // PostgreSQL's defaults: ascending sequences start at 1 and end at the type's maximum, descending ones the other way.
    private static string MinValue(SequenceOptions options) =>
        options.MinValue == (options.Increment > 0 ? 1 : TypeMinimum(options.Type)) ? "NO MINVALUE" : $"MINVALUE {Number(options.MinValue)}";

    private static string MaxValue(SequenceOptions options) =>
        options.MaxValue == (options.Increment > 0 ? TypeMaximum(options.Type) : -1) ? "NO MAXVALUE" : $"MAXVALUE {Number(options.MaxValue)}";

    private static long TypeMaximum(string? type) => type switch
    {
        "smallint" => short.MaxValue,
        "integer" => int.MaxValue,
        _ => long.MaxValue,
    };

    private static long TypeMinimum(string? type) => type switch
    {
        "smallint" => short.MinValue,
        "integer" => int.MinValue,
        _ => long.MinValue,
    };

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
