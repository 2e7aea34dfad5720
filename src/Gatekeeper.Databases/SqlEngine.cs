using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.DevDatabase;
using Gatekeeper.Databases.Execution;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Databases;

/// <summary>
/// Everything in which the database engines differ, in one type: URL schemes and defaults, identifier quoting, the
/// column types and catalog queries of the history tables, lock timeouts, how errors point into a statement, whether
/// DDL is transactional, and which <see cref="MigrationDatabase"/> serves the engine. Callers ask the engine instead of
/// comparing it with <see cref="DatabaseEngine.Postgres"/>; <see cref="For(DatabaseEngine)"/> throws on an engine it does
/// not know, so a new engine cannot silently be treated as one of the others.
/// </summary>
public abstract partial class SqlEngine
{
    public static readonly SqlEngine Postgres = new PostgresEngine();
    public static readonly SqlEngine MySql = new MySqlEngine();

    /// <summary>Every engine Gatekeeper supports, in the order messages list them.</summary>
    public static IReadOnlyList<SqlEngine> All { get; } = [Postgres, MySql];

    public abstract DatabaseEngine Kind { get; }

    public abstract SqlDialect Dialect { get; }

    /// <summary>The engine's name in plan identities, metrics and traces: <c>postgres</c>, <c>mysql</c>.</summary>
    public abstract string Name { get; }

    /// <summary>How people call it in messages: PostgreSQL, MySQL.</summary>
    public abstract string DisplayName { get; }

    /// <summary>URL schemes that select this engine (lower case).</summary>
    public abstract IReadOnlyList<string> Schemes { get; }

    public abstract int DefaultPort { get; }

    /// <summary>The <c>sslmode</c> values a URL may carry for this engine.</summary>
    public abstract IReadOnlyList<string> SslModes { get; }

    /// <summary>Whether a database holds schemas of its own (PostgreSQL), rather than a schema being a database (MySQL).</summary>
    public abstract bool HasSchemasInsideDatabases { get; }

    /// <summary>
    /// Whether DDL takes part in transactions. Without it (MySQL commits DDL implicitly) every migration runs statement
    /// by statement between a dirty mark and its clearing, and every statement counts as committed.
    /// </summary>
    public abstract bool TransactionalDdl { get; }

    public abstract string Quote(string identifier);

    /// <summary>The column type of a UTC timestamp in Gatekeeper's own tables.</summary>
    public abstract string TimestampType { get; }

    /// <summary>The column type of a true/false value in Gatekeeper's own tables.</summary>
    public abstract string BooleanType { get; }

    /// <summary>
    /// Whether the catalog leaves out the tables the user may not read (MySQL's information_schema), so a table that
    /// seems absent may only be hidden; PostgreSQL's catalog lists every table to everyone.
    /// </summary>
    public abstract bool CatalogHidesUnreadableTables { get; }

    /// <summary>An expression naming the schema (PostgreSQL) or database (MySQL) unqualified names resolve to.</summary>
    public abstract string CurrentSchemaExpression { get; }

    /// <summary>An expression giving the connected user's name without a host part.</summary>
    public abstract string CurrentUserNameExpression { get; }

    /// <summary>
    /// A query for the session's schema search path, where unqualified names are created in its first existing schema
    /// (<see cref="CurrentSchemaExpression"/> is NULL when none exists); null where a session's database is its schema.
    /// </summary>
    public virtual string? SearchPathQuery => null;

    /// <summary>The statement that creates the schema (or, on MySQL, the database) a qualified history table lives in.</summary>
    public abstract string CreateSchemaIfNotExists(string quotedSchema);

    /// <summary>
    /// A query listing the column names of table <c>@gk_history_table</c> (a name the history layouts' own queries do not
    /// use, so it can share a command with them) in schema <paramref name="schemaExpression"/> (a parameter
    /// or <see cref="CurrentSchemaExpression"/>) in column order; empty when there is no such table.
    /// </summary>
    public abstract string ColumnNamesQuery(string schemaExpression);

    public abstract string SetLockTimeout(TimeSpan timeout, bool transactionLocal);

    /// <summary>
    /// An expression for the time since the migration started to now, in <paramref name="unit"/>, by the server's clock:
    /// a history write sent with a migration's statements records their execution time with it. The start is the
    /// transaction's (PostgreSQL) or what <see cref="ServerClockStart"/> noted, sent first (MySQL).
    /// </summary>
    internal abstract string ServerElapsed(History.ElapsedUnit unit);

    /// <summary>
    /// The statement that notes the start for <see cref="ServerElapsed"/>, sent before a migration's statements, and with
    /// <paramref name="lockTimeout"/> sets the session's lock timeout as <see cref="SetLockTimeout"/> does, in the same
    /// statement; null when the transaction's start serves.
    /// </summary>
    internal abstract string? ServerClockStart(TimeSpan? lockTimeout);

    /// <summary>
    /// <see cref="ServerClockStart"/> for a file that runs on the session the file before it applied on, without a reset
    /// (see <see cref="SessionFootprintOf"/>): the same, and it also clears what that file's statements left that a
    /// reset would clear. Only engines that carry sessions have it.
    /// </summary>
    internal virtual string CarriedSessionClockStart(TimeSpan? lockTimeout) =>
        throw new NotSupportedException($"{DisplayName} does not carry a session from one migration to the next");

    /// <summary>
    /// What applying the file may leave on its session for the next file; <see cref="Execution.SessionFootprint.Unknown"/>
    /// (the pool resets the session in between, as for every file) unless the engine can show otherwise.
    /// </summary>
    internal virtual Execution.SessionFootprint SessionFootprintOf(Execution.MigrationScript script) => Execution.SessionFootprint.Unknown;

    /// <summary>Whether the file may run on a session carried from the file before, as far as its own text goes.</summary>
    internal virtual bool TakesCarriedSession(Execution.MigrationScript script) => false;

    /// <summary>Whether the file may create a trigger, function or view, which would make <see cref="CarryCheckQuery"/>'s answer stale.</summary>
    internal virtual bool MayCreateServerCode(Execution.MigrationScript script) => true;

    /// <summary>
    /// A query of one row, two booleans: statements commit on their own (autocommit: else a file's last write would
    /// stay open on a carried session), and the server runs nothing inside a file's DML that could change the session (no
    /// trigger, stored function or view in the database), which a file of <see cref="Execution.SessionFootprint.DataChanges"/>
    /// also needs to pass its session on. Null where sessions are not carried.
    /// </summary>
    internal virtual string? CarryCheckQuery => null;

    /// <summary>
    /// A statement that makes the session commit each statement on its own and end a transaction at COMMIT (no chained
    /// transaction, no disconnect), whatever the server's defaults say; null where the engine has no such defaults.
    /// Sent before Gatekeeper writes history on a session, or folded into a SET it sends anyway.
    /// </summary>
    internal virtual string? CommitEachStatement => null;

    /// <summary>
    /// <see cref="CommitEachStatement"/> for a session on which only Gatekeeper's history writes run from then on (after a
    /// file failed, a repair), which also sets aside server defaults that refuse those writes; null where there are none.
    /// </summary>
    internal virtual string? HistoryWritesOnly(DbSession session) => CommitEachStatement;

    /// <summary>A query for how a session reads text (MySQL's <c>@@SESSION.sql_mode</c>); null where nothing changes it.</summary>
    internal virtual string? SessionModesQuery => null;

    /// <summary>The assignment (after a SET's first one) that gives a session <paramref name="sqlMode"/>; only MySQL has one.</summary>
    internal virtual string SetSqlMode(string sqlMode) =>
        throw new NotSupportedException($"{DisplayName} has no sql_mode");

    /// <summary>
    /// What the migration lock's session sets before it asks for the lock, on a server that reports
    /// <paramref name="serverVersion"/>: the lock lives as long as that session, which sits idle while the files run, so
    /// a server default that ends idle sessions (PostgreSQL's idle_session_timeout, MySQL's wait_timeout) would end the
    /// lock in the middle of a run and let a second runner in; one that stops long statements (MariaDB's
    /// max_statement_time, MySQL's max_execution_time) would cut the wait for another runner's lock short. Null where
    /// nothing needs setting.
    /// </summary>
    internal abstract string? PinLockSession(string? serverVersion);

    /// <summary>
    /// What a session that runs only Gatekeeper's own bookkeeping (history and catalog reads, the dry-run's copy of the
    /// structure, repair) sets, sent ahead of its first command in the same round trip (<see cref="DbSession.SendAhead"/>):
    /// Gatekeeper's own <paramref name="limit"/> on each statement in place of the server's, role's or database's (a guard
    /// value meant for the app, such as a role's statement_timeout of 1 s, would stop a catalog read that is slow only on
    /// a large schema), and no separate lock wait limit (the statement limit bounds it). Never sent on a session that
    /// runs a migration file: the files keep the user's settings. The pool's reset takes it back.
    /// </summary>
    internal abstract string OwnStatementLimits(TimeSpan limit, string? serverVersion);

    /// <summary>
    /// The setting whose limit stopped a statement (PostgreSQL's statement_timeout, lock_timeout,
    /// idle_in_transaction_session_timeout or transaction_timeout; MariaDB's max_statement_time, MySQL's
    /// max_execution_time, the lock wait timeouts), as the server's error tells it; null for any other error.
    /// </summary>
    internal abstract string? LimitThatStopped(DatabaseError error);

    /// <summary>
    /// The value <paramref name="setting"/> had when <paramref name="session"/> started, and where it was set, as
    /// "statement_timeout = 1ms, set for database shop"; null when the session starts without one (then the limit that
    /// stopped the statement was Gatekeeper's own). The query runs under <paramref name="ownLimit"/> where that leaves the
    /// answer alone (the setting itself may be a millisecond).
    /// </summary>
    internal abstract Task<string?> LimitOriginAsync(DbSession session, DatabaseUrl url, string setting, TimeSpan ownLimit, CancellationToken cancellationToken);

    /// <summary>What a person does about <paramref name="setting"/> stopping Gatekeeper's own statements on <paramref name="url"/>.</summary>
    internal abstract string LimitAdvice(string setting, DatabaseUrl url);

    /// <summary>Whether the server refused a write because the session, or the whole server, takes no writes.</summary>
    internal abstract bool RefusedAsReadOnly(DatabaseError error);

    /// <summary>
    /// Why <paramref name="session"/>'s writes are refused, as the end of a sentence that names the setting and where it was
    /// set ("its sessions start read-only (default_transaction_read_only = on, set for role app)"); null when the session
    /// may write after all (a statement of the file asked for a read-only transaction itself).
    /// </summary>
    internal abstract Task<string?> ReadOnlyReasonAsync(DbSession session, DatabaseUrl url, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="exception"/> says the server had ended a pooled session while it sat idle in the pool
    /// (PostgreSQL's idle_session_timeout): the command never ran, so it may be sent again on a fresh session.
    /// </summary>
    internal virtual bool EndedWhileIdle(Exception exception) => false;

    /// <summary>Closes the idle sessions of <paramref name="pool"/>, which the server may have ended as well.</summary>
    internal virtual void ClearIdleSessions(DbDataSource pool)
    {
    }

    /// <summary>An expression for the current time by the server's clock (not the transaction's start), as a UTC instant.</summary>
    internal abstract string ServerNow { get; }

    /// <summary>
    /// What ends an UPDATE whose one matching row is the newest by <paramref name="rankColumn"/> (a dirty mark, written last
    /// under the migration lock), so the server looks from the newest row back instead of reading the whole table; empty
    /// where UPDATE has no such clause.
    /// </summary>
    internal abstract string NewestRowFirst(string rankColumn);

    /// <summary>
    /// What an UPDATE or DELETE meant for every row ends with, so that a server which refuses one without a key in its
    /// WHERE (MySQL's sql_safe_updates, which a file's session keeps) still runs it; empty where none is needed.
    /// <paramref name="bigintKey"/> is the table's key, a signed 64-bit integer column.
    /// </summary>
    internal virtual string EveryRow(string bigintKey) => string.Empty;

    public abstract string ResetLockTimeout { get; }

    /// <summary>The settings a migration file changes when it sets its own lock timeout (then Gatekeeper's is not imposed).</summary>
    public abstract IReadOnlyList<string> LockTimeoutSettings { get; }

    /// <summary>Points the location at the error inside the statement when the server says where it is.</summary>
    public abstract SourceLocation Locate(SqlStatement statement, Exception exception);

    /// <summary>
    /// The server's message about <paramref name="statement"/>, sent among others in one query, as if it had been sent
    /// alone: MySQL quotes the query text from the error on, which would otherwise run on into the statements after it.
    /// </summary>
    public virtual string MessageAbout(SqlStatement statement, string serverMessage) => serverMessage;

    /// <summary>
    /// Whether a migration's statements go to the server as one batch; <see cref="StoppedAt"/> then names the statement
    /// a failure stopped at.
    /// </summary>
    public virtual bool SendsBatches => false;

    /// <summary>
    /// Whether the statements of a migration that runs outside a transaction may go to the server as one query, each
    /// still committed on its own and the first failure stopping the rest (MySQL's multi-statement queries). PostgreSQL
    /// runs a batch as one implicit transaction, which would change what such a file does (CREATE INDEX CONCURRENTLY
    /// refuses it), so there they go one at a time.
    /// </summary>
    public virtual bool RunsStatementsAsOneQuery => false;

    /// <summary>The index of the first batch command that did not complete (the refused or interrupted one), or -1.</summary>
    public virtual int StoppedAt(DbBatch batch) => -1;

    /// <summary>
    /// The statement that creates a throwaway database; <paramref name="characterSet"/> and <paramref name="collation"/>
    /// (MySQL) copy the live database's defaults, so text compares alike in the copy.
    /// </summary>
    internal abstract string CreateDatabase(string name, string? characterSet, string? collation);

    internal abstract string DropDatabase(string name);

    /// <summary>A query listing the databases on the server whose names start with <c>@prefix</c>.</summary>
    internal abstract string DatabasesNamedLikeQuery { get; }

    /// <summary>
    /// Where a session that creates and drops databases connects: PostgreSQL sessions always belong to a database (the
    /// URL's), MySQL sessions need none (a user allowed only its throwaway databases may not use the URL's).
    /// </summary>
    internal abstract DatabaseUrl ServerSessionUrl(DatabaseUrl url);

    /// <summary>Reads the structure of the live database (no rows) for replaying into a throwaway one.</summary>
    internal abstract Task<SchemaSnapshot> ReadSnapshotAsync(DbSession live, string copyDatabase, CancellationToken cancellationToken);

    /// <summary>
    /// True when a statement failed only because it names a server-level user or role that exists where the plan will
    /// run but not on the server of the copy (roles and users are not part of a database, so they are not copied).
    /// </summary>
    internal abstract bool NamesMissingServerPrincipal(Exception exception);

    /// <summary>Sessions that would make the plan's locks wait, and INVALID indexes on its tables (read-only).</summary>
    internal abstract Task<Core.Planning.LockPreflight> InspectLocksAsync(DbSession session, DatabaseUrl url, IReadOnlyList<Core.Planning.TableLock> locks, TimeSpan minimumAge, CancellationToken cancellationToken);

    /// <summary>Statements that open a READ ONLY transaction whose statements give up after <paramref name="statementTimeout"/>.</summary>
    internal abstract IReadOnlyList<string> BeginReadOnly(TimeSpan statementTimeout);

    /// <summary>The length in characters of <paramref name="expression"/>'s value, whatever its type.</summary>
    internal abstract string TextLength(string expression);

    /// <summary><paramref name="expression"/> rounded to <paramref name="scale"/> decimal places, as a decimal type stores it.</summary>
    internal abstract string RoundToScale(string expression, int scale);

    /// <summary>
    /// A key column's value as a row is named by in a message. PostgreSQL's is read as text: its connections do not
    /// load the database's own types (enums, citext, domains), which could not be read otherwise.
    /// </summary>
    internal abstract string KeyValue(string column);

    /// <summary>A query for the primary key columns of <paramref name="table"/>, in key order (none when it has no primary key).</summary>
    internal abstract (string Sql, (string Name, object? Value)[] Parameters) PrimaryKeyColumns(DbSession session, Core.Planning.TableName table);

    /// <summary>The statement that grants <paramref name="user"/> what <paramref name="privilege"/> names, for permission messages.</summary>
    public abstract string Grant(DatabasePrivilege privilege, string user, string database, string? table = null);

    /// <summary>The engine's migration database over <paramref name="url"/>; nothing connects yet.</summary>
    internal abstract MigrationDatabase Open(DatabaseUrl url, MigrationDatabaseOptions options, ILoggerFactory? loggerFactory, DatabaseConnectionPools? pools);

    /// <summary>A connection outside any pool, so closing it really ends the server session (locks, throwaway databases).</summary>
    internal abstract DbConnection CreateUnpooledConnection(DatabaseUrl url);

    /// <summary>
    /// An unpooled connection for Gatekeeper's own statements alone whose server session starts with
    /// <see cref="OwnStatementLimits"/> (PostgreSQL: options in the start-up message, which rank above role and database
    /// defaults and suit statements that refuse to share a round trip, CREATE and DROP DATABASE); null where the engine
    /// has no such option, and the limits go ahead of the session's first command instead.
    /// </summary>
    internal virtual DbConnection? CreateOwnStatementsConnection(DatabaseUrl url, TimeSpan limit) => null;

    /// <summary>
    /// Returns an open session to the state a fresh one has (settings, variables, temporary tables, prepared
    /// statements), on the same connection: what the driver's pool does before it hands a session out again, without
    /// the new connection (a server process and an authentication) an unpooled session would cost.
    /// </summary>
    internal abstract Task ResetSessionAsync(DbSession session, CancellationToken cancellationToken);

    /// <summary>Reads a database's catalogs into the declarative mode's schema model.</summary>
    internal abstract Schema.CatalogReader Catalog { get; }

    /// <summary>Loads a desired state into a dev database of this engine and leaves that database as it found it.</summary>
    internal abstract Schema.DevDatabaseLoader CreateDevDatabaseLoader();

    public static SqlEngine For(DatabaseEngine engine) => engine switch
    {
        DatabaseEngine.Postgres => Postgres,
        DatabaseEngine.MySql => MySql,
        _ => throw Unsupported(engine),
    };

    public static SqlEngine For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.Postgres => Postgres,
        SqlDialect.MySql => MySql,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, $"no database engine speaks SQL dialect {dialect}"),
    };

    /// <summary>The engine a URL scheme selects (<c>postgres</c>, <c>postgresql</c>, <c>mysql</c>, <c>mariadb</c>), or null.</summary>
    public static SqlEngine? ForScheme(string scheme) =>
        All.FirstOrDefault(e => e.Schemes.Contains(scheme, StringComparer.OrdinalIgnoreCase));

    /// <summary>The exception for a <see cref="DatabaseEngine"/> value no engine type handles (a bug, never user input).</summary>
    public static ArgumentOutOfRangeException Unsupported(DatabaseEngine engine) =>
        new(nameof(engine), engine, $"database engine {engine} is not supported; add it to {nameof(SqlEngine)}");

    public override string ToString() => DisplayName;

    /// <summary>An identifier as a person would type it: bare when it needs no quotes, quoted otherwise.</summary>
    protected string Plain(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        return identifier.Length > 0 && (char.IsAsciiLetterLower(identifier[0]) || identifier[0] == '_')
            && identifier.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_')
            ? identifier
            : Quote(identifier);
    }

    /// <summary>The location of a 0-based character offset inside a statement's text.</summary>
    protected static SourceLocation At(SqlStatement statement, int offset)
    {
        ArgumentNullException.ThrowIfNull(statement);
        var text = statement.Text;
        offset = Math.Clamp(offset, 0, text.Length);
        var lines = 0;
        var lineStart = -1;
        for (var i = 0; i < offset; i++)
        {
            if (text[i] == '\n')
            {
                lines++;
                lineStart = i;
            }
        }

        var start = statement.Location;
        return lines == 0
            ? start with { Column = start.Column + offset }
            : start with { Line = start.Line + lines, Column = offset - lineStart };
    }

    private sealed class PostgresEngine : SqlEngine
    {
        public override DatabaseEngine Kind => DatabaseEngine.Postgres;

        public override SqlDialect Dialect => SqlDialect.Postgres;

        public override string Name => "postgres";

        public override string DisplayName => "PostgreSQL";

        public override IReadOnlyList<string> Schemes { get; } = ["postgres", "postgresql"];

        public override int DefaultPort => 5432;

        public override IReadOnlyList<string> SslModes { get; } = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

        public override bool HasSchemasInsideDatabases => true;

        public override bool TransactionalDdl => true;

        public override bool CatalogHidesUnreadableTables => false;

        public override string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

        public override string TimestampType => "timestamptz";

        public override string BooleanType => "boolean";

        public override string CurrentSchemaExpression => "current_schema()";

        public override string CurrentUserNameExpression => "current_user";

        public override string CreateSchemaIfNotExists(string quotedSchema) => $"CREATE SCHEMA IF NOT EXISTS {quotedSchema}";

        public override string SearchPathQuery => "SHOW search_path";

        // information_schema.columns is a view over the whole catalog that takes milliseconds to plan, and the webhook
        // asks on every admission; pg_catalog answers the same question (tables, partitioned tables, views and foreign
        // tables, as that view lists) in a fraction of it. The table's oid comes from scalar subqueries rather than a
        // three-way join: the server plans the join afresh at every admission (no statement stays prepared across the
        // pool's reset), 0.15 ms of planning against 0.05 for this form (EXPLAIN ANALYZE, medians of 40, PostgreSQL 15).
        public override string ColumnNamesQuery(string schemaExpression) =>
            "SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = (SELECT c.oid FROM pg_catalog.pg_class c " +
            $"WHERE c.relname = @gk_history_table AND c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = {schemaExpression}) " +
            "AND c.relkind IN ('r', 'p', 'v', 'f')) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

        public override string SetLockTimeout(TimeSpan timeout, bool transactionLocal) =>
            $"SET {(transactionLocal ? "LOCAL " : string.Empty)}lock_timeout = '{(long)Math.Max(1, timeout.TotalMilliseconds)}ms'";

        public override string ResetLockTimeout => "RESET lock_timeout";

        // transaction_timestamp() is when the migration's BEGIN ran; clock_timestamp() moves on while the transaction does.
        internal override string ServerElapsed(History.ElapsedUnit unit) => unit switch
        {
            History.ElapsedUnit.Milliseconds => $"floor({TransactionSeconds} * 1000)::bigint",
            History.ElapsedUnit.Milliseconds32 => $"least(floor({TransactionSeconds} * 1000), 2147483647)::integer",
            History.ElapsedUnit.Nanoseconds => $"floor({TransactionSeconds} * 1000000000)::bigint",
            _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "unknown unit"),
        };

        private const string TransactionSeconds = "extract(epoch FROM clock_timestamp() - transaction_timestamp())";

        internal override string? ServerClockStart(TimeSpan? lockTimeout) => null;

        // idle_session_timeout (PostgreSQL 14 and later) ends a session idle that long, the lock's among them. The lock
        // query never runs inside a transaction and returns at once, so no other timeout reaches it.
        internal override string? PinLockSession(string? serverVersion) =>
            MigrationScript.MajorVersion(serverVersion) >= 14 ? "SET idle_session_timeout = 0" : null;

        // Session-level SETs, each its own statement: the server starts a statement's timeout afresh at each statement of
        // a command (after the SET), so the read that follows already runs under Gatekeeper's value.
        internal override string OwnStatementLimits(TimeSpan limit, string? serverVersion) =>
            $"SET statement_timeout = '{(long)Math.Max(1, limit.TotalMilliseconds)}ms';\nSET lock_timeout = 0";

        // 57014 is also a cancel by request (pg_cancel_backend, a client's cancel): only the timeout's own words count.
        // 25P03 and 25P04 (PostgreSQL 17) end the session itself.
        internal override string? LimitThatStopped(DatabaseError error) => error.ServerCode switch
        {
            "57014" when error.ServerMessage.Contains("statement timeout", StringComparison.Ordinal) => "statement_timeout",
            "55P03" when error.ServerMessage.Contains("lock timeout", StringComparison.Ordinal) => "lock_timeout",
            "25P03" => "idle_in_transaction_session_timeout",
            "25P04" => "transaction_timeout",
            _ => null,
        };

        // reset_val is the value the session started with (role, database, configuration), whatever Gatekeeper set since;
        // pg_db_role_setting (readable by every user) says which ALTER ROLE / ALTER DATABASE set it.
        internal override async Task<string?> LimitOriginAsync(DbSession session, DatabaseUrl url, string setting, TimeSpan ownLimit, CancellationToken cancellationToken)
        {
            session.LimitOwnStatements(ownLimit);
            const string Query = """
                SELECT s.reset_val, coalesce(s.unit, ''),
                  EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting r WHERE r.setdatabase = d.oid AND r.setrole = o.oid AND EXISTS (SELECT 1 FROM unnest(r.setconfig) c WHERE starts_with(c, @setting || '='))),
                  EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting r WHERE r.setdatabase = 0 AND r.setrole = o.oid AND EXISTS (SELECT 1 FROM unnest(r.setconfig) c WHERE starts_with(c, @setting || '='))),
                  EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting r WHERE r.setdatabase = d.oid AND r.setrole = 0 AND EXISTS (SELECT 1 FROM unnest(r.setconfig) c WHERE starts_with(c, @setting || '=')))
                FROM pg_catalog.pg_settings s, pg_catalog.pg_database d, pg_catalog.pg_roles o
                WHERE s.name = @setting AND d.datname = current_database() AND o.rolname = current_user
                """;
            var rows = await session.QueryAsync(
                Query, r => (Value: r.GetString(0), Unit: r.GetString(1), RoleInDatabase: r.GetBoolean(2), Role: r.GetBoolean(3), Database: r.GetBoolean(4)),
                cancellationToken, ("setting", setting)).ConfigureAwait(false);
            if (rows.Count == 0 || rows[0].Value is "0" or "")
            {
                return null;
            }

            var (value, unit, roleInDatabase, role, database) = rows[0];
            var user = Plain(url.User ?? "(none)");
            var where = roleInDatabase ? $"for role {user} in database {Plain(url.Database)}"
                : role ? $"for role {user}"
                : database ? $"for database {Plain(url.Database)}"
                : "in the server's configuration (postgresql.conf or ALTER SYSTEM)";
            return $"{setting} = {value}{unit}, set {where}";
        }

        internal override string LimitAdvice(string setting, DatabaseUrl url) =>
            $"raise it, or give user {Plain(url.User ?? "(none)")} a value of its own: ALTER ROLE {Plain(url.User ?? "(none)")} IN DATABASE {Plain(url.Database)} SET {setting} = 0";

        // 57P05 idle_session_timeout. MySqlConnector resets a pooled session before handing it out and opens a new one
        // when that fails; Npgsql hands out what it has.
        internal override bool EndedWhileIdle(Exception exception) => exception is PostgresException { SqlState: "57P05" };

        internal override void ClearIdleSessions(DbDataSource pool) => ((NpgsqlDataSource)pool).Clear();

        // 25006 read_only_sql_transaction: a write in a read-only transaction, or any write on a standby.
        internal override bool RefusedAsReadOnly(DatabaseError error) => error.ServerCode == "25006";

        internal override async Task<string?> ReadOnlyReasonAsync(DbSession session, DatabaseUrl url, CancellationToken cancellationToken)
        {
            var rows = await session.QueryAsync(
                "SELECT pg_is_in_recovery(), s.setting = 'on', s.source FROM pg_catalog.pg_settings s WHERE s.name = 'default_transaction_read_only'",
                r => (Standby: r.GetBoolean(0), On: r.GetBoolean(1), Source: r.GetString(2)),
                cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                return null;
            }

            var (standby, on, source) = rows[0];
            if (standby)
            {
                return "the server is a standby in recovery, which takes no writes; point the URL at the primary";
            }

            if (!on)
            {
                return null;
            }

            var user = url.User ?? "(none)";
            var where = source switch
            {
                "user" => $"for role {Plain(user)}; undo it with ALTER ROLE {Plain(user)} RESET default_transaction_read_only",
                "database" => $"for database {Plain(url.Database)}; undo it with ALTER DATABASE {Plain(url.Database)} RESET default_transaction_read_only",
                "database user" => $"for role {Plain(user)} in database {Plain(url.Database)}; undo it with ALTER ROLE {Plain(user)} IN DATABASE {Plain(url.Database)} RESET default_transaction_read_only",
                "configuration file" => "in the server's configuration (postgresql.conf or ALTER SYSTEM)",
                "client" => "by the connection's options",
                _ => $"by the {source}",
            };
            return $"user {user}'s sessions start read-only (default_transaction_read_only = on, set {where})";
        }

        internal override string ServerNow => "clock_timestamp()";

        // PostgreSQL's UPDATE takes no ORDER BY or LIMIT; its marks are only for the few files run outside a transaction.
        internal override string NewestRowFirst(string rankColumn) => string.Empty;

        public override IReadOnlyList<string> LockTimeoutSettings { get; } = ["lock_timeout"];

        public override bool SendsBatches => true;

        // Npgsql gives each command that completed a statement type from the server's CommandComplete tag (DDL is
        // "Other"); the first one still Unknown is where the batch stopped, whether refused or cut off.
        public override int StoppedAt(DbBatch batch)
        {
            ArgumentNullException.ThrowIfNull(batch);
            for (var i = 0; i < batch.BatchCommands.Count; i++)
            {
                if (batch.BatchCommands[i] is NpgsqlBatchCommand { StatementType: StatementType.Unknown })
                {
                    return i;
                }
            }

            return -1;
        }

        // Position is 1-based, in characters of the statement text Gatekeeper sent.
        public override SourceLocation Locate(SqlStatement statement, Exception exception)
        {
            ArgumentNullException.ThrowIfNull(statement);
            return exception is PostgresException { Position: > 0 } pg ? At(statement, pg.Position - 1) : statement.Location;
        }

        // template0: a template1 with objects of its own would put them into every copy.
        internal override string CreateDatabase(string name, string? characterSet, string? collation) =>
            $"CREATE DATABASE {Quote(name)} TEMPLATE template0";

        // FORCE (PostgreSQL 13+) ends a session a cancelled dry-run may leave behind for a moment.
        internal override string DropDatabase(string name) => $"DROP DATABASE IF EXISTS {Quote(name)} WITH (FORCE)";

        internal override string DatabasesNamedLikeQuery => "SELECT datname FROM pg_catalog.pg_database WHERE starts_with(datname, @prefix)";

        internal override DatabaseUrl ServerSessionUrl(DatabaseUrl url) => url;

        internal override Task<SchemaSnapshot> ReadSnapshotAsync(DbSession live, string copyDatabase, CancellationToken cancellationToken) =>
            PostgresSchemaSnapshot.ReadAsync(live, cancellationToken);

        internal override Task<Core.Planning.LockPreflight> InspectLocksAsync(DbSession session, DatabaseUrl url, IReadOnlyList<Core.Planning.TableLock> locks, TimeSpan minimumAge, CancellationToken cancellationToken) =>
            Preflight.PostgresLockPreflight.InspectAsync(session, url, locks, minimumAge, cancellationToken);

        internal override IReadOnlyList<string> BeginReadOnly(TimeSpan statementTimeout) =>
            ["BEGIN READ ONLY", $"SET LOCAL statement_timeout = '{(long)Math.Max(1, statementTimeout.TotalMilliseconds)}ms'"];

        internal override string TextLength(string expression) => $"length(({expression})::text)";

        internal override string RoundToScale(string expression, int scale) => $"round(({expression})::numeric, {scale.ToString(CultureInfo.InvariantCulture)})";

        internal override string KeyValue(string column) => $"({column})::text";

        internal override (string Sql, (string Name, object? Value)[] Parameters) PrimaryKeyColumns(DbSession session, Core.Planning.TableName table) => (
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) " +
            "WHERE i.indrelid = to_regclass(@name) AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
            [("name", table.Schema is null ? Quote(table.Name) : Quote(table.Schema) + "." + Quote(table.Name))]);

        // 42704 undefined_object: "role \"reporting\" does not exist"
        internal override bool NamesMissingServerPrincipal(Exception exception) =>
            exception is PostgresException { SqlState: "42704" } pg && pg.MessageText.StartsWith("role ", StringComparison.Ordinal);

        public override string Grant(DatabasePrivilege privilege, string user, string database, string? table = null) => privilege switch
        {
            DatabasePrivilege.Connect => $"GRANT CONNECT ON DATABASE {Plain(database)} TO {Plain(user)}",
            DatabasePrivilege.ReadTable => $"GRANT SELECT ON {table ?? "ALL TABLES IN SCHEMA public"} TO {Plain(user)}",
            DatabasePrivilege.ReadCatalog => $"GRANT USAGE ON SCHEMA public TO {Plain(user)}",
            DatabasePrivilege.ReadSessions => $"GRANT pg_read_all_stats TO {Plain(user)}",
            DatabasePrivilege.CreateThrowawayDatabases => $"ALTER ROLE {Plain(user)} CREATEDB",
            DatabasePrivilege.Migrate => $"GRANT CREATE ON SCHEMA public TO {Plain(user)} (and make it the owner of the tables the migrations change)",
            _ => throw new ArgumentOutOfRangeException(nameof(privilege), privilege, "unknown privilege"),
        };

        internal override MigrationDatabase Open(DatabaseUrl url, MigrationDatabaseOptions options, ILoggerFactory? loggerFactory, DatabaseConnectionPools? pools) =>
            new PostgresMigrationDatabase(url, options, loggerFactory, pools);

        // Npgsql's pool resets a returned session the same way.
        internal override Task ResetSessionAsync(DbSession session, CancellationToken cancellationToken) =>
            session.ExecuteAsync("DISCARD ALL", cancellationToken);

        internal override DbConnection CreateUnpooledConnection(DatabaseUrl url) =>
            PostgresDataSources.Unpooled(new NpgsqlConnectionStringBuilder(url.ToNpgsqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString)
                .CreateConnection();

        internal override DbConnection CreateOwnStatementsConnection(DatabaseUrl url, TimeSpan limit) =>
            PostgresDataSources.Unpooled(new NpgsqlConnectionStringBuilder(url.ToNpgsqlConnectionStringBuilder().ConnectionString)
            {
                Pooling = false,
                Options = $"-c statement_timeout={(long)Math.Max(1, limit.TotalMilliseconds)}ms -c lock_timeout=0",
            }.ConnectionString).CreateConnection();

        internal override Schema.CatalogReader Catalog => Schema.PostgresCatalogReader.Instance;

        internal override Schema.DevDatabaseLoader CreateDevDatabaseLoader() => new Schema.PostgresDevDatabaseLoader();
    }

    private sealed partial class MySqlEngine : SqlEngine
    {
        public override DatabaseEngine Kind => DatabaseEngine.MySql;

        public override SqlDialect Dialect => SqlDialect.MySql;

        public override string Name => "mysql";

        public override string DisplayName => "MySQL";

        public override IReadOnlyList<string> Schemes { get; } = ["mysql", "mariadb"];

        public override int DefaultPort => 3306;

        public override IReadOnlyList<string> SslModes { get; } = ["disable", "disabled", "none", "prefer", "preferred", "require", "required", "verify-ca", "verify_ca", "verify-full", "verify_identity"];

        public override bool HasSchemasInsideDatabases => false;

        public override bool TransactionalDdl => false;

        public override bool RunsStatementsAsOneQuery => true;

        public override bool CatalogHidesUnreadableTables => true;

        public override string Quote(string identifier) => "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";

        public override string TimestampType => "datetime(6)";

        public override string BooleanType => "tinyint(1)";

        public override string CurrentSchemaExpression => "DATABASE()";

        public override string CurrentUserNameExpression => "SUBSTRING_INDEX(CURRENT_USER(), '@', 1)";

        public override string CreateSchemaIfNotExists(string quotedSchema) => $"CREATE DATABASE IF NOT EXISTS {quotedSchema}";

        public override string ColumnNamesQuery(string schemaExpression) =>
            "SELECT column_name FROM information_schema.columns " +
            $"WHERE table_schema = {schemaExpression} AND table_name = @gk_history_table ORDER BY ordinal_position";

        public override string SetLockTimeout(TimeSpan timeout, bool transactionLocal) => "SET " + LockWaitTimeout(timeout);

        // lock_wait_timeout takes whole seconds, at least 1.
        private static string LockWaitTimeout(TimeSpan timeout) =>
            $"SESSION lock_wait_timeout = {Math.Max(1, (long)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture)}";

        public override string ResetLockTimeout => "SET SESSION lock_wait_timeout = DEFAULT";

        // UTC_TIMESTAMP(6) is the time the statement began: in the clearing sent after a file's last statement, its end.
        internal override string ServerElapsed(History.ElapsedUnit unit) => unit switch
        {
            History.ElapsedUnit.Milliseconds => $"({ElapsedMicroseconds} DIV 1000)",
            History.ElapsedUnit.Milliseconds32 => $"LEAST({ElapsedMicroseconds} DIV 1000, 2147483647)",
            History.ElapsedUnit.Nanoseconds => $"({ElapsedMicroseconds} * 1000)",
            _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "unknown unit"),
        };

        private const string ElapsedMicroseconds = "TIMESTAMPDIFF(MICROSECOND, @gatekeeper_started, UTC_TIMESTAMP(6))";

        // A user variable lives until the session is reset, which the pool does before the next file. One SET assigns both:
        // a statement fewer per file (every MySQL file sends one).
        // It also pins the commit settings (CommitEachStatement): a server whose default is autocommit = 0 would otherwise
        // leave the dirty mark, the file's DML and the clearing in a transaction the pool's reset rolls back.
        internal override string? ServerClockStart(TimeSpan? lockTimeout) =>
            "SET @gatekeeper_started = UTC_TIMESTAMP(6), " + CommitSettings + (lockTimeout is { } timeout ? ", " + LockWaitTimeout(timeout) : string.Empty);

        // autocommit = 0 (a server default some teams set) keeps every write open until a COMMIT that never comes;
        // completion_type CHAIN opens a new transaction at COMMIT and RELEASE disconnects there.
        private const string CommitSettings = "SESSION autocommit = 1, SESSION completion_type = 'NO_CHAIN'";

        internal override string CommitEachStatement => "SET " + CommitSettings;

        // sql_safe_updates = 1 refuses an UPDATE or DELETE whose WHERE names no key column, as the history layouts' are.
        internal override string SessionModesQuery => "SELECT @@SESSION.sql_mode";

        // SQL modes hold neither quotes nor backslashes: the literal reads the same in every mode.
        internal override string SetSqlMode(string sqlMode) => ", SESSION sql_mode = '" + sqlMode.Replace("'", "''", StringComparison.Ordinal) + "'";

        // The failed file may have left its own sql_mode: NO_BACKSLASH_ESCAPES is set as the connection's driver escapes
        // parameters (MySqlConnector doubles a backslash unless its NoBackslashEscapes option is on), so the message and
        // statement stored are the server's to the character whatever the file set.
        internal override string HistoryWritesOnly(DbSession session) =>
            CommitEachStatement + ", SESSION sql_safe_updates = 0, SESSION sql_mode = " +
            (new MySqlConnectionStringBuilder(session.Connection.ConnectionString).NoBackslashEscapes
                ? "CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'NO_BACKSLASH_ESCAPES')"
                : "TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))");

        // The insert id is the one thing a carried file's statements leave (its INSERTs'); a reset sets it to 0.
        internal override string CarriedSessionClockStart(TimeSpan? lockTimeout) => ServerClockStart(lockTimeout) + ", SESSION last_insert_id = 0";

        internal override Execution.SessionFootprint SessionFootprintOf(Execution.MigrationScript script) => Execution.MySqlSessionCarryOver.FootprintOf(script);

        internal override bool TakesCarriedSession(Execution.MigrationScript script) => Execution.MySqlSessionCarryOver.TakesCarriedSession(script);

        internal override bool MayCreateServerCode(Execution.MigrationScript script) => Execution.MySqlSessionCarryOver.MayCreateServerCode(script);

        internal override string CarryCheckQuery =>
            "SELECT @@SESSION.autocommit = 1," +
            " NOT EXISTS (SELECT 1 FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE())" +
            " AND NOT EXISTS (SELECT 1 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE = 'FUNCTION')" +
            " AND NOT EXISTS (SELECT 1 FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE())";

        // wait_timeout (seconds; 31536000 is the largest every server takes) ends a session idle that long; GET_LOCK's wait
        // is a statement that MariaDB's max_statement_time (which covers every statement) or MySQL's max_execution_time
        // (which covers SELECTs) would stop early. autocommit = 1: no transaction stays open on the lock's session for an
        // idle-transaction timeout to end.
        internal override string PinLockSession(string? serverVersion) =>
            "SET SESSION wait_timeout = 31536000, SESSION autocommit = 1, " +
            (serverVersion?.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) == true ? "SESSION max_statement_time = 0" : "SESSION max_execution_time = 0");

        // MariaDB's max_statement_time (seconds, fractions allowed) covers every statement, MySQL's max_execution_time
        // (milliseconds) read-only SELECTs. lock_wait_timeout (metadata locks) and innodb_lock_wait_timeout (row locks) take
        // whole seconds; on MariaDB a second more, so that a wait is reported by the statement limit as it is everywhere.
        internal override string OwnStatementLimits(TimeSpan limit, string? serverVersion)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(limit.TotalSeconds));
            var mariaDb = IsMariaDb(serverVersion);
            var locks = (mariaDb ? seconds + 1 : seconds).ToString(CultureInfo.InvariantCulture);
            return "SET " + (mariaDb
                    ? $"SESSION max_statement_time = {Math.Max(0.001, limit.TotalSeconds).ToString("0.###", CultureInfo.InvariantCulture)}"
                    : $"SESSION max_execution_time = {Math.Max(1, (long)limit.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}") +
                $", SESSION lock_wait_timeout = {locks}, SESSION innodb_lock_wait_timeout = {locks}";
        }

        private static bool IsMariaDb(string? serverVersion) => serverVersion?.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) == true;

        // 1969 ER_STATEMENT_TIMEOUT (MariaDB), 3024 ER_QUERY_TIMEOUT (MySQL 8); 1205 is the same for a metadata or a row
        // lock wait.
        internal override string? LimitThatStopped(DatabaseError error) => error.ServerCode switch
        {
            "1969" => "max_statement_time",
            "3024" => "max_execution_time",
            "1205" => "lock_wait_timeout",
            _ => null,
        };

        // A session starts with the server's global values unless init_connect changed them; the session values are the
        // answer, so the query runs under them (a trivial SELECT).
        internal override async Task<string?> LimitOriginAsync(DbSession session, DatabaseUrl url, string setting, TimeSpan ownLimit, CancellationToken cancellationToken)
        {
            var settings = setting == "lock_wait_timeout" ? new[] { "lock_wait_timeout", "innodb_lock_wait_timeout" } : [setting];
            var parts = new List<string>();
            foreach (var name in settings)
            {
                var rows = await session.QueryAsync(
                    $"SELECT CAST(@@GLOBAL.{name} AS CHAR), CAST(@@SESSION.{name} AS CHAR)", r => (Global: r.GetString(0), Session: r.GetString(1)), cancellationToken).ConfigureAwait(false);
                if (rows.Count == 0 || rows[0].Session is "0" or "0.000000")
                {
                    continue;
                }

                var (global, value) = rows[0];
                var unit = name == "max_execution_time" ? "ms" : "s";
                parts.Add($"{name} = {Trimmed(value)}{unit}, set {(global == value ? "as the server's default (SET GLOBAL or the server's options file)" : "by init_connect")}");
            }

            return parts.Count == 0 ? null : string.Join(", or ", parts);
        }

        private static string Trimmed(string value) => value.Contains('.', StringComparison.Ordinal) ? value.TrimEnd('0').TrimEnd('.') : value;

        internal override string LimitAdvice(string setting, DatabaseUrl url) =>
            $"raise it on the server (SET GLOBAL {setting} = …), or leave Gatekeeper's user out of the init_connect that sets it";

        // 1792: a write in a READ ONLY transaction (tx_read_only / transaction_read_only); 1290 (ER_OPTION_PREVENTS_STATEMENT)
        // names the option, read_only or super_read_only among others; 1836: MariaDB's read-only mode.
        internal override bool RefusedAsReadOnly(DatabaseError error) => error.ServerCode switch
        {
            "1792" or "1836" => true,
            "1290" => error.ServerMessage.Contains("read-only", StringComparison.OrdinalIgnoreCase) || error.ServerMessage.Contains("read_only", StringComparison.OrdinalIgnoreCase),
            _ => false,
        };

        // MariaDB before 11.1 knows only tx_read_only, MySQL 8 only transaction_read_only.
        internal override async Task<string?> ReadOnlyReasonAsync(DbSession session, DatabaseUrl url, CancellationToken cancellationToken)
        {
            var variable = session.Connection.ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) ? "tx_read_only" : "transaction_read_only";
            var rows = await session.QueryAsync(
                $"SELECT @@SESSION.{variable}, @@GLOBAL.{variable}, @@GLOBAL.read_only",
                r => (Session: Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture) != 0, Global: Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture) != 0, Server: Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture) != 0),
                cancellationToken).ConfigureAwait(false);
            if (rows.Count == 0)
            {
                return null;
            }

            var (sessionReadOnly, global, server) = rows[0];
            return sessionReadOnly
                ? $"user {url.User ?? "(none)"}'s sessions start read-only ({variable} = ON, {(global ? $"the server's default: SET GLOBAL {variable} = OFF undoes it" : "set by init_connect or the connection")})"
                : server
                    ? "the server runs with read_only = ON (a replica, or a server set aside for maintenance), which refuses writes from users without SUPER or READ ONLY ADMIN; point the URL at the primary"
                    : null;
        }

        internal override string ServerNow => "UTC_TIMESTAMP(6)";

        // Every MySQL file is bracketed by a mark and its clearing: without this the clearing scans the history table
        // (no index on version), 0.1-0.4 ms of server time per file at a few hundred rows (fineract: 403 files).
        internal override string NewestRowFirst(string rankColumn) => $" ORDER BY {rankColumn} DESC LIMIT 1";

        // sql_safe_updates wants the key in the WHERE (MariaDB refuses a DELETE without WHERE even with a LIMIT): a range
        // over every value the key can hold.
        internal override string EveryRow(string bigintKey) => $" WHERE {bigintKey} >= -9223372036854775808";

        public override IReadOnlyList<string> LockTimeoutSettings { get; } = ["lock_wait_timeout", "innodb_lock_wait_timeout"];

        // Syntax errors end with "... near '<text>' at line N", N counted from the statement's first line.
        public override SourceLocation Locate(SqlStatement statement, Exception exception)
        {
            ArgumentNullException.ThrowIfNull(statement);
            if (exception is not MySqlException { ErrorCode: MySqlErrorCode.ParseError } my)
            {
                return statement.Location;
            }

            var match = NearAtLine().Match(my.Message);
            if (!match.Success || !int.TryParse(match.Groups["line"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var line) || line < 1)
            {
                return statement.Location;
            }

            var near = match.Groups["near"].Value;
            var text = statement.Text;
            var lineStart = 0;
            for (var l = 1; l < line && lineStart >= 0; l++)
            {
                lineStart = text.IndexOf('\n', lineStart) is var nl && nl >= 0 ? nl + 1 : -1;
            }

            if (lineStart < 0)
            {
                return statement.Location;
            }

            return At(statement, near.Length > 0 && NearAt(text, near, lineStart) is var at and >= 0 ? at : lineStart);
        }

        internal override string CreateDatabase(string name, string? characterSet, string? collation) =>
            $"CREATE DATABASE {Quote(name)}" +
            (characterSet is null ? string.Empty : $" CHARACTER SET {characterSet}") +
            (collation is null ? string.Empty : $" COLLATE {collation}");

        internal override string DropDatabase(string name) => $"DROP DATABASE IF EXISTS {Quote(name)}";

        internal override string DatabasesNamedLikeQuery =>
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, CHAR_LENGTH(@prefix)) = @prefix";

        internal override DatabaseUrl ServerSessionUrl(DatabaseUrl url) => url.WithDatabase(string.Empty);

        internal override Task<SchemaSnapshot> ReadSnapshotAsync(DbSession live, string copyDatabase, CancellationToken cancellationToken) =>
            MySqlSchemaSnapshot.ReadAsync(live, copyDatabase, cancellationToken);

        internal override Task<Core.Planning.LockPreflight> InspectLocksAsync(DbSession session, DatabaseUrl url, IReadOnlyList<Core.Planning.TableLock> locks, TimeSpan minimumAge, CancellationToken cancellationToken) =>
            Preflight.MySqlLockPreflight.InspectAsync(session, url, locks, minimumAge, cancellationToken);

        // The statement timeout is the client's command timeout (MySQL and MariaDB spell a server-side one differently);
        // MySqlConnector stops the query on the server when it expires.
        internal override IReadOnlyList<string> BeginReadOnly(TimeSpan statementTimeout) => ["START TRANSACTION READ ONLY"];

        internal override string TextLength(string expression) => $"CHAR_LENGTH({expression})";

        internal override string RoundToScale(string expression, int scale) => $"ROUND({expression}, {scale.ToString(CultureInfo.InvariantCulture)})";

        internal override string KeyValue(string column) => column;

        internal override (string Sql, (string Name, object? Value)[] Parameters) PrimaryKeyColumns(DbSession session, Core.Planning.TableName table) => (
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE " +
            "WHERE TABLE_SCHEMA = COALESCE(@schema, DATABASE()) AND TABLE_NAME = @table AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION",
            [("schema", table.Schema), ("table", table.Name)]);

        // 1133: "Can't find any matching row in the user table" (GRANT to a user the server does not have);
        // 1396: "Operation ... failed for 'x'@'%'" (DROP USER, ALTER USER on a missing user).
        internal override bool NamesMissingServerPrincipal(Exception exception) =>
            exception is MySqlException { ErrorCode: MySqlErrorCode.PasswordNoMatch or MySqlErrorCode.CannotUser };

        public override string Grant(DatabasePrivilege privilege, string user, string database, string? table = null) => privilege switch
        {
            DatabasePrivilege.Connect or DatabasePrivilege.ReadTable or DatabasePrivilege.ReadCatalog => $"GRANT SELECT, SHOW VIEW ON {Quote(database)}.* TO {Account(user)}",
            DatabasePrivilege.ReadSessions => $"GRANT PROCESS ON *.* TO {Account(user)}",
            DatabasePrivilege.CreateThrowawayDatabases => $"GRANT ALL PRIVILEGES ON `{ThrowawayDatabase.NamePrefix.Replace("_", "\\_", StringComparison.Ordinal)}%`.* TO {Account(user)}",
            DatabasePrivilege.Migrate => $"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES, CREATE VIEW, SHOW VIEW, TRIGGER, CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON {Quote(database)}.* TO {Account(user)}",
            _ => throw new ArgumentOutOfRangeException(nameof(privilege), privilege, "unknown privilege"),
        };

        private static string Account(string user) => "'" + user.Replace("'", "''", StringComparison.Ordinal) + "'@'%'";

        internal override MigrationDatabase Open(DatabaseUrl url, MigrationDatabaseOptions options, ILoggerFactory? loggerFactory, DatabaseConnectionPools? pools) =>
            new MySqlMigrationDatabase(url, options, loggerFactory, pools);

        // COM_RESET_CONNECTION, as MySqlConnector's pool does before it hands a session out again (the database stays selected).
        internal override async Task ResetSessionAsync(DbSession session, CancellationToken cancellationToken) =>
            await ((MySqlConnection)session.Connection).ResetConnectionAsync(cancellationToken).ConfigureAwait(false);

        internal override DbConnection CreateUnpooledConnection(DatabaseUrl url) =>
            new MySqlConnection(new MySqlConnectionStringBuilder(url.ToMySqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString);

        internal override Schema.CatalogReader Catalog => Schema.MySqlCatalogReader.Instance;

        internal override Schema.DevDatabaseLoader CreateDevDatabaseLoader() => new Schema.MySqlDevDatabaseLoader();

        public override string MessageAbout(SqlStatement statement, string serverMessage)
        {
            ArgumentNullException.ThrowIfNull(statement);
            ArgumentNullException.ThrowIfNull(serverMessage);
            var match = NearAtLine().Match(serverMessage);
            if (!match.Success)
            {
                return serverMessage;
            }

            var near = match.Groups["near"];
            var text = statement.Text;
            var line = int.TryParse(match.Groups["line"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : 1;
            var lineStart = 0;
            for (var l = 1; l < line && lineStart >= 0; l++)
            {
                lineStart = text.IndexOf('\n', lineStart) is var nl && nl >= 0 ? nl + 1 : -1;
            }

            var at = lineStart < 0 ? -1 : NearAt(text, near.Value, lineStart);
            if (at < 0 || text.Length - at >= near.Length)
            {
                return serverMessage;
            }

            return string.Concat(serverMessage.AsSpan(0, near.Index), text.AsSpan(at), serverMessage.AsSpan(near.Index + near.Length));
        }

        // The server quotes the query from the error on (up to 80 characters): within a statement sent alone that is a
        // piece of it; within a multi-statement query it runs on into the statements after it.
        private static int NearAt(string text, string near, int from)
        {
            for (var at = from; at < text.Length; at++)
            {
                var rest = text.AsSpan(at);
                if (rest.StartsWith(near, StringComparison.Ordinal) || near.AsSpan().StartsWith(rest, StringComparison.Ordinal))
                {
                    return at;
                }
            }

            return -1;
        }

        [GeneratedRegex(@"near '(?<near>.*)' at line (?<line>\d+)$", RegexOptions.Singleline)]
        private static partial Regex NearAtLine();
    }
}
