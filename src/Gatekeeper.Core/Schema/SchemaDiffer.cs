using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Schema;

/// <summary>
/// Turns the difference between the schema a database has and the schema it should have into statements, in an order
/// the server accepts: what blocks a change is dropped first (triggers, views that read a column about to change,
/// foreign keys whose key goes away), then types, sequences and functions the tables use, then tables, then what
/// depends on tables (views, late functions, foreign keys, triggers), and what is no longer wanted last. Pure: the
/// same two models give the same statements in the CLI, the webhook and the migration Job.
/// </summary>
public static class SchemaDiffer
{
    public static SchemaDiff Diff(SchemaModel current, SchemaModel desired, SchemaDiffOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(desired);
        if (current.Dialect != desired.Dialect)
        {
            throw new ArgumentException($"cannot compare a {current.Dialect} schema with a {desired.Dialect} one", nameof(desired));
        }

        return new SchemaDiffRun(current, desired, SchemaDdl.For(current.Dialect), options ?? SchemaDiffOptions.Default).Build();
    }
}

/// <summary>One diff: the statements it has found so far, by phase.</summary>
internal sealed class SchemaDiffRun(SchemaModel current, SchemaModel desired, SchemaDdl ddl, SchemaDiffOptions options)
{
    /// <summary>The order statements run in; within a phase, the order they were added.</summary>
    private enum Phase
    {
        // Labels added to existing enums go first: PostgreSQL lets a transaction use a label only after it is committed,
        // so the script commits them before the rest (see SchemaScript).
        EnumValues,
        DropTriggers,
        DropViews,
        DropForeignKeys,
        DropReplacedRoutines,
        Schemas,
        Extensions,
        Enums,
        Sequences,
        EarlyRoutines,
        RenameTables,
        Tables,
        LateObjects,
        SequenceOwnership,
        ForeignKeys,
        Triggers,
        DropTables,
        DropSequences,
        DropRoutines,
        DropEnums,
        DropExtensions,
        DropSchemas,
    }

    private readonly List<(Phase Phase, int Order, SchemaChange Change)> _changes = [];
    private readonly List<SchemaDifferenceNote> _notes = [];
    private SchemaModel _current = current;

    // Filled while tables are compared; read by the later steps that depend on them.
    private readonly Dictionary<ObjectName, TableAlteration> _alterations = [];
    private readonly HashSet<ObjectName> _droppedTables = [];
    private readonly HashSet<(ObjectName Table, string Column)> _droppedColumns = [];
    private readonly HashSet<ObjectKey> _replacedRoutines = [];

    public SchemaDiff Build()
    {
        ApplyDeclaredRenames();
        DiffSchemas();
        DiffExtensions();
        DiffEnums();
        DiffTables();
        DiffSequences();
        DiffRoutines();
        DiffViews();
        DiffForeignKeys();
        DiffTriggers();
        var ordered = _changes
            .Select((entry, index) => (entry, index))
            .OrderBy(e => e.entry.Phase)
            .ThenBy(e => e.entry.Order)
            .ThenBy(e => e.index)
            .Select(e => e.entry.Change)
            .ToList();
        return new SchemaDiff(ordered, _notes);
    }

    private void Add(Phase phase, SchemaChangeKind kind, SchemaObjectKind objectKind, string name, string summary, string sql, int order = 0) =>
        _changes.Add((phase, order, new SchemaChange(kind, objectKind, name, summary, sql) { CommitsFirst = phase == Phase.EnumValues && ddl.EnumLabelsNeedCommit }));

    private void Note(string name, string message, bool blocking = false) => _notes.Add(new SchemaDifferenceNote(name, message, blocking));

    // ---------------------------------------------------------------- renames

    /// <summary>
    /// Applies the declared renames to the current model (as if they had run), so the rest of the diff compares the
    /// renamed objects with the desired ones; a rename whose old name is gone and new name is present already ran.
    /// </summary>
    private void ApplyDeclaredRenames()
    {
        foreach (var rename in options.Renames)
        {
            switch (rename.Target)
            {
                case RenameTarget.Table:
                    RenameTable(rename);
                    break;
                case RenameTarget.Column:
                    RenameColumn(rename);
                    break;
                case RenameTarget.Index:
                    RenameIndex(rename);
                    break;
                case RenameTarget.EnumValue:
                    RenameEnumValue(rename);
                    break;
                default:
                    throw new InvalidOperationException($"unknown rename target {rename.Target}");
            }
        }
    }

    private void RenameTable(DeclaredRename rename)
    {
        var oldName = rename.Table;
        var newName = oldName with { Name = rename.To };
        var old = _current.Tables.FirstOrDefault(t => t.Name == oldName);
        var wanted = desired.Tables.Any(t => t.Name == newName);
        if (old is null || !wanted || _current.Tables.Any(t => t.Name == newName) || desired.Tables.Any(t => t.Name == oldName))
        {
            if (old is not null || !_current.Tables.Any(t => t.Name == newName))
            {
                Note(rename.Location.ToString(), $"declared {rename} does not apply: it needs {oldName} in the database and {newName} only in the desired state");
            }

            return;
        }

        Add(Phase.RenameTables, SchemaChangeKind.Rename, SchemaObjectKind.Table, oldName.ToString(), $"rename table {oldName} to {rename.To}", ddl.RenameTable(oldName, rename.To));
        var oldText = ddl.Name(oldName);
        var newText = ddl.Name(newName);
        _current = _current with
        {
            Tables = _current.Tables.Select(t => (t == old ? t with { Name = newName } : t) with
            {
                Constraints = t.Constraints.Select(c => c.References == oldName
                    ? c with { References = newName, Definition = c.Definition.Replace("REFERENCES " + oldText, "REFERENCES " + newText, StringComparison.Ordinal) }
                    : c).ToList(),
            }).ToList(),
            Triggers = _current.Triggers.Select(t => t.Table == oldName
                ? t with { Table = newName, Definition = t.Definition.Replace(" ON " + oldText + " ", " ON " + newText + " ", StringComparison.Ordinal) }
                : t).ToList(),
            Sequences = _current.Sequences.Select(s => s.OwnedBy is { } owner && owner.Table == oldName ? s with { OwnedBy = (newName, owner.Column) } : s).ToList(),
        };
    }

    private void RenameColumn(DeclaredRename rename)
    {
        var table = _current.Tables.FirstOrDefault(t => t.Name == rename.Table);
        var target = desired.Tables.FirstOrDefault(t => t.Name == rename.Table);
        if (table is null || target is null || table.Column(rename.From) is null || table.Column(rename.To) is not null ||
            target.Column(rename.To) is null || target.Column(rename.From) is not null)
        {
            if (table?.Column(rename.To) is null || table.Column(rename.From) is not null)
            {
                Note(rename.Location.ToString(), $"declared {rename} does not apply: it needs column {rename.From} in the database's {rename.Table} and {rename.To} only in the desired one");
            }

            return;
        }

        Alteration(table, target).RenamedColumns.Add((rename.From, rename.To));
        var renamed = table with
        {
            Columns = table.Columns.Select(c => c.Name == rename.From ? c with { Name = rename.To } : c).ToList(),
            Constraints = table.Constraints.Select(c => c with
            {
                Columns = c.Columns.Select(n => n == rename.From ? rename.To : n).ToList(),
                Definition = RenameIdentifier(c.Definition, rename.From, rename.To, stopAtReferences: c.Kind == ConstraintKind.ForeignKey),
            }).ToList(),
            Indexes = table.Indexes.Select(i => i with
            {
                Columns = i.Columns.Select(n => n == rename.From ? rename.To : n).ToList(),
                Definition = RenameIdentifier(i.Definition, rename.From, rename.To, stopAtReferences: false),
            }).ToList(),
        };
        ReplaceCurrentTable(table, renamed);
    }

    private void RenameIndex(DeclaredRename rename)
    {
        var table = _current.Tables.FirstOrDefault(t => t.Name == rename.Table);
        var target = desired.Tables.FirstOrDefault(t => t.Name == rename.Table);
        var constraint = table?.Constraints.FirstOrDefault(c => c.Name == rename.From);
        if (constraint is not null && ddl.RenamesConstraints && target is not null)
        {
            // A key's index is named after its constraint (a renamed table keeps its old users_pkey): rename the constraint.
            if (table!.Constraints.Any(c => c.Name == rename.To) || !target.Constraints.Any(c => c.Name == rename.To) || target.Constraints.Any(c => c.Name == rename.From))
            {
                Note(rename.Location.ToString(), $"declared {rename} does not apply: it needs constraint {rename.From} on the database's {rename.Table} and {rename.To} only in the desired one");
                return;
            }

            Alteration(table, target).RenamedConstraints.Add((rename.From, rename.To));
            ReplaceCurrentTable(table, table with { Constraints = table.Constraints.Select(c => c == constraint ? c with { Name = rename.To } : c).ToList() });
            return;
        }

        var index = table?.Indexes.FirstOrDefault(i => i.Name == rename.From);
        if (table is null || target is null || index is null || table.Indexes.Any(i => i.Name == rename.To) ||
            !target.Indexes.Any(i => i.Name == rename.To) || target.Indexes.Any(i => i.Name == rename.From))
        {
            if (table?.Indexes.Any(i => i.Name == rename.To) != true || index is not null)
            {
                Note(rename.Location.ToString(), $"declared {rename} does not apply: it needs index {rename.From} on the database's {rename.Table} and {rename.To} only in the desired one");
            }

            return;
        }

        Alteration(table, target).RenamedIndexes.Add((rename.From, rename.To));
        ReplaceCurrentTable(table, table with { Indexes = table.Indexes.Select(i => i == index ? i with { Name = rename.To } : i).ToList() });
    }

    private void RenameEnumValue(DeclaredRename rename)
    {
        var type = _current.Enums.FirstOrDefault(e => e.Name == rename.Table);
        var target = desired.Enums.FirstOrDefault(e => e.Name == rename.Table);
        if (type is null || target is null || !type.Values.Contains(rename.From, StringComparer.Ordinal) || type.Values.Contains(rename.To, StringComparer.Ordinal) ||
            !target.Values.Contains(rename.To, StringComparer.Ordinal) || target.Values.Contains(rename.From, StringComparer.Ordinal))
        {
            if (type is null || !type.Values.Contains(rename.To, StringComparer.Ordinal) || type.Values.Contains(rename.From, StringComparer.Ordinal))
            {
                Note(rename.Location.ToString(), $"declared {rename} does not apply: it needs label '{rename.From}' in the database's type and '{rename.To}' only in the desired one");
            }

            return;
        }

        Add(Phase.EnumValues, SchemaChangeKind.Rename, SchemaObjectKind.Enum, type.Name.ToString(), $"rename value '{rename.From}' of type {type.Name} to '{rename.To}'",
            ddl.RenameEnumValue(type.Name, rename.From, rename.To));
        _current = _current with
        {
            Enums = _current.Enums.Select(e => e == type ? e with { Values = e.Values.Select(v => v == rename.From ? rename.To : v).ToList() } : e).ToList(),
        };
    }

    private void ReplaceCurrentTable(TableModel old, TableModel renamed)
    {
        _current = _current with { Tables = _current.Tables.Select(t => t == old ? renamed : t).ToList() };
        if (_alterations.TryGetValue(old.Name, out var alteration))
        {
            var moved = new TableAlteration(renamed, alteration.Desired);
            moved.RenamedColumns.AddRange(alteration.RenamedColumns);
            moved.RenamedIndexes.AddRange(alteration.RenamedIndexes);
            moved.RenamedConstraints.AddRange(alteration.RenamedConstraints);
            _alterations[old.Name] = moved;
        }
    }

    private TableAlteration Alteration(TableModel table, TableModel target)
    {
        if (!_alterations.TryGetValue(table.Name, out var alteration))
        {
            _alterations[table.Name] = alteration = new TableAlteration(table, target);
        }

        return alteration;
    }

    /// <summary>Renames a column where a definition names it; in a foreign key only before REFERENCES (after it, the names are the other table's).</summary>
    private string RenameIdentifier(string definition, string from, string to, bool stopAtReferences)
    {
        var tokens = SqlLexer.Tokenize(definition, _current.Dialect);
        var text = new System.Text.StringBuilder(definition.Length + 8);
        var position = 0;
        foreach (var token in tokens)
        {
            var word = definition.AsSpan(token.Start, token.Length);
            if (stopAtReferences && token.Kind == SqlTokenKind.Word && word.Equals("REFERENCES", StringComparison.OrdinalIgnoreCase))
            {
                break;
            }

            var matches = token.Kind switch
            {
                SqlTokenKind.Word => word.Equals(from, StringComparison.Ordinal),
                SqlTokenKind.QuotedIdentifier => word.Length >= 2 && Unquote(word) == from,
                _ => false,
            };
            if (matches)
            {
                text.Append(definition, position, token.Start - position).Append(ddl.Quote(to));
                position = token.Start + token.Length;
            }
        }

        return text.Append(definition, position, definition.Length - position).ToString();
    }

    private static string Unquote(ReadOnlySpan<char> quoted)
    {
        var quote = quoted[0];
        return quoted[1..^1].ToString().Replace(new string(quote, 2), quote.ToString(), StringComparison.Ordinal);
    }

    // ---------------------------------------------------------------- schemas, extensions, enums, sequences

    private void DiffSchemas()
    {
        var have = _current.Schemas.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var want = desired.Schemas.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var schema in desired.Schemas.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            if (!have.TryGetValue(schema.Name, out var existing))
            {
                foreach (var sql in ddl.CreateSchema(schema))
                {
                    Add(Phase.Schemas, SchemaChangeKind.Create, SchemaObjectKind.Schema, schema.Name, $"create schema {schema.Name}", sql);
                }
            }
            else if (existing.Comment != schema.Comment && ddl.CommentOnSchema(schema.Name, schema.Comment) is { } comment)
            {
                Add(Phase.Schemas, SchemaChangeKind.Comment, SchemaObjectKind.Schema, schema.Name, $"comment on schema {schema.Name}", comment);
            }
        }

        foreach (var schema in _current.Schemas.Where(s => !want.ContainsKey(s.Name)).OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            Add(Phase.DropSchemas, SchemaChangeKind.Drop, SchemaObjectKind.Schema, schema.Name, $"drop schema {schema.Name}", ddl.DropSchema(schema.Name));
        }
    }

    private void DiffExtensions()
    {
        var have = _current.Extensions.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var want = desired.Extensions.ToDictionary(e => e.Name, StringComparer.Ordinal);
        foreach (var extension in desired.Extensions.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            if (!have.TryGetValue(extension.Name, out var existing))
            {
                Add(Phase.Extensions, SchemaChangeKind.Create, SchemaObjectKind.Extension, extension.Name, $"create extension {extension.Name}", ddl.CreateExtension(extension));
            }
            else if (existing.Schema != extension.Schema)
            {
                Note($"extension {extension.Name}", $"is in schema {existing.Schema}, the desired state has it in {extension.Schema}; Gatekeeper does not move extensions");
            }
        }

        foreach (var extension in _current.Extensions.Where(e => !want.ContainsKey(e.Name)).OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            Add(Phase.DropExtensions, SchemaChangeKind.Drop, SchemaObjectKind.Extension, extension.Name, $"drop extension {extension.Name}", ddl.DropExtension(extension.Name));
        }
    }

    private void DiffEnums()
    {
        var have = _current.Enums.ToDictionary(e => e.Name);
        var want = desired.Enums.ToDictionary(e => e.Name);
        foreach (var type in desired.Enums.OrderBy(e => e.Name))
        {
            var name = type.Name.ToString();
            if (!have.TryGetValue(type.Name, out var existing))
            {
                foreach (var sql in ddl.CreateEnum(type))
                {
                    Add(Phase.Enums, SchemaChangeKind.Create, SchemaObjectKind.Enum, name, $"create type {name}", sql);
                }

                continue;
            }

            if (!existing.Values.SequenceEqual(type.Values, StringComparer.Ordinal))
            {
                AddEnumValues(existing, type);
            }

            if (existing.Comment != type.Comment && ddl.CommentOnEnum(type.Name, type.Comment) is { } comment)
            {
                Add(Phase.Enums, SchemaChangeKind.Comment, SchemaObjectKind.Enum, name, $"comment on type {name}", comment);
            }
        }

        foreach (var type in _current.Enums.Where(e => !want.ContainsKey(e.Name)).OrderBy(e => e.Name))
        {
            Add(Phase.DropEnums, SchemaChangeKind.Drop, SchemaObjectKind.Enum, type.Name.ToString(), $"drop type {type.Name}", ddl.DropEnum(type.Name));
        }
    }

    /// <summary>
    /// Labels can be added anywhere; PostgreSQL cannot remove or reorder them, so a desired list that does not keep
    /// every current label in its order is reported, not guessed at.
    /// </summary>
    private void AddEnumValues(EnumModel existing, EnumModel type)
    {
        var name = type.Name.ToString();
        var kept = type.Values.Where(v => existing.Values.Contains(v, StringComparer.Ordinal)).ToList();
        if (!kept.SequenceEqual(existing.Values, StringComparer.Ordinal))
        {
            var removed = existing.Values.Where(v => !type.Values.Contains(v, StringComparer.Ordinal)).ToList();
            Note($"type {name}", removed.Count > 0
                ? $"the desired state drops label(s) {string.Join(", ", removed.Select(v => $"'{v}'"))}; PostgreSQL cannot remove an enum label: create a new type, move the columns to it, and drop the old one in steps of their own"
                : "the desired state reorders existing labels; PostgreSQL cannot reorder enum labels", blocking: true);
            return;
        }

        for (var i = 0; i < type.Values.Count; i++)
        {
            var value = type.Values[i];
            if (existing.Values.Contains(value, StringComparer.Ordinal))
            {
                continue;
            }

            // Placed before the next label that already exists; after the last one, it is appended.
            var before = type.Values.Skip(i + 1).FirstOrDefault(v => existing.Values.Contains(v, StringComparer.Ordinal));
            Add(Phase.EnumValues, SchemaChangeKind.Alter, SchemaObjectKind.Enum, name, $"add value '{value}' to type {name}", ddl.AddEnumValue(type.Name, value, before));
        }
    }

    private void DiffSequences()
    {
        var have = _current.Sequences.ToDictionary(s => s.Name);
        var want = desired.Sequences.ToDictionary(s => s.Name);
        foreach (var sequence in desired.Sequences.OrderBy(s => s.Name))
        {
            var name = sequence.Name.ToString();
            if (!have.TryGetValue(sequence.Name, out var existing))
            {
                foreach (var sql in ddl.CreateSequence(sequence))
                {
                    Add(Phase.Sequences, SchemaChangeKind.Create, SchemaObjectKind.Sequence, name, $"create sequence {name}", sql);
                }

                if (sequence.OwnedBy is not null && ddl.SetSequenceOwner(sequence) is { } owner)
                {
                    Add(Phase.SequenceOwnership, SchemaChangeKind.Alter, SchemaObjectKind.Sequence, name, $"sequence {name} owned by {sequence.OwnedBy.Value.Table}.{sequence.OwnedBy.Value.Column}", owner);
                }

                continue;
            }

            if (existing.Options != sequence.Options || existing.Unlogged != sequence.Unlogged)
            {
                foreach (var sql in ddl.AlterSequence(existing, sequence))
                {
                    Add(Phase.Sequences, SchemaChangeKind.Alter, SchemaObjectKind.Sequence, name, $"alter sequence {name}", sql);
                }
            }

            if (existing.OwnedBy != sequence.OwnedBy && ddl.SetSequenceOwner(sequence) is { } newOwner)
            {
                Add(Phase.SequenceOwnership, SchemaChangeKind.Alter, SchemaObjectKind.Sequence, name, $"sequence {name} owned by {(sequence.OwnedBy is { } o ? $"{o.Table}.{o.Column}" : "nothing")}", newOwner);
            }

            if (existing.Comment != sequence.Comment && ddl.CommentOnSequence(sequence.Name, sequence.Comment) is { } comment)
            {
                Add(Phase.Sequences, SchemaChangeKind.Comment, SchemaObjectKind.Sequence, name, $"comment on sequence {name}", comment);
            }
        }

        foreach (var sequence in _current.Sequences.Where(s => !want.ContainsKey(s.Name)).OrderBy(s => s.Name))
        {
            // A sequence owned by a column goes with its table or column; dropping it again would fail.
            if (sequence.OwnedBy is { } owner && (_droppedTables.Contains(owner.Table) || _droppedColumns.Contains(owner)))
            {
                continue;
            }

            Add(Phase.DropSequences, SchemaChangeKind.Drop, SchemaObjectKind.Sequence, sequence.Name.ToString(), $"drop sequence {sequence.Name}", ddl.DropSequence(sequence.Name));
        }
    }

    // ---------------------------------------------------------------- tables

    private void DiffTables()
    {
        var have = _current.Tables.ToDictionary(t => t.Name);
        var want = desired.Tables.ToDictionary(t => t.Name);
        foreach (var table in desired.Tables.OrderBy(t => t.Name))
        {
            var name = table.Name.ToString();
            if (!have.TryGetValue(table.Name, out var existing))
            {
                foreach (var (summary, sql) in ddl.CreateTable(table))
                {
                    Add(Phase.Tables, summary == "comment" ? SchemaChangeKind.Comment : SchemaChangeKind.Create, SchemaObjectKind.Table, name,
                        summary == "create table" ? $"create table {name}" : $"{summary} on {name}", sql);
                }

                continue;
            }

            var alteration = Alteration(existing, table);
            TableDiffer.Compare(alteration, ddl, _notes);
            if (alteration.IsEmpty)
            {
                continue;
            }

            foreach (var column in alteration.DroppedColumns)
            {
                _droppedColumns.Add((table.Name, column.Name));
            }

            foreach (var (summary, sql) in ddl.AlterTable(alteration))
            {
                var kind = summary.StartsWith("drop column", StringComparison.Ordinal) ? SchemaChangeKind.Drop
                    : summary.StartsWith("rename", StringComparison.Ordinal) ? SchemaChangeKind.Rename
                    : summary.StartsWith("comment", StringComparison.Ordinal) ? SchemaChangeKind.Comment
                    : summary.StartsWith("create index", StringComparison.Ordinal) ? SchemaChangeKind.Create
                    : SchemaChangeKind.Alter;
                Add(Phase.Tables, kind, SchemaObjectKind.Table, name, $"{summary} on {name}", sql);
            }
        }

        var dropped = _current.Tables.Where(t => !want.ContainsKey(t.Name)).OrderBy(t => t.Name).ToList();
        foreach (var table in dropped)
        {
            _droppedTables.Add(table.Name);
        }

        // Tables that reference others go first; keys inside a cycle of dropped tables are dropped before them.
        var order = DependencyOrder.Sort(dropped, t => ObjectKey.Of(SchemaObjectKind.Table, t.Name),
            t => t.Constraints.Where(c => c.References is { } r && r != t.Name).Select(c => ObjectKey.Of(SchemaObjectKind.Table, c.References!.Value)),
            out var cyclic);
        foreach (var table in cyclic)
        {
            foreach (var key in table.Constraints.Where(c => c.Kind == ConstraintKind.ForeignKey && c.References is { } r && r != table.Name && _droppedTables.Contains(r)))
            {
                Add(Phase.DropForeignKeys, SchemaChangeKind.Drop, SchemaObjectKind.Table, table.Name.ToString(), $"drop foreign key {key.Name} on {table.Name}", ddl.DropForeignKey(table.Name, key));
            }
        }

        order.Reverse();
        foreach (var table in order)
        {
            Add(Phase.DropTables, SchemaChangeKind.Drop, SchemaObjectKind.Table, table.Name.ToString(), $"drop table {table.Name}", ddl.DropTable(table.Name));
        }
    }

    private void DiffForeignKeys()
    {
        // Keys whose referenced unique key or index is dropped or redefined must go first and come back after it.
        var redefinedKeys = new HashSet<(ObjectName Table, string Columns)>();
        foreach (var alteration in _alterations.Values)
        {
            foreach (var constraint in alteration.DroppedConstraints.Where(c => c.Kind is ConstraintKind.PrimaryKey or ConstraintKind.Unique))
            {
                redefinedKeys.Add((alteration.Current.Name, ColumnSet(constraint.Columns)));
            }

            foreach (var index in alteration.DroppedIndexes.Where(i => i.Unique))
            {
                redefinedKeys.Add((alteration.Current.Name, ColumnSet(index.Columns)));
            }
        }

        var have = _current.Tables.ToDictionary(t => t.Name);
        foreach (var table in desired.Tables.OrderBy(t => t.Name))
        {
            var existing = have.GetValueOrDefault(table.Name);
            var current = existing?.Constraints.Where(c => c.Kind == ConstraintKind.ForeignKey).ToDictionary(c => c.Name, StringComparer.Ordinal)
                          ?? new Dictionary<string, ConstraintModel>(StringComparer.Ordinal);
            var wanted = table.Constraints.Where(c => c.Kind == ConstraintKind.ForeignKey).ToDictionary(c => c.Name, StringComparer.Ordinal);
            var drops = new List<ConstraintModel>();
            var adds = new List<ConstraintModel>();
            foreach (var key in wanted.Values.OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                if (!current.TryGetValue(key.Name, out var old))
                {
                    adds.Add(key);
                    continue;
                }

                if (old.Definition != key.Definition ||
                    (old.References is { } target && redefinedKeys.Contains((target, ColumnSet(old.ReferencedColumns)))))
                {
                    drops.Add(old);
                    adds.Add(key);
                }
                else if (old.Comment != key.Comment && ddl.CommentOnConstraint(table.Name, key) is { } comment)
                {
                    Add(Phase.ForeignKeys, SchemaChangeKind.Comment, SchemaObjectKind.Table, table.Name.ToString(), $"comment on constraint {key.Name} on {table.Name}", comment);
                }
            }

            drops.AddRange(current.Values.Where(c => !wanted.ContainsKey(c.Name)).OrderBy(c => c.Name, StringComparer.Ordinal));
            foreach (var key in drops)
            {
                Add(Phase.DropForeignKeys, SchemaChangeKind.Drop, SchemaObjectKind.Table, table.Name.ToString(), $"drop foreign key {key.Name} on {table.Name}", ddl.DropForeignKey(table.Name, key));
            }

            foreach (var key in adds)
            {
                Add(Phase.ForeignKeys, SchemaChangeKind.Alter, SchemaObjectKind.Table, table.Name.ToString(), $"add foreign key {key.Name} on {table.Name}", ddl.AddForeignKey(table.Name, key));
                if (ddl.CommentOnConstraint(table.Name, key) is { } comment)
                {
                    Add(Phase.ForeignKeys, SchemaChangeKind.Comment, SchemaObjectKind.Table, table.Name.ToString(), $"comment on constraint {key.Name} on {table.Name}", comment);
                }
            }
        }
    }

    private static string ColumnSet(IReadOnlyList<string> columns) => string.Join('\0', columns.Order(StringComparer.Ordinal));

    // ---------------------------------------------------------------- routines, views, triggers

    private void DiffRoutines()
    {
        var have = _current.Routines.ToDictionary(r => r.Key);
        var want = desired.Routines.ToDictionary(r => r.Key);
        var early = new List<RoutineModel>();
        foreach (var routine in desired.Routines.OrderBy(r => r.Key))
        {
            var name = routine.Key.Id;
            var existing = have.GetValueOrDefault(routine.Key);
            var late = ddl.RoutinesAfterTables || routine.DependsOn.Any(d => d.Kind is SchemaObjectKind.Table or SchemaObjectKind.View);
            if (existing is null || existing.Definition != routine.Definition)
            {
                // PostgreSQL replaces a body in place, but not a changed result type or a function turned procedure.
                var replaced = existing is not null && (existing.ResultType != routine.ResultType || existing.IsProcedure != routine.IsProcedure) && !ddl.RoutinesAfterTables;
                if (replaced)
                {
                    _replacedRoutines.Add(routine.Key);
                    Add(Phase.DropReplacedRoutines, SchemaChangeKind.Drop, SchemaObjectKind.Routine, name, $"drop {Kind(existing!)} {name} (its result type changes)", ddl.DropRoutine(existing!));
                }

                if (late)
                {
                    continue;
                }

                early.Add(routine);
            }
            else if (existing.Comment != routine.Comment && ddl.CommentOnRoutine(routine) is { } comment)
            {
                Add(Phase.LateObjects, SchemaChangeKind.Comment, SchemaObjectKind.Routine, name, $"comment on {Kind(routine)} {name}", comment);
            }
        }

        var ordered = DependencyOrder.Sort(early, r => r.Key, r => r.DependsOn, out _);
        foreach (var routine in ordered)
        {
            var existing = have.GetValueOrDefault(routine.Key);
            CreateRoutine(Phase.EarlyRoutines, routine, existing);
        }

        foreach (var routine in _current.Routines.Where(r => !want.ContainsKey(r.Key)).OrderBy(r => r.Key))
        {
            Add(Phase.DropRoutines, SchemaChangeKind.Drop, SchemaObjectKind.Routine, routine.Key.Id, $"drop {Kind(routine)} {routine.Key.Id}", ddl.DropRoutine(routine));
        }
    }

    private void CreateRoutine(Phase phase, RoutineModel routine, RoutineModel? existing, int order = 0)
    {
        var replacing = existing is not null && !_replacedRoutines.Contains(routine.Key);
        foreach (var sql in ddl.CreateRoutine(routine, replacing))
        {
            Add(phase, existing is null || !replacing ? SchemaChangeKind.Create : SchemaChangeKind.Alter, SchemaObjectKind.Routine, routine.Key.Id,
                $"{(existing is null || !replacing ? "create" : "replace")} {Kind(routine)} {routine.Key.Id}", sql, order);
        }
    }

    private static string Kind(RoutineModel routine) => routine.IsProcedure ? "procedure" : "function";

    private void DiffViews()
    {
        var have = _current.Views.ToDictionary(v => v.Name);
        var want = desired.Views.ToDictionary(v => v.Name);
        var changed = desired.Views.Where(v => have.TryGetValue(v.Name, out var old) && !SameView(old, v)).Select(v => v.Name).ToHashSet();

        // Views PostgreSQL would not let a change through: they read a column that changes or disappears, or a routine
        // that is dropped and created again; and every view reading one of those, transitively.
        var recreate = new HashSet<ObjectName>(changed);
        if (ddl.ViewsPinColumns)
        {
            var reshaped = _alterations.Values.Where(a => a.ReshapesColumns).Select(a => ObjectKey.Of(SchemaObjectKind.Table, a.Current.Name)).ToHashSet();
            var pinned = _current.Views.Where(v => v.DependsOn.Any(d => reshaped.Contains(d) || _replacedRoutines.Contains(d))).Select(v => v.Name);
            recreate.UnionWith(pinned.Where(want.ContainsKey));
            recreate.UnionWith(Dependents(recreate.Concat(_current.Views.Where(v => !want.ContainsKey(v.Name)).Select(v => v.Name)).ToHashSet()).Where(want.ContainsKey));
        }

        var drops = _current.Views.Where(v => !want.ContainsKey(v.Name) || (recreate.Contains(v.Name) && !(ddl.ReplacesViewsInPlace && !v.Materialized))).ToList();
        var dropOrder = DependencyOrder.Sort(drops.OrderBy(v => v.Name).ToList(), v => ObjectKey.Of(SchemaObjectKind.View, v.Name), v => v.DependsOn, out _);
        dropOrder.Reverse();
        foreach (var view in dropOrder)
        {
            Add(Phase.DropViews, SchemaChangeKind.Drop, SchemaObjectKind.View, view.Name.ToString(), $"drop {(view.Materialized ? "materialized view" : "view")} {view.Name}", ddl.DropView(view));
        }

        // Views and the routines that read tables are created together, each after what it reads.
        var late = new List<(ObjectKey Key, IReadOnlyList<ObjectKey> DependsOn, Action<int> Create)>();
        foreach (var view in desired.Views.OrderBy(v => v.Name))
        {
            var name = view.Name.ToString();
            var existing = have.GetValueOrDefault(view.Name);
            if (existing is null || recreate.Contains(view.Name))
            {
                late.Add((ObjectKey.Of(SchemaObjectKind.View, view.Name), view.DependsOn, order =>
                {
                    foreach (var sql in ddl.CreateView(view))
                    {
                        Add(Phase.LateObjects, existing is null ? SchemaChangeKind.Create : SchemaChangeKind.Alter, SchemaObjectKind.View, name,
                            $"{(existing is null ? "create" : "recreate")} view {name}", sql, order);
                    }
                }));
            }
            else if (existing.Comment != view.Comment && ddl.CommentOnView(view) is { } comment)
            {
                Add(Phase.LateObjects, SchemaChangeKind.Comment, SchemaObjectKind.View, name, $"comment on view {name}", comment, int.MaxValue);
            }
        }

        var routines = _current.Routines.ToDictionary(r => r.Key);
        foreach (var routine in desired.Routines.OrderBy(r => r.Key))
        {
            var existing = routines.GetValueOrDefault(routine.Key);
            var isLate = ddl.RoutinesAfterTables || routine.DependsOn.Any(d => d.Kind is SchemaObjectKind.Table or SchemaObjectKind.View);
            if (isLate && (existing is null || existing.Definition != routine.Definition))
            {
                late.Add((routine.Key, routine.DependsOn, order => CreateRoutine(Phase.LateObjects, routine, existing, order)));
            }
        }

        var sorted = DependencyOrder.Sort(late, l => l.Key, l => l.DependsOn, out _);
        for (var i = 0; i < sorted.Count; i++)
        {
            sorted[i].Create(i);
        }
    }

    /// <summary>Every current view that reads one of <paramref name="views"/>, directly or through other views.</summary>
    private HashSet<ObjectName> Dependents(HashSet<ObjectName> views)
    {
        var found = new HashSet<ObjectName>();
        var frontier = new Queue<ObjectName>(views);
        while (frontier.TryDequeue(out var view))
        {
            var key = ObjectKey.Of(SchemaObjectKind.View, view);
            foreach (var reader in _current.Views.Where(v => v.DependsOn.Contains(key)))
            {
                if (found.Add(reader.Name))
                {
                    frontier.Enqueue(reader.Name);
                }
            }
        }

        return found;
    }

    private static bool SameView(ViewModel a, ViewModel b) =>
        a.Definition == b.Definition && a.Materialized == b.Materialized && SameOptions(a.Options, b.Options);

    internal static bool SameOptions(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(o => b.TryGetValue(o.Key, out var value) && value == o.Value);

    private void DiffTriggers()
    {
        var have = _current.Triggers.ToDictionary(t => t.Id, StringComparer.Ordinal);
        var want = desired.Triggers.ToDictionary(t => t.Id, StringComparer.Ordinal);
        foreach (var trigger in desired.Triggers.OrderBy(t => t.Id, StringComparer.Ordinal))
        {
            var existing = have.GetValueOrDefault(trigger.Id);
            var redo = existing is not null && (existing.Definition != trigger.Definition || existing.DependsOn.Any(_replacedRoutines.Contains));
            if (redo)
            {
                Add(Phase.DropTriggers, SchemaChangeKind.Drop, SchemaObjectKind.Trigger, trigger.Id, $"drop trigger {trigger.Id}", ddl.DropTrigger(existing!));
            }

            if (existing is null || redo)
            {
                foreach (var sql in ddl.CreateTrigger(trigger))
                {
                    Add(Phase.Triggers, existing is null ? SchemaChangeKind.Create : SchemaChangeKind.Alter, SchemaObjectKind.Trigger, trigger.Id,
                        $"{(existing is null ? "create" : "recreate")} trigger {trigger.Id}", sql);
                }
            }
            else if (existing.Comment != trigger.Comment && ddl.CommentOnTrigger(trigger) is { } comment)
            {
                Add(Phase.Triggers, SchemaChangeKind.Comment, SchemaObjectKind.Trigger, trigger.Id, $"comment on trigger {trigger.Id}", comment);
            }
        }

        foreach (var trigger in _current.Triggers.Where(t => !want.ContainsKey(t.Id) && !_droppedTables.Contains(t.Table)).OrderBy(t => t.Id, StringComparer.Ordinal))
        {
            Add(Phase.DropTriggers, SchemaChangeKind.Drop, SchemaObjectKind.Trigger, trigger.Id, $"drop trigger {trigger.Id}", ddl.DropTrigger(trigger));
        }
    }
}
