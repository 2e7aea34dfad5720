using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Syntax;

namespace Gatekeeper.Core.Lint.Rules;

/// <summary>
/// GK401 for a unique index or key on an existing table, judged by what its columns hold: a column this rollout added
/// holds NULL in every existing row (NULLs never collide), its own value per row (AUTO_INCREMENT, gen_random_uuid()),
/// or one value in every row (a constant default), which makes a key of such columns alone fail on two rows.
/// </summary>
internal static class UniqueKeyRules
{
    /// <param name="alter">The ALTER TABLE holding the key, whose own ADD COLUMN actions count as added; null for CREATE INDEX.</param>
    /// <param name="columns">The key's plain columns; null when a key part is an expression.</param>
    public static void CheckExistingRows(StatementContext ctx, AlterTableStatement? alter, ObjectName table, IReadOnlyList<string>? columns,
        bool nullsNotDistinct, int first, int last, string what)
    {
        if (columns is { Count: > 0 })
        {
            var fills = columns.Select(c => FillOf(ctx, alter, table, c)).ToList();
            if (fills.Any(f => f == ColumnFill.Distinct || (f == ColumnFill.Null && !nullsNotDistinct)))
            {
                return;
            }

            if (fills.All(f => f is ColumnFill.Same or ColumnFill.Null))
            {
                ctx.Report(LintRules.UniqueMayFail, first, last,
                    $"{what} fails as soon as {table} holds two rows: {(columns.Count == 1 ? "the column was" : "its columns were")} added in this rollout with one value for every existing row",
                    table, severity: LintSeverity.Error);
                return;
            }
        }

        ctx.Report(LintRules.UniqueMayFail, first, last, $"{what} fails if existing rows hold duplicates", table);
    }

    private static ColumnFill? FillOf(StatementContext ctx, AlterTableStatement? alter, ObjectName table, string column)
    {
        if (alter?.Actions.OfType<AddColumn>().FirstOrDefault(a => string.Equals(a.Column.Name, column, StringComparison.OrdinalIgnoreCase)) is { } added)
        {
            return ctx.IsNewTable(table) ? null : added.Column.FillOfExistingRows(ctx.Dialect);
        }

        return ctx.Plan.AddedColumnFill(table, column);
    }
}
