using System.Globalization;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.Preflight;

/// <summary>
/// PostgreSQL: sessions holding (or waiting for) any lock on the plan's tables (<c>pg_locks</c>) whose transaction has
/// been open longer than the threshold (<c>pg_stat_activity</c>), and INVALID indexes on those tables. Any lock at all
/// conflicts with the ACCESS EXCLUSIVE lock an ALTER TABLE needs. Autovacuum is left out: it gives way by itself.
/// </summary>
internal static class PostgresLockPreflight
{
    private const string Sessions = """
        WITH targets AS (SELECT DISTINCT to_regclass(t) AS oid FROM unnest(@tables::text[]) AS t)
        SELECT l.pid, a.usename, a.state, extract(epoch FROM clock_timestamp() - a.xact_start)::float8, l.mode, l.granted, n.nspname, c.relname
        FROM pg_locks l
          JOIN targets t ON t.oid = l.relation
          JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'relation' AND l.pid IS DISTINCT FROM pg_backend_pid()
          AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
          AND a.backend_type IS DISTINCT FROM 'autovacuum worker'
        ORDER BY 4 DESC NULLS LAST, l.pid
        """;

    // An index being built concurrently right now is not valid yet either; only a leftover is reported.
    private const string InvalidIndexes = """
        SELECT n.nspname, c.relname, ic.relname
        FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid AND i.indrelid IN (SELECT to_regclass(t) FROM unnest(@tables::text[]) AS t)
          AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)
        ORDER BY n.nspname, c.relname, ic.relname
        """;

    public static async Task<LockPreflight> InspectAsync(DbSession session, DatabaseUrl url, IReadOnlyList<TableLock> locks, TimeSpan minimumAge, CancellationToken cancellationToken)
    {
        var queued = locks.Where(l => l.Queues).Select(l => Regclass(session, l.Table)).Distinct(StringComparer.Ordinal).ToArray();
        var all = locks.Select(l => Regclass(session, l.Table)).Distinct(StringComparer.Ordinal).ToArray();
        var blockers = new List<LockBlocker>();
        var notes = new List<string>();
        if (queued.Length > 0)
        {
            var rows = await session.QueryAsync(Sessions, r => (
                Pid: r.IsDBNull(0) ? (int?)null : r.GetInt32(0),
                User: r.IsDBNull(1) ? null : r.GetString(1),
                State: r.IsDBNull(2) ? null : r.GetString(2),
                Age: r.IsDBNull(3) ? (double?)null : r.GetDouble(3),
                Mode: r.GetString(4),
                Granted: r.GetBoolean(5),
                Table: new TableName(r.GetString(6), r.GetString(7))), cancellationToken, ("tables", queued)).ConfigureAwait(false);
            foreach (var row in rows.DistinctBy(r => (r.Pid, r.Table)))
            {
                if (row.Pid is not { } pid)
                {
                    // A prepared transaction (two-phase commit) keeps its locks until someone commits or rolls it back.
                    blockers.Add(new LockBlocker("a prepared transaction (pg_prepared_xacts)", null, "prepared", null, row.Mode, row.Table, Waiting: false));
                    continue;
                }

                var holder = $"pid {pid.ToString(CultureInfo.InvariantCulture)}";
                if (row.Age is null && row.State is null)
                {
                    // Another user's session, which PostgreSQL hides from users without pg_read_all_stats.
                    notes.Add($"{holder}{(row.User is null ? string.Empty : $" (user {row.User})")} {(row.Granted ? "holds" : "waits for")} {row.Mode} on {row.Table}, " +
                              $"but user {url.User} may not see how long its transaction is open; grant it with: {url.SqlEngine.Grant(DatabasePrivilege.ReadSessions, url.User ?? "(none)", url.Database)}");
                    continue;
                }

                if (row.Age is { } age && age < minimumAge.TotalSeconds)
                {
                    continue;
                }

                blockers.Add(new LockBlocker(holder, row.User, row.State, row.Age is { } seconds ? TimeSpan.FromSeconds(seconds) : null, row.Mode, row.Table, Waiting: !row.Granted));
            }
        }

        var invalid = all.Length == 0 ? [] : await session.QueryAsync(InvalidIndexes,
            r => new InvalidIndex(new TableName(r.GetString(0), r.GetString(1)), r.GetString(2)), cancellationToken, ("tables", all)).ConfigureAwait(false);
        return new LockPreflight(blockers, invalid, notes);
    }

    /// <summary>The name as <c>to_regclass</c> reads it: quoted parts, unqualified ones resolved by the session's search_path.</summary>
    private static string Regclass(DbSession session, TableName table) =>
        table.Schema is null ? session.Quote(table.Name) : session.Quote(table.Schema) + "." + session.Quote(table.Name);
}
