namespace Gatekeeper.Core.Schema;

/// <summary>
/// A schema object's name. <see cref="Schema"/> is the PostgreSQL schema; on MySQL it is null, because the connected
/// database is the only scope Gatekeeper compares (a dev database and the live one have different names).
/// </summary>
public readonly record struct ObjectName(string? Schema, string Name) : IComparable<ObjectName>
{
    public int CompareTo(ObjectName other)
    {
        var bySchema = string.CompareOrdinal(Schema ?? string.Empty, other.Schema ?? string.Empty);
        return bySchema != 0 ? bySchema : string.CompareOrdinal(Name, other.Name);
    }

    public override string ToString() => Schema is null ? Name : $"{Schema}.{Name}";

    public static bool operator <(ObjectName left, ObjectName right) => left.CompareTo(right) < 0;

    public static bool operator <=(ObjectName left, ObjectName right) => left.CompareTo(right) <= 0;

    public static bool operator >(ObjectName left, ObjectName right) => left.CompareTo(right) > 0;

    public static bool operator >=(ObjectName left, ObjectName right) => left.CompareTo(right) >= 0;
}

/// <summary>The kinds of objects the declarative mode reads, compares and creates.</summary>
public enum SchemaObjectKind
{
    Schema,
    Extension,
    Enum,
    Sequence,
    Table,
    View,
    Routine,
    Trigger,
}

/// <summary>
/// One object in the dependency graph: a view on the tables it selects from, a function on the types it returns, a
/// table on the sequences and functions its defaults call. <see cref="Id"/> is the qualified name, with the argument
/// types for routines (PostgreSQL overloads share a name).
/// </summary>
public readonly record struct ObjectKey(SchemaObjectKind Kind, string Id) : IComparable<ObjectKey>
{
    public static ObjectKey Of(SchemaObjectKind kind, ObjectName name, string? signature = null) =>
        new(kind, signature is null ? name.ToString() : name + signature);

    public int CompareTo(ObjectKey other)
    {
        var byKind = Kind.CompareTo(other.Kind);
        return byKind != 0 ? byKind : string.CompareOrdinal(Id, other.Id);
    }

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} {Id}";

    public static bool operator <(ObjectKey left, ObjectKey right) => left.CompareTo(right) < 0;

    public static bool operator <=(ObjectKey left, ObjectKey right) => left.CompareTo(right) <= 0;

    public static bool operator >(ObjectKey left, ObjectKey right) => left.CompareTo(right) > 0;

    public static bool operator >=(ObjectKey left, ObjectKey right) => left.CompareTo(right) >= 0;
}
