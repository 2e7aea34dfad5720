using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Syntax;

namespace Gatekeeper.Core.Lint.Rules;

/// <summary>Sends each statement to the rules that judge its kind, then to the rules that judge every statement.</summary>
internal static class StatementRules
{
    public static void Check(StatementContext ctx)
    {
        switch (ctx.Statement)
        {
            case CreateTableStatement create:
                SchemaObjectRules.CheckCreateTable(ctx, create);
                break;
            case AlterTableStatement alter:
                AlterTableRules.Check(ctx, alter);
                break;
            case CreateIndexStatement index:
                SchemaObjectRules.CheckCreateIndex(ctx, index);
                break;
            case DropIndexStatement dropIndex:
                SchemaObjectRules.CheckDropIndex(ctx, dropIndex);
                break;
            case DropStatement drop:
                SchemaObjectRules.CheckDrop(ctx, drop);
                break;
            case TruncateStatement truncate:
                SchemaObjectRules.CheckTruncate(ctx, truncate);
                break;
            case DmlStatement dml:
                DataRules.Check(ctx, dml);
                break;
            case TransactionStatement transaction:
                TransactionRules.Apply(ctx, transaction);
                break;
            case AlterEnumAddValue addValue:
                TransactionRules.CheckAddValue(ctx, addValue);
                break;
            case RenameObjectStatement rename:
                SchemaObjectRules.CheckRenameObject(ctx, rename);
                break;
            case RenameTablesStatement renameTables:
                SchemaObjectRules.CheckRenameTables(ctx, renameTables);
                break;
            case MaintenanceStatement maintenance:
                MaintenanceRules.Check(ctx, maintenance);
                break;
            case LockTableStatement lockTable:
                MaintenanceRules.CheckLock(ctx, lockTable);
                break;
            case CreateTriggerStatement trigger:
                MaintenanceRules.CheckTrigger(ctx, trigger);
                break;
            case CreateDomainStatement or AlterDomainAddConstraint:
                MaintenanceRules.CheckDomain(ctx, ctx.Statement);
                break;
            case NonTransactionalStatement nonTransactional:
                TransactionRules.RequireNoTransaction(ctx, 0, ctx.Tokens.Count - 1, nonTransactional.What);
                break;
        }

        TransactionRules.CheckNewEnumValueUse(ctx);
        TransactionRules.CheckImplicitCommit(ctx);
    }
}
