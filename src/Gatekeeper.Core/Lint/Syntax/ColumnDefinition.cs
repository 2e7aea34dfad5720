using Gatekeeper.Core.Lint.Analysis;

namespace Gatekeeper.Core.Lint.Syntax;

internal enum DefaultVolatility
{
    /// <summary>A constant, a cast or a known immutable/stable function: PostgreSQL 11+ stores it once, no rewrite.</summary>
    NonVolatile,
    /// <summary>A known volatile function (random(), gen_random_uuid(), nextval(), clock_timestamp() …): every row gets its own value.</summary>
    Volatile,
    /// <summary>A function the linter does not know; user functions are VOLATILE unless declared otherwise.</summary>
    Unknown,
}

/// <summary>A <c>DEFAULT</c> clause: its token range and what evaluating it per row would cost.</summary>
internal sealed record ColumnDefault(int Start, int End, bool IsNull, DefaultVolatility Volatility, string? Function);

/// <summary>A column as declared in <c>CREATE TABLE</c>, <c>ADD COLUMN</c>, or MySQL <c>MODIFY</c>/<c>CHANGE</c>.</summary>
internal sealed record ColumnDefinition(
    string Name,
    int NameToken,
    int Start,
    int End,
    SqlType? Type,
    bool NotNull,
    bool ExplicitNull,
    ColumnDefault? Default,
    bool PrimaryKey,
    bool Unique,
    ObjectName? References,
    bool Identity,
    bool GeneratedStored,
    bool GeneratedVirtual,
    bool AutoIncrement,
    bool HasComment,
    bool HasCheck)
{
    /// <summary>True when the server fills the column itself for rows that do not mention it.</summary>
    public bool FillsItself => Default is { IsNull: false } || Identity || AutoIncrement || GeneratedStored || GeneratedVirtual || (Type?.IsSerial ?? false);

    /// <summary>
    /// What the existing rows hold once this column is added to a table: one value each, the same value, or NULL; null
    /// when it depends on other columns (generated) or on a function the linter does not know.
    /// </summary>
    public ColumnFill? FillOfExistingRows(Sql.SqlDialect dialect)
    {
        if (AutoIncrement || Identity || (Type?.IsSerial ?? false) || Default is { Volatility: DefaultVolatility.Volatile })
        {
            return ColumnFill.Distinct;
        }

        if (GeneratedStored || GeneratedVirtual || Default is { Volatility: DefaultVolatility.Unknown })
        {
            return null;
        }

        if (Default is { IsNull: false })
        {
            return ColumnFill.Same;
        }

        // NOT NULL without a default: MySQL writes the type's zero value into every row. PostgreSQL refuses the ADD on a
        // table with rows (GK204), so a key over the column never meets an existing row.
        return NotNull && dialect == Sql.SqlDialect.MySql ? ColumnFill.Same : ColumnFill.Null;
    }

    public static ColumnDefinition? Read(StatementTokens t, int start, int end)
    {
        var i = start;
        if (!t.IsName(i))
        {
            return null;
        }

        var name = t.Identifier(i);
        var nameToken = i;
        i++;
        var type = SqlType.Read(t, ref i, end);
        bool notNull = false, explicitNull = false, primaryKey = false, unique = false, identity = false;
        bool generatedStored = false, generatedVirtual = false, autoIncrement = false, hasComment = false, hasCheck = false;
        ColumnDefault? columnDefault = null;
        ObjectName? references = null;
        while (i < end)
        {
            if (t.IsWord(i, "not", "null"))
            {
                notNull = true;
                i += 2;
            }
            else if (t.IsWord(i, "null"))
            {
                explicitNull = true;
                i++;
            }
            else if (t.IsWord(i, "default"))
            {
                var exprStart = i + 1;
                i = SkipExpression(t, exprStart, end);
                columnDefault = DefaultExpression.Classify(t, exprStart, i);
            }
            else if (t.IsWord(i, "primary", "key"))
            {
                primaryKey = true;
                notNull = true;
                i += 2;
            }
            else if (t.IsWord(i, "unique"))
            {
                unique = true;
                i += t.IsWord(i + 1, "key") ? 2 : 1;
            }
            else if (t.IsWord(i, "references"))
            {
                i++;
                references = t.ReadName(ref i);
            }
            else if (t.IsWord(i, "check"))
            {
                hasCheck = true;
                i++;
            }
            else if (t.IsWord(i, "generated"))
            {
                var asIndex = t.FindWord(i, end, "as");
                if (asIndex > 0 && t.IsWord(asIndex + 1, "identity"))
                {
                    identity = true;
                    i = asIndex + 2;
                }
                else
                {
                    i = asIndex > 0 ? asIndex : i + 1;
                }
            }
            else if (t.IsWord(i, "as") && t.IsOpen(i + 1))
            {
                // Generated column: PostgreSQL `GENERATED ALWAYS AS (…) STORED`, MySQL `[GENERATED ALWAYS] AS (…) [VIRTUAL|STORED]`.
                i = t.SkipParens(i + 1);
                if (t.IsWord(i, "stored") || t.IsWord(i, "persistent"))
                {
                    generatedStored = true;
                    i++;
                }
                else
                {
                    generatedVirtual = true;
                    if (t.IsWord(i, "virtual"))
                    {
                        i++;
                    }
                }
            }
            else if (t.IsWord(i, "auto_increment") || t.IsWord(i, "autoincrement"))
            {
                autoIncrement = true;
                i++;
            }
            else if (t.IsWord(i, "serial", "default", "value"))
            {
                autoIncrement = notNull = unique = true;
                i += 3;
            }
            else if (t.IsWord(i, "comment"))
            {
                hasComment = true;
                i += 2;
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

        return new ColumnDefinition(name, nameToken, start, end, type, notNull, explicitNull, columnDefault, primaryKey, unique, references,
            identity, generatedStored, generatedVirtual, autoIncrement, hasComment, hasCheck);
    }

    /// <summary>The end of a default expression: the next column attribute outside parentheses.</summary>
    private static int SkipExpression(StatementTokens t, int i, int end)
    {
        var first = true;
        while (i < end)
        {
            if (t.IsOpen(i))
            {
                i = t.SkipParens(i);
                first = false;
                continue;
            }

            if (!first && t.IsAnyWord(i, [
                    "not", "null", "primary", "unique", "references", "check", "constraint", "collate", "generated", "auto_increment",
                    "comment", "on", "first", "after", "visible", "invisible", "default",
                ]))
            {
                break;
            }

            first = false;
            i++;
        }

        return i;
    }
}
