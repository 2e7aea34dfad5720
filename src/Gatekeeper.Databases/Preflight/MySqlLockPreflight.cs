using System.Globalization;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.Preflight;

/// <summary>Where a MySQL or MariaDB server shows who holds the metadata locks a plan's DDL needs.</summary>
internal enum MySqlLockSource
{
    /// <summary>MariaDB's metadata_lock_info plugin: information_schema.METADATA_LOCK_INFO, readable by every user.</summary>
    MetadataLockInfo,
    /// <summary>performance_schema.metadata_locks with the MDL instrument on (MySQL 8's default; MariaDB with the options).</summary>
    PerformanceSchema,
    /// <summary>Nothing shows metadata locks: only InnoDB's transaction list, with a warning of what it misses.</summary>
    TransactionsOnly,
}

/// <summary>What the server (and the reader's grants) make visible about metadata locks.</summary>
/// <param name="PerformanceSchemaReadable">
/// performance_schema is on, its MDL instrument enabled, and the reader may select from metadata_locks; false when any
/// of them is missing (<paramref name="PerformanceSchemaDenied"/> says when the grant is what is missing).
/// </param>
internal sealed record MySqlLockVisibility(bool IsMariaDb, bool MetadataLockInfoPlugin, bool PerformanceSchemaOn, bool MdlInstrumented, bool PerformanceSchemaReadable, bool PerformanceSchemaDenied)
{
    /// <summary>The source the pre-flight reads: the plugin first (no grant, no memory cost), then performance_schema, else transactions.</summary>
    public MySqlLockSource Source => MetadataLockInfoPlugin ? MySqlLockSource.MetadataLockInfo
        : PerformanceSchemaReadable ? MySqlLockSource.PerformanceSchema
        : MySqlLockSource.TransactionsOnly;

    /// <summary>
    /// What the pre-flight cannot see when it has to fall back on InnoDB's transaction list, and how to let it see, in
    /// the server's own options; null when it sees metadata locks.
    /// </summary>
    public string? BlindSpot(string user)
    {
        if (Source != MySqlLockSource.TransactionsOnly)
        {
            return null;
        }

        var why = PerformanceSchemaDenied
            ? $"user {user} may not read performance_schema.metadata_locks"
            : !PerformanceSchemaOn
                ? IsMariaDb ? "performance_schema is off and the metadata_lock_info plugin is not installed" : "performance_schema is off"
                : IsMariaDb ? "performance_schema's metadata lock instrument is off and the metadata_lock_info plugin is not installed" : "performance_schema's metadata lock instrument is off";
        var enable = PerformanceSchemaDenied
            ? $"GRANT SELECT ON performance_schema.metadata_locks TO '{user}'@'%'; GRANT SELECT ON performance_schema.threads TO '{user}'@'%'"
            : IsMariaDb
                ? "INSTALL SONAME 'metadata_lock_info' (once, as an administrator; or start the server with plugin_load_add = metadata_lock_info)"
                : !PerformanceSchemaOn
                    ? "start the server with performance_schema = ON (MySQL's default)"
                    : "start the server with performance_schema_instrument = 'wait/lock/metadata/sql/mdl=ON' (MySQL 8's default)";
        return $"the server does not show which sessions hold locks on the plan's tables ({why}), so a transaction that has only read " +
               "a table can be missed: open transactions are named from InnoDB's transaction list instead, which the server refreshes at most " +
               "every 0.1 s and not while something else reads it more often; to see every lock holder: " + enable;
    }
}

/// <summary>
/// MySQL and MariaDB: every ALTER, CREATE INDEX, RENAME, TRUNCATE and DROP needs an exclusive metadata lock, at least
/// briefly, and waits for every transaction that has touched the table to end (while all new queries on it wait
/// behind). The holders of the plan's tables are named exactly from MariaDB's metadata_lock_info plugin or from
/// <c>performance_schema.metadata_locks</c>. Without either (MariaDB's default) the transactions open longer than the
/// threshold in the target database are named as possible blockers (<c>information_schema.INNODB_TRX</c>), with a
/// warning: that list is a copy the server refreshes only after 0.1 s without readers, so under a monitoring agent
/// (or other pre-flights) it can stay stale, and the server does not say which tables those transactions touched.
/// </summary>
internal static class MySqlLockPreflight
{
    private const string Visibility = """
        SELECT @@performance_schema, VERSION(),
               (SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' AND PLUGIN_STATUS = 'ACTIVE')
        """;

    // LOCK_TIME_MS is how long the lock has been held: a transaction holds its metadata locks to its end, so it is a
    // lower bound of the transaction's age that, unlike INNODB_TRX, is read live.
    private const string LockInfoHolders = """
        SELECT m.THREAD_ID, p.USER, p.COMMAND, m.LOCK_TIME_MS, m.LOCK_MODE
        FROM information_schema.METADATA_LOCK_INFO m LEFT JOIN information_schema.PROCESSLIST p ON p.ID = m.THREAD_ID
        WHERE m.TABLE_SCHEMA = @schema AND m.TABLE_NAME = @table AND m.THREAD_ID <> CONNECTION_ID()
        """;

    private const string MetadataLocks = """
        SELECT t.PROCESSLIST_ID, t.PROCESSLIST_USER, t.PROCESSLIST_COMMAND, TIMESTAMPDIFF(SECOND, x.trx_started, NOW()), t.PROCESSLIST_TIME,
               m.LOCK_TYPE, m.LOCK_STATUS
        FROM performance_schema.metadata_locks m
          JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID
          LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = t.PROCESSLIST_ID
        WHERE m.OBJECT_TYPE = 'TABLE' AND m.OBJECT_SCHEMA = @schema AND m.OBJECT_NAME = @table
          AND t.PROCESSLIST_ID IS NOT NULL AND t.PROCESSLIST_ID <> CONNECTION_ID()
        """;

    private const string LongTransactions = """
        SELECT x.trx_mysql_thread_id, p.USER, p.COMMAND, TIMESTAMPDIFF(SECOND, x.trx_started, NOW())
        FROM information_schema.INNODB_TRX x LEFT JOIN information_schema.PROCESSLIST p ON p.ID = x.trx_mysql_thread_id
        WHERE x.trx_mysql_thread_id <> CONNECTION_ID() AND p.DB = DATABASE()
          AND TIMESTAMPDIFF(SECOND, x.trx_started, NOW()) >= @age
        ORDER BY x.trx_started
        """;

    private sealed record Holder(long Id, string? User, string? Command, long? AgeSeconds, string Lock, bool Pending);

    public static async Task<LockPreflight> InspectAsync(DbSession session, DatabaseUrl url, IReadOnlyList<TableLock> locks, TimeSpan minimumAge, CancellationToken cancellationToken)
    {
        var tables = locks.Where(l => l.Queues).Select(l => l.Table).Distinct().ToList();
        if (tables.Count == 0)
        {
            return LockPreflight.Clear;
        }

        var user = url.User ?? "(none)";
        var visibility = await VisibilityAsync(session, cancellationToken).ConfigureAwait(false);
        switch (visibility.Source)
        {
            case MySqlLockSource.MetadataLockInfo:
                return new LockPreflight(await HoldersAsync(session, LockInfoHolders, ReadLockInfoRow, tables, minimumAge, cancellationToken).ConfigureAwait(false), [], []);
            case MySqlLockSource.PerformanceSchema:
                return new LockPreflight(await HoldersAsync(session, MetadataLocks, ReadMetadataLockRow, tables, minimumAge, cancellationToken).ConfigureAwait(false), [], []);
            case MySqlLockSource.TransactionsOnly:
                break;
            default:
                throw new InvalidOperationException($"unknown lock source {visibility.Source}");
        }

        var notes = new List<string> { visibility.BlindSpot(user)! };
        try
        {
            var rows = await session.QueryAsync(LongTransactions, r => new LockBlocker(
                    $"connection {Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)}",
                    r.IsDBNull(1) ? null : r.GetString(1),
                    r.IsDBNull(2) ? null : r.GetString(2),
                    r.IsDBNull(3) ? null : TimeSpan.FromSeconds(Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture)),
                    null, null, Waiting: false),
                cancellationToken, ("age", (long)minimumAge.TotalSeconds)).ConfigureAwait(false);
            return new LockPreflight(rows, [], notes);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: DatabaseErrorKind.PermissionDenied })
        {
            notes.Add($"user {user} may not see other sessions' transactions, so no lock pre-flight ran; grant it with: {url.SqlEngine.Grant(DatabasePrivilege.ReadSessions, user, url.Database)}");
            return new LockPreflight([], [], notes);
        }
    }

    private static async Task<MySqlLockVisibility> VisibilityAsync(DbSession session, CancellationToken cancellationToken)
    {
        var server = (await session.QueryAsync(Visibility, r => new
        {
            PerformanceSchema = !r.IsDBNull(0) && Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture) != 0,
            MariaDb = r.GetString(1).Contains("MariaDB", StringComparison.OrdinalIgnoreCase),
            Plugin = Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture) > 0,
        }, cancellationToken).ConfigureAwait(false)).Single();
        bool instrumented = false, readable = false, denied = false;
        if (server.PerformanceSchema && !server.Plugin)
        {
            try
            {
                // MariaDB keeps metadata_locks empty unless its MDL instrument is on; MySQL 8 has it on by default.
                instrumented = Convert.ToInt64(await session.ScalarAsync(
                    "SELECT COUNT(*) FROM performance_schema.setup_instruments WHERE NAME = 'wait/lock/metadata/sql/mdl' AND ENABLED = 'YES'", cancellationToken).ConfigureAwait(false),
                    CultureInfo.InvariantCulture) > 0;
                if (instrumented)
                {
                    await session.ScalarAsync("SELECT COUNT(*) FROM performance_schema.metadata_locks m JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID WHERE 1 = 0", cancellationToken).ConfigureAwait(false);
                    readable = true;
                }
            }
            catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: DatabaseErrorKind.PermissionDenied })
            {
                instrumented = true;
                denied = true;
            }
        }

        return new MySqlLockVisibility(server.MariaDb, server.Plugin, server.PerformanceSchema, instrumented, readable, denied);
    }

    private static Holder ReadLockInfoRow(System.Data.Common.DbDataReader r) => new(
        Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture),
        r.IsDBNull(1) ? null : r.GetString(1),
        r.IsDBNull(2) ? null : r.GetString(2),
        r.IsDBNull(3) ? null : Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture) / 1000,
        // "MDL_SHARED_READ" here is "SHARED_READ" in performance_schema: one name for one lock.
        r.GetString(4).StartsWith("MDL_", StringComparison.Ordinal) ? r.GetString(4)[4..] : r.GetString(4),
        Pending: false);

    private static Holder ReadMetadataLockRow(System.Data.Common.DbDataReader r) => new(
        Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture),
        r.IsDBNull(1) ? null : r.GetString(1),
        r.IsDBNull(2) ? null : r.GetString(2),
        // An autocommit statement has no InnoDB transaction: how long it has been running stands in.
        !r.IsDBNull(3) ? Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture) : r.IsDBNull(4) ? null : Convert.ToInt64(r.GetValue(4), CultureInfo.InvariantCulture),
        r.GetString(5),
        r.GetString(6) == "PENDING");

    private static async Task<List<LockBlocker>> HoldersAsync(DbSession session, string sql, Func<System.Data.Common.DbDataReader, Holder> read, List<TableName> tables, TimeSpan minimumAge, CancellationToken cancellationToken)
    {
        var database = Convert.ToString(await session.ScalarAsync("SELECT DATABASE()", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        var blockers = new List<LockBlocker>();
        foreach (var table in tables)
        {
            var rows = await session.QueryAsync(sql, read, cancellationToken, ("schema", table.Schema ?? database), ("table", table.Name)).ConfigureAwait(false);
            foreach (var row in rows.Where(r => r.AgeSeconds is null || r.AgeSeconds >= minimumAge.TotalSeconds).DistinctBy(r => r.Id))
            {
                blockers.Add(new LockBlocker($"connection {row.Id.ToString(CultureInfo.InvariantCulture)}", row.User, row.Command,
                    row.AgeSeconds is { } age ? TimeSpan.FromSeconds(age) : null, row.Lock, table, row.Pending));
            }
        }

        return blockers;
    }
}
