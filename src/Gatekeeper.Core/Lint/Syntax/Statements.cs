namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>
/// What a statement does, as far as migration safety cares. Parsed from keyword sequences over code tokens,
/// never from raw text, so keywords inside strings, comments, quoted identifiers and bodies never match.
/// </summary>
internal abstract record ParsedStatement(StatementTokens Tokens);

/// <summary>Anything the linter has no rule for (SELECT, GRANT, COMMENT ON, INSERT … VALUES, …).</summary>
internal sealed record OtherStatement(StatementTokens Tokens, string Verb) : ParsedStatement(Tokens);

internal sealed record CreateTableStatement(
    StatementTokens Tokens,
    ObjectName Table,
    bool IfNotExists,
    bool Temporary,
    bool Unlogged,
    IReadOnlyList<ColumnDefinition> Columns,
    IReadOnlyList<ConstraintDefinition> Constraints,
    ObjectName? PartitionOf = null) : ParsedStatement(Tokens);

internal enum ConstraintKind
{
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
    Exclude,
    /// <summary>MySQL <c>INDEX</c>/<c>KEY</c> inside CREATE/ALTER TABLE.</summary>
    Index,
    FullText,
    Spatial,
    Unknown,
}

/// <summary>A table constraint or a MySQL inline index (<c>ADD CONSTRAINT … CHECK (…) NOT VALID</c>, <c>ADD UNIQUE KEY k (c)</c>).</summary>
internal sealed record ConstraintDefinition(
    ConstraintKind Kind,
    string? Name,
    int Start,
    int End,
    bool NotValid,
    bool UsingIndex,
    IReadOnlyList<string> Columns,
    ObjectName? ReferencedTable,
    string? CheckNotNullColumn,
    bool NotEnforced = false,
    bool NullsNotDistinct = false);

internal sealed record AlterTableStatement(StatementTokens Tokens, ObjectName Table, bool Only, IReadOnlyList<AlterAction> Actions)
    : ParsedStatement(Tokens)
{
    /// <summary>MySQL <c>ALGORITHM=…</c> clause value in upper case, or null.</summary>
    public string? Algorithm => Actions.OfType<MySqlAlgorithmOption>().LastOrDefault()?.Algorithm;

    /// <summary>MySQL <c>LOCK=…</c> clause value in upper case, or null.</summary>
    public string? LockOption => Actions.OfType<MySqlLockOption>().LastOrDefault()?.Lock;
}

/// <summary>One comma-separated action of an ALTER TABLE; [Start, End) is its token range.</summary>
internal abstract record AlterAction(int Start, int End);

internal sealed record AddColumn(int Start, int End, ColumnDefinition Column, bool IfNotExists) : AlterAction(Start, End);

internal sealed record DropColumn(int Start, int End, string Column, bool IfExists, bool Cascade) : AlterAction(Start, End);

/// <summary>PostgreSQL <c>ALTER COLUMN c [SET DATA] TYPE t [USING …]</c>.</summary>
internal sealed record AlterColumnType(int Start, int End, string Column, SqlType Type, bool HasUsing) : AlterAction(Start, End);

/// <summary>MySQL <c>MODIFY c def</c> or <c>CHANGE old new def</c>: the whole column definition is replaced.</summary>
internal sealed record RedefineColumn(int Start, int End, string OldName, ColumnDefinition Column, bool IsChange) : AlterAction(Start, End);

internal sealed record SetNotNull(int Start, int End, string Column) : AlterAction(Start, End);

internal sealed record DropNotNull(int Start, int End, string Column) : AlterAction(Start, End);

internal sealed record SetDefault(int Start, int End, string Column) : AlterAction(Start, End);

internal sealed record DropDefault(int Start, int End, string Column) : AlterAction(Start, End);

internal sealed record AddConstraint(int Start, int End, ConstraintDefinition Constraint) : AlterAction(Start, End);

/// <summary>Drops a constraint or index; <see cref="Kind"/> is known when the syntax says it (MySQL DROP FOREIGN KEY, DROP PRIMARY KEY).</summary>
internal sealed record DropConstraint(int Start, int End, string? Name, ConstraintKind Kind, bool IfExists, bool Cascade) : AlterAction(Start, End);

internal sealed record ValidateConstraint(int Start, int End, string Name) : AlterAction(Start, End);

internal sealed record RenameColumn(int Start, int End, string OldName, string NewName) : AlterAction(Start, End);

internal sealed record RenameTable(int Start, int End, ObjectName NewName) : AlterAction(Start, End);

/// <summary><c>SET LOGGED</c>, <c>SET UNLOGGED</c>, <c>SET ACCESS METHOD</c>, <c>SET TABLESPACE</c>: the table is rewritten.</summary>
internal sealed record RewriteTableOption(int Start, int End, string What) : AlterAction(Start, End);

internal sealed record DetachPartition(int Start, int End, ObjectName Partition, bool Concurrently, bool Finalize) : AlterAction(Start, End);

/// <summary>PostgreSQL <c>ATTACH PARTITION p FOR VALUES …</c>: p is scanned to check its bounds unless a constraint proves them.</summary>
internal sealed record AttachPartition(int Start, int End, ObjectName Partition) : AlterAction(Start, End);

/// <summary>What a MySQL partition clause does to the rows.</summary>
internal enum PartitionWork
{
    /// <summary>Metadata and empty partitions only (ADD PARTITION of a RANGE/LIST table, EXCHANGE, ANALYZE …).</summary>
    Quick,
    /// <summary>DROP / TRUNCATE PARTITION: the partitions' rows are deleted.</summary>
    DeletesRows,
    /// <summary>REORGANIZE, COALESCE, REBUILD, ADD PARTITION PARTITIONS n: rows are copied between partitions while writes wait.</summary>
    CopiesRows,
    /// <summary>PARTITION BY, REMOVE PARTITIONING: the whole table is copied.</summary>
    CopiesTable,
}

/// <summary>A MySQL partition clause of ALTER TABLE (<c>REORGANIZE PARTITION …</c>, <c>DROP PARTITION p</c>, <c>PARTITION BY …</c>).</summary>
internal sealed record MySqlPartitionAction(int Start, int End, string What, PartitionWork Work) : AlterAction(Start, End);

/// <summary><c>ALTER COLUMN c ADD GENERATED … AS IDENTITY</c> on an existing column (metadata plus a sequence, no rewrite).</summary>
internal sealed record AddIdentity(int Start, int End, string Column) : AlterAction(Start, End);

internal sealed record MySqlAlgorithmOption(int Start, int End, string Algorithm) : AlterAction(Start, End);

internal sealed record MySqlLockOption(int Start, int End, string Lock) : AlterAction(Start, End);

/// <summary>
/// MySQL <c>CONVERT TO CHARACTER SET</c>, <c>ENGINE=</c>, <c>FORCE</c>, <c>ROW_FORMAT=</c>: the table is rebuilt, in place or
/// by copy. <see cref="Engine"/> is the engine <c>ENGINE=</c> names (InnoDB on an InnoDB table is an in-place rebuild).
/// </summary>
internal sealed record MySqlRebuild(int Start, int End, string What, string? Engine = null) : AlterAction(Start, End);

/// <summary>Any other action (OWNER TO, ENABLE TRIGGER, SET STATISTICS, table options …).</summary>
internal sealed record OtherAlterAction(int Start, int End, string Verb) : AlterAction(Start, End);

internal sealed record CreateIndexStatement(
    StatementTokens Tokens,
    string? Name,
    ObjectName Table,
    bool Unique,
    bool Concurrently,
    bool IfNotExists,
    bool Only,
    ConstraintKind Kind,
    int ColumnsStart,
    IReadOnlyList<string>? Columns = null,
    bool NullsNotDistinct = false) : ParsedStatement(Tokens);

internal sealed record DropIndexStatement(StatementTokens Tokens, IReadOnlyList<ObjectName> Names, ObjectName? Table, bool Concurrently, bool IfExists)
    : ParsedStatement(Tokens);

internal enum DropKind
{
    Table,
    Schema,
    Database,
    View,
    MaterializedView,
    Type,
    Domain,
    Function,
    Procedure,
    Sequence,
    Trigger,
    Extension,
    Other,
}

internal sealed record DropStatement(StatementTokens Tokens, DropKind Kind, string KindText, IReadOnlyList<ObjectName> Names, bool IfExists, bool Cascade)
    : ParsedStatement(Tokens);

internal sealed record TruncateStatement(StatementTokens Tokens, IReadOnlyList<ObjectName> Tables, bool Cascade) : ParsedStatement(Tokens);

internal enum DmlKind
{
    Update,
    Delete,
    InsertSelect,
}

/// <summary>An UPDATE, DELETE or INSERT … SELECT (including behind a WITH clause).</summary>
internal sealed record DmlStatement(StatementTokens Tokens, DmlKind Kind, ObjectName? Table, int VerbToken, int WhereToken, bool WhereOnlyNullTest, IReadOnlyList<(string Column, int Token)> Assignments)
    : ParsedStatement(Tokens)
{
    public bool HasWhere => WhereToken >= 0;
}

internal enum TransactionControl
{
    Begin,
    Commit,
    Rollback,
}

internal sealed record TransactionStatement(StatementTokens Tokens, TransactionControl Control) : ParsedStatement(Tokens);

internal sealed record AlterEnumAddValue(StatementTokens Tokens, ObjectName Type, string Value, bool IfNotExists, bool Positioned)
    : ParsedStatement(Tokens);

internal sealed record CreateEnumType(StatementTokens Tokens, ObjectName Type, IReadOnlyList<string> Values) : ParsedStatement(Tokens);

internal enum RenamedObjectKind
{
    View,
    MaterializedView,
    Sequence,
    Function,
    Procedure,
    Type,
    EnumValue,
    Schema,
    Index,
    Other,
}

/// <summary>A rename of something other than a table or column (ALTER VIEW … RENAME TO, ALTER TYPE … RENAME VALUE …).</summary>
internal sealed record RenameObjectStatement(StatementTokens Tokens, RenamedObjectKind Kind, string KindText, ObjectName Name, ObjectName? NewName)
    : ParsedStatement(Tokens);

/// <summary>MySQL <c>RENAME TABLE a TO b [, c TO d]</c>.</summary>
internal sealed record RenameTablesStatement(StatementTokens Tokens, IReadOnlyList<(ObjectName From, ObjectName To)> Pairs) : ParsedStatement(Tokens);

internal enum MaintenanceKind
{
    VacuumFull,
    Vacuum,
    Cluster,
    Reindex,
    RefreshMaterializedView,
    OptimizeTable,
}

internal sealed record MaintenanceStatement(StatementTokens Tokens, MaintenanceKind Kind, ObjectName? Target, bool Concurrently)
    : ParsedStatement(Tokens);

internal sealed record LockTableStatement(StatementTokens Tokens, IReadOnlyList<ObjectName> Tables, string Mode) : ParsedStatement(Tokens);

/// <summary>A PostgreSQL <c>DO</c> block; its body runs when the statement runs, so its SQL is linted too.</summary>
internal sealed record DoStatement(StatementTokens Tokens, int BodyToken) : ParsedStatement(Tokens);

internal sealed record CreateTriggerStatement(StatementTokens Tokens, ObjectName Table) : ParsedStatement(Tokens);

internal sealed record CreateViewStatement(StatementTokens Tokens, ObjectName Name, bool Materialized) : ParsedStatement(Tokens);

/// <summary>CREATE FUNCTION/PROCEDURE: bodies do not run at creation time, so they are not linted.</summary>
internal sealed record CreateRoutineStatement(StatementTokens Tokens, ObjectName Name, string KindText) : ParsedStatement(Tokens);

/// <summary><c>CALL name(…)</c>: runs a procedure's body.</summary>
internal sealed record CallStatement(StatementTokens Tokens, ObjectName Name) : ParsedStatement(Tokens);

internal sealed record CreateDomainStatement(StatementTokens Tokens, ObjectName Name, bool HasConstraint) : ParsedStatement(Tokens);

internal sealed record AlterDomainAddConstraint(StatementTokens Tokens, ObjectName Name, bool NotValid) : ParsedStatement(Tokens);

/// <summary>A statement PostgreSQL refuses inside a transaction block (CREATE DATABASE, ALTER SYSTEM, …) that no other record models.</summary>
internal sealed record NonTransactionalStatement(StatementTokens Tokens, string What) : ParsedStatement(Tokens);

/// <summary>
/// <c>SET [SESSION|LOCAL] name = value</c> / <c>SET name TO value</c> / <c>SET TIME ZONE value</c> (session settings such as
/// MySQL FOREIGN_KEY_CHECKS or PostgreSQL TimeZone). <see cref="Local"/>: PostgreSQL SET LOCAL, which lasts until the transaction ends.
/// </summary>
internal sealed record SetStatement(StatementTokens Tokens, string Name, string Value, bool Local = false) : ParsedStatement(Tokens);

/// <summary>PostgreSQL <c>RESET name</c> / <c>RESET ALL</c> (<see cref="Name"/> null).</summary>
internal sealed record ResetStatement(StatementTokens Tokens, string? Name) : ParsedStatement(Tokens);
