using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Syntax;

namespace Gatekeeper.Core.Lint.Rules;

/// <summary>Rules for data changes inside migrations: unbounded UPDATE/DELETE, backfills under DDL locks, duplicate assignments.</summary>
internal static class DataRules
{
    public static void Check(StatementContext ctx, DmlStatement dml)
    {
        var t = ctx.Tokens;
        var last = Math.Min(t.Count - 1, dml.VerbToken + 3);
        var batched = !dml.HasWhere && t.FindWord(dml.VerbToken, t.Count, "limit") >= 0;
        if (dml.Table is { } table && !dml.HasWhere && !batched)
        {
            if (dml.Kind == DmlKind.Delete)
            {
                ctx.Report(LintRules.DeleteWithoutWhere, dml.VerbToken, last, $"DELETE without WHERE deletes every row of {table}", table);
            }
            else if (dml.Kind == DmlKind.Update)
            {
                ctx.Report(LintRules.UpdateWithoutWhere, dml.VerbToken, last, $"UPDATE without WHERE rewrites every row of {table} in one transaction", table);
            }
        }

        if (dml.Kind == DmlKind.Update)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (column, token) in dml.Assignments)
            {
                if (!seen.Add(column))
                {
                    ctx.Report(LintRules.DuplicateColumnAssignment, token, token, $"UPDATE assigns {column} more than once");
                }
            }
        }

        CheckBackfillUnderLock(ctx, dml, batched);
    }

    /// <summary>GK503: a table-wide backfill while DDL earlier in the same transaction holds a strong lock.</summary>
    private static void CheckBackfillUnderLock(StatementContext ctx, DmlStatement dml, bool batched)
    {
        var tx = ctx.Transaction;
        if (!ctx.IsPostgres || !tx.InTransaction || !tx.StrongLocks.Any || batched || (dml.HasWhere && !dml.WhereOnlyNullTest))
        {
            return;
        }

        if (dml.Table is { } target && ctx.IsNewTable(target) && tx.StrongLocks.OnlyOn(target))
        {
            return;
        }

        var (locked, what, where) = tx.StrongLocks.First;
        var verb = dml.Kind switch { DmlKind.Update => "UPDATE", DmlKind.Delete => "DELETE", _ => "INSERT … SELECT" };
        ctx.Report(LintRules.DdlAndBackfillInOneTransaction, dml.VerbToken, Math.Min(ctx.Tokens.Count - 1, dml.VerbToken + 3),
            $"{verb} {dml.Table} touches every row while {what} at {where} holds its lock on {locked} until the transaction commits", locked);
    }
}
