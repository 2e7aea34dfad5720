namespace Gatekeeper.Core.Lint;

/// <summary>
/// What the live database says about the tables a plan touches, so that locking findings can be judged by
/// table size and column changes by the current definition. Filled by the database layer; null when linting text alone.
/// </summary>
public sealed record SchemaContext(IReadOnlyList<SchemaTable> Tables)
{
    /// <summary>
    /// The table named <paramref name="name"/> (in <paramref name="schema"/> when given). An unqualified name matches
    /// any schema, preferring the largest table when several match, so a doubt errs on the side of caution.
    /// </summary>
    public SchemaTable? Find(string? schema, string name, bool ignoreCase)
    {
        var comparison = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        SchemaTable? best = null;
        foreach (var table in Tables)
        {
            if (!string.Equals(table.Name, name, comparison))
            {
                continue;
            }

            if (schema is not null && table.Schema is not null && !string.Equals(table.Schema, schema, comparison))
            {
                continue;
            }

            if (best is null || table.EstimatedRows > best.EstimatedRows)
            {
                best = table;
            }
        }

        return best;
    }
}

/// <param name="Schema">PostgreSQL schema or MySQL database; null when unknown.</param>
/// <param name="EstimatedRows">pg_class.reltuples or information_schema.TABLES.TABLE_ROWS; negative when never analysed (unknown).</param>
/// <param name="Columns">The table's columns when known.</param>
public sealed record SchemaTable(string? Schema, string Name, long EstimatedRows, IReadOnlyList<SchemaColumn>? Columns = null)
{
    public SchemaColumn? FindColumn(string name, bool ignoreCase) =>
        Columns?.FirstOrDefault(c => string.Equals(c.Name, name, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal));
}

/// <param name="DataType">The type as the catalog prints it (<c>character varying(255)</c>, <c>int(11) unsigned</c>, <c>enum('a','b')</c>).</param>
public sealed record SchemaColumn(string Name, string DataType, bool NotNull, bool HasDefault, bool AutoIncrement = false, bool HasComment = false);
