using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using DatabaseTarget = Gatekeeper.Databases.DatabaseTarget;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Sources;

namespace Gatekeeper.Webhook.Planning;

/// <summary>
/// Either the database to plan against (its URL prints only redacted, so the credential never passes through the
/// webhook's code as text) or one sentence saying what is wrong with the URL (which it never repeats).
/// </summary>
public sealed record DatabaseTargetResult(DatabaseTarget? Target, string? Problem);

/// <summary>Where a dry-run failed and the server's message; <see cref="Notes"/> say what it could not check.</summary>
public sealed record DryRunResult(bool Succeeded, string? FailedAt, string? Message, IReadOnlyList<string> Notes, TimeSpan Elapsed);

/// <summary>
/// What the webhook needs from the database engine (Gatekeeper.Databases): resolve a URL, read the history, dry-run
/// a plan, and say in one sentence why a call failed. Calls throw on I/O failures; <see cref="ResilientCalls"/>
/// retries the transient ones.
/// </summary>
public interface IPlanningDatabase
{
    /// <param name="format">The directory's format, which decides whose layout a history table that does not exist yet will have.</param>
    DatabaseTargetResult Resolve(SecretValue url, string historyTable, MigrationFormat? format);

    Task<HistoryState> ReadHistoryAsync(DatabaseTarget target, CancellationToken cancellationToken);

    /// <summary>The live tables (sizes, columns) and server version the linter judges the plan against.</summary>
    Task<Databases.LiveSchema> ReadSchemaAsync(DatabaseTarget target, CancellationToken cancellationToken);

    /// <summary>Proves the plan's pending migrations apply, leaving the database as it was.</summary>
    Task<DryRunResult> DryRunAsync(DatabaseTarget target, MigrationDirectory directory, MigrationPlan plan, DryRunMode mode, DatabaseTarget? scratch, CancellationToken cancellationToken);

    /// <summary>"database unreachable: …", "authentication failed for …": one sentence, no secret.</summary>
    string Describe(Exception failure, DatabaseTarget target);
}
