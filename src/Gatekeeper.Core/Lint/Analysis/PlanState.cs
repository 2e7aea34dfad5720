using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>What the existing rows hold in a column added to an existing table.</summary>
internal enum ColumnFill
{
    /// <summary>NULL in every row (no default): a unique key over it cannot find duplicates.</summary>
    Null,
    /// <summary>One value in every row (a constant default, MySQL's implicit zero for NOT NULL): a unique key over it alone fails on two rows.</summary>
    Same,
    /// <summary>A value of its own in every row (AUTO_INCREMENT, serial, identity, a volatile default such as gen_random_uuid()).</summary>
    Distinct,
}

/// <summary>What is known about one column: its definition from earlier in the plan, or from the live schema.</summary>
internal sealed record ColumnFacts(SqlType? Type, bool NotNull, bool HasDefault, bool AutoIncrement, bool HasComment);

/// <summary>
/// What the plan keeps of a column defined earlier in it: only what <see cref="ColumnFacts"/> is made of, in a value
/// stored in its table's dictionary.
/// </summary>
/// <remarks>
/// Not the <see cref="ColumnDefinition"/> itself: every column a plan creates stays in memory to the end of the lint,
/// and a 10 MB file's 55,000 definitions (with their defaults) were 6.6 of the 18 MB that survived its pass, each one
/// copied by the collector into the older generations.
/// </remarks>
internal readonly record struct PlannedColumn(SqlType? Type, bool NotNull, bool DefaultSet, bool Identity, bool AutoIncrement, bool HasComment)
{
    public static PlannedColumn Of(ColumnDefinition column) =>
        new(column.Type, column.NotNull, column.Default is { IsNull: false }, column.Identity, column.AutoIncrement, column.HasComment);

    public ColumnFacts Facts => new(Type, NotNull, DefaultSet || Identity || (Type?.IsSerial ?? false), AutoIncrement, HasComment);
}

/// <summary>
/// A table's columns by name: a short array searched in order while there are few (most tables), a dictionary beyond.
/// </summary>
/// <remarks>
/// Every table a plan touches stays in memory to the end of the lint: a dictionary per table (the dictionary, its
/// buckets and its entries) was 4.6 MB of what a 10 MB file's 11,000 four-column tables kept alive, three objects each.
/// </remarks>
internal sealed class PlannedColumns
{
    private const int MaxSearched = 8;
    private (string Name, PlannedColumn Column)[] few = [];
    private int count;
    private Dictionary<string, PlannedColumn>? many;

    public PlannedColumn this[string name]
    {
        set
        {
            if (many is not null)
            {
                many[name] = value;
                return;
            }

            var at = IndexOf(name);
            if (at >= 0)
            {
                few[at].Column = value;
                return;
            }

            if (count == MaxSearched)
            {
                many = new Dictionary<string, PlannedColumn>(2 * MaxSearched, StringComparer.Ordinal);
                for (var i = 0; i < count; i++)
                {
                    many[few[i].Name] = few[i].Column;
                }

                many[name] = value;
                few = [];
                count = 0;
                return;
            }

            if (count == few.Length)
            {
                Array.Resize(ref few, count == 0 ? 4 : MaxSearched);
            }

            few[count++] = (name, value);
        }
    }

    public bool TryGetValue(string name, out PlannedColumn column)
    {
        if (many is not null)
        {
            return many.TryGetValue(name, out column);
        }

        var at = IndexOf(name);
        column = at >= 0 ? few[at].Column : default;
        return at >= 0;
    }

    public bool Remove(string name) => Remove(name, out _);

    public bool Remove(string name, out PlannedColumn column)
    {
        if (many is not null)
        {
            return many.Remove(name, out column);
        }

        var at = IndexOf(name);
        if (at < 0)
        {
            column = default;
            return false;
        }

        column = few[at].Column;
        Array.Copy(few, at + 1, few, at, count - at - 1);
        few[--count] = default;
        return true;
    }

    private int IndexOf(string name)
    {
        for (var i = 0; i < count; i++)
        {
            if (string.Equals(few[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A table the plan has touched: created by it (new) or already there (existing), with what the plan has learned.</summary>
internal sealed class PlannedTable
{
    public PlannedTable(ObjectName name, bool isNew)
    {
        Name = name;
        IsNew = isNew;
    }

    public ObjectName Name { get; set; }

    /// <summary>An existing table the plan renamed to <see cref="Name"/> (the live schema still knows it by its old name).</summary>
    public bool RenamedFromExisting { get; set; }

    /// <summary>Created earlier in this plan: empty, unknown to the running version, so locks and renames on it are harmless.</summary>
    public bool IsNew { get; private set; }

    /// <summary>Created by an earlier rollout (an earlier file when a directory is linted file by file): it exists, whatever a live schema says.</summary>
    public bool FromEarlierRollout { get; private set; }

    /// <summary>The rollout that created this table is over: from now on it is an existing, possibly large table.</summary>
    public void Settle()
    {
        FromEarlierRollout |= IsNew;
        IsNew = false;
        addedColumnFills?.Clear();
    }

    /// <summary>
    /// Columns this rollout added to the existing table, with what every existing row holds in them (the running version
    /// does not know them either, so its inserts fill them the same way).
    /// </summary>
    public Dictionary<string, ColumnFill> AddedColumnFills => addedColumnFills ??= new(StringComparer.Ordinal);

    // This one and the two below are made on first use: most tables never need them, and every table a plan creates
    // stays in memory to the end of the lint (three empty sets each for a 10 MB file's 11,000 tables).
    private Dictionary<string, ColumnFill>? addedColumnFills;

    /// <summary>Column definitions seen in this plan (all columns of a new table; added or redefined ones of an existing table).</summary>
    public PlannedColumns Columns { get; } = new();

    /// <summary>Columns with a validated <c>CHECK (col IS NOT NULL)</c>, which lets PostgreSQL 12+ SET NOT NULL without a scan.</summary>
    public HashSet<string> ProvenNotNull => provenNotNull ??= new(StringComparer.Ordinal);

    private HashSet<string>? provenNotNull;

    /// <summary><c>CHECK (col IS NOT NULL) NOT VALID</c> constraints by name, waiting for VALIDATE CONSTRAINT to prove the column.</summary>
    public Dictionary<string, string> PendingNotNullChecks => pendingNotNullChecks ??= new(StringComparer.Ordinal);

    private Dictionary<string, string>? pendingNotNullChecks;
}

/// <summary>
/// The objects a plan creates, as the linter walks it in order, plus lookups into the live schema when there is one.
/// "New" objects are the ones created earlier in the same plan: indexing, altering or dropping them is not a hazard.
/// </summary>
internal sealed class PlanState
{
    private readonly Dictionary<string, PlannedTable> tables = new(StringComparer.Ordinal);
    private readonly HashSet<string> newIndexes = new(StringComparer.Ordinal);
    private readonly HashSet<string> newViews = new(StringComparer.Ordinal);
    private readonly HashSet<string> newTypes = new(StringComparer.Ordinal);
    private readonly HashSet<string> newRoutines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ColumnFacts?> liveColumnCache = new(StringComparer.Ordinal);

    public PlanState(SqlDialect dialect, LintOptions options)
    {
        Dialect = dialect;
        Options = options;
    }

    public SqlDialect Dialect { get; }

    /// <summary>
    /// The MySQL-family server the plan runs on, when known; a version 10 or above is MariaDB (MySQL went from 8 to 9),
    /// whatever the version text said. Null for PostgreSQL.
    /// </summary>
    public ServerVersion? MySqlServer => Dialect != SqlDialect.MySql || Options.Server is not { } server ? null
        : server.Major >= 10 && !server.IsMariaDb ? server with { IsMariaDb = true } : server;

    public LintOptions Options { get; }

    private readonly Dictionary<string, (SessionValue Value, string File)> earlierSessionSets = new(StringComparer.Ordinal);

    /// <summary>A migration ended: what it set in its session is gone (each file runs on a session of its own), but remembered for the notes of later files.</summary>
    public void EndMigrationSession(string file, SessionSettings session)
    {
        foreach (var (name, value) in session.Values)
        {
            earlierSessionSets[name] = (value, file);
        }
    }

    /// <summary>
    /// For a finding that an earlier file's session setting would have changed had it carried over: the clause that
    /// says it does not, or null when no earlier file set <paramref name="name"/> as <paramref name="wouldMatter"/> wants.
    /// </summary>
    public string? EarlierSessionNote(string name, Func<string, bool> wouldMatter)
    {
        if (!earlierSessionSets.TryGetValue(name, out var earlier) || !wouldMatter(earlier.Value.Value))
        {
            return null;
        }

        return $" (the SET {name} = {earlier.Value.Value} at {earlier.Value.Where} does not reach this file: each migration file runs on a session of its own, so set it again here)";
    }

    private bool IgnoreCase => Dialect == SqlDialect.MySql;

    public bool IsNewTable(ObjectName table) => tables.TryGetValue(table.Name, out var t) && t.IsNew;

    /// <summary>The live schema is known and has no such table, and the plan did not rename an existing table to this name.</summary>
    public bool KnownAbsent(ObjectName table) =>
        Options.Schema is not null && Live(table) is null &&
        !(tables.TryGetValue(table.Name, out var planned) && (planned.RenamedFromExisting || planned.FromEarlierRollout));

    /// <summary>
    /// Ends one rollout: what it created now exists, with the columns it was given, and the next rollout judges
    /// changes to it as changes to a table that may hold rows and is in use by the running version.
    /// </summary>
    public void EndRollout()
    {
        foreach (var table in tables.Values)
        {
            table.Settle();
        }

        newIndexes.Clear();
        newViews.Clear();
        newTypes.Clear();
        newRoutines.Clear();
    }

    public bool IsNewIndex(string name) => newIndexes.Contains(name);

    public bool IsNewView(ObjectName name) => newViews.Contains(name.Name);

    public bool IsNewType(ObjectName name) => newTypes.Contains(name.Name);

    public bool IsNewRoutine(ObjectName name) => newRoutines.Contains(name.Name);

    public PlannedTable? Find(ObjectName table) => tables.GetValueOrDefault(table.Name);

    /// <summary>The plan's record of a table, creating an "existing" record on first touch.</summary>
    public PlannedTable Touch(ObjectName table)
    {
        if (!tables.TryGetValue(table.Name, out var planned))
        {
            planned = new PlannedTable(table, isNew: false);
            tables[table.Name] = planned;
        }

        return planned;
    }

    public SchemaTable? Live(ObjectName table) => Options.Schema?.Find(table.Schema, table.Name, IgnoreCase);

    public void CreateTable(ObjectName name, bool ifNotExists, IEnumerable<ColumnDefinition> columns, IEnumerable<ConstraintDefinition> constraints)
    {
        if (ifNotExists && (Live(name) is not null || (tables.TryGetValue(name.Name, out var known) && !known.IsNew)))
        {
            // CREATE TABLE IF NOT EXISTS of a table that is already there creates nothing.
            return;
        }

        var table = new PlannedTable(name, isNew: true);
        foreach (var column in columns)
        {
            table.Columns[column.Name] = PlannedColumn.Of(column);
        }

        foreach (var constraint in constraints)
        {
            RecordConstraint(name, constraint.Name, constraint.Kind);
            if (constraint.CheckNotNullColumn is { } proven && !constraint.NotValid)
            {
                table.ProvenNotNull.Add(proven);
            }
        }

        tables[name.Name] = table;
    }

    public void DropTable(ObjectName name) => tables.Remove(name.Name);

    private readonly Dictionary<string, ConstraintKind> constraintKinds = new(StringComparer.Ordinal);

    /// <summary>Remembers a named constraint's kind, so dropping it later (in this plan or a later file) knows what it drops.</summary>
    public void RecordConstraint(ObjectName table, string? name, ConstraintKind kind)
    {
        if (name is not null)
        {
            constraintKinds[$"{table.Name}\n{(IgnoreCase ? name.ToLowerInvariant() : name)}"] = kind;
        }
    }

    /// <summary>The kind of a named constraint created earlier, or <see cref="ConstraintKind.Unknown"/>.</summary>
    public ConstraintKind ConstraintKindOf(ObjectName table, string name) =>
        constraintKinds.GetValueOrDefault($"{table.Name}\n{(IgnoreCase ? name.ToLowerInvariant() : name)}", ConstraintKind.Unknown);

    /// <summary>What the existing rows of <paramref name="table"/> hold in <paramref name="column"/> if this rollout added it, else null.</summary>
    public ColumnFill? AddedColumnFill(ObjectName table, string column) =>
        tables.TryGetValue(table.Name, out var planned) && planned.AddedColumnFills.TryGetValue(column, out var fill) ? fill : null;

    public void RenameTable(ObjectName from, ObjectName to)
    {
        if (!tables.Remove(from.Name, out var table))
        {
            table = new PlannedTable(from, isNew: false);
        }

        table.Name = to;
        table.RenamedFromExisting |= !table.IsNew;
        tables[to.Name] = table;
    }

    public void CreateIndex(string? name)
    {
        if (name is not null)
        {
            newIndexes.Add(name);
        }
    }

    public void CreateView(ObjectName name) => newViews.Add(name.Name);

    public void CreateType(ObjectName name) => newTypes.Add(name.Name);

    public void CreateRoutine(ObjectName name) => newRoutines.Add(name.Name);

    /// <summary>What the plan or the live schema knows of a column, or null.</summary>
    public ColumnFacts? Column(ObjectName table, string column)
    {
        if (tables.TryGetValue(table.Name, out var planned) && planned.Columns.TryGetValue(column, out var known))
        {
            return known.Facts;
        }

        if (planned is { IsNew: true } || Options.Schema is null)
        {
            // Without a live schema there is nothing to look up, nor to cache (a key for each such column of a 10 MB file).
            return null;
        }

        var key = $"{table}\n{column}";
        if (!liveColumnCache.TryGetValue(key, out var facts))
        {
            var live = Live(table)?.FindColumn(column, IgnoreCase);
            facts = live is null ? null : new ColumnFacts(ParseType(live.DataType), live.NotNull, live.HasDefault, live.AutoIncrement, live.HasComment);
            liveColumnCache[key] = facts;
        }

        return facts;
    }

    private SqlType? ParseType(string dataType)
    {
        var split = SqlSplitter.Split(dataType, Dialect, "schema");
        var tokens = split.Statements.SelectMany(s => s.Tokens).Where(t => StatementTokens.IsCode(t.Kind)).ToArray();
        var view = new StatementTokens(dataType, "schema", Dialect, tokens);
        var index = 0;
        return SqlType.Read(view, ref index, view.Count);
    }
}
