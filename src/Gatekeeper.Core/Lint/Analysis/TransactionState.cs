using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>
/// Where a migration is, transaction-wise, as its statements are walked: inside the runner's transaction, inside one
/// the file opened itself, or in autocommit (each statement its own transaction), and what the current transaction has done.
/// </summary>
internal sealed class TransactionState
{
    public TransactionState(bool runnerWrapped)
    {
        RunnerWrapped = runnerWrapped;
        InTransaction = runnerWrapped;
    }

    /// <summary>The runner runs the whole file in one transaction (PostgreSQL migrations not marked non-transactional).</summary>
    public bool RunnerWrapped { get; }

    public bool InTransaction { get; set; }

    /// <summary>Where the file opened its own transaction (BEGIN / START TRANSACTION), while it is open.</summary>
    public SourceLocation? OpenedByFileAt { get; set; }

    /// <summary>Statements (other than transaction commands) run in the current transaction so far.</summary>
    public int StatementsRun { get; set; }

    /// <summary>The file committed the runner's wrapping transaction itself; a BEGIN after it reopens the wrapper, which the runner commits at the end.</summary>
    public bool RunnerTransactionEnded { get; set; }

    /// <summary>MySQL: a DDL statement already committed this explicit transaction implicitly (reported once).</summary>
    public bool ImplicitCommitReported { get; set; }

    public List<(ObjectName Type, string Value, SourceLocation Where)> AddedEnumValues { get; } = [];

    public HashSet<string> TypesCreated { get; } = new(StringComparer.Ordinal);

    /// <summary>Existing tables on which DDL took a strong lock that lasts until this transaction ends.</summary>
    public StrongLocks StrongLocks { get; } = new();

    /// <summary>Constraints added NOT VALID in this transaction, by name.</summary>
    public Dictionary<string, (ObjectName Table, SourceLocation Where)> NotValidConstraints { get; } = new(StringComparer.Ordinal);

    /// <summary>A new transaction starts: forget what the previous one did.</summary>
    public void StartNew()
    {
        AddedEnumValues.Clear();
        TypesCreated.Clear();
        StrongLocks.Clear();
        NotValidConstraints.Clear();
        ImplicitCommitReported = false;
        StatementsRun = 0;
    }
}

/// <summary>
/// The strong locks a transaction holds, as its rules read them: the first one taken (what the message names), and the
/// distinct tables locked (whether they are all one table). A list of every lock grew without bound in a file the
/// runner wraps in one transaction: 33,000 entries, a 3 MB array on the large-object heap, for a 10 MB file.
/// </summary>
internal sealed class StrongLocks
{
    // By schema and name only: that is all ObjectName.SameAs compares (the token differs per statement).
    private readonly HashSet<(string? Schema, string Name)> tables = [];

    /// <summary>The first lock taken in this transaction (its table follows later renames).</summary>
    public (ObjectName Table, string What, SourceLocation Where) First { get; private set; }

    public bool Any => tables.Count > 0;

    public void Add(ObjectName table, string what, SourceLocation where)
    {
        if (tables.Count == 0)
        {
            First = (table, what, where);
        }

        tables.Add((table.Schema, table.Name));
    }

    /// <summary>Every lock is on <paramref name="target"/>.</summary>
    /// <remarks>A loop, not a lambda: capturing <c>target</c> allocated a closure for every UPDATE and DELETE judged.</remarks>
    public bool OnlyOn(ObjectName target)
    {
        foreach (var (schema, name) in tables)
        {
            if (!new ObjectName(schema, name, 0).SameAs(target))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>ALTER TABLE … RENAME: the locks on <paramref name="from"/> are now on <paramref name="to"/>.</summary>
    public void Rename(ObjectName from, ObjectName to)
    {
        if (tables.Count == 0)
        {
            return;
        }

        if (First.Table.SameAs(from))
        {
            First = First with { Table = to };
        }

        var renamed = false;
        foreach (var table in tables.ToList())
        {
            if (new ObjectName(table.Schema, table.Name, 0).SameAs(from))
            {
                tables.Remove(table);
                renamed = true;
            }
        }

        if (renamed)
        {
            tables.Add((to.Schema, to.Name));
        }
    }

    public void Clear()
    {
        tables.Clear();
        First = default;
    }
}
