using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Syntax;

internal enum TypeChangeCost
{
    /// <summary>The old type is not known (not created in this plan, no live schema).</summary>
    Unknown,
    /// <summary>Metadata only: binary-coercible on PostgreSQL, INSTANT/in-place on MySQL.</summary>
    MetadataOnly,
    /// <summary>Every row is rewritten (PostgreSQL) or the table is copied (MySQL).</summary>
    Rewrite,
}

/// <summary>What changing a column from one type to another costs, and whether existing values may no longer fit.</summary>
internal static class TypeChange
{
    public static TypeChangeCost Cost(SqlType? from, SqlType to, SqlDialect dialect)
    {
        if (from is null)
        {
            return TypeChangeCost.Unknown;
        }

        if (from.IsArray != to.IsArray)
        {
            return TypeChangeCost.Rewrite;
        }

        if (from.Name == to.Name && from.Arguments.SequenceEqual(to.Arguments) && from.Unsigned == to.Unsigned)
        {
            return TypeChangeCost.MetadataOnly;
        }

        return dialect == SqlDialect.Postgres ? PostgresCost(from, to) : MySqlCost(from, to);
    }

    /// <summary>True when some value of the old type may not fit the new one (shorter text, smaller number, fewer enum values).</summary>
    public static bool Narrows(SqlType? from, SqlType to)
    {
        if (from is null)
        {
            return false;
        }

        if (IsText(from) && to.Name is "varchar" or "char")
        {
            return to.Length is { } m && (from.Length is not { } n || m < n);
        }

        if (from.Name == "numeric" && to.Name == "numeric")
        {
            return to.Length is { } p && (from.Length is not { } q || p < q || (to.Scale ?? 0) < (from.Scale ?? 0));
        }

        if (from.IsEnumOrSet && to.Name == from.Name)
        {
            return from.Arguments.Except(to.Arguments, StringComparer.Ordinal).Any();
        }

        var fromRank = IntegerRank(from.Name);
        var toRank = IntegerRank(to.Name);
        if (fromRank > 0 && toRank > 0)
        {
            return toRank < fromRank || (from.Unsigned != to.Unsigned);
        }

        // Text or a number into a type with a narrower domain (int, date, uuid, enum …): values may not convert.
        return (IsText(from) || fromRank > 0 || from.Name == "numeric") && !IsText(to) && toRank == 0 && to.Name != "numeric";
    }

    private static TypeChangeCost PostgresCost(SqlType from, SqlType to)
    {
        // Binary-coercible changes (pg_cast castmethod 'b', or a length that only grows) skip the rewrite since 9.2.
        // char(n) → text is not among them: bpchar casts through rtrim().
        if (IsText(from) && from.Name != "char" && to.Name is "text" or "citext" && to.Arguments.Count == 0)
        {
            return TypeChangeCost.MetadataOnly;
        }

        if (IsText(from) && from.Name != "char" && to.Name == "varchar")
        {
            return to.Length is not { } m || (from.Name == "varchar" && from.Length is { } n && m >= n)
                ? TypeChangeCost.MetadataOnly
                : TypeChangeCost.Rewrite;
        }

        if (from.Name == "numeric" && to.Name == "numeric")
        {
            return to.Arguments.Count == 0 || (from.Length is { } p && to.Length is { } q && q >= p && (from.Scale ?? 0) == (to.Scale ?? 0))
                ? TypeChangeCost.MetadataOnly
                : TypeChangeCost.Rewrite;
        }

        if (from.Name == "varbit" && to.Name == "varbit")
        {
            return to.Length is not { } m || (from.Length is { } n && m >= n) ? TypeChangeCost.MetadataOnly : TypeChangeCost.Rewrite;
        }

        if (from.Name == "cidr" && to.Name == "inet")
        {
            return TypeChangeCost.MetadataOnly;
        }

        return TypeChangeCost.Rewrite;
    }

    private static TypeChangeCost MySqlCost(SqlType from, SqlType to)
    {
        // VARCHAR may grow in place while its length prefix keeps its size: 1 byte up to 255 bytes, 2 beyond.
        // Lengths are in characters, so ≤ 63 characters fits one byte in every charset (utf8mb4: 4 bytes each).
        if (from.Name == "varchar" && to.Name == "varchar" && from.Length is { } n && to.Length is { } m && m >= n)
        {
            return (m <= 63) || (n >= 256) ? TypeChangeCost.MetadataOnly : TypeChangeCost.Unknown;
        }

        if (from.IsEnumOrSet && to.Name == from.Name)
        {
            var appendedAtEnd = to.Arguments.Count >= from.Arguments.Count && from.Arguments.SequenceEqual(to.Arguments.Take(from.Arguments.Count));
            return appendedAtEnd && StorageBytes(from) == StorageBytes(to) ? TypeChangeCost.MetadataOnly : TypeChangeCost.Rewrite;
        }

        return TypeChangeCost.Rewrite;
    }

    private static int StorageBytes(SqlType type) => type.Name == "enum"
        ? (type.Arguments.Count <= 255 ? 1 : 2)
        : type.Arguments.Count switch { <= 8 => 1, <= 16 => 2, <= 24 => 3, <= 32 => 4, _ => 8 };

    private static bool IsText(SqlType type) =>
        type.Name is "text" or "varchar" or "char" or "citext" or "tinytext" or "mediumtext" or "longtext";

    private static int IntegerRank(string name) => name switch
    {
        "tinyint" => 1,
        "smallint" or "smallserial" => 2,
        "mediumint" => 3,
        "integer" or "serial" => 4,
        "bigint" or "bigserial" => 5,
        _ => 0,
    };
}
