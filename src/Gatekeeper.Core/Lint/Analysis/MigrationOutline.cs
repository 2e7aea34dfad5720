using Gatekeeper.Core.Lint.Syntax;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>A kind of declaration a rule may look for elsewhere in the same migration.</summary>
internal enum OutlineFact
{
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
    private readonly Dictionary<(OutlineFact, string), (int First, int Last)> positions = [];

    public bool Later(OutlineFact fact, string key, int index) => positions.TryGetValue((fact, key), out var at) && at.Last > index;

    public bool Earlier(OutlineFact fact, string key, int index) => positions.TryGetValue((fact, key), out var at) && at.First < index;

    public static string Key(ObjectName table, string name) => $"{table.Name}\n{name}";

    /// <summary>Records what <paramref name="statement"/> (statement number <paramref name="index"/>) declares.</summary>
    public void Record(int index, ParsedStatement statement)
    {
        switch (statement)
        {
            case CreateViewStatement view:
                Add(OutlineFact.View, view.Name.Name, index);
                break;
            case CreateRoutineStatement routine:
                Add(OutlineFact.Routine, routine.Name.Name, index);
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
                foreach (var action in alter.Actions)
                {
                    RecordAction(alter.Table, action, index);
                }

                break;
        }
    }

    private void RecordAction(ObjectName table, AlterAction action, int index)
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

    private void Add(OutlineFact fact, string key, int index)
    {
        positions[(fact, key)] = positions.TryGetValue((fact, key), out var at) ? (Math.Min(at.First, index), Math.Max(at.Last, index)) : (index, index);
    }
}
