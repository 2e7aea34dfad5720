namespace Gatekeeper.Core.Schema;

public enum SchemaChangeKind
{
    Create,
    Alter,
    Drop,
    Rename,
    Comment,
}

/// <summary>
/// One statement of a declarative plan: what it does to which object, and its SQL. A table's alterations are one
/// change per statement (PostgreSQL) or one combined <c>ALTER TABLE</c> (MySQL, where each statement rebuilds the
/// table).
/// </summary>
/// <param name="Summary">"add column email", "drop index orders_mail_idx": what a person reads in the plan.</param>
/// <param name="Sql">The statement, without a terminator.</param>
public sealed record SchemaChange(SchemaChangeKind Kind, SchemaObjectKind ObjectKind, string Object, string Summary, string Sql)
{
    /// <summary>
    /// PostgreSQL uses a new or renamed enum label only once it is committed: such changes run, and commit, before the
    /// rest of the plan, which then runs in one transaction of its own.
    /// </summary>
    public bool CommitsFirst { get; init; }

    /// <summary>Drops of tables, columns, views, routines, types and schemas lose what they hold.</summary>
    public bool IsDrop => Kind == SchemaChangeKind.Drop;

    public override string ToString() => $"{Summary}: {Sql}";
}

/// <summary>
/// A difference Gatekeeper can see but will not turn into a statement, with the reason (a PostgreSQL enum value that
/// would have to be removed; a column order PostgreSQL cannot change). Blocking ones stop the plan.
/// </summary>
public sealed record SchemaDifferenceNote(string Object, string Message, bool Blocking = false)
{
    public override string ToString() => $"{Object}: {Message}";
}

/// <summary>Everything the differ found: the statements in a safe order, and what it could not express.</summary>
public sealed record SchemaDiff(IReadOnlyList<SchemaChange> Changes, IReadOnlyList<SchemaDifferenceNote> Notes)
{
    public bool IsEmpty => Changes.Count == 0;

    public bool IsBlocked => Notes.Any(n => n.Blocking);
}
