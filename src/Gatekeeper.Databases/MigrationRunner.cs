using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;

namespace Gatekeeper.Databases;

public enum MigrationRunStatus
{
    /// <summary>Nothing was pending; nothing was written.</summary>
    UpToDate,
    /// <summary>Every pending migration applied.</summary>
    Applied,
    /// <summary>The plan has drift, missing or out-of-order findings; nothing ran.</summary>
    PlanBlocked,
    /// <summary>An earlier migration failed half-way and is marked dirty; nothing ran until it is repaired.</summary>
    Dirty,
    /// <summary>A migration failed; the ones before it stay applied.</summary>
    Failed,
    /// <summary>Another runner held the migration lock for the whole timeout; nothing ran.</summary>
    LockNotAcquired,
    /// <summary>The plan verdict refused the plan made under the lock (a blocking lint finding, not the expected plan); nothing ran.</summary>
    Rejected,
}

public enum MigrationProgressKind
{
    Started,
    Finished,
    Failed,
}

/// <summary>Reported as each migration starts and ends, for output that shows timings as it runs.</summary>
/// <param name="Index">0-based position in the plan.</param>
public sealed record MigrationProgress(MigrationProgressKind Kind, Migration Migration, int Index, int Total, TimeSpan? Elapsed, MigrationFailure? Failure);

/// <summary>What a run did, with a one-line <see cref="Message"/> for people.</summary>
public sealed record MigrationRunResult(
    MigrationRunStatus Status,
    MigrationPlan? Plan,
    IReadOnlyList<MigrationApplyResult> Applied,
    MigrationFailure? Failure,
    string Message)
{
    public bool Succeeded => Status is MigrationRunStatus.UpToDate or MigrationRunStatus.Applied;

    /// <summary>The verdict on the plan made under the lock, when the runner was given a judge.</summary>
    public PlanVerdict? Verdict { get; init; }
}

/// <summary>A plan and, when it was not blocked, its dry-run.</summary>
public sealed record MigrationDryRunResult(MigrationPlan Plan, DryRunReport? Report)
{
    public bool Succeeded => !Plan.IsBlocked && Report is { Succeeded: true };
}

public sealed record MigrationRunnerOptions
{
    /// <summary>How long to wait for another runner's migration lock.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Turns the directory and the history into a plan; <see cref="MigrationPlanner.Plan"/> unless replaced.</summary>
    public Func<MigrationDirectory, HistoryState, DatabaseIdentity, MigrationPlan> Plan { get; init; } = MigrationPlanner.Plan;

    /// <summary>
    /// Judges the plan made under the lock (never a blocked one) before anything is applied, with the one plan verdict
    /// (<see cref="PlanJudge.Judge"/>): a rejection applies nothing. Null admits every plan that is not blocked.
    /// </summary>
    public Func<MigrationPlan, CancellationToken, Task<PlanVerdict>>? Judge { get; init; }
}

/// <summary>
/// The migration pipeline in the order it must happen: take the lock, read the history, refuse a dirty database, plan,
/// apply each pending migration in order, release the lock. Every runner started at once on one database applies each
/// migration exactly once: they queue on the lock, and the ones that get it later find nothing pending.
/// </summary>
public sealed class MigrationRunner(IMigrationDatabase database, MigrationRunnerOptions? options = null)
{
    private readonly MigrationRunnerOptions _options = options ?? new MigrationRunnerOptions();

    public Task<MigrationRunResult> RunAsync(MigrationDirectory directory, IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return RunAsync(Task.FromResult(directory), progress, cancellationToken);
    }

    /// <summary>
    /// Runs as <see cref="RunAsync(MigrationDirectory, IProgress{MigrationProgress}?, CancellationToken)"/> while the
    /// directory is still being read: the connections and the lock (which need only the database and the history table)
    /// are taken meanwhile, and nothing is read from the history or planned before the directory is there. A directory
    /// that cannot be read is thrown before any database problem, as when it was read first, and releases the lock.
    /// </summary>
    public async Task<MigrationRunResult> RunAsync(Task<MigrationDirectory> reading, IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reading);
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The lock takes a session of its own; the session for history and files connects beside it, not after it: on a
        // thread of its own, since called from here a handshake whose replies are already waiting when read (a nearby
        // server) runs synchronously to its end, and the lock's handshake began only after it (strace on kestra: 5-11 ms
        // later, each handshake loading OpenSSL and computing SCRAM's proof on this thread).
        var connecting = Task.Run(() => ConnectQuietlyAsync(abandon.Token), CancellationToken.None);
        var locking = database.AcquireMigrationLockAsync(_options.LockTimeout, abandon.Token);
        if (await Task.WhenAny(locking, reading).ConfigureAwait(false) == reading && !reading.IsCompletedSuccessfully)
        {
            // A directory that cannot be read is the answer at once, not after a slow connection or another runner's lock.
            // Neither driver gives up a handshake the server has not answered when told to: a server that took the
            // connection and stayed silent held this answer for the whole connection timeout (15 s by default, as long as
            // the URL's connect_timeout). The lock is released, and the early session closed, when those attempts end.
            await abandon.CancelAsync().ConfigureAwait(false);
            _ = ReleaseQuietlyAsync(locking);
            await reading.ConfigureAwait(false);
        }

        IAsyncDisposable migrationLock;
        try
        {
            migrationLock = await locking.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DatabaseException or OperationCanceledException)
        {
            await connecting.ConfigureAwait(false);
            await reading.ConfigureAwait(false);
            if (ex is DatabaseException { Kind: DatabaseErrorKind.MigrationLockHeld })
            {
                return new MigrationRunResult(MigrationRunStatus.LockNotAcquired, null, [], null, ex.Message);
            }

            throw;
        }

        await using (migrationLock.ConfigureAwait(false))
        {
            await connecting.ConfigureAwait(false);
            var directory = await reading.ConfigureAwait(false);
            var history = await database.ReadHistoryAsync(cancellationToken).ConfigureAwait(false);
            if (DirtyMessage(history, database.Identity.Database) is { } dirty)
            {
                return new MigrationRunResult(MigrationRunStatus.Dirty, null, [], null, dirty);
            }

            var plan = _options.Plan(directory, history, database.Identity);
            if (plan.IsBlocked)
            {
                return new MigrationRunResult(MigrationRunStatus.PlanBlocked, plan, [], null, string.Join("; ", plan.Problems.Select(p => p.Message)));
            }

            PlanVerdict? verdict = null;
            if (_options.Judge is { } judge)
            {
                verdict = await judge(plan, cancellationToken).ConfigureAwait(false);
                if (!verdict.Allowed)
                {
                    return new MigrationRunResult(MigrationRunStatus.Rejected, plan, [], null, verdict.Message ?? verdict.Reason) { Verdict = verdict };
                }
            }

            if (plan.IsEmpty)
            {
                return new MigrationRunResult(MigrationRunStatus.UpToDate, plan, [], null, $"{database.Identity.Database} is up to date; nothing to apply") { Verdict = verdict };
            }

            var applied = new List<MigrationApplyResult>(plan.Pending.Count);
            for (var i = 0; i < plan.Pending.Count; i++)
            {
                var migration = plan.Pending[i];
                progress?.Report(new MigrationProgress(MigrationProgressKind.Started, migration, i, plan.Pending.Count, null, null));
                var result = await database.ApplyAsync(directory, migration, cancellationToken).ConfigureAwait(false);
                if (result.Failure is { } failure)
                {
                    progress?.Report(new MigrationProgress(MigrationProgressKind.Failed, migration, i, plan.Pending.Count, result.Elapsed, failure));
                    var suffix = failure.LeftDirty
                        ? $"; it is marked dirty: repair the schema by hand, then run `gatekeeper repair --version {migration.Id} --resolution retry|applied`"
                        : "; nothing of it was applied";
                    // A lost connection is the server's or the network's doing, not the file's: say which server.
                    var what = IsConnectionFailure(failure)
                        ? $"migration {migration.Id} was cut off: the connection to {database.Identity.Endpoint} was lost at {failure}"
                        : $"migration {migration.Id} failed at {failure}";
                    return new MigrationRunResult(MigrationRunStatus.Failed, plan, applied, failure, what + suffix) { Verdict = verdict };
                }

                applied.Add(result);
                progress?.Report(new MigrationProgress(MigrationProgressKind.Finished, migration, i, plan.Pending.Count, result.Elapsed, null));
            }

            return new MigrationRunResult(MigrationRunStatus.Applied, plan, applied, null, $"applied {applied.Count} migration{(applied.Count == 1 ? string.Empty : "s")} to {database.Identity.Database}") { Verdict = verdict };
        }
    }

    /// <summary>Releases a lock taken for a run that stops before it starts; a lock that was never taken has nothing to release.</summary>
    private static async Task ReleaseQuietlyAsync(Task<IAsyncDisposable> locking)
    {
        try
        {
            await (await locking.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DatabaseException or OperationCanceledException)
        {
            // Never taken (cancelled, or the server's own problem): the run's real failure is reported instead.
        }
    }

    /// <summary>A failed early connection is not this call's to report: the next call that needs the server meets it and says why.</summary>
    private async Task ConnectQuietlyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await database.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DatabaseException or OperationCanceledException)
        {
            // Reported by the lock or the history read, which need the same server.
        }
    }

    /// <summary>
    /// Plans against the live history (without the lock: nothing is written) and dry-runs the pending migrations on a
    /// throwaway copy on the database's own server.
    /// </summary>
    public Task<MigrationDryRunResult> DryRunAsync(MigrationDirectory directory, CancellationToken cancellationToken) =>
        DryRunAsync(directory, DryRunSettings.OffProduction, cancellationToken);

    /// <summary>Plans against the live history (without the lock: nothing is written) and dry-runs the pending migrations as <paramref name="settings"/> say.</summary>
    public async Task<MigrationDryRunResult> DryRunAsync(MigrationDirectory directory, DryRunSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(settings);
        var history = await database.ReadHistoryAsync(cancellationToken).ConfigureAwait(false);
        var plan = _options.Plan(directory, history, database.Identity);
        if (plan.IsBlocked || DirtyMessage(history) is not null)
        {
            return new MigrationDryRunResult(plan, null);
        }

        var report = await database.DryRunAsync(directory, plan.Pending, settings, cancellationToken).ConfigureAwait(false);
        return new MigrationDryRunResult(plan, report);
    }

    /// <summary>True when the session broke (server stopped, network cut) rather than the migration's SQL failing.</summary>
    public static bool IsConnectionFailure(MigrationFailure failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return failure.Kind is DatabaseErrorKind.ConnectionLost or DatabaseErrorKind.Unreachable;
    }

    /// <summary>The refusal for a database with a migration left dirty, naming where it stopped and how to repair.</summary>
    public static string? DirtyMessage(HistoryState history, string? database = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        var row = history.Applied.LastOrDefault(a => a.Dirty);
        if (row is null)
        {
            return null;
        }

        var where = row.Failure is null ? string.Empty : $" at {row.Failure}";
        return $"migration {row.Id} failed half-way{(database is null ? string.Empty : " on " + database)}{where}; " +
               $"repair the schema by hand, then run `gatekeeper repair --version {row.Id} --resolution retry|applied`";
    }
}
