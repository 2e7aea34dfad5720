using System.Data.Common;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// Stands for a monitoring agent (or another Gatekeeper replica's pre-flight) reading MySQL's and MariaDB's
/// <c>information_schema.INNODB_TRX</c> every 20 ms. The server serves that table from a copy it refreshes only after
/// 0.1 s without readers, so while this runs the list stays as it was when the monitor started: a transaction begun
/// afterwards is not in it. A test that starts one shows the pre-flight does not depend on that list.
/// </summary>
public sealed class TransactionListMonitor : IAsyncDisposable
{
    private readonly DbConnection? _connection;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;

    private TransactionListMonitor(DbConnection? connection)
    {
        _connection = connection;
        _reading = connection is null ? Task.CompletedTask : ReadUntilStoppedAsync(connection, _stop.Token);
    }

    /// <summary>Starts reading on MySQL and MariaDB (after one first read); on PostgreSQL there is no such list and nothing runs.</summary>
    public static async Task<TransactionListMonitor> StartAsync(DatabaseEngine engine, Func<Task<DbConnection>> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        if (engine != DatabaseEngine.MySql)
        {
            return new TransactionListMonitor(null);
        }

        var connection = await open();
        await ReadOnceAsync(connection, CancellationToken.None);
        return new TransactionListMonitor(connection);
    }

    public static Task<TransactionListMonitor> StartAsync(TestDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return StartAsync(database.Engine, database.OpenConnectionAsync);
    }

    private static async Task ReadOnceAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM information_schema.INNODB_TRX";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task ReadUntilStoppedAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        // The agent's scrape interval: any pace under 0.1 s keeps the server's copy from being refreshed.
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            while (await pace.WaitForNextTickAsync(cancellationToken))
            {
                await ReadOnceAsync(connection, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reading;
        }
        catch (DbException) when (_stop.IsCancellationRequested)
        {
            // A read cancelled mid-query ends with the driver's own error.
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _stop.Dispose();
    }
}
