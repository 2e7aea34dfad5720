namespace Gatekeeper.Core.Schema;

/// <summary>Compares one table that exists on both sides, filling in its <see cref="TableAlteration"/>.</summary>
internal static class TableDiffer
{
    public static void Compare(TableAlteration alteration, SchemaDdl ddl, List<SchemaDifferenceNote> notes)
    {
        var current = alteration.Current;
        var desired = alteration.Desired;
        CompareColumns(alteration, ddl, notes);

        var haveConstraints = current.Constraints.Where(c => c.Kind != ConstraintKind.ForeignKey).ToDictionary(c => c.Name, StringComparer.Ordinal);
        var wantConstraints = desired.Constraints.Where(c => c.Kind != ConstraintKind.ForeignKey).ToDictionary(c => c.Name, StringComparer.Ordinal);
        foreach (var constraint in desired.Constraints.Where(c => c.Kind != ConstraintKind.ForeignKey))
        {
            if (!haveConstraints.TryGetValue(constraint.Name, out var old))
            {
                alteration.AddedConstraints.Add(constraint);
            }
            else if (old.Kind != constraint.Kind || old.Definition != constraint.Definition)
            {
                alteration.DroppedConstraints.Add(old);
                alteration.AddedConstraints.Add(constraint);
            }
            else if (old.Comment != constraint.Comment)
            {
                alteration.RecommentedConstraints.Add(constraint);
            }
        }

        alteration.DroppedConstraints.AddRange(current.Constraints.Where(c => c.Kind != ConstraintKind.ForeignKey && !wantConstraints.ContainsKey(c.Name)));

        var haveIndexes = current.Indexes.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var wantIndexes = desired.Indexes.ToDictionary(i => i.Name, StringComparer.Ordinal);
        foreach (var index in desired.Indexes)
        {
            if (!haveIndexes.TryGetValue(index.Name, out var old))
            {
                alteration.AddedIndexes.Add(index);
            }
            else if (old.Unique != index.Unique || old.Definition != index.Definition || old.Kind != index.Kind)
            {
                alteration.DroppedIndexes.Add(old);
                alteration.AddedIndexes.Add(index);
            }
            else if (old.Comment != index.Comment)
            {
                alteration.RecommentedIndexes.Add(index);
            }
        }

        alteration.DroppedIndexes.AddRange(current.Indexes.Where(i => !wantIndexes.ContainsKey(i.Name)));

        foreach (var (key, value) in desired.Options)
        {
            if (!current.Options.TryGetValue(key, out var old) || old != value)
            {
                alteration.ChangedOptions.Add((key, value));
            }
        }

        foreach (var key in current.Options.Keys.Where(k => !desired.Options.ContainsKey(k)))
        {
            alteration.ChangedOptions.Add((key, null));
        }

        alteration.ChangedOptions.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        alteration.CommentChanged = current.Comment != desired.Comment;

        // The counter is only ever raised: rows set it, so a lower desired value is history, not a difference (as Atlas).
        if (desired.AutoIncrement is { } next && next > (current.AutoIncrement ?? 1))
        {
            alteration.RaisedAutoIncrement = next;
        }
    }

    private static void CompareColumns(TableAlteration alteration, SchemaDdl ddl, List<SchemaDifferenceNote> notes)
    {
        var current = alteration.Current;
        var desired = alteration.Desired;
        var wanted = desired.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var existing = current.Columns.ToDictionary(c => c.Name, StringComparer.Ordinal);
        alteration.DroppedColumns.AddRange(current.Columns.Where(c => !wanted.Contains(c.Name)));

        // Of the columns on both sides, the longest run already in the desired order stays put; the others move.
        var kept = current.Columns.Where(c => wanted.Contains(c.Name)).Select(c => c.Name).ToList();
        var desiredKept = desired.Columns.Where(c => existing.ContainsKey(c.Name)).Select(c => c.Name).ToList();
        var inPlace = LongestCommonSubsequence(kept, desiredKept);
        var moved = desiredKept.Where(n => !inPlace.Contains(n)).ToHashSet(StringComparer.Ordinal);
        if (moved.Count > 0 && !ddl.CanPlaceColumns)
        {
            notes.Add(new SchemaDifferenceNote($"table {desired.Name}",
                $"column order differs ({string.Join(", ", moved)} elsewhere in the desired state); PostgreSQL cannot reorder columns, so the order is left as it is"));
        }

        var appendedOutOfOrder = false;
        string? previous = null;
        for (var i = 0; i < desired.Columns.Count; i++)
        {
            var column = desired.Columns[i];
            if (!existing.TryGetValue(column.Name, out var old))
            {
                alteration.AddedColumns.Add(new PlacedColumn(column, previous));
                appendedOutOfOrder |= !ddl.CanPlaceColumns && desired.Columns.Skip(i + 1).Any(c => existing.ContainsKey(c.Name));
            }
            else
            {
                var moves = ddl.CanPlaceColumns && moved.Contains(column.Name);
                if (moves || !SameColumn(old, column))
                {
                    alteration.ChangedColumns.Add(new ChangedColumn(old, column, previous, moves));
                }
            }

            previous = column.Name;
        }

        if (appendedOutOfOrder)
        {
            notes.Add(new SchemaDifferenceNote($"table {desired.Name}",
                "new columns are added at the end: PostgreSQL cannot insert a column between existing ones"));
        }
    }

    /// <summary>Every attribute that is part of a column's definition (MySQL's SHOW CREATE text, when both sides have it, says it all).</summary>
    internal static bool SameColumn(ColumnModel a, ColumnModel b)
    {
        if (a.Definition is not null && b.Definition is not null)
        {
            return a.Definition == b.Definition;
        }

        return a.Type == b.Type && a.NotNull == b.NotNull && a.Default == b.Default && a.Identity == b.Identity &&
               a.AutoIncrement == b.AutoIncrement && a.Generated == b.Generated && a.Charset == b.Charset &&
               a.Collation == b.Collation && a.OnUpdate == b.OnUpdate && a.Comment == b.Comment;
    }

    private static HashSet<string> LongestCommonSubsequence(List<string> a, List<string> b)
    {
        var lengths = new int[a.Count + 1, b.Count + 1];
        for (var i = a.Count - 1; i >= 0; i--)
        {
            for (var j = b.Count - 1; j >= 0; j--)
            {
                lengths[i, j] = a[i] == b[j] ? lengths[i + 1, j + 1] + 1 : Math.Max(lengths[i + 1, j], lengths[i, j + 1]);
            }
        }

        var common = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0, j = 0; i < a.Count && j < b.Count;)
        {
            if (a[i] == b[j])
            {
                common.Add(a[i]);
                i++;
                j++;
            }
            else if (lengths[i + 1, j] >= lengths[i, j + 1])
            {
                i++;
            }
            else
            {
                j++;
            }
        }

        return common;
    }
}
