using System.Runtime.InteropServices;
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
/// Where each relevant declaration sits in a migration (by statement index), so that rules can look ahead ("is this
/// view recreated later?") and back ("was this index dropped IF EXISTS first?") without the linter keeping every parsed
/// statement of a 50 MB file alive.
/// </summary>
/// <remarks>
/// Built as the statements are judged (<see cref="Record"/> before each is judged), which answers every look back; a
/// look ahead (<see cref="Later"/>, <see cref="LastStatement"/>, a <see cref="IsCalled"/> in a migration that has the
/// word CALL) first completes it with a pass of its own over the whole migration (<paramref name="complete"/>). Most
/// migrations never look ahead, and then each statement is cut and parsed once: the first pass that every migration
/// had was a third of linting a 10 MB file, and with a second thread the judging waited for it to end.
/// </remarks>
internal sealed class MigrationOutline(Func<MigrationOutline>? complete = null, string? text = null)
{
    private readonly Dictionary<(OutlineFact, string), (long First, long Last)> positions = [];
    private HashSet<string>? called;
    private MigrationOutline? whole;
    private int lastStatement = -1;
    private bool? mayCall;

    /// <summary>Some CALL in the migration names a procedure called <paramref name="name"/>, so its body must be kept for it.</summary>
    public bool IsCalled(string name)
    {
        if (complete is not null && whole is null && !(mayCall ??= HasWordCall(text ?? string.Empty)))
        {
            // Without the word CALL anywhere in its text (comments and strings included) nothing in the migration calls.
            return false;
        }

        var outline = Whole;
        return outline.called is not null && outline.called.Contains(name);
    }

    public bool Later(OutlineFact fact, string key, long position) => Whole.positions.TryGetValue((fact, key), out var at) && at.Last > position;

    /// <summary>Needs only what <see cref="Record"/> was given: every statement up to the one being judged.</summary>
    public bool Earlier(OutlineFact fact, string key, long position) => (whole ?? this).positions.TryGetValue((fact, key), out var at) && at.First < position;

    /// <summary>Index of the migration's last statement that holds code.</summary>
    public int LastStatement
    {
        get => Whole.lastStatement;
        set => lastStatement = value;
    }

    /// <summary>Recording is only needed until the whole migration has been outlined.</summary>
    public bool IsWhole => complete is null || whole is not null;

    private MigrationOutline Whole => complete is null ? this : whole ??= complete();

    private static bool HasWordCall(string text)
    {
        for (var at = text.IndexOf("call", StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf("call", at + 1, StringComparison.OrdinalIgnoreCase))
        {
            // Erring towards "may call" (which only costs the whole pass): a word goes on only through ASCII letters,
            // digits and underscores here, whatever else the lexer reads as part of it.
            if ((at == 0 || !(char.IsAsciiLetter(text[at - 1]) || text[at - 1] == '_')) && (at + 4 >= text.Length || !(char.IsAsciiLetterOrDigit(text[at + 4]) || text[at + 4] == '_')))
            {
                return true;
            }
        }

        return false;
    }

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
        // One lookup rather than a TryGetValue and a store (hashing the key twice was 1.2 % of linting a 10 MB file).
        ref var at = ref CollectionsMarshal.GetValueRefOrAddDefault(positions, (fact, key), out var exists);
        at = exists ? (Math.Min(at.First, index), Math.Max(at.Last, index)) : (index, index);
    }
}
