using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Syntax;

namespace Gatekeeper.Core.Lint.Rules;

/// <summary>Rules for creating, dropping and renaming tables, indexes, views, types and other schema objects.</summary>
internal static class SchemaObjectRules
{
    public static void CheckCreateTable(StatementContext ctx, CreateTableStatement create)
    {
        ColumnHygiene.CheckName(ctx, create.Table.Name, create.Table.Token, "table");
        ColumnHygiene.CheckSchemaQualified(ctx, create.Table);
        var keyColumns = create.Constraints.Where(c => c.Kind == ConstraintKind.PrimaryKey).SelectMany(c => c.Columns).ToHashSet(StringComparer.Ordinal);
        foreach (var column in create.Columns)
        {
            ColumnHygiene.CheckColumn(ctx, column, keyColumns.Contains(column.Name));
        }

        foreach (var constraint in create.Constraints)
        {
            ColumnHygiene.CheckName(ctx, constraint.Name, constraint.Start + 1, "constraint");
            if (!ctx.IsPostgres && constraint.Kind == ConstraintKind.Check && MySqlVersionRules.CheckIgnored(ctx.Plan.MySqlServer) is { } ignored)
            {
                ctx.Report(LintRules.MySqlCheckIgnored, constraint.Start, constraint.End - 1,
                    $"CHECK constraint{(constraint.Name is null ? string.Empty : " " + constraint.Name)} on {create.Table}: {ignored}");
            }
        }

        if (create.PartitionOf is { } parent && ctx.IsPostgres && !ctx.IsNewTable(parent))
        {
            ctx.Report(LintRules.PartitionLock, 0, create.Table.Token,
                $"CREATE TABLE {create.Table} PARTITION OF {parent} takes an ACCESS EXCLUSIVE lock on {parent}, blocking every read and write of it until the transaction ends, and scans its DEFAULT partition, if any, under that lock", parent);
        }

        if (NeedsRobustness(ctx) && !create.IfNotExists && !create.Temporary)
        {
            ctx.Report(LintRules.PreferRobustStatements, 0, create.Table.Token, $"CREATE TABLE {create.Table} without IF NOT EXISTS fails on a retry after a partial run");
        }
    }

    public static void CheckCreateIndex(StatementContext ctx, CreateIndexStatement index)
    {
        var table = index.Table;
        var last = Math.Min(index.ColumnsStart, ctx.Tokens.Count - 1);
        ColumnHygiene.CheckName(ctx, index.Name, 0, "index");
        if (ctx.IsPostgres)
        {
            if (!index.Concurrently && !index.Only)
            {
                ctx.Report(LintRules.CreateIndexNotConcurrently, 0, last, $"CREATE INDEX{NameText(index.Name)} on {table} blocks writes to {table} until the index is built", table);
            }

            if (index.Concurrently)
            {
                TransactionRules.RequireNoTransaction(ctx, 0, last, "CREATE INDEX CONCURRENTLY");
                var droppedFirst = index.Name is not null && DroppedEarlier(ctx, index.Name);
                if (index.IfNotExists && !droppedFirst)
                {
                    ctx.Report(LintRules.ConcurrentIndexIfNotExists, 0, last,
                        $"if a build of{NameText(index.Name)} fails half-way it leaves an INVALID index, and a retry of this IF NOT EXISTS statement keeps it silently");
                }
                else if (NeedsRobustness(ctx, evenLast: true) && !index.IfNotExists && !droppedFirst)
                {
                    ctx.Report(LintRules.PreferRobustStatements, 0, last,
                        $"a failed CREATE INDEX CONCURRENTLY leaves an INVALID index{NameText(index.Name)} behind, and the retry fails with \"already exists\"");
                }
            }
            else if (NeedsRobustness(ctx) && !index.IfNotExists)
            {
                ctx.Report(LintRules.PreferRobustStatements, 0, last, $"CREATE INDEX{NameText(index.Name)} without IF NOT EXISTS fails on a retry after a partial run");
            }
        }
        else if (index.Kind is ConstraintKind.FullText or ConstraintKind.Spatial && !NamesLockNone(ctx, index.ColumnsStart))
        {
            ctx.Report(LintRules.MySqlBlocksWrites, 0, last, $"a {(index.Kind == ConstraintKind.FullText ? "FULLTEXT" : "SPATIAL")} index on {table} blocks writes while it builds", table);
        }

        if (index.Unique)
        {
            UniqueKeyRules.CheckExistingRows(ctx, null, table, index.Columns, index.NullsNotDistinct, 0, last, $"unique index{NameText(index.Name)} on existing table {table}");
        }
    }

    public static void CheckDropIndex(StatementContext ctx, DropIndexStatement drop)
    {
        if (!ctx.IsPostgres)
        {
            return;
        }

        var last = ctx.Tokens.Count - 1;
        if (drop.Concurrently)
        {
            TransactionRules.RequireNoTransaction(ctx, 0, last, "DROP INDEX CONCURRENTLY");
        }
        else if (drop.Names.Any(n => !ctx.Plan.IsNewIndex(n.Name)))
        {
            ctx.Report(LintRules.DropIndexNotConcurrently, 0, last, $"DROP INDEX {string.Join(", ", drop.Names)} locks its table against reads and writes while it runs");
        }

        if (NeedsRobustness(ctx) && !drop.IfExists)
        {
            ctx.Report(LintRules.PreferRobustStatements, 0, last, $"DROP INDEX {string.Join(", ", drop.Names)} without IF EXISTS fails on a retry after a partial run");
        }
    }

    public static void CheckDrop(StatementContext ctx, DropStatement drop)
    {
        var last = ctx.Tokens.Count - 1;
        foreach (var name in drop.Names)
        {
            switch (drop.Kind)
            {
                case DropKind.Table:
                    ctx.Report(LintRules.DropTable, 0, last, $"drops table {name} and all its rows", name);
                    break;
                case DropKind.Schema or DropKind.Database:
                    ctx.Report(LintRules.DropSchemaOrDatabase, 0, last, $"drops {drop.KindText.ToLowerInvariant()} {name} with everything in it");
                    break;
                case DropKind.View or DropKind.MaterializedView or DropKind.Function or DropKind.Procedure or DropKind.Sequence or DropKind.Type or DropKind.Domain
                    when !IsNew(ctx, drop.Kind, name) && !RecreatedLater(ctx, drop.Kind, name):
                    ctx.Report(LintRules.DropObjectInUse, 0, last, $"drops {drop.KindText.ToLowerInvariant()} {name}; the running version fails if it still uses it");
                    break;
            }
        }

        if (drop.Kind == DropKind.Database && ctx.IsPostgres)
        {
            TransactionRules.RequireNoTransaction(ctx, 0, last, "DROP DATABASE");
        }

        if (drop.Cascade && ctx.IsPostgres && drop.Kind == DropKind.Schema)
        {
            // GK103 covers what is inside the schema; CASCADE also reaches outside it.
            ctx.Report(LintRules.DropCascade, 0, last,
                $"DROP SCHEMA {string.Join(", ", drop.Names)} CASCADE also drops what other schemas built on it: views over its tables, foreign keys referencing them, columns of its types");
        }
        else if (drop.Cascade && ctx.IsPostgres && drop.Kind != DropKind.Database && !drop.Names.All(n => IsNew(ctx, drop.Kind, n)))
        {
            ctx.Report(LintRules.DropCascade, 0, last, $"DROP {drop.KindText} {string.Join(", ", drop.Names)} CASCADE also drops every object that depends on it");
        }

        if (NeedsRobustness(ctx) && !drop.IfExists && drop.Kind != DropKind.Other)
        {
            ctx.Report(LintRules.PreferRobustStatements, 0, last, $"DROP {drop.KindText} without IF EXISTS fails on a retry after a partial run");
        }
    }

    public static void CheckTruncate(StatementContext ctx, TruncateStatement truncate)
    {
        var last = ctx.Tokens.Count - 1;
        foreach (var table in truncate.Tables)
        {
            ctx.Report(LintRules.Truncate, 0, last, $"TRUNCATE deletes every row of {table}", table);
        }

        if (truncate.Cascade && truncate.Tables.Any(t => !ctx.IsNewTable(t)))
        {
            ctx.Report(LintRules.TruncateCascade, 0, last, $"TRUNCATE {string.Join(", ", truncate.Tables)} CASCADE also empties every table with a foreign key to them");
        }
    }

    public static void CheckRenameObject(StatementContext ctx, RenameObjectStatement rename)
    {
        var isNew = rename.Kind switch
        {
            RenamedObjectKind.View or RenamedObjectKind.MaterializedView => ctx.Plan.IsNewView(rename.Name),
            RenamedObjectKind.Type or RenamedObjectKind.EnumValue => ctx.Plan.IsNewType(rename.Name),
            RenamedObjectKind.Function or RenamedObjectKind.Procedure => ctx.Plan.IsNewRoutine(rename.Name),
            RenamedObjectKind.Index or RenamedObjectKind.Other => true,
            _ => false,
        };
        // The swap pattern (rename the old object away, create a new one under its name) keeps the name working.
        var recreated = rename.Kind != RenamedObjectKind.EnumValue && RecreatedLater(ctx, rename.Kind switch
        {
            RenamedObjectKind.View => DropKind.View,
            RenamedObjectKind.MaterializedView => DropKind.MaterializedView,
            RenamedObjectKind.Function => DropKind.Function,
            RenamedObjectKind.Procedure => DropKind.Procedure,
            RenamedObjectKind.Sequence => DropKind.Sequence,
            RenamedObjectKind.Type => DropKind.Type,
            _ => DropKind.Other,
        }, rename.Name);
        if (!isNew && !recreated)
        {
            ctx.Report(LintRules.RenameObject, 0, ctx.Tokens.Count - 1,
                rename.Kind == RenamedObjectKind.EnumValue
                    ? $"renames a value of enum {rename.Name}; the running version still reads and writes the old label"
                    : $"renames {rename.KindText} {rename.Name}; the running version still uses the old name");
        }
    }

    public static void CheckRenameTables(StatementContext ctx, RenameTablesStatement rename)
    {
        foreach (var (from, to) in rename.Pairs)
        {
            if (!ctx.Outline.Later(OutlineFact.View, from.Name, ctx.Position))
            {
                ctx.Report(LintRules.RenameTable, from.Token, to.Token, $"renames table {from} to {to}; the running version still queries {from}", from);
            }
        }
    }

    /// <summary>
    /// PostgreSQL migrations that run without a transaction cannot roll back a partial run, so their DDL should be
    /// re-runnable. The last statement is exempt: if it fails, it left nothing behind (a statement is atomic), and if it
    /// succeeded, the migration is done; only CREATE INDEX CONCURRENTLY leaves something behind when it fails (<paramref name="evenLast"/>).
    /// </summary>
    private static bool NeedsRobustness(StatementContext ctx, bool evenLast = false) =>
        ctx.IsPostgres && !ctx.Transaction.RunnerWrapped && !ctx.Transaction.InTransaction && !ctx.IsEmbedded &&
        (evenLast || ctx.Scope.StatementIndex != ctx.Scope.LastStatementIndex);

    private static string NameText(string? name) => name is null ? string.Empty : $" {name}";

    private static bool DroppedEarlier(StatementContext ctx, string name) =>
        ctx.Outline.Earlier(OutlineFact.IndexDroppedIfExists, name, ctx.Position);

    private static bool NamesLockNone(StatementContext ctx, int from)
    {
        var t = ctx.Tokens;
        var lockIndex = t.FindWord(from, t.Count, "lock");
        return lockIndex > 0 && (t.IsWord(lockIndex + 1, "none") || t.IsWord(lockIndex + 2, "none"));
    }

    private static bool IsNew(StatementContext ctx, DropKind kind, ObjectName name) => kind switch
    {
        DropKind.Table => ctx.IsNewTable(name),
        DropKind.View or DropKind.MaterializedView => ctx.Plan.IsNewView(name),
        DropKind.Type or DropKind.Domain => ctx.Plan.IsNewType(name),
        DropKind.Function or DropKind.Procedure => ctx.Plan.IsNewRoutine(name),
        _ => false,
    };

    /// <summary>The drop-and-recreate pattern (replace a view or function in one migration) keeps the object available to the running version.</summary>
    private static bool RecreatedLater(StatementContext ctx, DropKind kind, ObjectName name)
    {
        OutlineFact? fact = kind switch
        {
            DropKind.View or DropKind.MaterializedView => OutlineFact.View,
            DropKind.Function or DropKind.Procedure => OutlineFact.Routine,
            DropKind.Type or DropKind.Domain => OutlineFact.Type,
            DropKind.Sequence => OutlineFact.Sequence,
            _ => null,
        };
        return fact is { } known && ctx.Outline.Later(known, name.Name, ctx.Position);
    }
}
