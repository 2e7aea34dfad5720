using System.Diagnostics.CodeAnalysis;
using Gatekeeper.Core.Schema;
using Gatekeeper.Databases.Execution;
using Gatekeeper.Databases.History;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ThrowawayDatabase = Gatekeeper.Databases.DevDatabase.ThrowawayDatabase;
using ThrowawayDatabaseOptions = Gatekeeper.Databases.DevDatabase.ThrowawayDatabaseOptions;

namespace Gatekeeper.Databases.Schema;

/// <summary>How long each step of a declarative plan took (the numbers <c>schema plan</c> prints and the benchmarks read).</summary>
public sealed record DeclarativePlanTimings(TimeSpan ReadLive, TimeSpan LoadDesired, TimeSpan Diff)
{
    public TimeSpan Total => ReadLive + LoadDesired + Diff;
}

/// <summary>A declarative plan, or where the desired state failed to load; with timings and the live server's facts.</summary>
public sealed record DeclarativePlanResult(
    SchemaPlan? Plan,
    DesiredSchemaLoadFailure? LoadFailure,
    DeclarativePlanTimings Timings,
    LiveServerFacts Live,
    IReadOnlyList<string> Warnings)
{
    [MemberNotNullWhen(true, nameof(Plan))]
    public bool Succeeded => Plan is not null;
}

public enum DeclarativeApplyStatus
{
    /// <summary>The database already matched; nothing was written.</summary>
    UpToDate,
    /// <summary>Every statement applied and the apply is recorded.</summary>
    Applied,
    /// <summary>The desired state did not load into the dev database; nothing was applied.</summary>
    LoadFailed,
    /// <summary>The plan made under the lock is blocked, unsafe or not the one expected; nothing was applied.</summary>
    Refused,
    /// <summary>A statement failed (on MySQL, those before it stay applied).</summary>
    Failed,
    /// <summary>Another runner held the lock for the whole timeout; nothing was applied.</summary>
    LockNotAcquired,
}

/// <summary>What an apply did, with a one-line <see cref="Message"/> for people.</summary>
public sealed record DeclarativeApplyResult(
    DeclarativeApplyStatus Status,
    DeclarativePlanResult? Planned,
    MigrationFailure? Failure,
    TimeSpan Elapsed,
    string Message)
{
    public bool Succeeded => Status is DeclarativeApplyStatus.UpToDate or DeclarativeApplyStatus.Applied;
}

public sealed record DeclarativeRunnerOptions
{
    /// <summary>Where applies are recorded (also the name the migration lock is keyed by).</summary>
    public HistoryTableName HistoryTable { get; init; } = new(null, DeclarativeHistoryTable.DefaultName);

    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromMinutes(2);

    public MigrationDatabaseOptions Database { get; init; } = new();

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// When true, the dev URL names a server, not a database: each plan creates a throwaway database there
    /// (<see cref="ThrowawayDatabase"/>, the dry-run's kind), loads the desired state into it and drops it.
    /// The credential needs the right to create databases; nothing has to be prepared or kept empty.
    /// </summary>
    public bool DevThrowaway { get; init; }

    /// <summary>Desired states already normalised by a dev server (the webhook plans the same files on every admission).</summary>
    public DesiredModelCache? DesiredModels { get; init; }
}

/// <summary>
/// The desired state as a dev server normalised it, by the files' hash and what the server normalises with (its flavor,
/// and on MySQL the default charset and collation). The load is deterministic for those, so a second plan of the same
/// files skips the dev database and only reads the live catalog and diffs. Bounded; the oldest entry goes first.
/// </summary>
public sealed class DesiredModelCache(int capacity = 32)
{
    private readonly Dictionary<string, SchemaModel> _models = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _models.Count;
            }
        }
    }

    internal static string Key(DesiredSchema desired, LiveServerFacts live) =>
        $"{desired.Hash}\n{live.ServerFlavor}\n{live.DefaultCharset}\n{live.DefaultCollation}";

    internal bool TryGet(string key, out SchemaModel model)
    {
        lock (_gate)
        {
            return _models.TryGetValue(key, out model!);
        }
    }

    internal void Add(string key, SchemaModel model)
    {
        lock (_gate)
        {
            if (!_models.TryAdd(key, model))
            {
                return;
            }

            _order.Enqueue(key);
            while (_models.Count > capacity && _order.TryDequeue(out var oldest))
            {
                _models.Remove(oldest);
            }
        }
    }
}

/// <summary>
/// The declarative pipeline: read the live schema, load the desired state into the dev database and read it back, diff
/// (<see cref="PlanAsync"/>); and under the migration lock, the same plan made again, judged, then applied and recorded
/// (<see cref="ApplyAsync"/>). The plan is always made under the lock before anything is applied, so two appliers
/// never both apply the same difference.
/// </summary>
public sealed class DeclarativeSchemaRunner(DatabaseUrl target, DatabaseUrl dev, SchemaExclusions exclusions, DeclarativeRunnerOptions? options = null, ILoggerFactory? loggerFactory = null)
{
    private readonly DeclarativeRunnerOptions _options = options ?? new DeclarativeRunnerOptions();
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DeclarativeSchemaRunner>();

    public Core.Planning.DatabaseIdentity Identity => target.ToIdentity(_options.HistoryTable.ToString());

    private string Label => $"database {target.Database} at {target.Endpoint}";

    public async Task<DeclarativePlanResult> PlanAsync(DesiredSchema desired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var time = _options.TimeProvider;
        var started = time.GetTimestamp();
        var (current, live) = await ReadLiveAsync(cancellationToken).ConfigureAwait(false);
        var readLive = time.GetElapsedTime(started);

        var load = await LoadDesiredAsync(desired, live, cancellationToken).ConfigureAwait(false);
        if (!load.Succeeded)
        {
            return new DeclarativePlanResult(null, load.Failure, new DeclarativePlanTimings(readLive, load.Elapsed, TimeSpan.Zero), live, load.Warnings);
        }

        var diffStarted = time.GetTimestamp();
        var plan = SchemaPlanner.Plan(current, load.Model, desired, exclusions, Identity);
        var timings = new DeclarativePlanTimings(readLive, load.Elapsed, time.GetElapsedTime(diffStarted));
        Log.SchemaPlanned(_logger, Label, plan.Changes.Count, plan.Hash, (long)timings.Total.TotalMilliseconds);
        return new DeclarativePlanResult(plan, null, timings, live, load.Warnings);
    }

    /// <summary>
    /// The desired state as the dev server normalises it: from the cache when the same files were loaded on a server of
    /// the same kind, else loaded into the dev database or a throwaway database on the dev server.
    /// </summary>
    private async Task<DesiredSchemaLoad> LoadDesiredAsync(DesiredSchema desired, LiveServerFacts live, CancellationToken cancellationToken)
    {
        var time = _options.TimeProvider;
        var key = DesiredModelCache.Key(desired, live);
        if (_options.DesiredModels?.TryGet(key, out var known) == true)
        {
            return new DesiredSchemaLoad(known, null, TimeSpan.Zero, []);
        }

        DesiredSchemaLoad load;
        if (_options.DevThrowaway)
        {
            var started = time.GetTimestamp();
            await using var throwaway = await ThrowawayDatabase.CreateAsync(
                dev, ThrowawayDatabase.NewName(time), new ThrowawayDatabaseOptions(live.DefaultCharset, live.DefaultCollation),
                time, _logger, cancellationToken).ConfigureAwait(false);
            load = await DevDatabase.LoadAsync(throwaway.Url, desired, live, cancellationToken, time).ConfigureAwait(false);
            load = load with { Elapsed = time.GetElapsedTime(started) };
        }
        else
        {
            load = await DevDatabase.LoadAsync(dev, desired, live, cancellationToken, time).ConfigureAwait(false);
        }

        if (load.Model is { } model)
        {
            _options.DesiredModels?.Add(key, model);
        }

        return load;
    }

    /// <summary>
    /// The last apply recorded in the declarative history (null when none, or the table does not exist yet): what the
    /// database was last made to match, so a difference from the same desired state is drift, not a change.
    /// </summary>
    public async Task<DeclarativeApply?> ReadLastAppliedAsync(CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(target, cancellationToken).ConfigureAwait(false);
        try
        {
            return await new DeclarativeHistoryTable(_options.HistoryTable, target.SqlEngine).ReadLastAppliedAsync(session, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            throw new DatabaseException(error.Kind, $"could not read {_options.HistoryTable} of {Label}: {error.ServerMessage}", error.ServerCode, ex);
        }
    }

    /// <summary>
    /// Takes the lock, plans again under it, asks <paramref name="refuse"/> whether that plan may run (lint, approval,
    /// expected hash: null means yes), applies it and records it.
    /// </summary>
    public async Task<DeclarativeApplyResult> ApplyAsync(DesiredSchema desired, Func<SchemaPlan, string?> refuse, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(refuse);
        var time = _options.TimeProvider;
        var started = time.GetTimestamp();
        var databaseOptions = _options.Database with { HistoryTable = _options.HistoryTable, TimeProvider = time };
        await using var database = MigrationDatabase.Open(target, databaseOptions, loggerFactory);
        IAsyncDisposable migrationLock;
        try
        {
            migrationLock = await database.AcquireMigrationLockAsync(_options.LockTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (DatabaseException ex) when (ex.Kind == DatabaseErrorKind.MigrationLockHeld)
        {
            return new DeclarativeApplyResult(DeclarativeApplyStatus.LockNotAcquired, null, null, time.GetElapsedTime(started), ex.Message);
        }

        await using (migrationLock.ConfigureAwait(false))
        {
            var planned = await PlanAsync(desired, cancellationToken).ConfigureAwait(false);
            if (planned.Plan is not { } plan)
            {
                return new DeclarativeApplyResult(DeclarativeApplyStatus.LoadFailed, planned, null, time.GetElapsedTime(started),
                    $"the desired state does not load into the dev database: {planned.LoadFailure}");
            }

            if (refuse(plan) is { } refusal)
            {
                return new DeclarativeApplyResult(DeclarativeApplyStatus.Refused, planned, null, time.GetElapsedTime(started), refusal);
            }

            if (plan.IsEmpty)
            {
                return new DeclarativeApplyResult(DeclarativeApplyStatus.UpToDate, planned, null, time.GetElapsedTime(started), $"{Label} already matches the desired state");
            }

            var failure = await ApplyPlanAsync(plan, databaseOptions, cancellationToken).ConfigureAwait(false);
            var elapsed = time.GetElapsedTime(started);
            if (failure is not null)
            {
                var kept = failure.LeftDirty
                    ? "statements before it stay applied; run schema apply again once it is fixed, it plans from what the database has now"
                    : "nothing was applied";
                return new DeclarativeApplyResult(DeclarativeApplyStatus.Failed, planned, failure, elapsed, $"plan {plan.Hash[..12]} failed at {failure}; {kept}");
            }

            return new DeclarativeApplyResult(DeclarativeApplyStatus.Applied, planned, null, elapsed,
                $"applied {plan.Changes.Count} statement{(plan.Changes.Count == 1 ? string.Empty : "s")} of plan {plan.Hash[..12]} to {Label}");
        }
    }

    private async Task<MigrationFailure?> ApplyPlanAsync(SchemaPlan plan, MigrationDatabaseOptions databaseOptions, CancellationToken cancellationToken)
    {
        var migration = plan.ToMigration();
        var script = MigrationScript.Prepare(migration, target.SqlEngine, null, Core.Sql.SqlModes.None, out var problems);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"the generated plan does not split back into statements: {problems[0]}");
        }

        var time = _options.TimeProvider;
        await using var session = await OpenAsync(target, cancellationToken).ConfigureAwait(false);
        var history = new DeclarativeHistoryTable(_options.HistoryTable, target.SqlEngine);
        await history.CreateAsync(session, cancellationToken).ConfigureAwait(false);
        var entry = new HistoryEntry(migration, null, script.Statements.Count);
        var applier = new MigrationApplier(target.SqlEngine, databaseOptions, Label, _logger);
        var result = await applier.ApplyAsync(session, history, script, entry, cancellationToken).ConfigureAwait(false);
        if (result.Failure is { LeftDirty: false } failure && session.Connection.State == System.Data.ConnectionState.Open)
        {
            // Nothing of it was kept: say so in the history, so the attempt is on record.
            await history.RecordFailedAsync(session, entry, result.Elapsed, time.GetUtcNow().UtcDateTime, failure.ToString(), cancellationToken).ConfigureAwait(false);
        }

        return result.Failure;
    }

    /// <summary>The live schema and the server facts the dev database must match.</summary>
    private async Task<(SchemaModel Model, LiveServerFacts Facts)> ReadLiveAsync(CancellationToken cancellationToken)
    {
        await using var session = await OpenAsync(target, cancellationToken).ConfigureAwait(false);
        session.LimitOwnStatements(_options.Database.OwnStatementTimeout);
        try
        {
            return await target.SqlEngine.Catalog.ReadLiveAsync(session, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            throw new DatabaseException(error.Kind, $"could not read the schema of {Label}: {error.ServerMessage}", error.ServerCode, ex);
        }
    }

    private static async Task<DbSession> OpenAsync(DatabaseUrl url, CancellationToken cancellationToken)
    {
        var connection = url.SqlEngine.CreateUnpooledConnection(url);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw DatabaseErrorClassifier.ForConnection(ex, url);
        }

        return new DbSession(connection, url.SqlEngine);
    }
}
