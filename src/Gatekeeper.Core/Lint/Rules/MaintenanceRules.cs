using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Syntax;

namespace Gatekeeper.Core.Lint.Rules;

/// <summary>Locks without DDL: VACUUM FULL, CLUSTER, REINDEX, REFRESH MATERIALIZED VIEW, LOCK TABLE, triggers and domains.</summary>
internal static class MaintenanceRules
{
    public static void Check(StatementContext ctx, MaintenanceStatement statement)
    {
        var last = ctx.Tokens.Count - 1;
        var target = statement.Target;
        var targetText = target?.ToString() ?? "every table";
        switch (statement.Kind)
        {
            case MaintenanceKind.VacuumFull:
                ctx.Report(LintRules.TableRewrite, 0, last, $"VACUUM FULL rewrites {targetText} under an ACCESS EXCLUSIVE lock", target);
                TransactionRules.RequireNoTransaction(ctx, 0, last, "VACUUM");
                break;
            case MaintenanceKind.Vacuum:
                TransactionRules.RequireNoTransaction(ctx, 0, last, "VACUUM");
                break;
            case MaintenanceKind.Cluster:
                ctx.Report(LintRules.TableRewrite, 0, last, $"CLUSTER rewrites {targetText} under an ACCESS EXCLUSIVE lock", target);
                if (target is null)
                {
                    TransactionRules.RequireNoTransaction(ctx, 0, last, "CLUSTER without a table name");
                }

                break;
            case MaintenanceKind.Reindex when statement.Concurrently:
                TransactionRules.RequireNoTransaction(ctx, 0, last, "REINDEX CONCURRENTLY");
                break;
            case MaintenanceKind.Reindex when !(target is { } index && ctx.Plan.IsNewIndex(index.Name)):
                var onTable = ctx.Tokens.IsWord(1, "table");
                ctx.Report(LintRules.ReindexNotConcurrently, 0, last, $"REINDEX {targetText} blocks writes{(onTable ? string.Empty : " to its table")} until the rebuild ends",
                    onTable ? target : null, mayChange: !onTable);
                break;
            case MaintenanceKind.RefreshMaterializedView when !statement.Concurrently && !(target is { } view && ctx.Plan.IsNewView(view)):
                ctx.Report(LintRules.RefreshMaterializedView, 0, last, $"REFRESH MATERIALIZED VIEW {targetText} blocks every read of it until the refresh ends", target);
                break;
            case MaintenanceKind.OptimizeTable when target is not null:
                ctx.Report(LintRules.MySqlTableRebuild, 0, last, $"OPTIMIZE TABLE rebuilds {target}", target);
                break;
        }
    }

    private static readonly string[] BlockingPostgresModes = ["ACCESS EXCLUSIVE", "EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE"];

    public static void CheckLock(StatementContext ctx, LockTableStatement statement)
    {
        var blocks = ctx.IsPostgres ? BlockingPostgresModes.Contains(statement.Mode) : statement.Mode is "READ" or "WRITE";
        if (!blocks)
        {
            return;
        }

        foreach (var table in statement.Tables)
        {
            ctx.Report(LintRules.ExplicitLock, 0, ctx.Tokens.Count - 1,
                $"LOCK {table} IN {statement.Mode} MODE blocks {(statement.Mode is "WRITE" or "ACCESS EXCLUSIVE" ? "all other access" : "writes")} until the transaction ends", table);
        }
    }

    public static void CheckTrigger(StatementContext ctx, CreateTriggerStatement trigger)
    {
        if (ctx.IsPostgres)
        {
            ctx.Report(LintRules.CreateTriggerLock, 0, ctx.Tokens.Count - 1, $"CREATE TRIGGER on {trigger.Table} blocks writes to it until the transaction commits", trigger.Table);
        }
    }

    public static void CheckDomain(StatementContext ctx, ParsedStatement statement)
    {
        switch (statement)
        {
            case CreateDomainStatement { HasConstraint: true } create:
                ctx.Report(LintRules.DomainWithConstraint, 0, ctx.Tokens.Count - 1, $"domain {create.Name} carries a constraint");
                break;
            case AlterDomainAddConstraint { NotValid: false } alter when !ctx.Plan.IsNewType(alter.Name):
                ctx.Report(LintRules.AlterDomainAddConstraint, 0, ctx.Tokens.Count - 1, $"adds a constraint to domain {alter.Name}, checking every column that uses it");
                break;
        }
    }
}
