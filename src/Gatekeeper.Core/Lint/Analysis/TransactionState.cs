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
    public List<(ObjectName Table, string What, SourceLocation Where)> StrongLocks { get; } = [];

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
