using Gatekeeper.Core.Schema;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Schema;

/// <summary>Short builders for schema models, so a differ test reads as the two schemas it compares.</summary>
internal static class SchemaModels
{
    public static ObjectName Pg(string name) => new("public", name);

    public static ObjectName My(string name) => new(null, name);

    public static SchemaModel Postgres(params TableModel[] tables) =>
        new() { Dialect = SqlDialect.Postgres, Schemas = [new NamespaceModel("public")], Tables = tables };

    public static SchemaModel MySql(params TableModel[] tables) => new() { Dialect = SqlDialect.MySql, Tables = tables };

    public static TableModel Table(ObjectName name, params ColumnModel[] columns) => new(name) { Columns = columns };

    public static ColumnModel Column(string name, string type, bool notNull = false, string? defaultValue = null) =>
        new(name, type) { NotNull = notNull, Default = defaultValue };

    public static ConstraintModel PrimaryKey(string name, params string[] columns) =>
        new(name, ConstraintKind.PrimaryKey, $"PRIMARY KEY ({string.Join(", ", columns)})") { Columns = columns };

    public static ConstraintModel ForeignKey(string name, string column, ObjectName target, string targetColumn, string? onDelete = null) =>
        new(name, ConstraintKind.ForeignKey, $"FOREIGN KEY ({column}) REFERENCES {target}({targetColumn}){(onDelete is null ? string.Empty : " ON DELETE " + onDelete)}")
        {
            Columns = [column],
            References = target,
            ReferencedColumns = [targetColumn],
        };

    public static ViewModel View(ObjectName name, string definition, params ObjectKey[] dependsOn) => new(name, definition) { DependsOn = dependsOn };

    public static ObjectKey TableKey(ObjectName name) => ObjectKey.Of(SchemaObjectKind.Table, name);

    public static ObjectKey ViewKey(ObjectName name) => ObjectKey.Of(SchemaObjectKind.View, name);

    /// <summary>The statements of a diff, in order.</summary>
    public static List<string> Statements(this SchemaDiff diff) => diff.Changes.Select(c => c.Sql).ToList();

    /// <summary>The position of the first statement that starts with <paramref name="prefix"/>; fails when there is none.</summary>
    public static int IndexOf(this SchemaDiff diff, string prefix)
    {
        var index = diff.Changes.ToList().FindIndex(c => c.Sql.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(index >= 0, $"no statement starts with '{prefix}'; the plan is:\n{string.Join(";\n", diff.Statements())}");
        return index;
    }
}
