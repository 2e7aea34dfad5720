using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Rules;

/// <summary>Rules for ALTER TABLE actions on both dialects.</summary>
internal static class AlterTableRules
{
    public static void Check(StatementContext ctx, AlterTableStatement alter)
    {
        var table = alter.Table;
        ColumnHygiene.CheckSchemaQualified(ctx, table);
        // By index: a foreach over the IReadOnlyList boxed an enumerator for every ALTER TABLE.
        for (var actionIndex = 0; actionIndex < alter.Actions.Count; actionIndex++)
        {
            var action = alter.Actions[actionIndex];
            switch (action)
            {
                case AddColumn add:
                    CheckAddColumn(ctx, alter, add);
                    break;
                case DropColumn drop:
                    ctx.Report(LintRules.DropColumn, drop.Start, drop.End - 1, $"drops column {drop.Column} of table {table} with its data", table);
                    if (drop.Cascade && ctx.IsPostgres)
                    {
                        ctx.Report(LintRules.DropCascade, drop.Start, drop.End - 1, $"DROP COLUMN {drop.Column} … CASCADE also drops the views and constraints that use it", table);
                    }

                    if (!ctx.IsPostgres)
                    {
                        CheckColumnChangeOnServer(ctx, alter, $"dropping column {drop.Column} of {table}", ColumnChange.Drop, drop.Start, drop.End - 1);
                    }

                    break;
                case AlterColumnType change:
                    CheckTypeChange(ctx, alter, change.Start, change.End, change.Column, change.Type, change.HasUsing);
                    break;
                case RedefineColumn redefine:
                    CheckRedefine(ctx, alter, redefine);
                    break;
                case SetNotNull setNotNull:
                    CheckSetNotNull(ctx, table, setNotNull);
                    break;
                case DropNotNull dropNotNull:
                    ctx.Report(LintRules.DropNotNull, dropNotNull.Start, dropNotNull.End - 1, $"drops NOT NULL from {table}.{dropNotNull.Column}", table);
                    break;
                case DropDefault dropDefault:
                    CheckDropDefault(ctx, alter, dropDefault);
                    break;
                case AddConstraint add:
                    CheckAddConstraint(ctx, alter, add);
                    break;
                case DropConstraint drop:
                    CheckDropConstraint(ctx, alter, drop);
                    break;
                case ValidateConstraint validate when ctx.Transaction.NotValidConstraints.TryGetValue(validate.Name, out var added):
                    ctx.Report(LintRules.ValidateInSameTransaction, validate.Start, validate.End - 1,
                        $"validates {validate.Name} in the same transaction that added it NOT VALID at {added.Where}, so the lock taken there lasts through the whole scan", added.Table);
                    break;
                case RenameColumn rename when !ReaddedUnderOldName(ctx, alter, table, rename.OldName):
                    ctx.Report(LintRules.RenameColumn, rename.Start, rename.End - 1, $"renames column {table}.{rename.OldName} to {rename.NewName}; the running version still uses {rename.OldName}", table);
                    break;
                case RenameTable rename when !ViewKeepsOldName(ctx, table):
                    var newName = rename.NewName.Name.Length == 0 ? $"{rename.NewName.Schema}.{table.Name}" : rename.NewName.ToString();
                    ctx.Report(LintRules.RenameTable, rename.Start, rename.End - 1, $"renames table {table} to {newName}; the running version still queries {table}", table);
                    break;
                case RewriteTableOption rewrite:
                    ctx.Report(LintRules.TableRewrite, rewrite.Start, rewrite.End - 1, $"{rewrite.What} rewrites table {table}", table);
                    break;
                case DetachPartition detach:
                    CheckDetach(ctx, table, detach);
                    break;
                case AttachPartition attach when ctx.IsPostgres:
                    ctx.Report(LintRules.PartitionLock, attach.Start, attach.End - 1,
                        $"ATTACH PARTITION {attach.Partition} scans {attach.Partition} under an ACCESS EXCLUSIVE lock to check its bounds (unless a CHECK constraint proves them), and scans {table}'s DEFAULT partition, if any, the same way", table);
                    break;
                case MySqlPartitionAction partition:
                    CheckMySqlPartition(ctx, alter, partition);
                    break;
                case MySqlRebuild rebuild:
                    CheckMySqlRebuild(ctx, alter, rebuild);
                    break;
                case MySqlAlgorithmOption option when MySqlVersionRules.RefusesAlgorithm(ctx.Plan.MySqlServer, option.Algorithm) is { } refused:
                    ctx.Report(LintRules.RefusedByServer, option.Start, option.End - 1, refused.Text, mayChange: !refused.Certain, severity: refused.Certain ? null : LintSeverity.Warning);
                    break;
                case MySqlAlgorithmOption { Algorithm: "COPY" } copy:
                    ctx.Report(LintRules.MySqlTableCopy, copy.Start, copy.End - 1, $"ALGORITHM=COPY copies table {table}", table);
                    break;
                case MySqlLockOption { Lock: "SHARED" or "EXCLUSIVE" } lockOption:
                    ctx.Report(LintRules.MySqlBlocksWrites, lockOption.Start, lockOption.End - 1, $"LOCK={lockOption.Lock} blocks writes to {table} for the whole ALTER", table);
                    break;
            }
        }
    }

    private static void CheckAddColumn(StatementContext ctx, AlterTableStatement alter, AddColumn add)
    {
        var table = alter.Table;
        var column = add.Column;
        ColumnHygiene.CheckColumn(ctx, column, isKey: false);
        var first = add.Start;
        var last = add.End - 1;

        if (column.NotNull && !column.FillsItself)
        {
            ctx.Report(LintRules.AddRequiredColumn, first, last,
                $"adds NOT NULL column {column.Name} without a default to existing table {table}: {(ctx.IsPostgres ? "it fails if the table has rows, and " : "existing rows get a zero value, and ")}the running version's inserts that omit it fail",
                table);
        }

        if (ctx.IsPostgres)
        {
            var rewrite = RewriteReason(ctx, column);
            if (rewrite is { } reason)
            {
                ctx.Report(LintRules.AddColumnRewritesTable, first, last, $"adding column {column.Name} to {table} rewrites every row: {reason.Text}", table,
                    severity: reason.Certain ? null : LintSeverity.Warning);
            }

            if (column.PrimaryKey || column.Unique)
            {
                ctx.Report(LintRules.UniqueOrPrimaryKeyConstraint, first, last,
                    $"adding column {column.Name} with {(column.PrimaryKey ? "PRIMARY KEY" : "UNIQUE")} builds a unique index on {table} under an ACCESS EXCLUSIVE lock", table);
            }

            if (column.References is { } referenced)
            {
                // The new column is NULL (or one default) in every row, so the check is quick; the locks on both tables are not.
                ctx.Report(LintRules.ForeignKeyWithoutNotValid, first, last,
                    $"column {column.Name} REFERENCES {referenced}: adding it takes SHARE ROW EXCLUSIVE locks on {table} and {referenced}", table, severity: LintSeverity.Warning);
            }

            if (column.HasCheck)
            {
                ctx.Report(LintRules.CheckWithoutNotValid, first, last, $"column {column.Name} is added with a CHECK that is evaluated for every existing row of {table}", table,
                    severity: LintSeverity.Warning);
            }

            return;
        }

        if ((column.PrimaryKey || column.Unique) && column.FillOfExistingRows(ctx.Dialect) == ColumnFill.Same)
        {
            ctx.Report(LintRules.UniqueMayFail, first, last,
                $"every existing row of {table} gets the same value in new column {column.Name}, so its {(column.PrimaryKey ? "PRIMARY KEY" : "UNIQUE")} fails as soon as {table} holds two rows",
                table, severity: LintSeverity.Error);
        }

        var copies = AllowsMySqlCopy(alter);
        if (copies && column.GeneratedStored)
        {
            ctx.Report(LintRules.MySqlTableCopy, first, last, $"adding STORED generated column {column.Name} copies table {table}", table);
        }
        else if (copies && column.AutoIncrement && alter.LockOption != "NONE")
        {
            ctx.Report(LintRules.MySqlBlocksWrites, first, last,
                $"adding AUTO_INCREMENT column {column.Name}{(column.PrimaryKey ? " as the PRIMARY KEY" : string.Empty)} rebuilds {table} without concurrent writes", table);
        }
        else if (copies && column.Default is { Volatility: DefaultVolatility.Volatile, Function: { } function })
        {
            ctx.Report(LintRules.MySqlTableCopy, first, last, $"column {column.Name}'s default {function.ToUpperInvariant()}() differs per row, so adding it copies table {table}", table);
        }
        else if (copies && column.PrimaryKey)
        {
            ctx.Report(LintRules.MySqlTableRebuild, first, last, $"adding column {column.Name} as the PRIMARY KEY rebuilds table {table}", table);
        }
        else if (!column.AutoIncrement && !column.PrimaryKey && !column.GeneratedStored && column.Default is not { Volatility: DefaultVolatility.Volatile })
        {
            var positioned = ctx.Tokens.IsWord(add.End - 1, "first") || ctx.Tokens.IsWord(add.End - 2, "after");
            CheckColumnChangeOnServer(ctx, alter, $"adding column {column.Name} to {table}", positioned ? ColumnChange.AddPositioned : ColumnChange.AddAtEnd, first, last);
        }
    }

    /// <summary>
    /// ADD/DROP COLUMN on a MySQL or MariaDB whose version cannot do it instantly: an in-place rebuild (GK312), or a
    /// refusal when the ALTER demands ALGORITHM=INSTANT/NOCOPY (GK004); on MySQL an explicit ALGORITHM=INPLACE rebuilds
    /// what would be instant. Silent when the server is not known (judged as a current server, which does it instantly).
    /// </summary>
    private static void CheckColumnChangeOnServer(StatementContext ctx, AlterTableStatement alter, string what, ColumnChange change, int first, int last)
    {
        var server = ctx.Plan.MySqlServer;
        if (MySqlVersionRules.RebuildsFor(server, change) is { } why)
        {
            if (alter.Algorithm is "INSTANT" or "NOCOPY")
            {
                if (MySqlVersionRules.RefusesAlgorithm(server, alter.Algorithm) is null)
                {
                    ctx.Report(LintRules.RefusedByServer, first, last, $"ALGORITHM={alter.Algorithm} makes the ALTER fail for {what}: {why}");
                }
            }
            else
            {
                ctx.Report(LintRules.MySqlTableRebuild, first, last, $"{what}: {why}", alter.Table);
            }
        }
        else if (alter.Algorithm == "INPLACE" && MySqlVersionRules.InplaceRebuildsFor(server, change) is { } inplace)
        {
            ctx.Report(LintRules.MySqlTableRebuild, first, last, $"{what}: {inplace}", alter.Table);
        }
    }

    private static (string Text, bool Certain)? RewriteReason(StatementContext ctx, ColumnDefinition column)
    {
        if (column.Type?.IsSerial ?? false)
        {
            return ($"{column.Type.Display} fills existing rows from a sequence", true);
        }

        if (column.Identity)
        {
            return ("an identity column fills existing rows from a sequence", true);
        }

        if (column.GeneratedStored)
        {
            return ("a STORED generated column is computed for every existing row", true);
        }

        if (column.Default is not { IsNull: false } value)
        {
            return null;
        }

        if (ctx.Options.ServerMajorVersion is < 11)
        {
            return ($"before PostgreSQL 11 any DEFAULT is written into every row", true);
        }

        return value.Volatility switch
        {
            DefaultVolatility.Volatile => ($"its default {value.Function}() is volatile, so it is evaluated for each row", true),
            DefaultVolatility.Unknown => ($"its default calls {value.Function}(), which rewrites the table if the function is VOLATILE (the default for user functions)", false),
            _ => null,
        };
    }

    private static void CheckTypeChange(StatementContext ctx, AlterTableStatement alter, int start, int end, string column, SqlType type, bool hasUsing)
    {
        var table = alter.Table;
        var old = ctx.Plan.Column(table, column)?.Type;
        if (!hasUsing && TimeZoneSwapWithoutRewrite(ctx, old, type) is { } why)
        {
            ctx.Report(LintRules.ColumnTypeRewrite, start, end - 1,
                $"changes {table}.{column} to {type.Display}: {why}, but every index on the column is rebuilt under the ACCESS EXCLUSIVE lock", table,
                mayChange: old is null, severity: LintSeverity.Warning);
            return;
        }

        var cost = hasUsing ? TypeChangeCost.Rewrite : TypeChange.Cost(old, type, ctx.Dialect);
        var from = old is null ? string.Empty : $" from {old.Display}";
        switch (cost)
        {
            case TypeChangeCost.Rewrite:
                ctx.Report(LintRules.ColumnTypeRewrite, start, end - 1, $"changes {table}.{column}{from} to {type.Display}, which rewrites the table" + TimeZoneNote(ctx, type), table);
                break;
            case TypeChangeCost.Unknown when LooksLikeWidening(type):
                ctx.Report(LintRules.ColumnTypeRewrite, start, end - 1,
                    $"changes {table}.{column} to {type.Display}: free when it only widens a varchar/numeric column, a full rewrite otherwise; the current type is not known", table,
                    mayChange: true, severity: LintSeverity.Warning);
                break;
            case TypeChangeCost.Unknown:
                ctx.Report(LintRules.ColumnTypeRewrite, start, end - 1, $"changes {table}.{column} to {type.Display}, which rewrites the table unless the current type is binary-coercible to it" + TimeZoneNote(ctx, type), table, mayChange: true);
                break;
        }

        if (TypeChange.Narrows(old, type))
        {
            ctx.Report(LintRules.NarrowingType, start, end - 1, $"{table}.{column} narrows{from} to {type.Display}: existing values that do not fit make the migration fail", table);
        }
    }

    /// <summary>
    /// PostgreSQL 12+ changes timestamp ↔ timestamptz without rewriting the table when the session's TimeZone is UTC (the
    /// stored values are the same); the indexes on the column are still rebuilt. Null when that does not apply.
    /// </summary>
    private static string? TimeZoneSwapWithoutRewrite(StatementContext ctx, SqlType? old, SqlType type)
    {
        if (!ctx.IsPostgres || type.Name is not ("timestamp" or "timestamptz") || type.IsArray || ctx.Options.ServerMajorVersion is < 12 ||
            ctx.Scope.Session.TimeZone is not { } zone || !SessionSettings.IsUtc(zone.Value))
        {
            return null;
        }

        var other = type.Name == "timestamp" ? "timestamptz" : "timestamp";
        if (old is null)
        {
            return $"if it is {other} now, TimeZone '{zone.Value}' set at {zone.Where} lets PostgreSQL 12+ skip the table rewrite (any other current type rewrites it)";
        }

        return old.Name == other && !old.IsArray ? $"TimeZone '{zone.Value}' set at {zone.Where} lets PostgreSQL 12+ skip the table rewrite" : null;
    }

    /// <summary>A UTC TimeZone an earlier file set would have spared the rewrite of a timestamp ↔ timestamptz change, had it carried over.</summary>
    private static string TimeZoneNote(StatementContext ctx, SqlType type) =>
        ctx.IsPostgres && type.Name is "timestamp" or "timestamptz" && ctx.Scope.Session.TimeZone is null
            ? ctx.Plan.EarlierSessionNote("timezone", SessionSettings.IsUtc) ?? string.Empty
            : string.Empty;

    private static bool LooksLikeWidening(SqlType type) =>
        type.Name is "text" or "citext" or "varchar" or "numeric" && (type.Name != "numeric" || type.Arguments.Count == 0);

    private static void CheckRedefine(StatementContext ctx, AlterTableStatement alter, RedefineColumn redefine)
    {
        var table = alter.Table;
        var column = redefine.Column;
        var first = redefine.Start;
        var last = redefine.End - 1;
        if (redefine.IsChange && !string.Equals(redefine.OldName, column.Name, StringComparison.Ordinal) && !ReaddedUnderOldName(ctx, alter, table, redefine.OldName))
        {
            ctx.Report(LintRules.RenameColumn, first, last, $"CHANGE renames column {table}.{redefine.OldName} to {column.Name}; the running version still uses {redefine.OldName}", table);
        }

        var old = ctx.Plan.Column(table, redefine.OldName);
        if (column.Type is { } type)
        {
            var cost = TypeChange.Cost(old?.Type, type, SqlDialect.MySql);
            if (AllowsMySqlCopy(alter))
            {
                if (cost == TypeChangeCost.Rewrite)
                {
                    ctx.Report(LintRules.MySqlTableCopy, first, last, $"changes {table}.{redefine.OldName} from {old!.Type!.Display} to {type.Display}, which MySQL does by copying the table", table);
                }
                else if (cost == TypeChangeCost.Unknown)
                {
                    ctx.Report(LintRules.MySqlTableCopy, first, last,
                        $"{(redefine.IsChange ? "CHANGE" : "MODIFY")} {redefine.OldName} {type.Display}: if that differs from the current type, MySQL copies table {table}", table,
                        mayChange: true, severity: LintSeverity.Warning);
                }
                else if (old is not null && old.NotNull != column.NotNull)
                {
                    ctx.Report(LintRules.MySqlTableRebuild, first, last, $"changing {table}.{redefine.OldName} to {(column.NotNull ? "NOT NULL" : "NULL")} rebuilds the table", table);
                }
            }

            if (TypeChange.Narrows(old?.Type, type))
            {
                ctx.Report(LintRules.NarrowingType, first, last, $"{table}.{redefine.OldName} narrows from {old!.Type!.Display} to {type.Display}: existing values that do not fit make the migration fail", table);
            }
        }

        if (old is not null)
        {
            var dropped = new List<string>();
            if (old.NotNull && !column.NotNull && !column.ExplicitNull && !column.PrimaryKey)
            {
                dropped.Add("NOT NULL");
            }
            else if (old.NotNull && column.ExplicitNull)
            {
                ctx.Report(LintRules.DropNotNull, first, last, $"{(redefine.IsChange ? "CHANGE" : "MODIFY")} makes {table}.{redefine.OldName} nullable", table);
            }

            if (old.HasDefault && column.Default is null && !old.AutoIncrement)
            {
                dropped.Add("DEFAULT");
            }

            if (old.AutoIncrement && !column.AutoIncrement)
            {
                dropped.Add("AUTO_INCREMENT");
            }

            if (old.HasComment && !column.HasComment)
            {
                dropped.Add("COMMENT");
            }

            if (dropped.Count > 0)
            {
                ctx.Report(LintRules.RedefineColumnDropsAttributes, first, last,
                    $"{(redefine.IsChange ? "CHANGE" : "MODIFY")} {table}.{redefine.OldName} does not repeat {string.Join(", ", dropped)}, so MySQL drops {(dropped.Count == 1 ? "it" : "them")}", table);
            }

            if (column.NotNull && !old.NotNull)
            {
                ctx.Report(LintRules.NotNullMayFail, first, last, $"makes {table}.{redefine.OldName} NOT NULL; rows holding NULL make the migration fail", table);
            }
        }
        else
        {
            if (!column.NotNull && !column.ExplicitNull && !column.PrimaryKey)
            {
                ctx.Report(LintRules.RedefineColumnDropsAttributes, first, last,
                    $"{(redefine.IsChange ? "CHANGE" : "MODIFY")} {table}.{redefine.OldName} redefines the whole column without NOT NULL: if the column was NOT NULL (or had a DEFAULT, COMMENT or AUTO_INCREMENT not repeated here), that is dropped",
                    table, mayChange: true, severity: LintSeverity.Warning);
            }

            if (column.NotNull)
            {
                ctx.Report(LintRules.NotNullMayFail, first, last, $"makes {table}.{redefine.OldName} NOT NULL; if it was nullable, rows holding NULL make the migration fail", table, mayChange: true);
            }
        }
    }

    private static void CheckSetNotNull(StatementContext ctx, ObjectName table, SetNotNull setNotNull)
    {
        var proven = ctx.Plan.Find(table)?.ProvenNotNull.Contains(setNotNull.Column) ?? false;
        if (proven && ctx.Options.ServerMajorVersion is null or >= 12)
        {
            return;
        }

        if (ctx.Plan.Column(table, setNotNull.Column) is { NotNull: true })
        {
            // Already NOT NULL (an earlier file or the live schema says so): PostgreSQL sees nothing to do and scans nothing.
            return;
        }

        ctx.Report(LintRules.SetNotNullScan, setNotNull.Start, setNotNull.End - 1,
            $"SET NOT NULL on {table}.{setNotNull.Column} scans every row under an ACCESS EXCLUSIVE lock", table);
        ctx.Report(LintRules.NotNullMayFail, setNotNull.Start, setNotNull.End - 1,
            $"SET NOT NULL on {table}.{setNotNull.Column} fails if any row holds NULL", table);
    }

    private static void CheckDropDefault(StatementContext ctx, AlterTableStatement alter, DropDefault dropDefault)
    {
        var table = alter.Table;
        var facts = ctx.Plan.Column(table, dropDefault.Column);
        if (facts is { NotNull: false } || DefaultRestored(ctx, alter, dropDefault.Column))
        {
            return;
        }

        ctx.Report(LintRules.DropDefaultOfRequiredColumn, dropDefault.Start, dropDefault.End - 1,
            facts is null
                ? $"drops the default of {table}.{dropDefault.Column}; if the column is NOT NULL, the running version's inserts that omit it fail"
                : $"drops the default of NOT NULL column {table}.{dropDefault.Column}; the running version's inserts that omit it fail",
            table, mayChange: facts is null, severity: facts is null ? LintSeverity.Warning : null);
    }

    private static void CheckAddConstraint(StatementContext ctx, AlterTableStatement alter, AddConstraint add)
    {
        var table = alter.Table;
        var constraint = add.Constraint;
        var first = add.Start;
        var last = add.End - 1;
        var name = constraint.Name is null ? string.Empty : $" {constraint.Name}";
        ColumnHygiene.CheckName(ctx, constraint.Name, first + 2, "constraint");
        switch (constraint.Kind)
        {
            case ConstraintKind.PrimaryKey or ConstraintKind.Unique:
                var what = constraint.Kind == ConstraintKind.PrimaryKey ? "PRIMARY KEY" : "UNIQUE";
                if (ctx.IsPostgres && !constraint.UsingIndex)
                {
                    ctx.Report(LintRules.UniqueOrPrimaryKeyConstraint, first, last, $"adds {what} constraint{name} to {table}, building its index under an ACCESS EXCLUSIVE lock", table);
                }
                else if (!ctx.IsPostgres && constraint.Kind == ConstraintKind.PrimaryKey && AllowsMySqlCopy(alter))
                {
                    ctx.Report(LintRules.MySqlTableRebuild, first, last, $"adding a PRIMARY KEY rebuilds table {table}", table);
                }

                if (!constraint.UsingIndex)
                {
                    UniqueKeyRules.CheckExistingRows(ctx, alter, table, constraint.Columns, constraint.NullsNotDistinct, first, last,
                        $"{what}{name} on {table}({string.Join(", ", constraint.Columns)})");
                }

                break;
            case ConstraintKind.ForeignKey when ctx.IsPostgres && !constraint.NotValid:
                ctx.Report(LintRules.ForeignKeyWithoutNotValid, first, last,
                    $"adds foreign key{name} on {table} referencing {constraint.ReferencedTable}; every row is checked while writes to both tables wait", table);
                break;
            case ConstraintKind.ForeignKey when !ctx.IsPostgres && !ctx.Scope.Session.ForeignKeyChecksOff && AllowsMySqlCopy(alter):
                ctx.Report(LintRules.ForeignKeyWithoutNotValid, first, last,
                    $"adds foreign key{name} on {table} with FOREIGN_KEY_CHECKS on, so MySQL copies the table and blocks writes" +
                    ctx.Plan.EarlierSessionNote("foreign_key_checks", value => value is "0" or "off" or "false"), table);
                break;
            case ConstraintKind.Check when ctx.IsPostgres && !constraint.NotValid:
                ctx.Report(LintRules.CheckWithoutNotValid, first, last, $"adds CHECK constraint{name} to {table}, scanning every row under an ACCESS EXCLUSIVE lock", table);
                break;
            case ConstraintKind.Check when !ctx.IsPostgres && MySqlVersionRules.CheckIgnored(ctx.Plan.MySqlServer) is { } ignored:
                ctx.Report(LintRules.MySqlCheckIgnored, first, last, $"CHECK constraint{name} on {table}: {ignored}");
                break;
            case ConstraintKind.Check when !ctx.IsPostgres && !constraint.NotEnforced && AllowsMySqlCopy(alter):
                // MariaDB 10.11 accepts only ALGORITHM=COPY for it; MySQL 8.0.16+ validates by copy too unless NOT ENFORCED.
                var enforcing = ctx.Plan.MySqlServer is { } server
                    ? $"{MySqlVersionRules.Name(server)} enforces CHECK (MySQL from 8.0.16, MariaDB from 10.2.1)"
                    : "no server version is known: MySQL enforces CHECK from 8.0.16 (ignores it before), MariaDB from 10.2.1";
                ctx.Report(LintRules.MySqlTableCopy, first, last, $"adds CHECK constraint{name} to {table}: every row is checked while the table is copied ({enforcing})", table);
                break;
            case ConstraintKind.Exclude when ctx.IsPostgres:
                ctx.Report(LintRules.UniqueOrPrimaryKeyConstraint, first, last, $"adds EXCLUDE constraint{name} to {table}, building its index under an ACCESS EXCLUSIVE lock", table);
                break;
            case ConstraintKind.FullText or ConstraintKind.Spatial when !ctx.IsPostgres && AllowsMySqlCopy(alter) && alter.LockOption != "NONE":
                ctx.Report(LintRules.MySqlBlocksWrites, first, last,
                    $"adding a {(constraint.Kind == ConstraintKind.FullText ? "FULLTEXT" : "SPATIAL")} index to {table} blocks writes while it builds", table);
                break;
        }
    }

    private static void CheckDropConstraint(StatementContext ctx, AlterTableStatement alter, DropConstraint drop)
    {
        var table = alter.Table;
        var first = drop.Start;
        var last = drop.End - 1;
        if (drop.Cascade && ctx.IsPostgres)
        {
            ctx.Report(LintRules.DropCascade, first, last, $"DROP CONSTRAINT {drop.Name} … CASCADE also drops the foreign keys of other tables that depend on it", table);
        }

        // The parser marks DROP CHECK as a CHECK and leaves DROP CONSTRAINT's kind unknown: the two spellings servers differ on.
        if (!ctx.IsPostgres && drop.Kind == ConstraintKind.Check && MySqlVersionRules.RefusesDropCheck(ctx.Plan.MySqlServer, drop.Name) is { } refused)
        {
            ctx.Report(LintRules.RefusedByServer, first, last, refused.Text, mayChange: !refused.Certain, severity: refused.Certain ? null : LintSeverity.Warning);
        }
        else if (!ctx.IsPostgres && drop.Kind == ConstraintKind.Unknown && MySqlVersionRules.RefusesDropConstraint(ctx.Plan.MySqlServer) is { } why)
        {
            ctx.Report(LintRules.RefusedByServer, first, last, $"DROP CONSTRAINT {drop.Name} fails: {why}");
        }

        var known = drop.Kind != ConstraintKind.Unknown ? drop.Kind
            : drop.Name is { } dropped ? KindFromName(ctx, table, dropped) : ConstraintKind.Unknown;
        // A CHECK holds no data and nothing depends on it: dropping it deletes nothing and rewrites nothing.
        if (known is ConstraintKind.Index or ConstraintKind.Check || ReaddedConstraint(ctx, alter, drop))
        {
            return;
        }

        if (drop.Kind == ConstraintKind.PrimaryKey && !ctx.IsPostgres && AllowsMySqlCopy(alter))
        {
            var replaced = alter.Actions.OfType<AddConstraint>().Any(a => a.Constraint.Kind == ConstraintKind.PrimaryKey);
            ctx.Report(replaced ? LintRules.MySqlTableRebuild : LintRules.MySqlTableCopy, first, last,
                replaced ? $"replacing the PRIMARY KEY rebuilds table {table}" : $"dropping the PRIMARY KEY without a replacement copies table {table}", table);
        }

        var kind = known switch
        {
            ConstraintKind.ForeignKey => "foreign key",
            ConstraintKind.PrimaryKey => "primary key",
            ConstraintKind.Unique => "unique constraint",
            _ => "constraint",
        };
        ctx.Report(LintRules.DropConstraint, first, last, $"drops {kind} {(drop.Kind == ConstraintKind.PrimaryKey ? string.Empty : drop.Name + " ")}of {table}; the database stops enforcing it", table);
    }

    /// <summary>The kind of a constraint dropped by name: recorded when it was created, else PostgreSQL's default name suffix.</summary>
    private static ConstraintKind KindFromName(StatementContext ctx, ObjectName table, string name)
    {
        var recorded = ctx.Plan.ConstraintKindOf(table, name);
        if (recorded != ConstraintKind.Unknown || !ctx.IsPostgres)
        {
            return recorded;
        }

        // PostgreSQL names unnamed constraints <table>_<column>_check / _fkey / _pkey / _key.
        return name.EndsWith("_check", StringComparison.Ordinal) ? ConstraintKind.Check
            : name.EndsWith("_fkey", StringComparison.Ordinal) ? ConstraintKind.ForeignKey
            : name.EndsWith("_pkey", StringComparison.Ordinal) ? ConstraintKind.PrimaryKey
            : ConstraintKind.Unknown;
    }

    private static void CheckMySqlPartition(StatementContext ctx, AlterTableStatement alter, MySqlPartitionAction partition)
    {
        var table = alter.Table;
        var first = partition.Start;
        var last = partition.End - 1;
        switch (partition.Work)
        {
            case PartitionWork.DeletesRows:
                ctx.Report(LintRules.DropPartition, first, last, $"{partition.What} deletes every row stored in {DescribeTarget(ctx, partition)} of {table}", table);
                break;
            case PartitionWork.CopiesRows:
                ctx.Report(LintRules.MySqlBlocksWrites, first, last, $"{partition.What} copies the rows of the partitions it touches while writes to {table} wait", table);
                break;
            case PartitionWork.CopiesTable:
                ctx.Report(LintRules.MySqlTableCopy, first, last, $"{partition.What} copies table {table}", table);
                break;
        }
    }

    private static string DescribeTarget(StatementContext ctx, MySqlPartitionAction partition)
    {
        var names = new List<string>();
        for (var i = partition.Start + 2; i < partition.End && ctx.Tokens.IsName(i); i++)
        {
            names.Add(ctx.Tokens.Identifier(i));
            if (!ctx.Tokens.IsOperator(i + 1, ","))
            {
                break;
            }

            i++;
        }

        return names.Count == 0 ? "the partitions" : $"partition{(names.Count == 1 ? string.Empty : "s")} {string.Join(", ", names)}";
    }

    private static void CheckDetach(StatementContext ctx, ObjectName table, DetachPartition detach)
    {
        if (!ctx.IsPostgres)
        {
            return;
        }

        if (!detach.Concurrently && !detach.Finalize)
        {
            ctx.Report(LintRules.DetachPartitionNotConcurrently, detach.Start, detach.End - 1, $"detaches {detach.Partition} from {table} under an ACCESS EXCLUSIVE lock on {table}", table);
        }
        else
        {
            TransactionRules.RequireNoTransaction(ctx, detach.Start, detach.End - 1, detach.Concurrently ? "DETACH PARTITION … CONCURRENTLY" : "DETACH PARTITION … FINALIZE");
        }
    }

    private static void CheckMySqlRebuild(StatementContext ctx, AlterTableStatement alter, MySqlRebuild rebuild)
    {
        if (!AllowsMySqlCopy(alter))
        {
            return;
        }

        if (rebuild.Engine is { } engine && engine.Equals("InnoDB", StringComparison.OrdinalIgnoreCase))
        {
            // ENGINE=InnoDB on an InnoDB table is a "null rebuild": in place, with concurrent writes (MariaDB 10.11 accepts
            // ALGORITHM=INPLACE, LOCK=NONE). Only a table of another engine is copied, which the live schema does not say.
            ctx.Report(LintRules.MySqlTableRebuild, rebuild.Start, rebuild.End - 1,
                $"ENGINE=InnoDB rebuilds table {alter.Table} in place when it is InnoDB already (a table of another engine is copied instead, blocking writes)", alter.Table,
                mayChange: true);
        }
        else if (rebuild.Engine is null && rebuild.What != "CONVERT TO CHARACTER SET")
        {
            ctx.Report(LintRules.MySqlTableRebuild, rebuild.Start, rebuild.End - 1, $"{rebuild.What} rebuilds table {alter.Table} in place", alter.Table);
        }
        else
        {
            ctx.Report(LintRules.MySqlTableCopy, rebuild.Start, rebuild.End - 1, $"{rebuild.What} copies table {alter.Table}", alter.Table);
        }
    }

    /// <summary>
    /// MySQL refuses (instead of silently copying) when the ALTER names ALGORITHM=INPLACE/INSTANT or LOCK=NONE, so the
    /// copy hazard cannot happen there: a dry run reports the refusal instead.
    /// </summary>
    private static bool AllowsMySqlCopy(AlterTableStatement alter) =>
        alter.Algorithm is null or "DEFAULT" or "COPY" && alter.LockOption is null or "DEFAULT" or "SHARED" or "EXCLUSIVE";

    /// <summary>The constraint dropped here is added again (same name) in the same statement or later in the migration.</summary>
    private static bool ReaddedConstraint(StatementContext ctx, AlterTableStatement alter, DropConstraint drop)
    {
        var table = alter.Table;
        if (drop.Kind == ConstraintKind.PrimaryKey)
        {
            return alter.Actions.Any(a => a is AddConstraint { Constraint.Kind: ConstraintKind.PrimaryKey }) || ctx.Outline.Later(OutlineFact.PrimaryKey, table.Name, ctx.Position);
        }

        return drop.Name is { } name &&
               (alter.Actions.Any(a => a is AddConstraint add && add.Constraint.Name == name) || ctx.Outline.Later(OutlineFact.Constraint, MigrationOutline.Key(table, name), ctx.Position));
    }

    /// <summary>Atlas's compatibility pattern: after a rename, a (generated) column under the old name keeps old queries working.</summary>
    private static bool ReaddedUnderOldName(StatementContext ctx, AlterTableStatement alter, ObjectName table, string oldName) =>
        alter.Actions.Any(a => a is AddColumn add && add.Column.Name == oldName) || ctx.Outline.Later(OutlineFact.AddedColumn, MigrationOutline.Key(table, oldName), ctx.Position);

    /// <summary>A new default set for the column in the same statement or later in the migration (the swap-the-type pattern).</summary>
    private static bool DefaultRestored(StatementContext ctx, AlterTableStatement alter, string column) =>
        alter.Actions.Any(a => a is SetDefault set && set.Column == column || a is RedefineColumn { Column.Default: { IsNull: false } } redefine && redefine.Column.Name == column) ||
        ctx.Outline.Later(OutlineFact.DefaultSet, MigrationOutline.Key(alter.Table, column), ctx.Position);

    /// <summary>Atlas's compatibility pattern: a view (or a rebuilt table) created under the table's old name keeps old queries working.</summary>
    private static bool ViewKeepsOldName(StatementContext ctx, ObjectName table) => ctx.Outline.Later(OutlineFact.View, table.Name, ctx.Position);
}
