using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>
/// Records what a statement changes in the plan (objects created, renamed, dropped) and in the current transaction
/// (strong locks taken, enum values added, constraints added NOT VALID), after the rules have judged it.
/// </summary>
internal static class PlanEffects
{
    public static void Apply(StatementContext ctx)
    {
        var plan = ctx.Plan;
        var tx = ctx.Transaction;
        var location = ctx.Tokens.LocationOf(0);
        switch (ctx.Statement)
        {
            case CreateTableStatement create:
                plan.CreateTable(create.Table, create.IfNotExists, create.Columns, create.Constraints);
                break;
            case AlterTableStatement alter:
                ApplyAlter(ctx, alter);
                break;
            case CreateIndexStatement index:
                plan.CreateIndex(index.Name);
                if (ctx.IsPostgres && !index.Concurrently && !plan.IsNewTable(index.Table))
                {
                    tx.StrongLocks.Add(index.Table, "CREATE INDEX", location);
                }

                break;
            case DropStatement { Kind: DropKind.Table } drop:
                foreach (var name in drop.Names)
                {
                    plan.DropTable(name);
                }

                break;
            case CreateEnumType type:
                plan.CreateType(type.Type);
                tx.TypesCreated.Add(type.Type.Name);
                break;
            case CreateDomainStatement domain:
                plan.CreateType(domain.Name);
                break;
            case AlterEnumAddValue add when !tx.TypesCreated.Contains(add.Type.Name):
                tx.AddedEnumValues.Add((add.Type, add.Value, location));
                break;
            case CreateViewStatement view:
                plan.CreateView(view.Name);
                break;
            case CreateRoutineStatement routine:
                plan.CreateRoutine(routine.Name);
                if (!ctx.IsEmbedded && ctx.Scope.Outline.IsCalled(routine.Name.Name))
                {
                    // Kept until the migration ends for a CALL of it (only then: a copy of its tokens for each of the 11,000
                    // functions of a 10 MB file survived the whole pass), on tokens of its own rather than a slice of a chunk.
                    ctx.Scope.Routines[routine.Name.Name] = routine with { Tokens = routine.Tokens.Detached() };
                }

                break;
            case RenameObjectStatement { NewName: { } renamed } rename:
                // Nothing running knows the new name yet: dropping or changing it later in the plan harms no one.
                switch (rename.Kind)
                {
                    case RenamedObjectKind.View or RenamedObjectKind.MaterializedView:
                        plan.CreateView(renamed);
                        break;
                    case RenamedObjectKind.Type:
                        plan.CreateType(renamed);
                        break;
                    case RenamedObjectKind.Function or RenamedObjectKind.Procedure:
                        plan.CreateRoutine(renamed);
                        break;
                }

                break;
            case RenameTablesStatement rename:
                foreach (var (from, to) in rename.Pairs)
                {
                    plan.RenameTable(from, to);
                }

                break;
            case SetStatement set when !ctx.IsPostgres && !ctx.IsEmbedded:
                ctx.Scope.Session.Set(set.Name, set.Value, location, local: false);
                break;
            case SetStatement set when ctx.IsPostgres && !ctx.IsEmbedded:
                // SET LOCAL outside a transaction block has no effect (PostgreSQL only warns).
                if (!set.Local || tx.InTransaction)
                {
                    ctx.Scope.Session.Set(set.Name, set.Value, location, set.Local);
                }

                break;
            case ResetStatement reset when !ctx.IsEmbedded:
                ctx.Scope.Session.Reset(reset.Name);
                break;
            case DmlStatement { Kind: DmlKind.Update, Table: { } updated } update when plan.Find(updated) is { AddedColumnFills.Count: > 0 } table:
                // A backfill gives the new column other values than its default: a unique key over it is judged as over any column.
                foreach (var (column, _) in update.Assignments)
                {
                    table.AddedColumnFills.Remove(column);
                }

                break;
            case LockTableStatement lockTable when ctx.IsPostgres:
                AddStrongLocks(tx, plan, lockTable.Tables, "LOCK TABLE", location);

                break;
            case TruncateStatement truncate when ctx.IsPostgres:
                AddStrongLocks(tx, plan, truncate.Tables, "TRUNCATE", location);

                break;
        }
    }

    /// <remarks>A loop of its own: a lambda over <c>plan</c> in <see cref="Apply"/> made it allocate a closure for every statement.</remarks>
    private static void AddStrongLocks(TransactionState tx, PlanState plan, IReadOnlyList<ObjectName> tables, string what, SourceLocation location)
    {
        foreach (var table in tables)
        {
            if (!plan.IsNewTable(table))
            {
                tx.StrongLocks.Add(table, what, location);
            }
        }
    }

    private static void ApplyAlter(StatementContext ctx, AlterTableStatement alter)
    {
        var plan = ctx.Plan;
        var tx = ctx.Transaction;
        var table = plan.Touch(alter.Table);
        var takesStrongLock = false;
        // By index: a foreach over the IReadOnlyList boxed an enumerator for every ALTER TABLE.
        for (var actionIndex = 0; actionIndex < alter.Actions.Count; actionIndex++)
        {
            var action = alter.Actions[actionIndex];
            takesStrongLock |= action is not (ValidateConstraint or DetachPartition { Concurrently: true } or MySqlAlgorithmOption or MySqlLockOption);
            switch (action)
            {
                case AddColumn add:
                    table.Columns[add.Column.Name] = PlannedColumn.Of(add.Column);
                    if (!table.IsNew && add.Column.FillOfExistingRows(ctx.Dialect) is { } fill)
                    {
                        table.AddedColumnFills[add.Column.Name] = fill;
                    }

                    break;
                case DropColumn drop:
                    table.Columns.Remove(drop.Column);
                    table.ProvenNotNull.Remove(drop.Column);
                    break;
                case RenameColumn rename when table.Columns.Remove(rename.OldName, out var renamed):
                    table.Columns[rename.NewName] = renamed;
                    break;
                case RedefineColumn redefine:
                    table.Columns.Remove(redefine.OldName);
                    table.Columns[redefine.Column.Name] = PlannedColumn.Of(redefine.Column);
                    break;
                case AlterColumnType change when table.Columns.TryGetValue(change.Column, out var column):
                    table.Columns[change.Column] = column with { Type = change.Type };
                    break;
                case SetNotNull setNotNull when table.Columns.TryGetValue(setNotNull.Column, out var column):
                    table.Columns[setNotNull.Column] = column with { NotNull = true };
                    break;
                case DropNotNull dropNotNull when table.Columns.TryGetValue(dropNotNull.Column, out var column):
                    table.Columns[dropNotNull.Column] = column with { NotNull = false };
                    break;
                case SetDefault setDefault when table.Columns.TryGetValue(setDefault.Column, out var column):
                    table.Columns[setDefault.Column] = column with { DefaultSet = true };
                    break;
                case DropDefault dropDefault when table.Columns.TryGetValue(dropDefault.Column, out var column):
                    table.Columns[dropDefault.Column] = column with { DefaultSet = false };
                    break;
                case AddConstraint add:
                    ApplyConstraint(ctx, table, alter.Table, add.Constraint);
                    break;
                case ValidateConstraint validate when table.PendingNotNullChecks.Remove(validate.Name, out var proven):
                    table.ProvenNotNull.Add(proven);
                    break;
                case RenameTable rename:
                    var newName = rename.NewName.Name.Length == 0 ? alter.Table with { Schema = rename.NewName.Schema } : rename.NewName;
                    plan.RenameTable(alter.Table, newName);
                    tx.StrongLocks.Rename(alter.Table, newName);

                    break;
            }
        }

        if (ctx.IsPostgres && takesStrongLock && !table.IsNew)
        {
            tx.StrongLocks.Add(alter.Table, "ALTER TABLE", ctx.Tokens.LocationOf(0));
        }
    }

    private static void ApplyConstraint(StatementContext ctx, PlannedTable table, ObjectName tableName, ConstraintDefinition constraint)
    {
        ctx.Plan.RecordConstraint(tableName, constraint.Name, constraint.Kind);
        if (constraint.CheckNotNullColumn is { } column)
        {
            if (!constraint.NotValid)
            {
                table.ProvenNotNull.Add(column);
            }
            else if (constraint.Name is not null)
            {
                table.PendingNotNullChecks[constraint.Name] = column;
            }
        }

        if (constraint.NotValid && constraint.Name is not null && ctx.Transaction.InTransaction && !table.IsNew)
        {
            ctx.Transaction.NotValidConstraints[constraint.Name] = (tableName, ctx.Tokens.LocationOf(constraint.Start));
        }
    }
}
