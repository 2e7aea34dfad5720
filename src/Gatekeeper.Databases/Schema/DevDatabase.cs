using System.Diagnostics.CodeAnalysis;
using Gatekeeper.Core.Schema;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;
using Npgsql;

namespace Gatekeeper.Databases.Schema;

/// <summary>What the dev database must agree with: the live server's flavor and, on MySQL, its default charset and collation.</summary>
/// <param name="ServerFlavor">"PostgreSQL 15", "MariaDB 10.11": the dev server must be the same, or it normalises differently.</param>
public sealed record LiveServerFacts(string ServerFlavor, string? DefaultCharset = null, string? DefaultCollation = null);

/// <summary>
/// The dev database cannot serve as one: it is not empty, or runs another engine version than the live database. A
/// configuration problem (the next run fails the same way), not a database outage.
/// </summary>
public sealed class DevDatabaseException(string message) : Exception(message);

/// <summary>Where and why the desired state did not load: the server's message at the statement's file:line:column.</summary>
public sealed record DesiredSchemaLoadFailure(SourceLocation Location, string ServerMessage, string? ServerCode, string Statement)
{
    public override string ToString() => $"{Location}: {ServerMessage}";
}

/// <summary>The desired state as the dev server normalised it, or where it failed to load; and how long that took.</summary>
public sealed record DesiredSchemaLoad(SchemaModel? Model, DesiredSchemaLoadFailure? Failure, TimeSpan Elapsed, IReadOnlyList<string> Warnings)
{
    [MemberNotNullWhen(true, nameof(Model))]
    public bool Succeeded => Model is not null;
}

/// <summary>
/// Loads a desired state into a dev database and reads it back from the catalog: the Atlas approach, so the server
/// itself turns <c>int</c> into <c>integer</c>, <c>now()</c> into <c>CURRENT_TIMESTAMP</c>, and <c>varchar</c> into
/// <c>character varying</c> on both sides of the comparison. The dev database must be empty and run the same engine and
/// version as the live one; Gatekeeper leaves it empty again (PostgreSQL: the load is one transaction, rolled back;
/// MySQL: everything created is dropped). Loads into one dev database are serialised by a lock on it.
/// </summary>
public static class DevDatabase
{
    public static Task<DesiredSchemaLoad> LoadAsync(DatabaseUrl dev, DesiredSchema desired, LiveServerFacts live, CancellationToken cancellationToken, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(dev);
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(live);
        return dev.SqlEngine.CreateDevDatabaseLoader().LoadAsync(dev, desired, live, time ?? TimeProvider.System, cancellationToken);
    }
}

internal abstract class DevDatabaseLoader
{
    /// <summary>How long the load waits for another plan using the same dev database.</summary>
    protected static readonly TimeSpan LockWait = TimeSpan.FromSeconds(60);

    public async Task<DesiredSchemaLoad> LoadAsync(DatabaseUrl dev, DesiredSchema desired, LiveServerFacts live, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        await using var session = await OpenAsync(dev, cancellationToken).ConfigureAwait(false);
        var reader = dev.SqlEngine.Catalog;
        var warnings = new List<string>();
        try
        {
            var flavor = await reader.ServerFlavorAsync(session, cancellationToken).ConfigureAwait(false);
            if (flavor != live.ServerFlavor)
            {
                throw new DevDatabaseException(
                    $"dev database {dev.Database} at {dev.Endpoint} runs {flavor} but the database runs {live.ServerFlavor}; " +
                    "the dev database must be the same engine and version, or types, defaults and expressions are normalised differently");
            }

            await PrepareAsync(session, dev, live, cancellationToken).ConfigureAwait(false);
            var present = await reader.UserObjectsAsync(session, 6, cancellationToken).ConfigureAwait(false);
            if (present.Count > 0)
            {
                // Nothing was loaded: CleanUpAsync must leave what is there alone.
                throw new DevDatabaseException(
                    $"dev database {dev.Database} at {dev.Endpoint} is not empty ({string.Join(", ", present.Take(5))}{(present.Count > 5 ? ", …" : string.Empty)}); " +
                    "give Gatekeeper an empty database of its own: what is in it would be taken for part of the desired state");
            }

            await BeforeLoadAsync(session, dev, live, cancellationToken).ConfigureAwait(false);
            var engine = dev.SqlEngine;
            foreach (var statement in desired.Loaded)
            {
                try
                {
                    await session.ExecuteStatementAsync(statement.Statement.Text, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: not DatabaseErrorKind.ConnectionLost and not DatabaseErrorKind.Unreachable } error)
                {
                    var failure = new DesiredSchemaLoadFailure(engine.Locate(statement.Statement, ex), error.ServerMessage, error.ServerCode, statement.Statement.Text);
                    return new DesiredSchemaLoad(null, failure, time.GetElapsedTime(started), warnings);
                }
            }

            var model = await reader.ReadAsync(session, cancellationToken).ConfigureAwait(false);
            return new DesiredSchemaLoad(model, null, time.GetElapsedTime(started), warnings);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            throw new DatabaseException(error.Kind, $"dev database {dev.Database} at {dev.Endpoint}: {error.ServerMessage}", error.ServerCode, ex);
        }
        finally
        {
            await CleanUpAsync(session, warnings).ConfigureAwait(false);
        }
    }

    private static async Task<DbSession> OpenAsync(DatabaseUrl dev, CancellationToken cancellationToken)
    {
        var connection = dev.SqlEngine.CreateUnpooledConnection(dev);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            var failure = DatabaseErrorClassifier.ForConnection(ex, dev);
            var message = failure.Kind == DatabaseErrorKind.UnknownDatabase
                ? $"dev database {dev.Database} does not exist on {dev.Endpoint}; create an empty database for Gatekeeper to load the desired state into"
                : "dev database: " + failure.Message;
            throw new DatabaseException(failure.Kind, message, failure.ServerCode, ex);
        }

        return new DbSession(connection, dev.SqlEngine) { CommandTimeoutSeconds = 300 };
    }

    /// <summary>Readies the dev database once it is known to be empty, just before the first statement of the desired state.</summary>
    protected virtual Task BeforeLoadAsync(DbSession session, DatabaseUrl dev, LiveServerFacts live, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Takes the dev database's lock and readies the session; the load runs after it.</summary>
    protected abstract Task PrepareAsync(DbSession session, DatabaseUrl dev, LiveServerFacts live, CancellationToken cancellationToken);

    /// <summary>Leaves the dev database as it was found; problems become warnings (the plan itself is fine).</summary>
    protected abstract Task CleanUpAsync(DbSession session, List<string> warnings);
}

/// <summary>PostgreSQL: the whole load in one transaction that is rolled back, so the dev database is never changed.</summary>
internal sealed class PostgresDevDatabaseLoader : DevDatabaseLoader
{
    protected override async Task PrepareAsync(DbSession session, DatabaseUrl dev, LiveServerFacts live, CancellationToken cancellationToken)
    {
        await session.BeginAsync(cancellationToken).ConfigureAwait(false);
        await session.ExecuteAsync($"SET LOCAL lock_timeout = '{(long)LockWait.TotalMilliseconds}ms'", cancellationToken).ConfigureAwait(false);
        try
        {
            await session.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", cancellationToken, ("key", PostgresMigrationDatabase.LockKey(dev.Database, "gatekeeper-dev-database"))).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == "55P03")
        {
            throw new DatabaseException(DatabaseErrorKind.MigrationLockHeld,
                $"dev database {dev.Database} at {dev.Endpoint} stayed busy with another plan for {LockWait.TotalSeconds:0} s; retry", ex.SqlState, ex);
        }
    }

    protected override async Task CleanUpAsync(DbSession session, List<string> warnings) => await session.RollbackQuietlyAsync().ConfigureAwait(false);
}

/// <summary>
/// MySQL commits DDL as it goes: the dev database gets the live database's default charset and collation (so tables
/// written without one come out as they would live), foreign-key checks are off while loading (declarations need no
/// order), and everything created is dropped afterwards.
/// </summary>
internal sealed class MySqlDevDatabaseLoader : DevDatabaseLoader
{
    private string? _lockName;

    // Set once the dev database was found empty: only then is everything in it Gatekeeper's to drop.
    private bool _loading;

    protected override async Task PrepareAsync(DbSession session, DatabaseUrl dev, LiveServerFacts live, CancellationToken cancellationToken)
    {
        _lockName = MySqlMigrationDatabase.LockName(dev.Database, "gatekeeper-dev-database");
        var locked = await session.ScalarAsync("SELECT GET_LOCK(@name, @timeout)", cancellationToken, ("name", _lockName), ("timeout", LockWait.TotalSeconds)).ConfigureAwait(false);
        if (locked is null || Convert.ToInt64(locked, System.Globalization.CultureInfo.InvariantCulture) != 1)
        {
            _lockName = null;
            throw new DatabaseException(DatabaseErrorKind.MigrationLockHeld, $"dev database {dev.Database} at {dev.Endpoint} stayed busy with another plan for {LockWait.TotalSeconds:0} s; retry");
        }
    }

    protected override async Task BeforeLoadAsync(DbSession session, DatabaseUrl dev, LiveServerFacts live, CancellationToken cancellationToken)
    {
        _loading = true;
        if (live.DefaultCharset is not null && live.DefaultCollation is not null)
        {
            await session.ExecuteAsync($"ALTER DATABASE {session.Quote(dev.Database)} CHARACTER SET {live.DefaultCharset} COLLATE {live.DefaultCollation}", cancellationToken).ConfigureAwait(false);
        }

        await session.ExecuteAsync("SET SESSION foreign_key_checks = 0", cancellationToken).ConfigureAwait(false);
    }

    protected override async Task CleanUpAsync(DbSession session, List<string> warnings)
    {
        try
        {
            if (_lockName is null)
            {
                return;
            }

            if (!_loading)
            {
                await session.ScalarAsync("SELECT RELEASE_LOCK(@name)", CancellationToken.None, ("name", _lockName)).ConfigureAwait(false);
                return;
            }

            await session.ExecuteAsync("SET SESSION foreign_key_checks = 0", CancellationToken.None).ConfigureAwait(false);
            var objects = await session.QueryAsync("""
                SELECT CASE TABLE_TYPE WHEN 'VIEW' THEN 'VIEW' WHEN 'SEQUENCE' THEN 'SEQUENCE' ELSE 'TABLE' END, TABLE_NAME
                FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
                UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
                UNION ALL SELECT 'EVENT', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()
                """, r => (Kind: r.GetString(0), Name: r.GetString(1)), CancellationToken.None).ConfigureAwait(false);
            foreach (var (kind, name) in objects.OrderBy(o => o.Kind == "VIEW" ? 0 : 1))
            {
                await session.ExecuteAsync($"DROP {kind} IF EXISTS {session.Quote(name)}", CancellationToken.None).ConfigureAwait(false);
            }

            await session.ScalarAsync("SELECT RELEASE_LOCK(@name)", CancellationToken.None, ("name", _lockName)).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            warnings.Add($"the dev database could not be emptied after the plan ({error.ServerMessage}); empty it before the next plan");
        }
    }
}
