using Gatekeeper.Core.Planning;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Databases;

/// <summary>
/// A database to plan against or migrate: its parsed URL (which prints only redacted) and the options to open it with
/// (history table, format, timeouts). The CLI and the webhook both resolve their input into one of these.
/// </summary>
public sealed record DatabaseTarget(DatabaseUrl Url, MigrationDatabaseOptions Options)
{
    /// <summary>
    /// Where, without credentials: for plans, messages, metrics and traces. Normally the URL's; the webhook keeps the
    /// host as the Secret writes it while it connects to that host qualified with the application's namespace, so the
    /// plan hash is the one the migration Job computes from the same Secret.
    /// </summary>
    public DatabaseIdentity Identity { get; init; } = Url.ToIdentity(Options.HistoryTable.ToString());

    /// <summary>True when the host connected to is not the one the plan names (the webhook qualified a short one).</summary>
    public bool HostQualified => !string.Equals(Url.Host, Identity.Host, StringComparison.Ordinal);

    public SqlEngine Engine => Url.SqlEngine;

    /// <summary>Opens the database; nothing connects until a method needs the server.</summary>
    /// <param name="pools">Pools shared across databases opened one after another (the webhook); without them the database has its own.</param>
    public IMigrationDatabase Open(ILoggerFactory? loggerFactory = null, DatabaseConnectionPools? pools = null) =>
        MigrationDatabase.Open(Url, Options, loggerFactory, pools);

    public override string ToString() => Identity.ToString();
}
