using System.Globalization;
using System.Security.Cryptography;
using Gatekeeper.Databases.Execution;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Databases.DevDatabase;

/// <summary>Defaults a throwaway database is created with (MySQL: the live database's, so text compares alike).</summary>
public sealed record ThrowawayDatabaseOptions(string? CharacterSet = null, string? Collation = null);

/// <summary>
/// A short-lived database Gatekeeper creates on a server and drops when disposed: the dry-run replays the live
/// structure into one, the declarative mode loads a desired schema into one. The server is a dev server
/// (<c>gatekeeper.dev/dev-database-secret</c>, <c>--dev-url</c>) or, without one, the target's own; its credential
/// needs only the right to create and drop these databases (<see cref="DatabasePrivilege.CreateThrowawayDatabases"/>).
/// Names are <c>gk_shadow_&lt;UTC time&gt;_&lt;random&gt;</c>, so copies a killed process left behind are recognised by
/// age and dropped by the next one.
/// </summary>
public sealed class ThrowawayDatabase : IAsyncDisposable
{
    public const string NamePrefix = "gk_shadow_";

    private const string TimeFormat = "yyyyMMddHHmmss";

    private readonly ILogger _logger;
    private int _dropped;

    private ThrowawayDatabase(DatabaseUrl server, string name, ILogger logger)
    {
        Server = server;
        Name = name;
        Url = server.WithDatabase(name);
        _logger = logger;
    }

    /// <summary>Copies left behind longer than this (a process killed mid-dry-run) are dropped when the next one is created.</summary>
    public static TimeSpan StaleAfter { get; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The limit on each statement Gatekeeper sends to make, fill and drop a throwaway database, all its own, in place of
    /// the server's or role's statement timeout (<see cref="SqlEngine.OwnStatementLimits"/>).
    /// </summary>
    internal static TimeSpan OwnStatementLimit { get; } = new MigrationDatabaseOptions().OwnStatementTimeout;

    public string Name { get; }

    /// <summary>The server it lives on, as given (the credential that created it).</summary>
    public DatabaseUrl Server { get; }

    /// <summary>The throwaway database itself, with the server's credential.</summary>
    public DatabaseUrl Url { get; }

    public SqlEngine Engine => Url.SqlEngine;

    /// <summary>A new name: the prefix, the UTC time (so leftovers are recognised by age) and 48 random bits.</summary>
    public static string NewName(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return NamePrefix + timeProvider.GetUtcNow().UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture) + "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
    }

    /// <summary>
    /// Creates the throwaway database <paramref name="name"/> (from <see cref="NewName"/>) on <paramref name="server"/>, first dropping stale ones (best effort). A
    /// credential that may not create databases gets the one-line permission message with the statement to grant.
    /// </summary>
    public static async Task<ThrowawayDatabase> CreateAsync(
        DatabaseUrl server, string name, ThrowawayDatabaseOptions? options, TimeProvider timeProvider, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (CreatedAt(name) is null)
        {
            throw new ArgumentException($"{name} is not a throwaway database name; make one with {nameof(NewName)}", nameof(name));
        }

        logger ??= NullLogger.Instance;
        var now = timeProvider.GetUtcNow();
        var engine = server.SqlEngine;
        // CREATE DATABASE takes long enough (a copy of template0) for a role's statement timeout meant for the app.
        await using var session = await DbSession.OpenUnpooledAsync(engine.ServerSessionUrl(server), cancellationToken, OwnStatementLimit).ConfigureAwait(false);
        await DropStaleAsync(session, server, now, logger, cancellationToken).ConfigureAwait(false);
        await DatabasePermissions.RequireAsync(server, "create databases (the dry-run's throwaway copy of the schema)", DatabasePrivilege.CreateThrowawayDatabases,
            async () => await session.ExecuteAsync(engine.CreateDatabase(name, options?.CharacterSet, options?.Collation), cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        Log.ThrowawayDatabaseCreated(logger, name, server.Endpoint);
        return new ThrowawayDatabase(server, name, logger);
    }

    /// <summary>A session of its own on the throwaway database (outside any pool, so dropping it is never blocked by one).</summary>
    internal Task<DbSession> OpenSessionAsync(CancellationToken cancellationToken) => DbSession.OpenUnpooledAsync(Url, cancellationToken);

    /// <summary>Runs one statement in the throwaway database on a session of its own.</summary>
    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        await session.ExecuteAsync(sql, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops the database on a fresh session (the one that used it may be broken or cancelled); a failure is logged.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _dropped, 1) != 0)
        {
            return;
        }

        try
        {
            await using var session = await DbSession.OpenUnpooledAsync(Engine.ServerSessionUrl(Server), CancellationToken.None, OwnStatementLimit).ConfigureAwait(false);
            await session.ExecuteAsync(Engine.DropDatabase(Name), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DatabaseException || DatabaseErrorClassifier.Classify(ex) is not null)
        {
            Log.ThrowawayDatabaseDropFailed(_logger, Name, Server.Endpoint, ex);
        }
    }

    /// <summary>The UTC time in a throwaway database's name, or null for a name that is not one.</summary>
    internal static DateTimeOffset? CreatedAt(string name) =>
        name.StartsWith(NamePrefix, StringComparison.Ordinal) && name.Length >= NamePrefix.Length + TimeFormat.Length
        && DateTime.TryParseExact(name.AsSpan(NamePrefix.Length, TimeFormat.Length), TimeFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var created)
            ? new DateTimeOffset(created, TimeSpan.Zero)
            : null;

    private static async Task DropStaleAsync(DbSession session, DatabaseUrl server, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var names = await session.QueryAsync(session.Engine.DatabasesNamedLikeQuery, r => r.GetString(0), cancellationToken, ("prefix", NamePrefix)).ConfigureAwait(false);
            foreach (var name in names)
            {
                if (CreatedAt(name) is { } created && now - created > StaleAfter)
                {
                    await session.ExecuteAsync(session.Engine.DropDatabase(name), cancellationToken).ConfigureAwait(false);
                    Log.StaleThrowawayDatabaseDropped(logger, name, server.Endpoint);
                }
            }
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: not DatabaseErrorKind.ConnectionLost and not DatabaseErrorKind.Unreachable })
        {
            // Another user's copy, or one just being dropped by another replica: not this dry-run's concern.
            Log.StaleThrowawayDatabaseKept(logger, server.Endpoint, ex.Message);
        }
    }
}
