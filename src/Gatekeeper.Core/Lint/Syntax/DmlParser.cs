using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>
/// Reads UPDATE, DELETE and INSERT … SELECT far enough to know the target table, whether a WHERE clause limits
/// the rows, and which columns an UPDATE assigns. A leading WITH clause is skipped to the main verb.
/// </summary>
internal static class DmlParser
{
    private static readonly string[] UpdateClauseEnds = ["from", "where", "returning", "order", "limit"];

    public static DmlStatement? Parse(StatementTokens t)
    {
        var verb = SkipWith(t, 0);
        if (verb < 0)
        {
            return null;
        }

        if (t.IsWord(verb, "update"))
        {
            return ParseUpdate(t, verb);
        }

        if (t.IsWord(verb, "delete"))
        {
            return ParseDelete(t, verb);
        }

        if (t.IsWord(verb, "insert") || t.IsWord(verb, "replace"))
        {
            return ParseInsertSelect(t, verb);
        }

        return null;
    }

    /// <summary>The index of the main verb after an optional <c>WITH [RECURSIVE] name AS (…), …</c>, or -1.</summary>
    private static int SkipWith(StatementTokens t, int i)
    {
        if (!t.IsWord(i, "with"))
        {
            return i;
        }

        i++;
        if (t.IsWord(i, "recursive"))
        {
            i++;
        }

        while (i < t.Count)
        {
            if (t.IsOpen(i))
            {
                i = t.SkipParens(i);
                if (t.IsComma(i))
                {
                    i++;
                    continue;
                }

                if (t.IsAnyWord(i, ["update", "delete", "insert", "select"]))
                {
                    return i;
                }

                continue;
            }

            i++;
        }

        return -1;
    }

    private static DmlStatement ParseUpdate(StatementTokens t, int verb)
    {
        var i = verb + 1;
        while (t.IsAnyWord(i, ["low_priority", "ignore", "only"]))
        {
            i++;
        }

        var table = t.ReadName(ref i);
        var set = t.FindWord(i, t.Count, "set");
        var where = t.FindWord(Math.Max(set, i), t.Count, "where");
        var assignments = new List<(string, int)>();
        if (set > 0)
        {
            var end = set + 1;
            while (end < t.Count && !t.IsAnyWord(end, UpdateClauseEnds))
            {
                end = t.IsOpen(end) ? t.SkipParens(end) : end + 1;
            }

            foreach (var (start, partEnd) in t.SplitTopLevel(set + 1, end))
            {
                var equals = start;
                while (equals < partEnd && !t.IsOperator(equals, "="))
                {
                    equals++;
                }

                if (equals < partEnd && equals > start && t.IsName(equals - 1))
                {
                    assignments.Add((t.Identifier(equals - 1), equals - 1));
                }
            }
        }

        return new DmlStatement(t, DmlKind.Update, table, verb, where, where >= 0 && OnlyNullTests(t, where + 1), assignments);
    }

    private static DmlStatement ParseDelete(StatementTokens t, int verb)
    {
        var from = t.FindWord(verb + 1, t.Count, "from");
        var i = from + 1;
        if (t.IsWord(i, "only"))
        {
            i++;
        }

        var table = from > 0 ? t.ReadName(ref i) : null;
        var where = t.FindWord(Math.Max(i, verb + 1), t.Count, "where");
        return new DmlStatement(t, DmlKind.Delete, table, verb, where, where >= 0 && OnlyNullTests(t, where + 1), []);
    }

    private static DmlStatement? ParseInsertSelect(StatementTokens t, int verb)
    {
        var into = t.FindWord(verb + 1, t.Count, "into");
        var i = into > 0 ? into + 1 : verb + 1;
        var table = t.ReadName(ref i);
        var select = t.FindWord(i, t.Count, "select");
        if (select < 0 || t.FindWord(select, t.Count, "from") < 0)
        {
            // INSERT … VALUES, or a SELECT of constants: touches only the rows it names.
            return null;
        }

        // Any WHERE counts, a CTE's too: the copy is then bounded by it, not table-wide.
        var where = t.ContainsWord(0, t.Count, "where") ? select : -1;

        return new DmlStatement(t, DmlKind.InsertSelect, table, verb, where, false, []);
    }

    /// <summary>True when the WHERE clause only tests columns for NULL — the shape of a table-wide backfill.</summary>
    private static bool OnlyNullTests(StatementTokens t, int i)
    {
        var sawTest = false;
        while (i < t.Count)
        {
            if (!t.TryReadName(ref i, out _))
            {
                return false;
            }

            if (t.IsWord(i, "is", "null"))
            {
                i += 2;
            }
            else if (t.IsWord(i, "is", "not", "null"))
            {
                i += 3;
            }
            else
            {
                return false;
            }

            sawTest = true;
            if (t.IsWord(i, "and") || t.IsWord(i, "or"))
            {
                i++;
            }
            else if (i < t.Count && !t.IsAnyWord(i, ["returning", "limit"]))
            {
                return false;
            }
            else
            {
                break;
            }
        }

        return sawTest;
    }
}
