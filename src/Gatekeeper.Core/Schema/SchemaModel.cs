using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Schema;

/// <summary>
/// A database's schema as both engines' catalogs describe it, read the same way from the live database and from the
/// dev database the desired state was loaded into. Types, defaults, expressions and definitions are the server's own
/// text (<c>format_type</c>, <c>pg_get_expr</c>, <c>pg_get_indexdef</c>, information_schema), so two schemas written
/// differently but meaning the same compare equal: the server normalised both.
/// </summary>
public sealed record SchemaModel
{
    public required SqlDialect Dialect { get; init; }

    /// <summary>PostgreSQL schemas other than the server's own (public included); empty on MySQL.</summary>
    public IReadOnlyList<NamespaceModel> Schemas { get; init; } = [];

    public IReadOnlyList<ExtensionModel> Extensions { get; init; } = [];

    public IReadOnlyList<EnumModel> Enums { get; init; } = [];

    /// <summary>Sequences other than those behind identity columns (which belong to their column).</summary>
    public IReadOnlyList<SequenceModel> Sequences { get; init; } = [];

    public IReadOnlyList<TableModel> Tables { get; init; } = [];

    public IReadOnlyList<ViewModel> Views { get; init; } = [];

    public IReadOnlyList<RoutineModel> Routines { get; init; } = [];

    public IReadOnlyList<TriggerModel> Triggers { get; init; } = [];

    public static SchemaModel Empty(SqlDialect dialect) => new() { Dialect = dialect };

    /// <summary>How many objects of every kind, for messages ("42 tables, 3 views, …").</summary>
    public int ObjectCount => Schemas.Count + Extensions.Count + Enums.Count + Sequences.Count + Tables.Count + Views.Count + Routines.Count + Triggers.Count;
}

/// <summary>A PostgreSQL schema.</summary>
public sealed record NamespaceModel(string Name)
{
    public string? Comment { get; init; }
}

/// <summary>A PostgreSQL extension; its version is the server's business and is not compared.</summary>
public sealed record ExtensionModel(string Name, string Schema);

/// <summary>A PostgreSQL enum type with its labels in order.</summary>
public sealed record EnumModel(ObjectName Name, IReadOnlyList<string> Values)
{
    public string? Comment { get; init; }
}

/// <summary>The numbers of a sequence or of an identity column's sequence.</summary>
/// <param name="Type">The sequence's data type (<c>bigint</c>, <c>integer</c>, <c>smallint</c>); null on MariaDB.</param>
public sealed record SequenceOptions(string? Type, long Start, long Increment, long MinValue, long MaxValue, long Cache, bool Cycle);

public sealed record SequenceModel(ObjectName Name, SequenceOptions Options)
{
    /// <summary>The column that owns the sequence (<c>serial</c>, <c>OWNED BY</c>): dropped with it.</summary>
    public (ObjectName Table, string Column)? OwnedBy { get; init; }

    public string? Comment { get; init; }

    /// <summary>PostgreSQL <c>UNLOGGED</c> sequence (goalert's job queue has them).</summary>
    public bool Unlogged { get; init; }
}

public sealed record TableModel(ObjectName Name)
{
    /// <summary>The option key under which a PostgreSQL unlogged table says so (value <c>unlogged</c>).</summary>
    public const string PersistenceOption = "persistence";

    /// <summary>In the table's own order.</summary>
    public IReadOnlyList<ColumnModel> Columns { get; init; } = [];

    /// <summary>Primary key, unique, check, foreign-key and exclusion constraints.</summary>
    public IReadOnlyList<ConstraintModel> Constraints { get; init; } = [];

    /// <summary>Indexes that do not back a constraint (on MySQL, unique keys too: MySQL does not tell them apart).</summary>
    public IReadOnlyList<IndexModel> Indexes { get; init; } = [];

    public string? Comment { get; init; }

    /// <summary>
    /// Table options as key and value: MySQL <c>ENGINE</c>, <c>DEFAULT CHARSET</c>, <c>COLLATE</c>, <c>ROW_FORMAT</c>…;
    /// PostgreSQL storage parameters (<c>fillfactor</c>) and <c>persistence</c> (<c>unlogged</c>).
    /// </summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = EmptyOptions;

    /// <summary>MySQL's next AUTO_INCREMENT value when it is above 1 (only ever raised, as Atlas does: the data sets it).</summary>
    public long? AutoIncrement { get; init; }

    /// <summary>Types, sequences and functions the columns use (enum types, nextval defaults, generated expressions).</summary>
    public IReadOnlyList<ObjectKey> DependsOn { get; init; } = [];

    public ColumnModel? Column(string name) => Columns.FirstOrDefault(c => c.Name == name);

    internal static readonly IReadOnlyDictionary<string, string> EmptyOptions = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>A column. <see cref="Type"/>, <see cref="Default"/> and expressions are the server's normalised text.</summary>
public sealed record ColumnModel(string Name, string Type)
{
    public bool NotNull { get; init; }

    public string? Default { get; init; }

    /// <summary>PostgreSQL <c>GENERATED … AS IDENTITY</c>.</summary>
    public IdentityModel? Identity { get; init; }

    /// <summary>MySQL <c>AUTO_INCREMENT</c>.</summary>
    public bool AutoIncrement { get; init; }

    /// <summary>A generated (computed) column's expression.</summary>
    public GeneratedColumn? Generated { get; init; }

    /// <summary>MySQL: the column's character set (text columns only).</summary>
    public string? Charset { get; init; }

    /// <summary>MySQL: the column's collation (text columns); PostgreSQL: a collation other than the type's default.</summary>
    public string? Collation { get; init; }

    /// <summary>MySQL <c>ON UPDATE</c> expression.</summary>
    public string? OnUpdate { get; init; }

    public string? Comment { get; init; }

    /// <summary>
    /// MySQL: everything after the name exactly as SHOW CREATE TABLE prints it (<c>varchar(20) CHARACTER SET latin1 NOT
    /// NULL</c>). When both sides have it, it is what is compared and written back, so details information_schema does
    /// not tell (an explicit charset, <c>USING BTREE</c>) survive a round trip.
    /// </summary>
    public string? Definition { get; init; }
}

public sealed record IdentityModel(bool Always, string? SequenceName, SequenceOptions Options);

/// <summary>A generated column: its expression and whether it is stored (PostgreSQL has only stored ones).</summary>
public sealed record GeneratedColumn(string Expression, bool Stored);

public enum ConstraintKind
{
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Exclusion,
}

/// <summary>
/// A table constraint. <see cref="Definition"/> is what follows <c>ADD CONSTRAINT name</c> as the server prints it
/// (<c>pg_get_constraintdef</c>; on MySQL rebuilt from information_schema in the form SHOW CREATE TABLE uses).
/// </summary>
public sealed record ConstraintModel(string Name, ConstraintKind Kind, string Definition)
{
    /// <summary>The constrained columns, in order.</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    /// <summary>The referenced table of a foreign key.</summary>
    public ObjectName? References { get; init; }

    /// <summary>The referenced columns of a foreign key, in order.</summary>
    public IReadOnlyList<string> ReferencedColumns { get; init; } = [];

    public string? Comment { get; init; }
}

/// <summary>
/// An index. <see cref="Definition"/> is everything after the table name (PostgreSQL: <c>USING btree (a) WHERE …</c>
/// from <c>pg_get_indexdef</c>; MySQL: the key's column list with prefix lengths and order, its type and comment).
/// </summary>
public sealed record IndexModel(string Name, bool Unique, string Definition)
{
    /// <summary>MySQL <c>FULLTEXT</c> or <c>SPATIAL</c>; null for ordinary (B-tree, hash) indexes.</summary>
    public string? Kind { get; init; }

    public IReadOnlyList<string> Columns { get; init; } = [];

    public string? Comment { get; init; }
}

public sealed record ViewModel(ObjectName Name, string Definition)
{
    public bool Materialized { get; init; }

    /// <summary>View options as the server keeps them: PostgreSQL reloptions (<c>check_option=cascaded</c>,
    /// <c>security_barrier=true</c>), MySQL <c>CHECK OPTION</c> and <c>SQL SECURITY</c>.</summary>
    public IReadOnlyDictionary<string, string> Options { get; init; } = TableModel.EmptyOptions;

    public string? Comment { get; init; }

    public IReadOnlyList<ObjectKey> DependsOn { get; init; } = [];
}

/// <summary>
/// A function or procedure. <see cref="Definition"/> is the whole statement that creates it as the server prints it
/// (<c>pg_get_functiondef</c>, MySQL SHOW CREATE without the DEFINER); <see cref="Signature"/> tells overloads apart.
/// </summary>
public sealed record RoutineModel(ObjectName Name, string Signature, string Definition)
{
    public bool IsProcedure { get; init; }

    /// <summary>PostgreSQL cannot change a function's result type in place: a changed one is dropped and created.</summary>
    public string? ResultType { get; init; }

    public string? Comment { get; init; }

    public IReadOnlyList<ObjectKey> DependsOn { get; init; } = [];

    public ObjectKey Key => ObjectKey.Of(SchemaObjectKind.Routine, Name, Signature);
}

/// <summary>A trigger; <see cref="Definition"/> is the whole statement that creates it as the server prints it.</summary>
public sealed record TriggerModel(ObjectName Table, string Name, string Definition)
{
    public string? Comment { get; init; }

    public IReadOnlyList<ObjectKey> DependsOn { get; init; } = [];

    /// <summary>Triggers are named per table on PostgreSQL and per database on MySQL; the table keeps them apart.</summary>
    public string Id => $"{Table}.{Name}";
}
