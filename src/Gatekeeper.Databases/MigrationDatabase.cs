using System.Data.Common;
using System.Globalization;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases.DevDatabase;
using Gatekeeper.Databases.Execution;
using Gatekeeper.Databases.Preflight;
using Gatekeeper.Databases.History;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatekeeper.Databases;

/// <summary>
/// What both engines share: history reading and writing through the table's layout, applying one migration through
/// <see cref="MigrationApplier"/>, and repair. The engines add their lock and their dry-run.
/// </summary>
public abstract class MigrationDatabase : IMigrationDatabase
{
    private HistoryTableLayout? _layout;
    private (HistoryTableLayout Layout, bool Exists)? _inspected;
    private (MigrationDirectory Directory, AtlasSum Sum)? _atlasSum;

    // The rank the next history row takes (HistoryEntry.Rank): the highest one plus one as the last history read found
    // it (the runner reads under its lock, right before applying), advanced by each migration applied since, each of
    // which added exactly one row. Null when unknown (nothing read yet, or a migration failed): the write then asks the
    // table. Should anything else have added a row meanwhile, the key refuses the write and the migration's
    // transaction takes nothing with it.
    private int? _nextRank;

    // The session the last migration applied on, kept for the next because that file left nothing on it (MySQL): the
    // next file skips the pool's reset. Null after any other file, which the pool resets as before.
    private DbSession? _carried;

    // What the file that left _carried may have left on it.
    private SessionFootprint _carriedFootprint;

    // The engine's CarryCheckQuery's answer while no file since could have changed it; null until asked (once a run,
    // before the first carried session is used, and again after a file that may have created code the server runs).
    private (bool Autocommit, bool NoCodeInDml)? _carryCheck;

    private readonly bool _ownsDataSource;

    // Pools beside DataSource for the same database that this instance created and closes (see DataSourceFor).
    private readonly List<DbDataSource> _ownedBeside = [];

    private protected MigrationDatabase(DatabaseUrl url, MigrationDatabaseOptions options, DbDataSource dataSource, bool ownsDataSource, ILoggerFactory? loggerFactory)
    {
        _ownsDataSource = ownsDataSource;
        Url = url;
        Options = options;
        DataSource = dataSource;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(GetType());
        Identity = url.ToIdentity(options.HistoryTable.ToString());
        Sql = url.SqlEngine;
    }

    public DatabaseIdentity Identity { get; }

    public DatabaseEngine Engine => Url.Engine;

    private protected DatabaseUrl Url { get; }

    private protected MigrationDatabaseOptions Options { get; }

    private protected DbDataSource DataSource { get; }

    private protected ILogger Logger { get; }

    private protected SqlEngine Sql { get; }

    /// <summary>
    /// How a new session of the database reads text (MySQL's <c>sql_mode</c>): null until a query that could carry it for
    /// free did (the catalog read, the lock's <c>GET_LOCK</c>); the first migration applied asks once when it is still
    /// unknown. Files are cut in it, and the files' sessions come from <see cref="DataSourceFor"/> it.
    /// </summary>
    public Core.Sql.SqlModes? SessionModes
    {
        // An int, so the lock's task and a session opened beside it never see half of a nullable.
        get => Volatile.Read(ref _sessionModes) is var modes and >= 0 ? (Core.Sql.SqlModes)modes : null;
        private protected set => Volatile.Write(ref _sessionModes, value is { } modes ? (int)modes : -1);
    }

    private int _sessionModes = -1;

    /// <summary>
    /// MySQL: the sql_mode of a new session when it is not the server's global one (init_connect sets it): the pool's reset
    /// of a reused session (COM_RESET_CONNECTION) gives it the global mode instead, so each file's session is set to this
    /// one first, and every file runs, and is read, in the mode a new session has. Null when they agree.
    /// </summary>
    private protected string? NewSessionSqlMode { get; set; }

    /// <summary>"database shop at db.internal:5432": how messages name the database (no credentials).</summary>
    private protected string Label => $"database {Url.Database} at {Url.Endpoint}";

    /// <summary>Opens a database for migrations; nothing connects until a method needs the server.</summary>
    /// <param name="pools">Pools shared across databases opened one after another (the webhook); without them the database has its own, closed on dispose.</param>
    public static IMigrationDatabase Open(DatabaseUrl url, MigrationDatabaseOptions? options = null, ILoggerFactory? loggerFactory = null, DatabaseConnectionPools? pools = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        options ??= new MigrationDatabaseOptions();
        return url.SqlEngine.Open(url, options, loggerFactory, pools);
    }

    public Task<HistoryState> ReadHistoryAsync(CancellationToken cancellationToken) => ReadHistoryAsync(null, cancellationToken);

    public async Task<HistoryState> ReadHistoryAsync(HistoryTableKind? expectedKind, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadHistoryOnceAsync(expectedKind, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Sql.EndedWhileIdle(ex) || (ex is DatabaseException { InnerException: { } inner } && Sql.EndedWhileIdle(inner)))
        {
            // The pool handed out a session the server had ended while it sat idle: a role's idle_session_timeout, while
            // migrate waited for another runner's lock or the webhook for its next admission. Nothing ran; the pool's
            // other idle sessions are as old, so they go too, and the read runs once more on a new one.
            Sql.ClearIdleSessions(DataSource);
            return await ReadHistoryOnceAsync(expectedKind, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HistoryState> ReadHistoryOnceAsync(HistoryTableKind? expectedKind, CancellationToken cancellationToken)
    {
        _nextRank = null;
        await using var session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        session.LimitOwnStatements(Options.OwnStatementTimeout);
        var limited = Options.TimeProvider.GetTimestamp();
        var table = Options.HistoryTable.ToString();
        try
        {
            return await ReadHistoryOnceAsync(session, table, expectedKind, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StoppedByLimit(ex))
        {
            throw await StoppedByLimitAsync($"reading history table {HistoryTableInspector.Locate(Options.HistoryTable, Sql)}", NothingApplied, ex, limited, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HistoryState> ReadHistoryOnceAsync(DbSession session, string table, HistoryTableKind? expectedKind, CancellationToken cancellationToken)
    {
        return await DatabasePermissions.RequireAsync(Url, $"read history table {table} of {Url.Database}", DatabasePrivilege.ReadTable, async () =>
        {
            if (expectedKind is { } kind
                && await HistoryTableInspector.TryReadKnownAsync(session, Options.HistoryTable, kind, cancellationToken).ConfigureAwait(false) is { } known)
            {
                _inspected = (known.Layout, true);
                _nextRank = known.Rows.LastRank + 1;
                return new HistoryState(table, kind, true, known.Rows.Applied, known.Rows.AppliedThrough);
            }

            var (layout, exists) = await HistoryTableInspector.InspectAsync(session, Options.HistoryTable, Options.Format, cancellationToken).ConfigureAwait(false);
            // The runner reads the history under its lock and applies right after: the first apply need not look again.
            _inspected = (layout, exists);
            if (!exists)
            {
                _nextRank = 1;
                return HistoryState.Empty(table, layout.Kind);
            }

            var rows = await layout.ReadAsync(session, cancellationToken).ConfigureAwait(false);
            _nextRank = rows.LastRank + 1;
            return new HistoryState(table, layout.Kind, true, rows.Applied, rows.AppliedThrough);
        }, HistoryTableInspector.Locate(Options.HistoryTable, Sql).ToString()).ConfigureAwait(false);
    }

    public async Task<LiveSchema> ReadSchemaAsync(CancellationToken cancellationToken)
    {
        await using var session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        session.LimitOwnStatements(Options.OwnStatementTimeout);
        var limited = Options.TimeProvider.GetTimestamp();
        try
        {
            return await ReadSchemaAsync(session, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StoppedByLimit(ex))
        {
            throw await StoppedByLimitAsync($"reading the catalog of {Url.Database}", NothingApplied, ex, limited, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: DatabaseErrorKind.PermissionDenied } error)
        {
            throw DatabasePermissions.Denied(Url, $"read the catalog of {Url.Database}", DatabasePrivilege.ReadCatalog, error, ex);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
        {
            throw new DatabaseException(error.Kind, $"could not read the schema of {Label}: {error.ServerMessage}", error.ServerCode, ex);
        }
    }

    /// <summary>The engine's catalog queries, on an open session; driver errors are classified by the caller.</summary>
    private protected abstract Task<LiveSchema> ReadSchemaAsync(DbSession session, CancellationToken cancellationToken);

    /// <summary>Joins the columns read by one query to the tables read by another, keyed by schema and name.</summary>
    private protected static SchemaContext Assemble(
        IEnumerable<(string? Schema, string Name, long EstimatedRows)> tables,
        IEnumerable<(string? Schema, string Table, SchemaColumn Column)> columns)
    {
        var byTable = columns
            .GroupBy(c => (c.Schema, c.Table))
            .ToDictionary(g => g.Key, g => (IReadOnlyList<SchemaColumn>)g.Select(c => c.Column).ToList());
        return new SchemaContext(tables
            .Select(t => new SchemaTable(t.Schema, t.Name, t.EstimatedRows, byTable.GetValueOrDefault((t.Schema, t.Name))))
            .ToList());
    }

    public abstract Task<IAsyncDisposable> AcquireMigrationLockAsync(TimeSpan timeout, CancellationToken cancellationToken);

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await using var session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<MigrationApplyResult> ApplyAsync(MigrationDirectory directory, Migration migration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(migration);
        var session = _carried;
        _carried = null;
        var keep = false;
        // Known again only once this migration has added its one row.
        var rank = _nextRank;
        _nextRank = null;
        try
        {
            session ??= await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
            if (SessionModes is null && Sql.SessionModesQuery is { } modesQuery)
            {
                // Nothing read it for free this run (a caller that took no lock and read no catalog): asked once.
                var mode = Convert.ToString(await session.ScalarAsync(modesQuery, cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                SessionModes = Core.Sql.SqlModeText.Parse(mode);
                if (!ReferenceEquals(DataSourceFor(SessionModes.Value), DataSource))
                {
                    await session.DisposeAsync().ConfigureAwait(false);
                    session = null;
                    session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            var script = MigrationScript.Prepare(migration, Sql, MigrationScript.MajorVersion(session.Connection.ServerVersion), SessionModes ?? Core.Sql.SqlModes.None, out var problems);
            if (problems.Count > 0)
            {
                var problem = problems[0];
                return new MigrationApplyResult(migration, TimeSpan.Zero, 0, new MigrationFailure(
                    migration.Id, migration.FileName, problem.Location, DatabaseErrorKind.Syntax, problem.Message, null, LeftDirty: false, null));
            }

            if (session.Carried && !(Sql.TakesCarriedSession(script) && await ServerAllowsCarryAsync(session, _carriedFootprint, cancellationToken).ConfigureAwait(false)))
            {
                // The file could see what the one before left, or the server could have run code inside that file's DML:
                // it gets a session the pool has reset, as every file did before.
                await session.DisposeAsync().ConfigureAwait(false);
                session = null;
                session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
            }

            HistoryTableLayout layout;
            try
            {
                layout = await EnsureHistoryTableAsync(session, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error && Sql.RefusedAsReadOnly(error))
            {
                if (await ReadOnlyAsync(Url, Label, "apply migrations", error, ex, cancellationToken).ConfigureAwait(false) is { } readOnly)
                {
                    throw readOnly;
                }

                throw;
            }
            catch (Exception ex) when (StoppedByLimit(ex))
            {
                throw await StoppedByLimitAsync($"preparing history table {HistoryTableInspector.Locate(Options.HistoryTable, Sql)} (it runs on the session the files then use, under their settings)", NothingApplied, ex, null, cancellationToken).ConfigureAwait(false);
            }

            var entry = new HistoryEntry(migration, AtlasHashOf(layout, directory, migration), script.Statements.Count) { Rank = rank };
            var applier = new MigrationApplier(Sql, Options, Label, Logger, NewSessionSqlMode);
            var result = await applier.ApplyAsync(session, layout, script, entry, cancellationToken).ConfigureAwait(false);
            _nextRank = result.Failure is null ? rank + 1 : null;
            if (result.Failure is { LeftDirty: false } refused && RefusedAsReadOnly(refused)
                && await ReadOnlyAsync(Url, Label, "apply migrations", Refusal(refused), null, cancellationToken).ConfigureAwait(false) is { } sessionsReadOnly)
            {
                // Nothing of the file was kept (its transaction, or its mark, was refused): the credential is the problem.
                throw sessionsReadOnly;
            }
            if (Sql.MayCreateServerCode(script))
            {
                // A trigger, function or view it created (applied or not) would run inside a later file's DML: ask again.
                _carryCheck = null;
            }

            _carriedFootprint = Sql.SessionFootprintOf(script);
            keep = result.Failure is null && _carriedFootprint != SessionFootprint.Unknown;
            return result;
        }
        finally
        {
            if (keep)
            {
                session!.Carried = true;
                _carried = session;
            }
            else if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Whether the server lets the next file run on <paramref name="session"/> as a file of <paramref name="footprint"/>
    /// left it: its statements commit on their own, and for DML nothing runs inside them that could change the session
    /// (<see cref="SqlEngine.CarryCheckQuery"/>, asked before the first carried session is used, and again after any file
    /// that may have created a trigger, function or view). A run that carries no session never asks.
    /// </summary>
    private async Task<bool> ServerAllowsCarryAsync(DbSession session, SessionFootprint footprint, CancellationToken cancellationToken)
    {
        if (Sql.CarryCheckQuery is not { } query)
        {
            return false;
        }

        if (_carryCheck is null)
        {
            try
            {
                var rows = await session.QueryAsync(
                    query, reader => (Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture) == 1, Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture) == 1), cancellationToken).ConfigureAwait(false);
                _carryCheck = rows.Count == 1 ? rows[0] : (false, false);
            }
            catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null)
            {
                // Not allowed to read the catalog, or the session broke: every file gets a reset session, as before.
                _carryCheck = (false, false);
            }
        }

        var (autocommit, noCodeInDml) = _carryCheck.Value;
        return autocommit && (footprint == SessionFootprint.None || noCodeInDml);
    }

    public async Task<DryRunReport> DryRunAsync(MigrationDirectory directory, IReadOnlyList<Migration> migrations, DryRunSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Mode == DryRunMode.Transaction && Sql.TransactionalDdl)
        {
            var report = await DryRunInTransactionAsync(directory, migrations, cancellationToken).ConfigureAwait(false);
            if (report.Failure is { } refused && RefusedAsReadOnly(refused)
                && await ReadOnlyAsync(Url, Label, "try the plan in a rolled-back transaction", Refusal(refused), null, cancellationToken).ConfigureAwait(false) is { } readOnly)
            {
                throw readOnly;
            }

            return report;
        }

        var server = settings.DevServer ?? Url;
        if (server.Engine != Url.Engine)
        {
            throw new ArgumentException($"the dev database server {server.Endpoint} is {server.SqlEngine.DisplayName}, the plan is for {Sql.DisplayName}", nameof(settings));
        }

        Log.DryRunStarting(Logger, migrations.Count, Label);
        await using var live = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        live.LimitOwnStatements(Options.OwnStatementTimeout);
        var limited = Options.TimeProvider.GetTimestamp();
        try
        {
            return await new ShadowDryRun(Options, Label, Logger).RunAsync(live, Url, server, migrations, cancellationToken).ConfigureAwait(false);
        }
        catch (DbException ex) when (StoppedByLimit(ex))
        {
            throw await StoppedByLimitAsync("making the dry-run's throwaway copy of the live structure", NothingApplied, ex, limited, cancellationToken).ConfigureAwait(false);
        }
        catch (DbException ex) when (DatabaseErrorClassifier.Classify(ex) is { } error && Sql.RefusedAsReadOnly(error))
        {
            // Creating, filling or dropping the throwaway database was refused: the server's sessions take no writes.
            var serverSession = Sql.ServerSessionUrl(server);
            if (await ReadOnlyAsync(serverSession, $"the dry-run's server {server.Endpoint}", "create the dry-run's throwaway database", error, ex, cancellationToken).ConfigureAwait(false) is { } readOnly)
            {
                throw readOnly;
            }

            throw;
        }
    }

    private bool RefusedAsReadOnly(MigrationFailure failure) =>
        failure.ServerCode is not null && Sql.RefusedAsReadOnly(Refusal(failure));

    private static DatabaseError Refusal(MigrationFailure failure) => new(failure.Kind, failure.ServerMessage, failure.ServerCode);

    private const string NothingApplied = "nothing was applied";

    /// <summary>Whether a server limit stopped the statement (a driver error, not one Gatekeeper already explained).</summary>
    private protected bool StoppedByLimit(Exception exception) =>
        exception is not DatabaseException && DatabaseErrorClassifier.Classify(exception) is { } error && Sql.LimitThatStopped(error) is not null;

    /// <summary>
    /// The one sentence for one of Gatekeeper's own statements that a server limit stopped (<see cref="SqlEngine.LimitThatStopped"/>):
    /// what Gatekeeper was doing, the setting with its value and where it was set (asked on a session of its own), what
    /// became of the run, and what to do. When the statement ran under Gatekeeper's own limit
    /// (<see cref="MigrationDatabaseOptions.OwnStatementTimeout"/>) at least that long, or the session did not start with
    /// the setting, the limit was Gatekeeper's own and the sentence says so. Only for an error <see cref="StoppedByLimit"/> takes.
    /// </summary>
    /// <param name="limitedSince">When the session's own limits were set (<see cref="DbSession.LimitOwnStatements"/>); null for
    /// a session under the server's settings. A statement stopped on such a session sooner than the own limit was stopped by
    /// the server's value before Gatekeeper's took its place.</param>
    private protected async Task<DatabaseException> StoppedByLimitAsync(string doing, string outcome, Exception exception, long? limitedSince, CancellationToken cancellationToken)
    {
        var error = DatabaseErrorClassifier.Classify(exception)!;
        var setting = Sql.LimitThatStopped(error)!;
        var own = limitedSince is { } since && Options.TimeProvider.GetElapsedTime(since) >= Options.OwnStatementTimeout;
        string? origin = null;
        try
        {
            if (!own)
            {
                await using var session = await DbSession.OpenUnpooledAsync(Url, cancellationToken).ConfigureAwait(false);
                origin = await Sql.LimitOriginAsync(session, Url, setting, Options.OwnStatementTimeout, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is DatabaseException || DatabaseErrorClassifier.Classify(ex) is not null)
        {
            origin = $"{setting} (where it is set could not be read: {ex.Message})";
        }

        return origin is null
            ? new DatabaseException(error.Kind,
                $"{doing} on {Label} took longer than Gatekeeper's own limit of {Format(Options.OwnStatementTimeout)} for its bookkeeping statements ({setting}); {outcome}; " +
                $"another session most likely held a lock it needed that long: find it among the server's sessions and try again (server: {error.ServerMessage})",
                error.ServerCode, exception)
            : new DatabaseException(DatabaseErrorKind.ServerLimit,
                $"{doing} on {Label} was stopped by {origin}; {outcome}; Gatekeeper's own statements need more time than that: {Sql.LimitAdvice(setting, Url)} (server: {error.ServerMessage})",
                error.ServerCode, exception);
    }

    /// <summary>
    /// The one sentence for a write the server refused because the credential's sessions (or the whole server) take no
    /// writes, naming the setting and where it was set, asked on a session of its own; null when a fresh session may
    /// write after all (then the refusal was the statement's own doing and is reported as it is).
    /// </summary>
    private async Task<DatabaseException?> ReadOnlyAsync(DatabaseUrl url, string label, string doing, DatabaseError error, Exception? inner, CancellationToken cancellationToken)
    {
        string? reason;
        try
        {
            await using var session = await DbSession.OpenUnpooledAsync(url, cancellationToken).ConfigureAwait(false);
            reason = await Sql.ReadOnlyReasonAsync(session, url, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DatabaseException || DatabaseErrorClassifier.Classify(ex) is not null)
        {
            reason = null;
        }

        return reason is null
            ? null
            : new DatabaseException(DatabaseErrorKind.PermissionDenied, $"cannot {doing} on {label}: {reason} (server: {error.ServerMessage})", error.ServerCode, inner);
    }

    /// <summary>The plan in one rolled-back transaction on the database itself; only engines with transactional DDL have it.</summary>
    private protected virtual Task<DryRunReport> DryRunInTransactionAsync(MigrationDirectory directory, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Sql.DisplayName} commits DDL at once: a plan cannot be tried in a transaction there");

    public async Task<LockPreflight> InspectLocksAsync(IReadOnlyList<TableLock> locks, PreflightOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(locks);
        ArgumentNullException.ThrowIfNull(options);
        if (locks.Count == 0)
        {
            return LockPreflight.Clear;
        }

        await using var session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        session.LimitOwnStatements(Options.OwnStatementTimeout);
        session.CommandTimeoutSeconds = (int)Math.Ceiling(options.QueryTimeout.TotalSeconds) + 1;
        return await DatabasePermissions.RequireAsync(Url, "see other sessions' locks (the lock pre-flight)", DatabasePrivilege.ReadSessions,
            () => Sql.InspectLocksAsync(session, Url, locks, options.MinimumTransactionAge, cancellationToken)).ConfigureAwait(false);
    }

    public async Task<DataPrechecks> PrecheckDataAsync(IReadOnlyList<DataCheck> checks, PreflightOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(options);
        if (checks.Count == 0)
        {
            return DataPrechecks.Clean;
        }

        await using var session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        // Each check sets its own, shorter, limit on PostgreSQL (SET LOCAL) and the client's on MySQL.
        session.LimitOwnStatements(Options.OwnStatementTimeout);
        return await new DataPrecheckRunner(session, Url, options).RunAsync(checks, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RepairResult> RepairAsync(MigrationDirectory directory, string migrationId, RepairResolution resolution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var table = Options.HistoryTable;
        var index = directory.Migrations.ToList().FindIndex(m => m.Id == migrationId);
        if (index < 0)
        {
            return new RepairResult(migrationId, false, $"no migration {migrationId} in {directory.Source}; nothing was changed");
        }

        var migration = directory.Migrations[index];
        var previous = directory.Migrations.Take(index).LastOrDefault(m => m.Kind == MigrationKind.Versioned)?.Id;
        _nextRank = null;
        await using var session = await OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        session.LimitOwnStatements(Options.OwnStatementTimeout);
        var limited = Options.TimeProvider.GetTimestamp();
        try
        {
            return await RepairAsync(session, directory, migrationId, resolution, migration, previous, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StoppedByLimit(ex))
        {
            throw await StoppedByLimitAsync($"repairing the history in {HistoryTableInspector.Locate(table, Sql)}", "the history was not changed", ex, limited, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<RepairResult> RepairAsync(DbSession session, MigrationDirectory directory, string migrationId, RepairResolution resolution, Migration migration, string? previous, CancellationToken cancellationToken)
    {
        var table = Options.HistoryTable;
        var (layout, exists) = await HistoryTableInspector.InspectAsync(session, table, Options.Format, cancellationToken).ConfigureAwait(false);
        if (!exists)
        {
            return new RepairResult(migrationId, false, $"history table {table} does not exist on {Label}; nothing was changed");
        }

        var script = MigrationScript.Prepare(migration, Sql, null, SessionModes ?? Core.Sql.SqlModes.None, out _);
        var entry = new HistoryEntry(migration, AtlasHashOf(layout, directory, migration), script.Statements.Count);
        if (Sql.HistoryWritesOnly(session) is { } settings)
        {
            // A server whose sessions start with autocommit = 0 would roll the repair back when the pool resets the
            // session, and sql_safe_updates would refuse it.
            await session.ExecuteAsync(settings, cancellationToken).ConfigureAwait(false);
        }

        bool cleared;
        try
        {
            cleared = await layout.RepairAsync(session, entry, resolution, previous, Options.TimeProvider.GetUtcNow().UtcDateTime, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error && Sql.RefusedAsReadOnly(error))
        {
            if (await ReadOnlyAsync(Url, Label, "repair the history", error, ex, cancellationToken).ConfigureAwait(false) is { } readOnly)
            {
                throw readOnly;
            }

            throw;
        }

        if (!cleared)
        {
            return new RepairResult(migrationId, false, $"migration {migrationId} is not marked dirty in {table} on {Label}; nothing was changed");
        }

        Log.MigrationRepaired(Logger, migrationId, table.ToString(), Label);
        return new RepairResult(migrationId, true, resolution == RepairResolution.Retry
            ? $"cleared the dirty mark of {migrationId} in {table}; the next migrate runs it again"
            : $"recorded {migrationId} as applied in {table}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_carried is { } carried)
        {
            _carried = null;
            await carried.DisposeAsync().ConfigureAwait(false);
        }

        if (_ownsDataSource)
        {
            await DataSource.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var beside in _ownedBeside)
        {
            await beside.DisposeAsync().ConfigureAwait(false);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Opens a pooled session; connection failures become the one-line <see cref="DatabaseException"/>.</summary>
    private protected async Task<DbSession> OpenSessionAsync(CancellationToken cancellationToken)
    {
        DbConnection connection;
        try
        {
            connection = await DataSourceFor(SessionModes ?? Core.Sql.SqlModes.None).OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null)
        {
            throw DatabaseErrorClassifier.ForConnection(ex, Url);
        }

        return new DbSession(connection, Sql);
    }

    /// <summary>
    /// The pool whose driver reads and escapes text as a session in <paramref name="modes"/> does (MySQL: a second pool
    /// with MySqlConnector's NoBackslashEscapes for a NO_BACKSLASH_ESCAPES session); <see cref="DataSource"/> otherwise.
    /// </summary>
    private protected virtual DbDataSource DataSourceFor(Core.Sql.SqlModes modes) => DataSource;

    /// <summary>A pool created beside <see cref="DataSource"/>, closed with this database unless shared <paramref name="shared"/> pools hold it.</summary>
    private protected DbDataSource Beside(DbDataSource source, bool shared)
    {
        if (!shared)
        {
            _ownedBeside.Add(source);
        }

        return source;
    }

    /// <summary>Opens a session of its own outside the pool (locks), so closing it really ends the server session.</summary>
    private protected Task<DbSession> OpenUnpooledSessionAsync(CancellationToken cancellationToken) =>
        DbSession.OpenUnpooledAsync(Url, cancellationToken);

    private async Task<HistoryTableLayout> EnsureHistoryTableAsync(DbSession session, CancellationToken cancellationToken)
    {
        if (_layout is not null)
        {
            return _layout;
        }

        var (layout, exists) = _inspected ?? await HistoryTableInspector.InspectAsync(session, Options.HistoryTable, Options.Format, cancellationToken).ConfigureAwait(false);
        _inspected = null;
        // Before the first migration runs on this session: its SET search_path or USE must not move the history writes.
        await layout.ResolveSchemaAsync(session, cancellationToken).ConfigureAwait(false);
        if (layout.EffectiveSchema is null && Sql.SearchPathQuery is { } searchPathQuery)
        {
            // current_schema() is NULL: no schema of the search_path exists (a role's search_path naming another schema).
            var searchPath = await session.ScalarAsync(searchPathQuery, cancellationToken).ConfigureAwait(false);
            throw new DatabaseException(
                DatabaseErrorKind.HistoryTable,
                $"no schema to keep history table {layout.Table} in on {Label}: user {Url.User ?? "(none)"}'s search_path ({searchPath}) names no schema that exists; " +
                "create that schema, change the search_path (ALTER ROLE … SET search_path), or name the table's schema with --history-table schema.table");
        }

        if (!exists)
        {
            await layout.CreateAsync(session, cancellationToken).ConfigureAwait(false);
            Log.HistoryTableCreated(Logger, layout.Table.ToString(), layout.Kind.ToString(), Label);
        }

        return _layout = layout;
    }

    private string? AtlasHashOf(HistoryTableLayout layout, MigrationDirectory directory, Migration migration)
    {
        if (layout.Kind != HistoryTableKind.Atlas)
        {
            return null;
        }

        if (_atlasSum is not { } cached || !ReferenceEquals(cached.Directory, directory))
        {
            var files = directory.Migrations.Select(m => new MigrationFile(m.FileName, m.Content));
            _atlasSum = cached = (directory, AtlasSum.Compute(files));
        }

        return cached.Sum.Entries.FirstOrDefault(e => e.File == migration.FileName)?.Hash;
    }

    /// <summary>"30s", "1.5s", "250ms": durations in messages.</summary>
    private protected static string Format(TimeSpan duration) =>
        duration.TotalSeconds >= 1
            ? duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s"
            : ((long)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
}
