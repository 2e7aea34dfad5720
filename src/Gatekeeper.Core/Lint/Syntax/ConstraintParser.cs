using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>Reads table constraints and MySQL inline indexes, as they appear in CREATE TABLE and ALTER TABLE … ADD.</summary>
internal static class ConstraintParser
{
    /// <summary>True when [start, end) begins with a table constraint rather than a column definition.</summary>
    public static bool StartsConstraint(StatementTokens t, int start) =>
        t.IsWord(start, "constraint") || t.IsWord(start, "primary", "key") || t.IsWord(start, "foreign", "key") ||
        t.IsAnyWord(start, ["unique", "check", "exclude"]) ||
        // PostgreSQL has no inline index clauses, and `key` is a legal column name there.
        (t.Dialect == SqlDialect.MySql && t.IsAnyWord(start, ["index", "key", "fulltext", "spatial"]));

    public static ConstraintDefinition Read(StatementTokens t, int start, int end)
    {
        var i = start;
        string? name = null;
        if (t.IsWord(i, "constraint"))
        {
            i++;
            if (t.IsName(i) && !t.IsAnyWord(i, ["primary", "unique", "foreign", "check", "exclude"]))
            {
                name = t.Identifier(i);
                i++;
            }
        }

        var kind = ConstraintKind.Unknown;
        if (t.IsWord(i, "primary", "key"))
        {
            kind = ConstraintKind.PrimaryKey;
            i += 2;
        }
        else if (t.IsWord(i, "unique"))
        {
            kind = ConstraintKind.Unique;
            i++;
        }
        else if (t.IsWord(i, "foreign", "key"))
        {
            kind = ConstraintKind.ForeignKey;
            i += 2;
        }
        else if (t.IsWord(i, "check"))
        {
            kind = ConstraintKind.Check;
            i++;
        }
        else if (t.IsWord(i, "exclude"))
        {
            kind = ConstraintKind.Exclude;
            i++;
        }
        else if (t.IsAnyWord(i, ["index", "key"]))
        {
            kind = ConstraintKind.Index;
            i++;
        }
        else if (t.IsWord(i, "fulltext") || t.IsWord(i, "spatial"))
        {
            kind = t.IsWord(i, "fulltext") ? ConstraintKind.FullText : ConstraintKind.Spatial;
            i++;
        }

        // MySQL: UNIQUE [INDEX|KEY] [name], FOREIGN KEY [name], INDEX [name], FULLTEXT [INDEX|KEY] [name].
        if (t.IsAnyWord(i, ["index", "key"]) && kind is ConstraintKind.Unique or ConstraintKind.FullText or ConstraintKind.Spatial)
        {
            i++;
        }

        if (t.IsName(i) && !t.IsOpen(i) && !t.IsAnyWord(i, ["using", "nulls", "references"]) && kind != ConstraintKind.Check)
        {
            name ??= t.Identifier(i);
            i++;
        }

        var usingIndex = false;
        var columns = new List<string>();
        ObjectName? referenced = null;
        string? checkNotNullColumn = null;
        while (i < end)
        {
            if (t.IsWord(i, "using", "index"))
            {
                usingIndex = true;
                i += 2;
            }
            else if (t.IsOpen(i) && columns.Count == 0 && kind != ConstraintKind.Check && kind != ConstraintKind.Exclude)
            {
                var close = t.SkipParens(i);
                foreach (var (s, _) in t.SplitTopLevel(i + 1, close - 1))
                {
                    if (t.IsName(s))
                    {
                        columns.Add(t.Identifier(s));
                    }
                }

                i = close;
            }
            else if (t.IsOpen(i) && kind == ConstraintKind.Check && checkNotNullColumn is null)
            {
                var close = t.SkipParens(i);
                checkNotNullColumn = NotNullTestColumn(t, i + 1, close - 1);
                i = close;
            }
            else if (t.IsWord(i, "references"))
            {
                i++;
                referenced = t.ReadName(ref i);
            }
            else if (t.IsOpen(i))
            {
                i = t.SkipParens(i);
            }
            else
            {
                i++;
            }
        }

        var notValid = IsNotValid(t, start, end);
        var enforced = t.FindWord(start, end, "enforced");
        var nullsDistinct = t.FindWord(start, end, "distinct");
        return new ConstraintDefinition(kind, name, start, end, notValid, usingIndex, columns, referenced, checkNotNullColumn,
            NotEnforced: enforced > start && t.IsWord(enforced - 1, "not"), NullsNotDistinct: nullsDistinct > start + 1 && t.IsWord(nullsDistinct - 2, "nulls", "not"));
    }

    public static bool IsNotValid(StatementTokens t, int start, int end)
    {
        var valid = t.FindWord(start, end, "valid");
        return valid > start && t.IsWord(valid - 1, "not");
    }

    /// <summary>The column of a check that is exactly <c>col IS NOT NULL</c> (PostgreSQL 12+ then skips the scan of SET NOT NULL).</summary>
    private static string? NotNullTestColumn(StatementTokens t, int start, int end)
    {
        while (end - start >= 2 && t.IsOpen(start) && t.SkipParens(start) == end)
        {
            start++;
            end--;
        }

        var i = start;
        if (!t.TryReadName(ref i, out var column))
        {
            return null;
        }

        return i + 3 == end && t.IsWord(i, "is", "not", "null") ? column.Name : null;
    }
}
