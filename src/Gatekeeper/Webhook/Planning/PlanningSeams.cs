using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Sql;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Sources;

namespace Gatekeeper.Webhook.Planning;

/// <summary>
/// A database the webhook plans against: where it is (no credentials) and how to reach it. <see cref="Connection"/>
/// is the engine's own parsed URL, opaque here, so the credential never passes through the webhook's code as text.
/// </summary>
public sealed record DatabaseTarget(DatabaseIdentity Identity, SqlDialect Dialect, object Connection)
{
    public override string ToString() => Identity.ToString();
}

/// <summary>Either the target or one sentence saying what is wrong with the URL (which it never repeats).</summary>
public sealed record DatabaseTargetResult(DatabaseTarget? Target, string? Problem);

/// <summary>Where a dry-run failed and the server's message.</summary>
public sealed record DryRunResult(bool Succeeded, string? FailedAt, string? Message, TimeSpan Elapsed)
{
    public static DryRunResult Skipped { get; } = new(true, null, null, TimeSpan.Zero);
}

/// <summary>
/// What the webhook needs from the database engine (Gatekeeper.Databases): resolve a URL, read the history, dry-run
/// a plan, and say in one sentence why a call failed. Calls throw on I/O failures; <see cref="ResilientCalls"/>
/// retries the transient ones.
/// </summary>
public interface IPlanningDatabase
{
    DatabaseTargetResult Resolve(SecretValue url, string historyTable);

    Task<HistoryState> ReadHistoryAsync(DatabaseTarget target, CancellationToken cancellationToken);

    Task<DryRunResult> DryRunAsync(DatabaseTarget target, MigrationPlan plan, DryRunMode mode, DatabaseTarget? scratch, CancellationToken cancellationToken);

    /// <summary>"database unreachable: …", "authentication failed for …": one sentence, no secret.</summary>
    string Describe(Exception failure, DatabaseTarget target);
}
