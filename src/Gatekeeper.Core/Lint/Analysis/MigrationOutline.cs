using Gatekeeper.Core.Lint.Syntax;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>A kind of declaration a rule may look for elsewhere in the same migration.</summary>
internal enum OutlineFact
{
    /// <summary>A view or table: either keeps a renamed table's old name working.</summary>
    View,
    Routine,
    Type,
    Sequence,
    Constraint,
    PrimaryKey,
    AddedColumn,
    DefaultSet,
    IndexDroppedIfExists,
}

/// <summary>
/// Where each relevant declaration sits in a migration (by statement index), built in a first pass so that rules can
/// look ahead ("is this view recreated later?") and back ("was this index dropped IF EXISTS first?") without the
/// linter keeping every parsed statement of a 50 MB file alive.
/// </summary>
internal sealed class MigrationOutline
{
    private readonly Dictionary<(OutlineFact, string), (long First, long Last)> positions = [];
    private HashSet<string>? called;

    /// <summary>Some CALL in the migration names a procedure called <paramref name="name"/>, so its body must be kept for it.</summary>
    public bool IsCalled(string name) => called is not null && called.Contains(name);

    public bool Later(OutlineFact fact, string key, long position) => positions.TryGetValue((fact, key), out var at) && at.Last > position;

    public bool Earlier(OutlineFact fact, string key, long position) => positions.TryGetValue((fact, key), out var at) && at.First < position;

    public static string Key(ObjectName table, string name) => $"{table.Name}\n{name}";

    /// <summary>
    /// A position in the migration: the statement's index, and within it 0 for the statement itself or 1 + n for the
    /// n-th statement embedded in it (a DO body), so order is exact inside a DO block too.
    /// </summary>
    public static long Position(int statement, int embedded = -1) => ((long)statement << 20) | (uint)(embedded + 1);

    /// <summary>Records the table a CREATE TABLE statement creates, without parsing its columns.</summary>
    public void RecordCreatedTable(long index, StatementTokens t)
    {
        var at = t.FindWord(0, Math.Min(t.Count, 8), "table") + 1;
        if (at > 0 && t.IsWord(at, "if", "not", "exists"))
        {
            at += 3;
        }

        if (at > 0 && t.TryReadName(ref at, out var table))
        {
            Add(OutlineFact.View, table.Name, index);
        }
    }

    /// <summary>Records what <paramref name="statement"/> (statement number <paramref name="index"/>) declares.</summary>
    public void Record(long index, ParsedStatement statement)
    {
        switch (statement)
        {
            case CreateViewStatement view:
                Add(OutlineFact.View, view.Name.Name, index);
                break;
            case CreateTableStatement table:
                Add(OutlineFact.View, table.Table.Name, index);
                break;
            case CreateRoutineStatement routine:
                Add(OutlineFact.Routine, routine.Name.Name, index);
                break;
            case CallStatement call:
                (called ??= new HashSet<string>(StringComparer.Ordinal)).Add(call.Name.Name);
                break;
            case CreateEnumType type:
                Add(OutlineFact.Type, type.Type.Name, index);
                break;
            case CreateDomainStatement domain:
                Add(OutlineFact.Type, domain.Name.Name, index);
                break;
            case OtherStatement { Verb: "create type" or "create sequence" } other:
                var at = 2;
                if (other.Tokens.IsWord(at, "if", "not", "exists"))
                {
                    at += 3;
                }

                if (other.Tokens.TryReadName(ref at, out var created))
                {
                    Add(other.Verb == "create type" ? OutlineFact.Type : OutlineFact.Sequence, created.Name, index);
                }

                break;
            case DropIndexStatement { IfExists: true } drop:
                foreach (var name in drop.Names)
                {
                    Add(OutlineFact.IndexDroppedIfExists, name.Name, index);
                }

                break;
            case AlterTableStatement alter:
                // By index: a foreach over the IReadOnlyList boxed an enumerator for every ALTER TABLE.
                for (var actionIndex = 0; actionIndex < alter.Actions.Count; actionIndex++)
                {
                    var action = alter.Actions[actionIndex];
                    RecordAction(alter.Table, action, index);
                }

                break;
        }
    }

    private void RecordAction(ObjectName table, AlterAction action, long index)
    {
        switch (action)
        {
            case AddConstraint { Constraint.Kind: ConstraintKind.PrimaryKey }:
                Add(OutlineFact.PrimaryKey, table.Name, index);
                break;
            case AddConstraint { Constraint.Name: { } name }:
                Add(OutlineFact.Constraint, Key(table, name), index);
                break;
            case AddColumn add:
                Add(OutlineFact.AddedColumn, Key(table, add.Column.Name), index);
                if (add.Column.Default is { IsNull: false })
                {
                    Add(OutlineFact.DefaultSet, Key(table, add.Column.Name), index);
                }

                break;
            case SetDefault set:
                Add(OutlineFact.DefaultSet, Key(table, set.Column), index);
                break;
            case RedefineColumn { Column.Default: { IsNull: false } } redefine:
                Add(OutlineFact.DefaultSet, Key(table, redefine.Column.Name), index);
                break;
        }
    }

    private void Add(OutlineFact fact, string key, long index)
    {
        positions[(fact, key)] = positions.TryGetValue((fact, key), out var at) ? (Math.Min(at.First, index), Math.Max(at.Last, index)) : (index, index);
    }
}
