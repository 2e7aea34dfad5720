using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>
/// Reads <c>ALTER TABLE name action [, action …]</c> for both dialects: PostgreSQL's action list and MySQL's
/// alter options (ADD/DROP/MODIFY/CHANGE, ALGORITHM=, LOCK=, table options).
/// </summary>
internal static class AlterTableParser
{
    /// <param name="i">The index just after the TABLE keyword.</param>
    public static ParsedStatement Parse(StatementTokens t, int i)
    {
        if (t.IsWord(i, "if", "exists"))
        {
            i += 2;
        }

        var only = false;
        if (t.IsWord(i, "only"))
        {
            only = true;
            i++;
        }

        if (!t.TryReadName(ref i, out var table))
        {
            return new OtherStatement(t, "alter table");
        }

        if (t.IsOperator(i, "*"))
        {
            i++;
        }

        var actions = new List<AlterAction>();
        foreach (var (start, end) in t.SplitTopLevel(i, t.Count))
        {
            ReadAction(t, start, end, actions);
        }

        return new AlterTableStatement(t, table, only, actions);
    }

    private static void ReadAction(StatementTokens t, int start, int end, List<AlterAction> actions)
    {
        var i = start;
        if (t.Dialect == SqlDialect.MySql && MySqlPartitionClause(t, start, end) is { } partitionClause)
        {
            actions.Add(partitionClause);
        }
        else if (t.IsWord(i, "add"))
        {
            ReadAdd(t, start, end, actions);
        }
        else if (t.IsWord(i, "drop"))
        {
            actions.Add(ReadDrop(t, start, end));
        }
        else if (t.IsWord(i, "alter") && !t.IsWord(i + 1, "constraint"))
        {
            actions.Add(ReadAlterColumn(t, start, end));
        }
        else if (t.IsWord(i, "modify") || t.IsWord(i, "change"))
        {
            var isChange = t.IsWord(i, "change");
            i++;
            if (t.IsWord(i, "column"))
            {
                i++;
            }

            var oldName = t.IsName(i) ? t.Identifier(i) : string.Empty;
            if (isChange)
            {
                i++;
            }

            var column = ColumnDefinition.Read(t, i, end);
            actions.Add(column is null
                ? new OtherAlterAction(start, end, isChange ? "change" : "modify")
                : new RedefineColumn(start, end, oldName, column, isChange));
        }
        else if (t.IsWord(i, "validate", "constraint") && t.IsName(i + 2))
        {
            actions.Add(new ValidateConstraint(start, end, t.Identifier(i + 2)));
        }
        else if (t.IsWord(i, "rename"))
        {
            actions.Add(ReadRename(t, start, end));
        }
        else if (t.IsWord(i, "set"))
        {
            actions.Add(ReadSet(t, start, end));
        }
        else if (t.IsWord(i, "detach", "partition"))
        {
            i += 2;
            var partition = t.ReadName(ref i) ?? new ObjectName(null, string.Empty, i);
            actions.Add(new DetachPartition(start, end, partition, t.IsWord(i, "concurrently"), t.IsWord(i, "finalize")));
        }
        else if (t.IsWord(i, "attach", "partition"))
        {
            i += 2;
            actions.Add(new AttachPartition(start, end, t.ReadName(ref i) ?? new ObjectName(null, string.Empty, i)));
        }
        else if (t.IsWord(i, "algorithm") || t.IsWord(i, "lock"))
        {
            var valueIndex = t.IsOperator(i + 1, "=") ? i + 2 : i + 1;
            var value = valueIndex < end ? t.TextString(valueIndex).ToUpperInvariant() : "DEFAULT";
            actions.Add(t.IsWord(i, "algorithm") ? new MySqlAlgorithmOption(start, end, value) : new MySqlLockOption(start, end, value));
        }
        else if (t.IsWord(i, "convert", "to"))
        {
            actions.Add(new MySqlRebuild(start, end, "CONVERT TO CHARACTER SET"));
        }
        else if (t.Dialect == SqlDialect.MySql && t.IsWord(i, "engine"))
        {
            var valueIndex = t.IsOperator(i + 1, "=") ? i + 2 : i + 1;
            var engine = valueIndex < end ? t.TextString(valueIndex).Trim('`', '\'', '"') : string.Empty;
            actions.Add(new MySqlRebuild(start, end, $"ENGINE={engine}", engine));
        }
        else if (t.Dialect == SqlDialect.MySql && (t.IsWord(i, "force") || t.IsWord(i, "row_format") || t.IsWord(i, "key_block_size")))
        {
            actions.Add(new MySqlRebuild(start, end, t.IsWord(i, "force") ? "FORCE" : t.TextString(i).ToUpperInvariant() + "="));
        }
        else
        {
            actions.Add(new OtherAlterAction(start, end, i < end ? t.TextString(i).ToLowerInvariant() : string.Empty));
        }
    }

    /// <summary>MySQL partition maintenance (<c>DROP PARTITION p</c>, <c>REORGANIZE PARTITION …</c>, <c>PARTITION BY …</c>), or null.</summary>
    private static MySqlPartitionAction? MySqlPartitionClause(StatementTokens t, int start, int end)
    {
        var verb = start < end ? t.TextString(start).ToUpperInvariant() : string.Empty;
        if (t.IsWord(start, "partition", "by"))
        {
            return new MySqlPartitionAction(start, end, "PARTITION BY", PartitionWork.CopiesTable);
        }

        if (t.IsWord(start, "remove", "partitioning"))
        {
            return new MySqlPartitionAction(start, end, "REMOVE PARTITIONING", PartitionWork.CopiesTable);
        }

        if (!t.IsWord(start + 1, "partition"))
        {
            return null;
        }

        var work = verb switch
        {
            // ADD PARTITION PARTITIONS n splits the rows of a HASH/KEY table anew; RANGE/LIST partitions are added empty.
            "ADD" => t.FindWord(start + 2, end, "partitions") >= 0 ? PartitionWork.CopiesRows : PartitionWork.Quick,
            "DROP" or "TRUNCATE" => PartitionWork.DeletesRows,
            "REORGANIZE" or "COALESCE" or "REBUILD" => PartitionWork.CopiesRows,
            "EXCHANGE" or "ANALYZE" or "CHECK" or "OPTIMIZE" or "REPAIR" or "DISCARD" or "IMPORT" => PartitionWork.Quick,
            _ => (PartitionWork?)null,
        };
        return work is { } known ? new MySqlPartitionAction(start, end, verb + " PARTITION", known) : null;
    }

    private static void ReadAdd(StatementTokens t, int start, int end, List<AlterAction> actions)
    {
        var i = start + 1;
        var explicitColumn = t.IsWord(i, "column");
        if (explicitColumn)
        {
            i++;
        }

        if (!explicitColumn && ConstraintParser.StartsConstraint(t, i))
        {
            actions.Add(new AddConstraint(start, end, ConstraintParser.Read(t, i, end)));
            return;
        }

        if (!explicitColumn && t.IsAnyWord(i, ["partition", "period", "generated"]))
        {
            actions.Add(new OtherAlterAction(start, end, "add " + t.TextString(i).ToLowerInvariant()));
            return;
        }

        var ifNotExists = false;
        if (t.IsWord(i, "if", "not", "exists"))
        {
            ifNotExists = true;
            i += 3;
        }

        if (t.IsOpen(i))
        {
            // MySQL: ADD [COLUMN] (a int, b int) adds several columns at once.
            var close = t.SkipParens(i);
            foreach (var (s, e) in t.SplitTopLevel(i + 1, close - 1))
            {
                if (ConstraintParser.StartsConstraint(t, s))
                {
                    actions.Add(new AddConstraint(s, e, ConstraintParser.Read(t, s, e)));
                }
                else if (ColumnDefinition.Read(t, s, e) is { } column)
                {
                    actions.Add(new AddColumn(s, e, column, ifNotExists));
                }
            }

            return;
        }

        var definition = ColumnDefinition.Read(t, i, end);
        actions.Add(definition is null ? new OtherAlterAction(start, end, "add") : new AddColumn(start, end, definition, ifNotExists));
    }

    private static AlterAction ReadDrop(StatementTokens t, int start, int end)
    {
        var i = start + 1;
        var cascade = t.FindWord(i, end, "cascade") >= 0;
        if (t.IsWord(i, "constraint") || t.IsWord(i, "check"))
        {
            i++;
            var ifExists = SkipIfExists(t, ref i);
            return new DropConstraint(start, end, t.IsName(i) ? t.Identifier(i) : null, t.IsWord(start + 1, "check") ? ConstraintKind.Check : ConstraintKind.Unknown, ifExists, cascade);
        }

        if (t.IsWord(i, "primary", "key"))
        {
            return new DropConstraint(start, end, "PRIMARY", ConstraintKind.PrimaryKey, false, cascade);
        }

        if (t.IsWord(i, "foreign", "key"))
        {
            i += 2;
            var ifExists = SkipIfExists(t, ref i);
            return new DropConstraint(start, end, t.IsName(i) ? t.Identifier(i) : null, ConstraintKind.ForeignKey, ifExists, cascade);
        }

        if (t.Dialect == SqlDialect.MySql && t.IsAnyWord(i, ["index", "key"]))
        {
            i++;
            var ifExists = SkipIfExists(t, ref i);
            return new DropConstraint(start, end, t.IsName(i) ? t.Identifier(i) : null, ConstraintKind.Index, ifExists, cascade);
        }

        if (t.IsAnyWord(i, ["default", "partition", "period", "expression", "not"]))
        {
            return new OtherAlterAction(start, end, "drop " + t.TextString(i).ToLowerInvariant());
        }

        if (t.IsWord(i, "column"))
        {
            i++;
        }

        var columnIfExists = SkipIfExists(t, ref i);
        return t.IsName(i)
            ? new DropColumn(start, end, t.Identifier(i), columnIfExists, cascade)
            : new OtherAlterAction(start, end, "drop");
    }

    private static AlterAction ReadAlterColumn(StatementTokens t, int start, int end)
    {
        var i = start + 1;
        if (t.IsWord(i, "column"))
        {
            i++;
        }

        if (!t.IsName(i))
        {
            return new OtherAlterAction(start, end, "alter");
        }

        var column = t.Identifier(i);
        i++;
        if (t.IsWord(i, "set", "data", "type"))
        {
            i += 3;
        }
        else if (t.IsWord(i, "type"))
        {
            i++;
        }
        else if (t.IsWord(i, "set", "not", "null"))
        {
            return new SetNotNull(start, end, column);
        }
        else if (t.IsWord(i, "drop", "not", "null"))
        {
            return new DropNotNull(start, end, column);
        }
        else if (t.IsWord(i, "set", "default"))
        {
            return new SetDefault(start, end, column);
        }
        else if (t.IsWord(i, "drop", "default"))
        {
            return new DropDefault(start, end, column);
        }
        else if (t.IsWord(i, "add", "generated"))
        {
            return new AddIdentity(start, end, column);
        }
        else
        {
            return new OtherAlterAction(start, end, "alter column");
        }

        var type = SqlType.Read(t, ref i, end);
        return type is null
            ? new OtherAlterAction(start, end, "alter column type")
            : new AlterColumnType(start, end, column, type, t.FindWord(i, end, "using") >= 0);
    }

    private static AlterAction ReadRename(StatementTokens t, int start, int end)
    {
        var i = start + 1;
        if (t.IsWord(i, "to") || t.IsWord(i, "as") || (t.Dialect == SqlDialect.MySql && t.IsName(i) && !t.IsAnyWord(i, ["column", "index", "key", "constraint"])))
        {
            if (t.IsWord(i, "to") || t.IsWord(i, "as"))
            {
                i++;
            }

            return t.TryReadName(ref i, out var newName) ? new RenameTable(start, end, newName) : new OtherAlterAction(start, end, "rename");
        }

        if (t.IsAnyWord(i, ["constraint", "index", "key"]))
        {
            return new OtherAlterAction(start, end, "rename " + t.TextString(i).ToLowerInvariant());
        }

        if (t.IsWord(i, "column"))
        {
            i++;
        }

        if (t.IsName(i) && t.IsWord(i + 1, "to") && t.IsName(i + 2))
        {
            return new RenameColumn(start, end, t.Identifier(i), t.Identifier(i + 2));
        }

        return new OtherAlterAction(start, end, "rename");
    }

    private static AlterAction ReadSet(StatementTokens t, int start, int end)
    {
        var i = start + 1;
        if (t.IsWord(i, "logged") || t.IsWord(i, "unlogged"))
        {
            return new RewriteTableOption(start, end, "SET " + t.TextString(i).ToUpperInvariant());
        }

        if (t.IsWord(i, "access", "method"))
        {
            return new RewriteTableOption(start, end, "SET ACCESS METHOD");
        }

        if (t.IsWord(i, "tablespace"))
        {
            return new RewriteTableOption(start, end, "SET TABLESPACE");
        }

        if (t.IsWord(i, "schema") && t.IsName(i + 1))
        {
            // Moving a table to another schema renames it for every query that named it through the search path.
            return new RenameTable(start, end, new ObjectName(t.Identifier(i + 1), string.Empty, i + 1));
        }

        return new OtherAlterAction(start, end, "set");
    }

    private static bool SkipIfExists(StatementTokens t, ref int i)
    {
        if (t.IsWord(i, "if", "exists"))
        {
            i += 2;
            return true;
        }

        return false;
    }
}
