using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases;
using Gatekeeper.Databases.History;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Sources;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Webhook.Planning;

/// <summary>
/// <see cref="IPlanningDatabase"/> over Gatekeeper.Databases: the same history reading and dry-run as
/// <c>gatekeeper plan</c> and the migration Job, on server sessions pooled across requests (a new session per call
/// cost PostgreSQL admissions tens of milliseconds each).
/// </summary>
public sealed class EnginePlanningDatabase(ILoggerFactory loggerFactory, TimeProvider timeProvider, DatabaseConnectionPools pools) : IPlanningDatabase
{
    /// <summary>What <see cref="DatabaseTarget.Connection"/> holds: the parsed URL and how to read its history.</summary>
    private sealed record Connection(DatabaseUrl Url, HistoryTableName HistoryTable, MigrationFormat? Format);

    public DatabaseTargetResult Resolve(SecretValue url, string historyTable, MigrationFormat? format)
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

        var identity = parsed.ToIdentity(table.ToString());
        return new DatabaseTargetResult(new DatabaseTarget(identity, parsed.Dialect, new Connection(parsed, table, format)), null);
    }

    public async Task<HistoryState> ReadHistoryAsync(DatabaseTarget target, CancellationToken cancellationToken)
    {
        await using var database = Open(target);
        return await database.ReadHistoryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<LiveSchema> ReadSchemaAsync(DatabaseTarget target, CancellationToken cancellationToken)
    {
        await using var database = Open(target);
        return await database.ReadSchemaAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<DryRunResult> DryRunAsync(DatabaseTarget target, MigrationDirectory directory, MigrationPlan plan, Kubernetes.Annotations.DryRunMode mode, DatabaseTarget? scratch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(plan);
        var notes = new List<string>();
        var engine = ((Connection)target.Connection).Url.Engine;
        // The engine picks the only safe way for its kind: PostgreSQL's transactional DDL rolls back, MySQL's auto-commits
        // and so is replayed on a throwaway copy. A request for the other way is honoured as far as it is safe.
        if (mode == Kubernetes.Annotations.DryRunMode.Transaction && engine != DatabaseEngine.Postgres)
        {
            notes.Add("MySQL commits DDL at once, so the plan was dry-run on a throwaway copy of the schema instead of in a transaction");
        }
        else if (mode == Kubernetes.Annotations.DryRunMode.Shadow && engine == DatabaseEngine.Postgres)
        {
            notes.Add("the plan was dry-run in a rolled-back transaction, which is as safe as a shadow copy on PostgreSQL");
        }

        if (scratch is not null)
        {
            notes.Add("gatekeeper.dev/dev-database-secret is not used yet: the dry-run ran against the target server");
        }

        await using var database = Open(target);
        var report = await database.DryRunAsync(directory, plan.Pending, cancellationToken).ConfigureAwait(false);
        notes.AddRange(report.Notes.Select(n => n.ToString()));
        return report.Failure is { } failure
            ? new DryRunResult(false, failure.Location?.ToString() ?? failure.File, failure.ServerMessage, notes, report.Elapsed)
            : new DryRunResult(true, null, null, notes, report.Elapsed);
    }

    public string Describe(Exception failure, DatabaseTarget target)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(target);
        return failure is DatabaseException known
            ? known.Message
            : DatabaseErrorClassifier.ForConnection(failure, ((Connection)target.Connection).Url).Message;
    }

    private IMigrationDatabase Open(DatabaseTarget target)
    {
        var connection = (Connection)target.Connection;
        return MigrationDatabase.Open(connection.Url, new MigrationDatabaseOptions
        {
            HistoryTable = connection.HistoryTable,
            Format = connection.Format,
            TimeProvider = timeProvider,
        }, loggerFactory, pools);
    }
}
