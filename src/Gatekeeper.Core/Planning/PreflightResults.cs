using Gatekeeper.Core.Integrity;

namespace Gatekeeper.Core.Planning;

/// <summary>
/// A session of the live database that a plan's locks would queue behind: who (server process or connection id and
/// user, never the query or its values), in which state, for how long, holding (or waiting for) which lock on which
/// of the plan's tables.
/// </summary>
/// <param name="Session">"pid 4242" (PostgreSQL), "connection 17" (MySQL).</param>
/// <param name="State">"idle in transaction", "active", "Sleep", …</param>
/// <param name="TransactionAge">How long its transaction has been open; null when the server would not say.</param>
/// <param name="Lock">The lock it holds or waits for ("AccessShareLock", "SHARED_READ"); null when the server cannot say.</param>
/// <param name="Table">The plan's table it holds the lock on; null when the server cannot say which (MySQL without performance_schema).</param>
/// <param name="Waiting">True when it is itself waiting for the lock (a queue the plan would join).</param>
public sealed record LockBlocker(string Session, string? User, string? State, TimeSpan? TransactionAge, string? Lock, TableName? Table, bool Waiting)
{
    public override string ToString()
    {
        var who = User is null ? Session : $"{Session} (user {User})";
        var state = State is null ? string.Empty : $", {State}";
        var age = TransactionAge is { } a ? $", transaction open for {Format(a)}" : ", transaction age unknown";
        var what = Lock is null && Table is null
            ? " may hold locks on the plan's tables (the server does not say which)"
            : $" {(Waiting ? "waits for" : "holds")} {Lock ?? "a lock"} on {Table?.ToString() ?? "one of the plan's tables"}";
        return who + what + state + age;
    }

    private static string Format(TimeSpan age) => age.TotalHours >= 1
        ? $"{(int)age.TotalHours}h{age.Minutes:00}m"
        : age.TotalMinutes >= 1 ? $"{(int)age.TotalMinutes}m{age.Seconds:00}s" : $"{Math.Max(0, (int)age.TotalSeconds)}s";
}

/// <summary>An index left INVALID (by a failed CREATE INDEX CONCURRENTLY) on one of the plan's tables.</summary>
public sealed record InvalidIndex(TableName Table, string Index)
{
    public override string ToString() => $"index {Index} on {Table} is INVALID (a CREATE INDEX CONCURRENTLY failed): it slows every write and answers no query; drop it (DROP INDEX CONCURRENTLY) and build it again";
}

/// <summary>What the lock pre-flight saw on the live database, before a plan that takes strong locks is admitted.</summary>
/// <param name="Notes">What it could not see, and why (a missing privilege, no performance_schema).</param>
public sealed record LockPreflight(IReadOnlyList<LockBlocker> Blockers, IReadOnlyList<InvalidIndex> InvalidIndexes, IReadOnlyList<string> Notes)
{
    public static LockPreflight Clear { get; } = new([], [], []);
}

/// <summary>One existing row that would make a pending change fail, named only by its primary key.</summary>
/// <param name="Row">"id = 42", "(tenant, id) = (3, 7)"; null when the table has no primary key to name a row by.</param>
public sealed record DataViolation(DataCheck Check, string? Row)
{
    public override string ToString()
    {
        var check = Check;
        var row = Row is null ? "a row (the table has no primary key to name it by)" : $"the row with {Row}";
        var columns = string.Join(", ", check.Columns);
        var why = check.Kind switch
        {
            DataCheckKind.Unique => $"rows share a value of {columns}, e.g. {row}",
            DataCheckKind.NotNull => $"{columns} is NULL in {row}",
            DataCheckKind.Check => $"{row} does not satisfy it",
            DataCheckKind.ForeignKey => $"{row} has a {columns} that {check.ReferencedTable} does not have",
            DataCheckKind.FitsType => $"the {columns} of {row} does not fit {check.Limit?.Type}",
            DataCheckKind.NoRows => $"the table has rows ({row}), which would get NULL in {columns}",
            _ => throw new ArgumentOutOfRangeException(nameof(check), check.Kind, "unknown data check"),
        };
        return $"{check.Location}: {check.What} on {check.Table} fails on existing rows: {why}";
    }
}

/// <summary>What the data pre-checks found: rows that would fail the plan, and checks that could not run (and why).</summary>
public sealed record DataPrechecks(IReadOnlyList<DataViolation> Violations, IReadOnlyList<string> NotChecked)
{
    public static DataPrechecks Clean { get; } = new([], []);
}

/// <summary>What a lock pre-flight that finds blockers does to the plan (<c>gatekeeper.dev/lock-preflight</c>, <c>--lock-preflight</c>).</summary>
public enum LockPreflightPolicy
{
    /// <summary>The default: deny, naming what blocks, so the Job does not queue every query on the table behind it.</summary>
    Deny,
    /// <summary>Admit with the blockers as warnings (the Job's lock timeout and retries then deal with them).</summary>
    Warn,
}

/// <summary>What the read-only pre-flight of the live database showed about a plan, or why there is none.</summary>
public abstract record PreflightEvidence
{
    private PreflightEvidence()
    {
    }

    /// <summary>Not asked for (nothing pending, or a caller that does not look); nothing is said.</summary>
    public sealed record NotRun : PreflightEvidence;

    /// <summary>The database could not be asked (down, or silent within the request's budget); nothing is known.</summary>
    public sealed record Unreachable(string Message) : PreflightEvidence;

    public sealed record Ran(LockPreflight Locks, DataPrechecks Data) : PreflightEvidence;

    public static PreflightEvidence None { get; } = new NotRun();
}

/// <summary>The pre-flight's texts: what blocks or fails, on which table, and what to do, in the reader's own terms.</summary>
public static class PreflightMessages
{
    public static string ExistingRows(VerdictAudience audience, string subject, MigrationPlan plan, IReadOnlyList<DataViolation> violations)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(violations);
        var text = new System.Text.StringBuilder();
        text.Append(Prefix(audience)).Append("plan ").Append(Hashes.Short(plan.Hash)).Append(" for ").Append(subject)
            .Append(" would fail on rows already in ").Append(plan.Database.Database).Append('\n');
        foreach (var violation in violations)
        {
            text.Append("  ").Append(violation).Append('\n');
        }

        text.Append("To proceed: fix the data first (a migration before this one, or by hand), or change the migration (NOT VALID constraints, a default); " +
                    "nothing was applied to the database.");
        return text.ToString();
    }

    public static string Blocked(VerdictAudience audience, string subject, MigrationPlan plan, IReadOnlyList<LockBlocker> blockers)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(blockers);
        var text = new System.Text.StringBuilder();
        text.Append(Prefix(audience)).Append("plan ").Append(Hashes.Short(plan.Hash)).Append(" for ").Append(subject)
            .Append(" would wait for its locks behind ").Append(blockers.Count).Append(blockers.Count == 1 ? " open transaction" : " open transactions")
            .Append(" on ").Append(plan.Database.Database).Append(", and every query on those tables would wait behind it\n");
        foreach (var blocker in blockers)
        {
            text.Append("  ").Append(blocker).Append('\n');
        }

        text.Append("To proceed: end those transactions (COMMIT or ROLLBACK where they were opened, or end the session) and apply again; or admit it anyway with ")
            .Append(audience == VerdictAudience.Admission ? "the annotation gatekeeper.dev/lock-preflight: \"warn\"" : "--lock-preflight warn")
            .Append(" (the migration then waits up to its lock timeout and retries). Nothing was applied to the database.");
        return text.ToString();
    }

    public static string PreflightUnreachable(VerdictAudience audience, MigrationPlan plan, string message)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return $"{Prefix(audience)}the pre-flight of plan {Hashes.Short(plan.Hash)} could not look at {plan.Database.Database}: {message}; nothing was applied, retry the apply";
    }

    private static string Prefix(VerdictAudience audience) => audience switch
    {
        VerdictAudience.Admission => "gatekeeper: ",
        VerdictAudience.CommandLine => string.Empty,
        _ => throw new ArgumentOutOfRangeException(nameof(audience), audience, "unknown verdict audience"),
    };
}
