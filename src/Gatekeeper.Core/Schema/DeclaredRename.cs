using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Schema;

public enum RenameTarget
{
    Table,
    Column,
    /// <summary>An index, or on PostgreSQL a constraint (a key's index has the constraint's name).</summary>
    Index,
    /// <summary>A PostgreSQL enum label (<c>ALTER TYPE … RENAME VALUE</c>); <see cref="DeclaredRename.Table"/> names the type.</summary>
    EnumValue,
}

/// <summary>
/// A rename the desired state declares with <c>-- gatekeeper:rename table|column|index OLD to NEW</c>. Gatekeeper never
/// guesses a rename from two similar objects (that is how data gets dropped): without one of these, a table that
/// disappears and a table that appears are a drop and a create.
/// </summary>
/// <param name="Table">The table: the one renamed (<see cref="RenameTarget.Table"/>), or the one holding the column or index;
/// for <see cref="RenameTarget.EnumValue"/> the enum type.</param>
/// <param name="From">The old name of the column or index; for a table, <see cref="Table"/>'s name.</param>
/// <param name="To">The new name (same schema, same table).</param>
public sealed record DeclaredRename(RenameTarget Target, ObjectName Table, string From, string To, SourceLocation Location)
{
    public override string ToString() => Target switch
    {
        RenameTarget.Table => $"rename table {Table} to {To}",
        RenameTarget.Column => $"rename column {Table}.{From} to {To}",
        RenameTarget.Index => $"rename index {Table}.{From} to {To}",
        RenameTarget.EnumValue => $"rename value '{From}' of type {Table} to '{To}'",
        _ => throw new InvalidOperationException($"unknown rename target {Target}"),
    };
}

/// <summary>What the differ is told besides the two schemas.</summary>
public sealed record SchemaDiffOptions
{
    public IReadOnlyList<DeclaredRename> Renames { get; init; } = [];

    public static SchemaDiffOptions Default { get; } = new();
}
