using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gatekeeper.Databases;
using Gatekeeper.Tests;
using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A PostgreSQL 15 or MariaDB server of one test's own, for fault tests that stop a REAL server: the shared servers
/// the other tests use must never go down. Made the way scripts/db/start-*.sh make theirs (initdb + pg_ctl as the
/// postgres user, mariadb-install-db + mariadbd), but in a fresh temporary data directory, with a random password
/// and on a free port of 56100-56199 (a range no shared server uses), so parallel test runs cannot meet. Disposing
/// stops it and deletes its data, whatever the test did.
/// </summary>
public sealed class PrivateDatabaseServer : IAsyncDisposable
{
    private const int FirstPort = 56100;
    private const int PortCount = 100;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly string PostgresBin = Environment.GetEnvironmentVariable("POSTGRES_BIN") is { Length: > 0 } bin ? bin : "/usr/lib/postgresql/15/bin";
    private static readonly bool IsRoot = Environment.UserName == "root";

    private Process? _mariadbd;
    private bool _mySqlPasswordSet;
    private IReadOnlyList<string> _serverOptions = [];

    private PrivateDatabaseServer(DatabaseEngine engine, string dataDirectory, int port)
    {
        Engine = engine;
        DataDirectory = dataDirectory;
        Port = port;
    }

    public DatabaseEngine Engine { get; }

    public string DataDirectory { get; }

    public int Port { get; private set; }

    /// <summary>Random per server, so a test can check that no output ever shows it.</summary>
    public string Password { get; } = "pw-" + Guid.NewGuid().ToString("N")[..16];

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The full URL (with the password) a user would pass to gatekeeper.</summary>
    public string Url(string database) => Engine == DatabaseEngine.Postgres
        ? $"postgres://postgres:{Password}@127.0.0.1:{Port}/{database}"
        : $"mysql://root:{Password}@127.0.0.1:{Port}/{database}";

    /// <param name="serverOptions">MariaDB: more mariadbd options, at every start (<c>--sql-mode=NO_BACKSLASH_ESCAPES</c>).</param>
    /// <summary>
    /// A MariaDB of its own started with <c>--sql-mode=<paramref name="sqlMode"/></c>, with an empty database <c>app</c>,
    /// checked to run its sessions in that mode (the sql_mode tests of the Databases and CLI suites).
    /// </summary>
    public static async Task<PrivateDatabaseServer> StartMySqlInModeAsync(string sqlMode)
    {
        var server = await StartAsync(DatabaseEngine.MySql, $"--sql-mode={sqlMode}");
        try
        {
            await server.ExecuteAsync("mysql", "CREATE DATABASE app");
            Assert.Equal(sqlMode, Convert.ToString(await server.ScalarAsync("app", "SELECT @@SESSION.sql_mode"), System.Globalization.CultureInfo.InvariantCulture));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public static async Task<PrivateDatabaseServer> StartAsync(DatabaseEngine engine, params string[] serverOptions)
    {
        var prefix = engine == DatabaseEngine.Postgres ? "gk-private-pg-" : "gk-private-mariadb-";
        // Owned by this test process, so a killed run's directories (in memory, when TestDataRoot is /dev/shm) go at the next run.
        var data = OwnedTempDirectory.Create(prefix, TestDataRoot.Path);
        var server = new PrivateDatabaseServer(engine, data, 0) { _serverOptions = serverOptions };
        try
        {
            await server.InitializeAsync();
            // Another run may take the port between the probe and the server's bind: then try the next free one.
            for (var attempt = 1; ; attempt++)
            {
                server.Port = FreePort();
                try
                {
                    await server.StartAgainAsync();
                    break;
                }
                catch (PortTakenException) when (attempt < 5)
                {
                }
            }

            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server on its existing data directory (after <see cref="StopAbruptlyAsync"/>: crash recovery).</summary>
    public async Task StartAgainAsync()
    {
        if (Engine == DatabaseEngine.Postgres)
        {
            File.Delete(Path.Combine(DataDirectory, "postmaster.pid"));
            // fsync=off survives a server crash (the OS keeps the writes); synchronous_commit=off would not, and would lose
            // commits the runner already reported, so it stays on: these servers are stopped abruptly on purpose.
            var options = $"-p {Port} -c listen_addresses=127.0.0.1 -k {DataDirectory} -c fsync=off";
            var started = await RunAsync(AsPostgres(Path.Combine(PostgresBin, "pg_ctl"), "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "start", "-o", options));
            if (started.ExitCode != 0)
            {
                throw LogTail().Contains("Address already in use", StringComparison.Ordinal)
                    ? new PortTakenException()
                    : new InvalidOperationException($"pg_ctl start failed ({started.ExitCode}): {started.Output} {LogTail()}");
            }
        }
        else
        {
            var start = new ProcessStartInfo("mariadbd") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[]
            {
                "--no-defaults", "--user=root", $"--datadir={DataDirectory}", $"--port={Port}", "--bind-address=127.0.0.1",
                $"--socket={Socket}", $"--pid-file={Path.Combine(DataDirectory, "mariadbd.pid")}", $"--log-error={LogFile}",
                $"--tmpdir={TemporaryDirectory}",
                "--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=0", "--skip-name-resolve", "--max-connections=300",
            })
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var option in _serverOptions)
            {
                start.ArgumentList.Add(option);
            }

            // Its own --tmpdir (beside the data directory: one inside it would show as a database) keeps its internal
            // temporary tables out of the machine's shared /tmp, where one once vanished under a running test server.
            // flush-log-at-trx-commit=2 writes the log to the OS at every commit, so a SIGKILL loses no commit (0 would lose up to 1 s).
            _mariadbd = Process.Start(start) ?? throw new InvalidOperationException("could not start mariadbd");
            _ = _mariadbd.StandardOutput.ReadToEndAsync();
            _ = _mariadbd.StandardError.ReadToEndAsync();
        }

        await WaitUntilAnsweringAsync();
    }

    /// <summary>PostgreSQL: <c>pg_ctl stop -m immediate</c> (no checkpoint, sessions cut); MariaDB: SIGKILL. Returns when it is down.</summary>
    public async Task StopAbruptlyAsync()
    {
        if (Engine == DatabaseEngine.Postgres)
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await RunAsync(AsPostgres(Path.Combine(PostgresBin, "pg_ctl"), "-D", DataDirectory, "-m", "immediate", "-w", "-t", "60", "stop"));
            }

            return;
        }

        if (_mariadbd is { } process)
        {
            _mariadbd = null;
            if (!process.HasExited)
            {
                process.Kill();
            }

            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    public async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = await OpenAsync(database);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public async Task<object?> ScalarAsync(string database, string sql)
    {
        await using var connection = await OpenAsync(database);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    public async Task<long> CountAsync(string database, string sql) => Convert.ToInt64(await ScalarAsync(database, sql), CultureInfo.InvariantCulture);

    /// <summary>The first column of every row, as text.</summary>
    public async Task<List<string>> ColumnAsync(string database, string sql)
    {
        await using var connection = await OpenAsync(database);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture) ?? string.Empty);
        }

        return values;
    }

    /// <summary>A connection without pooling (a pooled one would outlive a server restart), for holding locks or looking.</summary>
    public async Task<DbConnection> OpenAsync(string database)
    {
        DbConnection connection = Engine == DatabaseEngine.Postgres
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Password = Password, Database = database, Pooling = false }.ConnectionString)
            : new MySqlConnection(new MySqlConnectionStringBuilder { Server = "127.0.0.1", Port = (uint)Port, UserID = "root", Password = Password, Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>The end of the server's log, for failure messages.</summary>
    public string LogTail()
    {
        try
        {
            var text = File.ReadAllText(LogFile);
            return text.Length > 2000 ? text[^2000..] : text;
        }
        catch (IOException)
        {
            return "(no server log)";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAbruptlyAsync();
        }
        finally
        {
            if (Directory.Exists(DataDirectory))
            {
                Directory.Delete(DataDirectory, recursive: true);
            }

            if (Directory.Exists(TemporaryDirectory))
            {
                Directory.Delete(TemporaryDirectory, recursive: true);
            }
        }
    }

    /// <summary>MariaDB's --tmpdir for this server: beside the data directory, never the shared /tmp.</summary>
    private string TemporaryDirectory => DataDirectory + "-tmp";

    private string LogFile => Path.Combine(DataDirectory, "server.log");

    private string Socket => Path.Combine(DataDirectory, "mariadbd.sock");

    private async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataDirectory);
        if (Engine == DatabaseEngine.MySql)
        {
            Directory.CreateDirectory(TemporaryDirectory);
        }

        if (Engine == DatabaseEngine.Postgres)
        {
            // PostgreSQL refuses to run as root: the data directory belongs to the postgres user, as in start-postgres.sh.
            if (IsRoot)
            {
                await RunCheckedAsync(["chown", "postgres:postgres", DataDirectory]);
            }

            await RunCheckedAsync(["chmod", "700", DataDirectory]);
            var passwordFile = Path.Combine(Path.GetTempPath(), "gk-private-pw-" + Guid.NewGuid().ToString("N"));
            await File.WriteAllTextAsync(passwordFile, Password + "\n");
            try
            {
                await RunCheckedAsync(["chmod", "644", passwordFile]);
                await RunCheckedAsync(AsPostgres(Path.Combine(PostgresBin, "initdb"), "-D", DataDirectory, "-U", "postgres", "--auth=scram-sha-256",
                    $"--pwfile={passwordFile}", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"));
            }
            finally
            {
                File.Delete(passwordFile);
            }
        }
        else
        {
            await RunCheckedAsync(["mariadb-install-db", "--no-defaults", "--user=root", "--auth-root-authentication-method=normal",
                $"--datadir={DataDirectory}", "--skip-test-db"]);
        }
    }

    private async Task SetMySqlPasswordAsync() => await RunCheckedAsync(["mariadb", "--no-defaults", "-uroot", $"--socket={Socket}", "-e",
        $"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '{Password}'; " +
        "GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;"]);

    private async Task WaitUntilAnsweringAsync()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_mariadbd is { HasExited: true })
            {
                throw LogTail().Contains("Address already in use", StringComparison.Ordinal)
                    ? new PortTakenException()
                    : new InvalidOperationException($"mariadbd exited at start: {LogTail()}");
            }

            if (await AnswersAsync())
            {
                return;
            }

            if (clock.Elapsed > StartTimeout)
            {
                throw new InvalidOperationException($"the private {Engine} server did not answer on {Endpoint} within {StartTimeout.TotalSeconds} s: {LogTail()}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>MariaDB answers on its socket (root without password) before the password is set, then on TCP.</summary>
    private async Task<bool> AnswersAsync()
    {
        try
        {
            if (Engine == DatabaseEngine.MySql && !_mySqlPasswordSet)
            {
                var probe = await RunAsync(["mariadb", "--no-defaults", "-uroot", $"--socket={Socket}", "-e", "SELECT 1"]);
                if (probe.ExitCode != 0)
                {
                    return false;
                }

                await SetMySqlPasswordAsync();
                _mySqlPasswordSet = true;
            }

            await using var connection = await OpenAsync(Engine == DatabaseEngine.Postgres ? "postgres" : "mysql");
            return true;
        }
        catch (Exception e) when (e is DbException or SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }

    private static string[] AsPostgres(params string[] command) => IsRoot ? ["runuser", "-u", "postgres", "--", .. command] : command;

    private static int FreePort()
    {
        var offset = Random.Shared.Next(PortCount);
        for (var i = 0; i < PortCount; i++)
        {
            var port = FirstPort + ((offset + i) % PortCount);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                probe.Stop();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try the next one.
            }
        }

        throw new InvalidOperationException($"no free port in {FirstPort}-{FirstPort + PortCount - 1} for a private database server");
    }

    private static async Task RunCheckedAsync(string[] command)
    {
        var result = await RunAsync(command);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command[0]} failed ({result.ExitCode}): {result.Output}");
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command[0]}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await output + await error).Trim());
    }

    private sealed class PortTakenException : Exception
    {
    }
}
