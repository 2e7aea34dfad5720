using System.Globalization;
using System.Text;

namespace Gatekeeper.Core.Schema;

/// <summary>
/// MySQL and MariaDB: every change to one table in one <c>ALTER TABLE</c> (each statement may copy the whole table),
/// columns placed with <c>FIRST</c>/<c>AFTER</c>, definitions written back as <c>SHOW CREATE TABLE</c> printed them.
/// </summary>
internal sealed class MySqlSchemaDdl : SchemaDdl
{
    public static readonly MySqlSchemaDdl Instance = new();

    public override bool CanPlaceColumns => true;

    public override bool ViewsPinColumns => false;

    public override bool ReplacesViewsInPlace => true;

    public override bool RoutinesAfterTables => true;

    public override string Quote(string identifier) => QuoteWith(identifier, '`');

    public override string Literal(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    public override IEnumerable<string> CreateSchema(NamespaceModel schema) => throw NotOnMySql("schemas");

    public override string DropSchema(string name) => throw NotOnMySql("schemas");

    public override string? CommentOnSchema(string name, string? comment) => throw NotOnMySql("schemas");

    public override string CreateExtension(ExtensionModel extension) => throw NotOnMySql("extensions");

    public override string DropExtension(string name) => throw NotOnMySql("extensions");

    public override IEnumerable<string> CreateEnum(EnumModel type) => throw NotOnMySql("enum types");

    public override string AddEnumValue(ObjectName type, string value, string? before) => throw NotOnMySql("enum types");

    public override string RenameEnumValue(ObjectName type, string from, string to) => throw NotOnMySql("enum types");

    public override string DropEnum(ObjectName type) => throw NotOnMySql("enum types");

    public override string? CommentOnEnum(ObjectName type, string? comment) => throw NotOnMySql("enum types");

    public override IEnumerable<string> CreateSequence(SequenceModel sequence)
    {
        yield return $"CREATE SEQUENCE {Name(sequence.Name)}{SequenceOptionsText(sequence.Options)}";
    }

    public override IEnumerable<string> AlterSequence(SequenceModel from, SequenceModel to)
    {
        yield return $"ALTER SEQUENCE {Name(to.Name)}{SequenceOptionsText(to.Options)}";
    }

    public override string? SetSequenceOwner(SequenceModel sequence) => null;

    public override string DropSequence(ObjectName sequence) => $"DROP SEQUENCE {Name(sequence)}";

    public override string? CommentOnSequence(ObjectName sequence, string? comment) => null;

    public override IEnumerable<(string Summary, string Sql)> CreateTable(TableModel table)
    {
        var lines = table.Columns.Select(ColumnDefinition)
            .Concat(table.Constraints.Where(c => c.Kind == ConstraintKind.PrimaryKey).Select(c => c.Definition))
            .Concat(table.Indexes.Select(IndexDefinition))
            .Concat(table.Constraints.Where(c => c.Kind is ConstraintKind.Check or ConstraintKind.Unique).Select(ConstraintDefinition))
            .ToList();
        var text = new StringBuilder("CREATE TABLE ").Append(Name(table.Name)).Append(" (\n  ").Append(string.Join(",\n  ", lines)).Append("\n)");
        var options = TableOptions(table, table.Options.Select(o => (o.Key, (string?)o.Value)), emitComment: table.Comment is not null, table.AutoIncrement);
        if (options.Count > 0)
        {
            text.Append(' ').Append(string.Join(' ', options));
        }

        yield return ("create table", text.ToString());
    }

    public override string RenameTable(ObjectName from, string to) => $"RENAME TABLE {Name(from)} TO {Quote(to)}";

    public override IEnumerable<(string Summary, string Sql)> AlterTable(TableAlteration alteration)
    {
        var table = Name(alteration.Desired.Name);

        // Renames go first and alone: later clauses of the same statement could not name the new column yet.
        var renames = alteration.RenamedColumns.Select(r => ($"rename column {r.From} to {r.To}", $"RENAME COLUMN {Quote(r.From)} TO {Quote(r.To)}"))
            .Concat(alteration.RenamedIndexes.Select(r => ($"rename index {r.From} to {r.To}", $"RENAME INDEX {Quote(r.From)} TO {Quote(r.To)}")))
            .ToList();
        if (renames.Count > 0)
        {
            yield return (string.Join(", ", renames.Select(r => r.Item1)), $"ALTER TABLE {table}\n  {string.Join(",\n  ", renames.Select(r => r.Item2))}");
        }

        var clauses = new List<(string Summary, string Clause)>();
        foreach (var constraint in alteration.DroppedConstraints)
        {
            clauses.Add(constraint.Kind == ConstraintKind.PrimaryKey
                ? ("drop primary key", "DROP PRIMARY KEY")
                : ($"drop constraint {constraint.Name}", $"DROP CONSTRAINT {Quote(constraint.Name)}"));
        }

        clauses.AddRange(alteration.DroppedIndexes.Select(i => ($"drop index {i.Name}", $"DROP INDEX {Quote(i.Name)}")));
        clauses.AddRange(alteration.DroppedColumns.Select(c => ($"drop column {c.Name}", $"DROP COLUMN {Quote(c.Name)}")));
        clauses.AddRange(alteration.AddedColumns.Select(p => ($"add column {p.Column.Name}", $"ADD COLUMN {ColumnDefinition(p.Column)}{Position(p.After)}")));
        clauses.AddRange(alteration.ChangedColumns.Select(c => (
            c.From.Definition == c.To.Definition && !Differs(c.From, c.To) ? $"move column {c.To.Name}" : $"modify column {c.To.Name}",
            $"MODIFY COLUMN {ColumnDefinition(c.To)}{(c.Moves ? Position(c.After) : string.Empty)}")));
        foreach (var constraint in alteration.AddedConstraints)
        {
            clauses.Add(constraint.Kind == ConstraintKind.PrimaryKey
                ? ("add primary key", $"ADD {constraint.Definition}")
                : ($"add constraint {constraint.Name}", $"ADD {ConstraintDefinition(constraint)}"));
        }

        clauses.AddRange(alteration.AddedIndexes.Select(i => ($"add index {i.Name}", $"ADD {IndexDefinition(i)}")));
        var options = TableOptions(alteration.Desired, alteration.ChangedOptions, alteration.CommentChanged, alteration.RaisedAutoIncrement);
        if (options.Count > 0)
        {
            clauses.Add(("change table options", string.Join(' ', options)));
        }

        if (clauses.Count > 0)
        {
            yield return (string.Join(", ", clauses.Select(c => c.Summary)), $"ALTER TABLE {table}\n  {string.Join(",\n  ", clauses.Select(c => c.Clause))}");
        }
    }

    public override string DropTable(ObjectName table) => $"DROP TABLE {Name(table)}";

    public override string AddForeignKey(ObjectName table, ConstraintModel key) => $"ALTER TABLE {Name(table)} ADD {ConstraintDefinition(key)}";

    public override string DropForeignKey(ObjectName table, ConstraintModel key) => $"ALTER TABLE {Name(table)} DROP FOREIGN KEY {Quote(key.Name)}";

    public override string? CommentOnConstraint(ObjectName table, ConstraintModel constraint) => null;

    public override IEnumerable<string> CreateView(ViewModel view)
    {
        var text = new StringBuilder("CREATE OR REPLACE");
        if (view.Options.TryGetValue("ALGORITHM", out var algorithm))
        {
            text.Append(" ALGORITHM=").Append(algorithm);
        }

        if (view.Options.TryGetValue("SQL SECURITY", out var security))
        {
            text.Append(" SQL SECURITY ").Append(security);
        }

        text.Append(" VIEW ").Append(Name(view.Name)).Append(" AS ").Append(view.Definition);
        if (view.Options.TryGetValue("CHECK OPTION", out var check))
        {
            text.Append(" WITH ").Append(check).Append(" CHECK OPTION");
        }

        yield return text.ToString();
    }

    public override string? CommentOnView(ViewModel view) => null;

    public override string? CommentOnRoutine(RoutineModel routine) => null;

    public override string? CommentOnTrigger(TriggerModel trigger) => null;

    public override string DropView(ViewModel view) => $"DROP VIEW {Name(view.Name)}";

    public override IEnumerable<string> CreateRoutine(RoutineModel routine, bool replacing)
    {
        if (replacing)
        {
            yield return DropRoutine(routine);
        }

        yield return routine.Definition;
    }

    public override string DropRoutine(RoutineModel routine) => $"DROP {(routine.IsProcedure ? "PROCEDURE" : "FUNCTION")} {Name(routine.Name)}";

    public override IEnumerable<string> CreateTrigger(TriggerModel trigger)
    {
        yield return trigger.Definition;
    }

    public override string DropTrigger(TriggerModel trigger) => $"DROP TRIGGER {Quote(trigger.Name)}";

    /// <summary>The column as SHOW CREATE TABLE printed it when the catalog reader kept that text, else built from its parts.</summary>
    internal string ColumnDefinition(ColumnModel column)
    {
        if (column.Definition is not null)
        {
            return $"{Quote(column.Name)} {column.Definition}";
        }

        var text = new StringBuilder(Quote(column.Name)).Append(' ').Append(column.Type);
        if (column.Charset is not null)
        {
            text.Append(" CHARACTER SET ").Append(column.Charset);
        }

        if (column.Collation is not null)
        {
            text.Append(" COLLATE ").Append(column.Collation);
        }

        if (column.Generated is { } generated)
        {
            text.Append(" GENERATED ALWAYS AS (").Append(generated.Expression).Append(generated.Stored ? ") STORED" : ") VIRTUAL");
        }
        else
        {
            text.Append(column.NotNull ? " NOT NULL" : " NULL");
            if (column.Default is not null)
            {
                text.Append(" DEFAULT ").Append(column.Default);
            }

            if (column.OnUpdate is not null)
            {
                text.Append(" ON UPDATE ").Append(column.OnUpdate);
            }

            if (column.AutoIncrement)
            {
                text.Append(" AUTO_INCREMENT");
            }
        }

        if (column.Comment is not null)
        {
            text.Append(" COMMENT ").Append(Literal(column.Comment));
        }

        return text.ToString();
    }

    private string IndexDefinition(IndexModel index)
    {
        var kind = index.Kind is { } special ? special + " KEY" : index.Unique ? "UNIQUE KEY" : "KEY";
        return $"{kind} {Quote(index.Name)} {index.Definition}";
    }

    private string ConstraintDefinition(ConstraintModel constraint) => $"CONSTRAINT {Quote(constraint.Name)} {constraint.Definition}";

    private string Position(string? after) => after is null ? " FIRST" : $" AFTER {Quote(after)}";

    private static bool Differs(ColumnModel a, ColumnModel b) =>
        a.Type != b.Type || a.NotNull != b.NotNull || a.Default != b.Default || a.AutoIncrement != b.AutoIncrement || a.Generated != b.Generated ||
        a.Charset != b.Charset || a.Collation != b.Collation || a.OnUpdate != b.OnUpdate || a.Comment != b.Comment;

    /// <summary>Table options in SHOW CREATE TABLE's order; a removed option is set back to its default.</summary>
    private List<string> TableOptions(TableModel table, IEnumerable<(string Key, string? Value)> options, bool emitComment, long? autoIncrement)
    {
        var given = options.ToList();
        var ordered = given
            .OrderBy(o => Array.IndexOf(OptionOrder, o.Key) is var i and >= 0 ? i : OptionOrder.Length)
            .ThenBy(o => o.Key, StringComparer.Ordinal)
            .ToList();
        var texts = new List<string>();
        foreach (var (key, value) in ordered)
        {
            if (key == "ENGINE" && autoIncrement is { } first)
            {
                texts.Add($"ENGINE={value ?? "InnoDB"}");
                texts.Add($"AUTO_INCREMENT={first.ToString(CultureInfo.InvariantCulture)}");
                autoIncrement = null;
                continue;
            }

            texts.Add($"{key}={value ?? "DEFAULT"}");
        }

        if (autoIncrement is { } next)
        {
            texts.Add($"AUTO_INCREMENT={next.ToString(CultureInfo.InvariantCulture)}");
        }

        if (emitComment)
        {
            texts.Add($"COMMENT={Literal(table.Comment ?? string.Empty)}");
        }

        return texts;
    }

    private static readonly string[] OptionOrder = ["ENGINE", "DEFAULT CHARSET", "COLLATE", "ROW_FORMAT"];

    private static string SequenceOptionsText(SequenceOptions options) =>
        string.Create(CultureInfo.InvariantCulture,
            $" START WITH {options.Start} MINVALUE {options.MinValue} MAXVALUE {options.MaxValue} INCREMENT BY {options.Increment} CACHE {options.Cache} {(options.Cycle ? "CYCLE" : "NOCYCLE")}");

    private static NotSupportedException NotOnMySql(string what) => new($"MySQL has no {what}; the MySQL catalog reader never reports any");
}
