using System.Globalization;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.Preflight;

/// <summary>
/// MySQL and MariaDB: every ALTER, CREATE INDEX, RENAME, TRUNCATE and DROP needs an exclusive metadata lock, at least
/// briefly, and waits for every transaction that has touched the table to end (while all new queries on it wait
/// behind). With <c>performance_schema.metadata_locks</c> the holders of the plan's tables are named exactly; without
/// it (MariaDB's default) the transactions open longer than the threshold in the target database are named as
/// possible blockers (<c>information_schema.INNODB_TRX</c>), since the server does not say which tables they touched.
/// Only sessions whose default database is the target's are counted: one without a default database that names the
/// plan's tables with their database in front is not seen (a limit of what the server tells without performance_schema).
/// </summary>
internal static class MySqlLockPreflight
{
    private const string MetadataLocks = """
        SELECT t.PROCESSLIST_ID, t.PROCESSLIST_USER, t.PROCESSLIST_COMMAND, TIMESTAMPDIFF(SECOND, x.trx_started, NOW()), t.PROCESSLIST_TIME,
               m.LOCK_TYPE, m.LOCK_STATUS, m.OBJECT_SCHEMA, m.OBJECT_NAME
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

    public static async Task<LockPreflight> InspectAsync(DbSession session, DatabaseUrl url, IReadOnlyList<TableLock> locks, TimeSpan minimumAge, CancellationToken cancellationToken)
    {
        var tables = locks.Where(l => l.Queues).Select(l => l.Table).Distinct().ToList();
        if (tables.Count == 0)
        {
            return LockPreflight.Clear;
        }

        var notes = new List<string>();
        var user = url.User ?? "(none)";
        try
        {
            if (await MetadataLocksReadableAsync(session, cancellationToken).ConfigureAwait(false))
            {
                return new LockPreflight(await HoldersAsync(session, tables, minimumAge, cancellationToken).ConfigureAwait(false), [], notes);
            }
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: DatabaseErrorKind.PermissionDenied })
        {
            notes.Add($"user {user} may not read performance_schema.metadata_locks, so blockers are named by their long transactions, not by table; " +
                      $"grant it with: GRANT SELECT ON performance_schema.metadata_locks TO '{user}'@'%' (and performance_schema.threads)");
        }

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

    private static async Task<bool> MetadataLocksReadableAsync(DbSession session, CancellationToken cancellationToken)
    {
        var enabled = await session.ScalarAsync("SELECT @@performance_schema", cancellationToken).ConfigureAwait(false);
        if (enabled is null || Convert.ToInt64(enabled, CultureInfo.InvariantCulture) == 0)
        {
            return false;
        }

        // MariaDB keeps the table empty unless its metadata lock instrument is on; MySQL 8 has it on by default.
        var instrumented = await session.ScalarAsync(
            "SELECT COUNT(*) FROM performance_schema.setup_instruments WHERE NAME = 'wait/lock/metadata/sql/mdl' AND ENABLED = 'YES'", cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(instrumented, CultureInfo.InvariantCulture) > 0;
    }

    private static async Task<List<LockBlocker>> HoldersAsync(DbSession session, List<TableName> tables, TimeSpan minimumAge, CancellationToken cancellationToken)
    {
        var database = Convert.ToString(await session.ScalarAsync("SELECT DATABASE()", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        var blockers = new List<LockBlocker>();
        foreach (var table in tables)
        {
            var rows = await session.QueryAsync(MetadataLocks, r => new
            {
                Id = Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture),
                User = r.IsDBNull(1) ? null : r.GetString(1),
                Command = r.IsDBNull(2) ? null : r.GetString(2),
                // An autocommit statement has no InnoDB transaction: how long it has been running stands in.
                Age = !r.IsDBNull(3) ? Convert.ToInt64(r.GetValue(3), CultureInfo.InvariantCulture) : r.IsDBNull(4) ? (long?)null : Convert.ToInt64(r.GetValue(4), CultureInfo.InvariantCulture),
                Lock = r.GetString(5),
                Pending = r.GetString(6) == "PENDING",
            }, cancellationToken, ("schema", table.Schema ?? database), ("table", table.Name)).ConfigureAwait(false);
            foreach (var row in rows.Where(r => r.Age is null || r.Age >= minimumAge.TotalSeconds).DistinctBy(r => r.Id))
            {
                blockers.Add(new LockBlocker($"connection {row.Id.ToString(CultureInfo.InvariantCulture)}", row.User, row.Command,
                    row.Age is { } age ? TimeSpan.FromSeconds(age) : null, row.Lock, table, row.Pending));
            }
        }

        return blockers;
    }
}
