using System.Collections.Concurrent;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Schema;
using Gatekeeper.Databases;
using Gatekeeper.Databases.History;
using Gatekeeper.Databases.Preflight;
using Gatekeeper.Databases.Schema;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Sources;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Webhook.Rollouts;

/// <summary>
/// <see cref="IPlanningDatabase"/> over Gatekeeper.Databases: the same history reading and dry-run as
/// <c>gatekeeper plan</c> and the migration Job, on server sessions pooled across requests (a new session per call
/// cost PostgreSQL admissions tens of milliseconds each).
/// </summary>
public sealed class EnginePlanningDatabase(ILoggerFactory loggerFactory, TimeProvider timeProvider, DatabaseConnectionPools pools) : IPlanningDatabase
{
    // Every admission of a declarative Deployment plans the same files again; the dev server's normalisation of them is reused.
    private readonly DesiredModelCache desiredModels = new();

    // The layout each database's history table had at its last read: the next read checks it and reads the rows in
    // one round trip (a wrong guess costs the usual inspection, never a wrong answer). Bounded by the targets in use.
    private readonly ConcurrentDictionary<DatabaseIdentity, HistoryTableKind> historyLayouts = new();
    private const int MaxRememberedLayouts = 4096;

    public DatabaseTargetResult Resolve(SecretValue url, string @namespace, string historyTable, MigrationFormat? format)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!DatabaseUrl.TryParse(url.Reveal(), out var parsed, out var error))
        {
            return new DatabaseTargetResult(null, $"the database URL in the Secret cannot be used: {error}");
        }

        if (HistoryTableName.TryParse(historyTable, out var tableError) is not { } table)
        {
            return new DatabaseTargetResult(null, $"history table \"{historyTable}\": {tableError}");
        }

        var options = new MigrationDatabaseOptions { HistoryTable = table, Format = format, TimeProvider = timeProvider };
        // The plan names the host as the Secret writes it (the Job computes the same hash from the same Secret); the
        // webhook connects to it as the application's pods resolve it, from their namespace.
        var reachable = parsed.WithHost(ClusterHostNames.InNamespace(parsed.Host, @namespace));
        return new DatabaseTargetResult(new DatabaseTarget(reachable, options) { Identity = parsed.ToIdentity(table.ToString()) }, null);
    }

    public async Task<HistoryState> ReadHistoryAsync(DatabaseTarget target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        await using var database = Open(target);
        var expected = historyLayouts.TryGetValue(target.Identity, out var kind) ? kind : (HistoryTableKind?)null;
        var history = await database.ReadHistoryAsync(expected, cancellationToken).ConfigureAwait(false);
        if (!history.Exists)
        {
            historyLayouts.TryRemove(target.Identity, out _);
        }
        else if (expected != history.Kind)
        {
            if (historyLayouts.Count >= MaxRememberedLayouts)
            {
                historyLayouts.Clear();
            }

            historyLayouts[target.Identity] = history.Kind;
        }

        return history;
    }

    public async Task<LiveSchema> ReadSchemaAsync(DatabaseTarget target, CancellationToken cancellationToken)
    {
        await using var database = Open(target);
        return await database.ReadSchemaAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<DryRunResult> DryRunAsync(DatabaseTarget target, MigrationDirectory directory, MigrationPlan plan, Kubernetes.Annotations.DryRunMode mode, DatabaseTarget? devServer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(plan);
        var notes = new List<string>();
        var engine = target.Engine;
        var live = mode == Kubernetes.Annotations.DryRunMode.Live;
        if (live && !engine.TransactionalDdl)
        {
            notes.Add($"{engine.DisplayName} commits DDL at once, so the plan was dry-run on a throwaway copy of the schema instead of on the live database");
        }

        await using var database = Open(target);
        var settings = live && engine.TransactionalDdl
            ? new DryRunSettings(Databases.DryRunMode.Transaction)
            : new DryRunSettings(Databases.DryRunMode.Shadow, devServer?.Url);
        var report = await database.DryRunAsync(directory, plan.Pending, settings, cancellationToken).ConfigureAwait(false);
        notes.AddRange(report.Notes.Select(n => n.ToString()));
        var place = report.Mode == Databases.DryRunMode.Transaction
            ? $"on {target.Identity} (in a transaction that was rolled back)"
            : $"on a throwaway copy of the schema of {target.Identity.Database} on {report.ShadowServer}{(devServer is null ? string.Empty : " (the dev database server)")}";
        return report.Failure is { } failure
            ? new DryRunResult(false, failure.Location?.ToString() ?? failure.File, failure.ServerMessage, notes, report.Elapsed, place)
            : new DryRunResult(true, null, null, notes, report.Elapsed, place);
    }

    public async Task<PreflightEvidence.Ran> PreflightAsync(DatabaseTarget target, MigrationPlan plan, Core.Sql.SqlModes modes, TimeSpan minimumAge, TimeSpan budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(plan);
        var targets = PlanTargets.Find(plan.Pending, target.Engine.Dialect, modes);
        if (targets.IsEmpty)
        {
            return new PreflightEvidence.Ran(LockPreflight.Clear, DataPrechecks.Clean);
        }

        var options = new PreflightOptions { MinimumTransactionAge = minimumAge, TimeBudget = budget, TimeProvider = timeProvider };
        await using var database = Open(target);
        LockPreflight locks;
        try
        {
            locks = await database.InspectLocksAsync(targets.Locks, options, cancellationToken).ConfigureAwait(false);
        }
        catch (DatabaseException denied) when (denied.Kind == DatabaseErrorKind.PermissionDenied)
        {
            locks = new LockPreflight([], [], [denied.Message]);
        }

        var data = await database.PrecheckDataAsync(targets.DataChecks, options, cancellationToken).ConfigureAwait(false);
        return new PreflightEvidence.Ran(locks, data);
    }

    public async Task<DeclarativePlanning> PlanSchemaAsync(DatabaseTarget target, DatabaseTarget devServer, DesiredSchema desired, SchemaExclusions exclusions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(devServer);
        // The same pipeline as `gatekeeper schema plan --dev-throwaway` and the Job's `schema apply`, so the hashes agree.
        var runner = new DeclarativeSchemaRunner(target.Url, devServer.Url, exclusions, new DeclarativeRunnerOptions
        {
            DevThrowaway = true,
            DesiredModels = desiredModels,
            TimeProvider = timeProvider,
        }, loggerFactory);
        var planned = await runner.PlanAsync(desired, cancellationToken).ConfigureAwait(false);
        var last = planned.Succeeded ? await runner.ReadLastAppliedAsync(cancellationToken).ConfigureAwait(false) : null;
        return new DeclarativePlanning(planned, last);
    }

    public DatabaseFailure Describe(Exception failure, DatabaseTarget target)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(target);
        if (failure is DevDatabaseException dev)
        {
            return new DatabaseFailure(dev.Message, PermissionDenied: false);
        }

        var known = failure as DatabaseException ?? DatabaseErrorClassifier.ForConnection(failure, target.Url);
        var message = known.Kind == DatabaseErrorKind.Unreachable && target.HostQualified
            ? $"{known.Message} (the Secret's host {target.Identity.Host} is looked up as {target.Url.Host}, in the Deployment's namespace as its pods resolve it; " +
              "a database in another namespace needs its full name, host.namespace.svc, and Gatekeeper's pods need egress to it)"
            : known.Message;
        return new DatabaseFailure(message, known.Kind == DatabaseErrorKind.PermissionDenied);
    }

    private IMigrationDatabase Open(DatabaseTarget target) => target.Open(loggerFactory, pools);
}
