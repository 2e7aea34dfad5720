namespace Gatekeeper.Core.Schema;

/// <summary>A column as it must end up, and where: after <see cref="After"/>, or first when that is null.</summary>
internal sealed record PlacedColumn(ColumnModel Column, string? After);

/// <summary>A column that changes, and (MySQL) whether it also moves to <see cref="After"/>.</summary>
internal sealed record ChangedColumn(ColumnModel From, ColumnModel To, string? After, bool Moves);

/// <summary>
/// Everything that changes inside one table that stays, in the order it must happen: renames, then drops of what is
/// removed or redefined, then columns, then what is added. Foreign keys are not here: they are dropped before and added
/// after every table has changed, so a key may point at a table created later in the plan.
/// </summary>
internal sealed class TableAlteration(TableModel current, TableModel desired)
{
    public TableModel Current { get; } = current;

    public TableModel Desired { get; } = desired;

    public List<(string From, string To)> RenamedColumns { get; } = [];

    public List<(string From, string To)> RenamedIndexes { get; } = [];

    /// <summary>PostgreSQL constraints (and the indexes behind keys) renamed by a declared index rename.</summary>
    public List<(string From, string To)> RenamedConstraints { get; } = [];

    public List<ConstraintModel> DroppedConstraints { get; } = [];

    public List<IndexModel> DroppedIndexes { get; } = [];

    public List<ColumnModel> DroppedColumns { get; } = [];

    public List<PlacedColumn> AddedColumns { get; } = [];

    public List<ChangedColumn> ChangedColumns { get; } = [];

    public List<ConstraintModel> AddedConstraints { get; } = [];

    public List<IndexModel> AddedIndexes { get; } = [];

    /// <summary>Options whose value changes or appears (key, new value) and options that go away (key, null).</summary>
    public List<(string Key, string? Value)> ChangedOptions { get; } = [];

    public bool CommentChanged { get; set; }

    public long? RaisedAutoIncrement { get; set; }

    /// <summary>Constraints and indexes whose only change is their comment (PostgreSQL comments are statements of their own).</summary>
    public List<ConstraintModel> RecommentedConstraints { get; } = [];

    public List<IndexModel> RecommentedIndexes { get; } = [];

    public bool IsEmpty =>
        RenamedColumns.Count == 0 && RenamedIndexes.Count == 0 && RenamedConstraints.Count == 0 && DroppedConstraints.Count == 0 && DroppedIndexes.Count == 0 &&
        DroppedColumns.Count == 0 && AddedColumns.Count == 0 && ChangedColumns.Count == 0 && AddedConstraints.Count == 0 &&
        AddedIndexes.Count == 0 && ChangedOptions.Count == 0 && !CommentChanged && RaisedAutoIncrement is null &&
        RecommentedConstraints.Count == 0 && RecommentedIndexes.Count == 0;

    /// <summary>A column changes type or disappears: PostgreSQL refuses while a view reads the table.</summary>
    public bool ReshapesColumns =>
        DroppedColumns.Count > 0 || RenamedColumns.Count > 0 || ChangedColumns.Any(c => c.From.Type != c.To.Type || c.From.Collation != c.To.Collation || c.From.Generated != c.To.Generated);
}
