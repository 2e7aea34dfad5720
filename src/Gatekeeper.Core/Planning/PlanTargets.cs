using System.Globalization;
using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Planning;

/// <summary>A table as a migration names it: its schema when qualified, and its name as the server resolves it.</summary>
public sealed record TableName(string? Schema, string Name)
{
    public override string ToString() => Schema is null ? Name : $"{Schema}.{Name}";
}

/// <summary>
/// A table of the live database that a pending statement locks. <see cref="Queues"/> is true for locks that wait
/// behind every open transaction on the table and make all later traffic wait behind them (PostgreSQL's ACCESS
/// EXCLUSIVE and SHARE locks of ALTER, DROP, TRUNCATE and plain CREATE INDEX; MySQL's exclusive metadata lock that
/// every ALTER, CREATE INDEX, DROP, RENAME and TRUNCATE takes at least briefly); false for a lock that only waits for
/// older transactions to end (CREATE INDEX CONCURRENTLY), which matters for INVALID indexes the pre-flight reports.
/// </summary>
public sealed record TableLock(TableName Table, string Statement, SourceLocation Location, bool Queues);

public enum DataCheckKind
{
    /// <summary>A new UNIQUE index or constraint, or PRIMARY KEY: no two rows may share the values.</summary>
    Unique,
    /// <summary>SET NOT NULL, or a redefinition as NOT NULL: no row may hold NULL.</summary>
    NotNull,
    /// <summary>ADD CHECK (not NOT VALID): every row must satisfy it.</summary>
    Check,
    /// <summary>ADD FOREIGN KEY (not NOT VALID): every row's key must exist in the referenced table.</summary>
    ForeignKey,
    /// <summary>A type change to a bounded type: every value must fit.</summary>
    FitsType,
    /// <summary>ADD COLUMN … NOT NULL without a default (PostgreSQL): the table must be empty.</summary>
    NoRows,
}

/// <summary>How much a bounded type holds, for <see cref="DataCheckKind.FitsType"/>.</summary>
/// <param name="MaxLength">Characters (varchar(n), char(n)).</param>
/// <param name="Min">Smallest integer.</param>
/// <param name="Max">Largest integer.</param>
/// <param name="Precision">numeric(p, s): total digits.</param>
/// <param name="Scale">numeric(p, s): digits after the point.</param>
public sealed record TypeLimit(string Type, int? MaxLength = null, decimal? Min = null, decimal? Max = null, int? Precision = null, int? Scale = null);

/// <summary>
/// A pending change whose success depends on the rows already in a live table. A pre-check looks for one row that
/// would make it fail (the dry-run on a copy has no rows, so it cannot).
/// </summary>
/// <param name="Columns">The columns concerned (for messages and NULL filters).</param>
/// <param name="What">The change as one short phrase: <c>UNIQUE (email)</c>, <c>SET NOT NULL on email</c>.</param>
public sealed record DataCheck(DataCheckKind Kind, TableName Table, IReadOnlyList<string> Columns, SourceLocation Location, string What)
{
    /// <summary>Unique: the index's elements as written (columns or expressions); Check: the condition.</summary>
    public IReadOnlyList<string> Expressions { get; init; } = [];

    /// <summary>A partial unique index's WHERE condition, as written.</summary>
    public string? Predicate { get; init; }

    public TableName? ReferencedTable { get; init; }

    /// <summary>The referenced columns; empty when the migration leaves them to the referenced table's primary key.</summary>
    public IReadOnlyList<string> ReferencedColumns { get; init; } = [];

    public TypeLimit? Limit { get; init; }
}

/// <summary>
/// What the live database must be asked about a plan before it is admitted: the tables its statements lock (the lock
/// pre-flight looks for sessions that would make them wait) and the changes whose success depends on existing rows
/// (the data pre-checks look for one row that would fail them). Tables the plan itself creates are left out: they
/// have no rows and no sessions yet. Pure: read from the pending migrations' text.
/// </summary>
public sealed record PlanTargets(IReadOnlyList<TableLock> Locks, IReadOnlyList<DataCheck> DataChecks)
{
    public static PlanTargets None { get; } = new([], []);

    public bool IsEmpty => Locks.Count == 0 && DataChecks.Count == 0;

    /// <param name="modes">The MySQL session's modes the files run in (<see cref="SqlModes"/>).</param>
    public static PlanTargets Find(IReadOnlyList<Migration> pending, SqlDialect dialect, SqlModes modes = SqlModes.None)
    {
        ArgumentNullException.ThrowIfNull(pending);
        var finder = new Finder(dialect);
        foreach (var migration in pending)
        {
            var split = SqlSplitter.Split(migration.UpSql, dialect, migration.FileName, migration.UpStartLine, modes);
            foreach (var statement in split.Statements)
            {
                finder.Visit(StatementParser.Parse(CodeTokens(dialect, migration.FileName, statement)));
            }
        }

        return new PlanTargets(finder.Locks, finder.Checks);
    }

    private static StatementTokens CodeTokens(SqlDialect dialect, string file, SqlStatement statement)
    {
        var all = statement.TokenSegment;
        if (dialect == SqlDialect.MySql)
        {
            return new StatementTokens(statement.Source, file, dialect, EmbeddedSql.ExpandExecutableComments(statement.Source, file, all, modes: statement.Modes), statement.Modes);
        }

        return new StatementTokens(statement.Source, file, dialect, all.Where(token => StatementTokens.IsCode(token.Kind)).ToArray());
    }

    private sealed class Finder(SqlDialect dialect)
    {
        private readonly HashSet<string> _newTables = new(dialect == SqlDialect.MySql ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);

        public List<TableLock> Locks { get; } = [];

        public List<DataCheck> Checks { get; } = [];

        private bool Postgres => dialect == SqlDialect.Postgres;

        public void Visit(ParsedStatement statement)
        {
            var t = statement.Tokens;
            switch (statement)
            {
                case CreateTableStatement create:
                    _newTables.Add(create.Table.Name);
                    break;
                case AlterTableStatement alter when !IsNew(alter.Table):
                    VisitAlter(t, alter);
                    break;
                case CreateIndexStatement index when !IsNew(index.Table):
                    Lock(t, index.Table, index.Unique ? "CREATE UNIQUE INDEX" : "CREATE INDEX", queues: !(Postgres && index.Concurrently));
                    if (index.Unique)
                    {
                        UniqueIndex(t, index);
                    }

                    break;
                case DropStatement { Kind: DropKind.Table } drop:
                    foreach (var name in drop.Names)
                    {
                        if (!_newTables.Remove(name.Name))
                        {
                            Lock(t, name, "DROP TABLE", queues: true);
                        }
                    }

                    break;
                case TruncateStatement truncate:
                    foreach (var name in truncate.Tables.Where(n => !IsNew(n)))
                    {
                        Lock(t, name, "TRUNCATE", queues: true);
                    }

                    break;
                case LockTableStatement lockTable:
                    foreach (var name in lockTable.Tables.Where(n => !IsNew(n)))
                    {
                        Lock(t, name, "LOCK TABLE", queues: true);
                    }

                    break;
                case RenameTablesStatement rename:
                    foreach (var (from, to) in rename.Pairs)
                    {
                        if (!IsNew(from))
                        {
                            Lock(t, from, "RENAME TABLE", queues: true);
                        }
                        else
                        {
                            _newTables.Add(to.Name);
                        }
                    }

                    break;
                case DropIndexStatement { Table: { } table, Concurrently: false } when !IsNew(table):
                    Lock(t, table, "DROP INDEX", queues: true);
                    break;
                case MaintenanceStatement { Kind: MaintenanceKind.VacuumFull or MaintenanceKind.Cluster or MaintenanceKind.OptimizeTable, Target: { } target } maintenance when !IsNew(target):
                    Lock(t, target, maintenance.Kind == MaintenanceKind.OptimizeTable ? "OPTIMIZE TABLE" : maintenance.Kind == MaintenanceKind.Cluster ? "CLUSTER" : "VACUUM FULL", queues: true);
                    break;
            }
        }

        private bool IsNew(ObjectName table) => _newTables.Contains(table.Name);

        private void VisitAlter(StatementTokens t, AlterTableStatement alter)
        {
            var queues = alter.Actions.Any(a => a is not (ValidateConstraint or DetachPartition { Concurrently: true } or MySqlAlgorithmOption or MySqlLockOption));
            if (queues || !Postgres)
            {
                Lock(t, alter.Table, "ALTER TABLE", queues: true);
            }

            foreach (var action in alter.Actions)
            {
                switch (action)
                {
                    case SetNotNull setNotNull:
                        Checks.Add(Check(t, DataCheckKind.NotNull, alter.Table, [setNotNull.Column], action.Start, $"SET NOT NULL on {setNotNull.Column}"));
                        break;
                    case AlterColumnType { HasUsing: false } change when Limit(change.Type) is { } limit:
                        Checks.Add(Check(t, DataCheckKind.FitsType, alter.Table, [change.Column], action.Start, $"TYPE {change.Type.Display} of {change.Column}") with { Limit = limit });
                        break;
                    case RedefineColumn redefine:
                        if (redefine.Column.NotNull)
                        {
                            Checks.Add(Check(t, DataCheckKind.NotNull, alter.Table, [redefine.OldName], action.Start, $"{redefine.OldName} NOT NULL"));
                        }

                        if (redefine.Column.Type is { } type && Limit(type) is { } redefined)
                        {
                            Checks.Add(Check(t, DataCheckKind.FitsType, alter.Table, [redefine.OldName], action.Start, $"{redefine.OldName} {type.Display}") with { Limit = redefined });
                        }

                        break;
                    case AddColumn add when Postgres && add.Column.NotNull && !add.Column.FillsItself:
                        Checks.Add(Check(t, DataCheckKind.NoRows, alter.Table, [add.Column.Name], action.Start, $"ADD COLUMN {add.Column.Name} NOT NULL without a default"));
                        break;
                    case AddConstraint { Constraint: { NotValid: false, UsingIndex: false } constraint }:
                        AddConstraint(t, alter.Table, constraint);
                        break;
                }
            }
        }

        private void AddConstraint(StatementTokens t, ObjectName table, ConstraintDefinition constraint)
        {
            switch (constraint.Kind)
            {
                case ConstraintKind.PrimaryKey or ConstraintKind.Unique when FirstParen(t, constraint) is var open && open >= 0:
                    var (elements, columns) = Elements(t, open);
                    var keyword = constraint.Kind == ConstraintKind.PrimaryKey ? "PRIMARY KEY" : "UNIQUE";
                    Checks.Add(Check(t, DataCheckKind.Unique, table, columns, constraint.Start, $"{keyword} ({string.Join(", ", columns)})") with { Expressions = elements });
                    if (constraint.Kind == ConstraintKind.PrimaryKey)
                    {
                        foreach (var column in columns)
                        {
                            Checks.Add(Check(t, DataCheckKind.NotNull, table, [column], constraint.Start, $"PRIMARY KEY column {column}"));
                        }
                    }

                    break;
                case ConstraintKind.Check when CheckCondition(t, constraint) is { } condition:
                    Checks.Add(Check(t, DataCheckKind.Check, table, [], constraint.Start, $"CHECK ({OneLine(condition)})") with { Expressions = [condition] });
                    break;
                // A key into a table the plan creates cannot be checked before the plan fills that table.
                case ConstraintKind.ForeignKey when constraint.ReferencedTable is { } referenced && constraint.Columns.Count > 0 && !IsNew(referenced):
                    Checks.Add(Check(t, DataCheckKind.ForeignKey, table, constraint.Columns, constraint.Start,
                        $"FOREIGN KEY ({string.Join(", ", constraint.Columns)}) REFERENCES {referenced}") with { ReferencedTable = Name(t, referenced), ReferencedColumns = ReferencedColumns(t, constraint) });
                    // Adding a foreign key locks the referenced table too (PostgreSQL: SHARE ROW EXCLUSIVE).
                    Lock(t, referenced, "FOREIGN KEY", queues: true);

                    break;
            }
        }

        private void UniqueIndex(StatementTokens t, CreateIndexStatement index)
        {
            var i = index.ColumnsStart;
            if (t.IsWord(i, "using"))
            {
                i += 2;
            }

            if (!t.IsOpen(i))
            {
                return;
            }

            var close = t.SkipParens(i);
            var (elements, columns) = Elements(t, i);
            var where = t.FindWord(close, t.Count, "where");
            Checks.Add(Check(t, DataCheckKind.Unique, index.Table, columns, 0, $"UNIQUE INDEX {(index.Name is null ? string.Empty : index.Name + " ")}({string.Join(", ", columns)})") with { Expressions = elements, Predicate = where < 0 ? null : Text(t, where + 1, t.Count) });
        }

        /// <summary>
        /// The elements of an index's parenthesised list at <paramref name="open"/>: a column quoted, an expression as
        /// written (without ordering or operator class), a MySQL prefix <c>col(10)</c> as <c>LEFT(col, 10)</c>.
        /// </summary>
        private (List<string> Elements, List<string> Columns) Elements(StatementTokens t, int open)
        {
            var elements = new List<string>();
            var columns = new List<string>();
            foreach (var (start, end) in t.SplitTopLevel(open + 1, t.SkipParens(open) - 1))
            {
                // Ordering, operator class and collation belong to the index, not to what must be unique.
                var last = end;
                while (last - 1 > start && t.IsAnyWord(last - 1, ["asc", "desc", "first", "last", "nulls"]))
                {
                    last--;
                }

                if (dialect == SqlDialect.MySql && last - start == 4 && t.IsName(start) && t.IsOpen(start + 1))
                {
                    // MySQL prefix index `col(10)`: only the first characters must be unique.
                    elements.Add($"LEFT({Quote(t.Identifier(start))}, {t.TextString(start + 2)})");
                    columns.Add(t.Identifier(start));
                    continue;
                }

                var single = last - start == 1 && t.IsName(start);
                elements.Add(single ? Quote(t.Identifier(start)) : Text(t, start, last));
                columns.Add(single ? t.Identifier(start) : OneLine(Text(t, start, last)));
            }

            return (elements, columns);
        }

        /// <summary>The condition inside CHECK ( … ), as written.</summary>
        private static string? CheckCondition(StatementTokens t, ConstraintDefinition constraint)
        {
            var check = t.FindWord(constraint.Start, constraint.End, "check");
            return check >= 0 && t.IsOpen(check + 1) ? Text(t, check + 2, t.SkipParens(check + 1) - 1) : null;
        }

        private static int FirstParen(StatementTokens t, ConstraintDefinition constraint)
        {
            for (var i = constraint.Start; i < constraint.End; i++)
            {
                if (t.IsOpen(i))
                {
                    return i;
                }
            }

            return -1;
        }

        private static List<string> ReferencedColumns(StatementTokens t, ConstraintDefinition constraint)
        {
            var references = t.FindWord(constraint.Start, constraint.End, "references");
            var i = references + 1;
            if (references < 0 || !t.TryReadName(ref i, out _) || !t.IsOpen(i))
            {
                return [];
            }

            return t.SplitTopLevel(i + 1, t.SkipParens(i) - 1).Where(p => t.IsName(p.Start)).Select(p => t.Identifier(p.Start)).ToList();
        }

        private static TypeLimit? Limit(SqlType type)
        {
            if (type.IsArray)
            {
                return null;
            }

            var (min, max) = type.Name switch
            {
                "tinyint" => type.Unsigned ? (0m, 255m) : (-128m, 127m),
                "smallint" => type.Unsigned ? (0m, 65535m) : (-32768m, 32767m),
                "mediumint" => type.Unsigned ? (0m, 16777215m) : (-8388608m, 8388607m),
                "integer" => type.Unsigned ? (0m, 4294967295m) : (-2147483648m, 2147483647m),
                _ => ((decimal?)null, (decimal?)null),
            };
            if (min is not null)
            {
                return new TypeLimit(type.Display, Min: min, Max: max);
            }

            return type.Name switch
            {
                "varchar" or "char" when type.Length is { } length => new TypeLimit(type.Display, MaxLength: length),
                "numeric" when type.Length is { } precision => new TypeLimit(type.Display, Precision: precision, Scale: type.Scale ?? 0),
                _ => null,
            };
        }

        private void Lock(StatementTokens t, ObjectName table, string statement, bool queues) =>
            Locks.Add(new TableLock(Name(t, table), statement, t.LocationOf(0), queues));

        private DataCheck Check(StatementTokens t, DataCheckKind kind, ObjectName table, IReadOnlyList<string> columns, int token, string what) =>
            new(kind, Name(t, table), columns, t.LocationOf(token), what);

        /// <summary>
        /// The name as the server resolves it. MySQL table names keep their case (they are case-sensitive on Linux), so
        /// they are read from the text rather than from <see cref="ObjectName"/>, which folds them for comparisons.
        /// </summary>
        private TableName Name(StatementTokens t, ObjectName name)
        {
            if (dialect != SqlDialect.MySql)
            {
                return new TableName(name.Schema, name.Name);
            }

            var i = name.Token;
            var parts = new List<string> { Unquoted(t, i) };
            for (i++; t.IsOperator(i, ".") && t.IsName(i + 1); i += 2)
            {
                parts.Add(Unquoted(t, i + 1));
            }

            return new TableName(parts.Count > 1 ? parts[^2] : null, parts[^1]);
        }

        private static string Unquoted(StatementTokens t, int index)
        {
            var text = t.TextString(index);
            return t[index].Kind == SqlTokenKind.QuotedIdentifier && text.Length >= 2
                ? text[1..^1].Replace(new string(text[0], 2), text[0].ToString(), StringComparison.Ordinal)
                : text;
        }

        private string Quote(string identifier) => dialect == SqlDialect.MySql
            ? "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`"
            : "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

        private static string Text(StatementTokens t, int first, int end) =>
            end <= first ? string.Empty : t.Source.Substring(t[first].Start, t.SpanLength(first, end - 1));

        private static string OneLine(string text)
        {
            var flat = string.Join(' ', text.Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
            return flat.Length <= 80 ? flat : flat[..77] + "…";
        }
    }
}
