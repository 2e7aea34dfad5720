using Gatekeeper.Core.Sql;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases.Execution;
using Gatekeeper.Databases.History;
using Microsoft.Extensions.Logging;
using System.Data.Common;
using MySqlConnector;

namespace Gatekeeper.Databases;

/// <summary>
/// MySQL and MariaDB: DDL commits implicitly, so every migration runs statement by statement between a dirty mark and
/// its clearing; the migration lock is <c>GET_LOCK</c> on a connection outside the pool; a dry-run is always on a
/// throwaway copy of the schema.
/// </summary>
public sealed class MySqlMigrationDatabase : MigrationDatabase
{
    public MySqlMigrationDatabase(DatabaseUrl url, MigrationDatabaseOptions options, ILoggerFactory? loggerFactory = null, DatabaseConnectionPools? pools = null)
        : this(url, options, url.ToMySqlConnectionStringBuilder(), loggerFactory, pools)
    {
    }

    private MySqlMigrationDatabase(DatabaseUrl url, MigrationDatabaseOptions options, MySqlConnectionStringBuilder builder, ILoggerFactory? loggerFactory, DatabaseConnectionPools? pools)
        : base(url, options, pools?.MySql(builder) ?? new MySqlDataSource(builder.ConnectionString), ownsDataSource: pools is null, loggerFactory)
    {
        _builder = builder;
        _pools = pools;
    }

    private readonly MySqlConnectionStringBuilder _builder;
    private readonly DatabaseConnectionPools? _pools;
    private DbDataSource? _noBackslashEscapes;

    /// <summary>
    /// For a NO_BACKSLASH_ESCAPES session, a pool whose MySqlConnector has its NoBackslashEscapes option: the driver reads
    /// every command for parameters and for where it ends, and escapes parameter values, by that option, not by the
    /// session's mode. With the stock option a statement such as <c>INSERT … VALUES ('C:')</c> looked unclosed to it (so
    /// the next command of the query was glued on), and a backslash in a history message was stored doubled.
    /// </summary>
    private protected override DbDataSource DataSourceFor(SqlModes modes)
    {
        if ((modes & SqlModes.NoBackslashEscapes) == 0)
        {
            return DataSource;
        }

        if (_noBackslashEscapes is null)
        {
            var builder = new MySqlConnectionStringBuilder(_builder.ConnectionString) { NoBackslashEscapes = true };
            _noBackslashEscapes = Beside(_pools?.MySql(builder) ?? new MySqlDataSource(builder.ConnectionString), shared: _pools is not null);
        }

        return _noBackslashEscapes;
    }

    /// <summary>
    /// <c>GET_LOCK(name, timeout)</c>, named per database and history table (MySQL's named locks are server-wide). It is
    /// taken on a connection outside the pool and released with <c>RELEASE_LOCK</c>: a pooled connection would keep the
    /// lock after being returned.
    /// </summary>
    public override async Task<IAsyncDisposable> AcquireMigrationLockAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var name = LockName(Url.Database, Options.HistoryTable.ToString());
        var time = Options.TimeProvider;
        var session = await OpenUnpooledSessionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Sql.PinLockSession(session.Connection.ServerVersion) is { } pin)
            {
                await session.ExecuteAsync(pin, cancellationToken).ConfigureAwait(false);
            }

            var started = time.GetTimestamp();
            Log.WaitingForMigrationLock(Logger, Label, timeout.TotalSeconds);
            var seconds = Math.Round(Math.Max(0, timeout.TotalSeconds), 3);
            // The session's sql_mode comes with the answer (a new session's, as the files' will be): how the files read.
            var answer = await session.QueryAsync(
                "SELECT GET_LOCK(@name, @timeout), @@SESSION.sql_mode, @@GLOBAL.sql_mode",
                r => (Held: !r.IsDBNull(0) && Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture) == 1, Mode: r.IsDBNull(1) ? string.Empty : r.GetString(1), Global: r.IsDBNull(2) ? string.Empty : r.GetString(2)),
                cancellationToken, ("name", name), ("timeout", seconds)).ConfigureAwait(false);
            if (answer.Count == 1)
            {
                // This session is new, as the files' sessions are when first opened; a pooled one is reset to the global mode.
                SessionModes = SqlModeText.Parse(answer[0].Mode);
                NewSessionSqlMode = answer[0].Mode == answer[0].Global ? null : answer[0].Mode;
            }

            if (answer is [{ Held: true }])
            {
                Log.MigrationLockAcquired(Logger, Label, (long)time.GetElapsedTime(started).TotalMilliseconds);
                return new Execution.HeldSessionLock(session, "SELECT RELEASE_LOCK(@name)", ("name", name), Label, Logger);
            }

            Log.MigrationLockTimedOut(Logger, Label, timeout.TotalSeconds);
            throw new DatabaseException(DatabaseErrorKind.MigrationLockHeld, $"another migration holds the lock on {Label} (waited {Format(timeout)})");
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // TABLE_ROWS is InnoDB's estimate (refreshed by ANALYZE TABLE); NULL only for engines that keep none.
    private const string TablesQuery = """
        SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'
        """;

    // MariaDB prints an implicit DEFAULT NULL as the word NULL (a string default is quoted), MySQL as SQL NULL: both
    // mean "no default" for the linter.
    private const string ColumnsQuery = """
        SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'NO',
               COLUMN_DEFAULT IS NOT NULL AND NOT (COLUMN_DEFAULT = 'NULL' AND IS_NULLABLE = 'YES'),
               EXTRA LIKE '%auto_increment%', COLUMN_COMMENT <> ''
        FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
        ORDER BY TABLE_NAME, ORDINAL_POSITION
        """;

    private protected override async Task<LiveSchema> ReadSchemaAsync(DbSession session, CancellationToken cancellationToken)
    {
        // The version and both catalog queries in one round trip (one multi-statement query), not three.
        var version = string.Empty;
        var modes = SqlModes.None;
        var tables = new List<(string?, string, long)>();
        var columns = new List<(string?, string, SchemaColumn)>();
        // The session's sql_mode too (free in the same row): the files are linted, cut and sent as it reads them.
        await using (var batch = session.Batch(["SELECT VERSION(), @@SESSION.sql_mode", TablesQuery, ColumnsQuery]))
        await using (var r = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                version = Convert.ToString(r.GetValue(0), CultureInfo.InvariantCulture) ?? string.Empty;
                modes = SqlModeText.Parse(r.IsDBNull(1) ? string.Empty : r.GetString(1));
                SessionModes ??= modes;
            }

            await r.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tables.Add((r.GetString(0), r.GetString(1), r.IsDBNull(2) ? -1L : Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture)));
            }

            await r.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                columns.Add((r.GetString(0), r.GetString(1), new SchemaColumn(
                    r.GetString(2), r.GetString(3), NotNull: IsTrue(r, 4), HasDefault: IsTrue(r, 5), AutoIncrement: IsTrue(r, 6), HasComment: IsTrue(r, 7))));
            }
        }

        return new LiveSchema(Assemble(tables, columns), ServerVersion.Parse(version)) { ServerVersionText = version, Modes = modes };
    }

    /// <summary>"8.0.36" → 8, "10.11.19-MariaDB" and "5.5.5-10.11.19-MariaDB" → 10; null when the server printed something else.</summary>
    internal static int? MajorVersion(string version) => ServerVersion.Parse(version)?.Major;

    // Comparisons come back as integers (0/1) on MySQL and MariaDB alike.
    private static bool IsTrue(System.Data.Common.DbDataReader reader, int ordinal) =>
        !reader.IsDBNull(ordinal) && Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture) != 0;

    /// <summary>At most 64 characters, as GET_LOCK requires; stable per (database, history table).</summary>
    internal static string LockName(string database, string historyTable) =>
        "gatekeeper:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{database}\0{historyTable}")))[..40];
}
