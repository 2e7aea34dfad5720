using Gatekeeper.Core.Planning;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Databases;

/// <summary>
/// A database to plan against or migrate: its parsed URL (which prints only redacted) and the options to open it with
/// (history table, format, timeouts). The CLI and the webhook both resolve their input into one of these.
/// </summary>
public sealed record DatabaseTarget(DatabaseUrl Url, MigrationDatabaseOptions Options)
{
    /// <summary>Where, without credentials: for plans, messages, metrics and traces.</summary>
    public DatabaseIdentity Identity { get; } = Url.ToIdentity(Options.HistoryTable.ToString());

    public SqlEngine Engine => Url.SqlEngine;

    /// <summary>Opens the database; nothing connects until a method needs the server.</summary>
    /// <param name="pools">Pools shared across databases opened one after another (the webhook); without them the database has its own.</param>
    public IMigrationDatabase Open(ILoggerFactory? loggerFactory = null, DatabaseConnectionPools? pools = null) =>
        MigrationDatabase.Open(Url, Options, loggerFactory, pools);

    public override string ToString() => Identity.ToString();
}
