using System.Collections.Concurrent;
using System.Data.Common;
using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Databases;

/// <summary>
/// Connection pools that outlive one <see cref="IMigrationDatabase"/>, for a long-running process (the webhook) that opens
/// a database per request: without them every request pays a new server session (TCP, TLS, SCRAM) per call, tens of
/// milliseconds on PostgreSQL. One pool per connection string; pooled sessions are reset when reused (Npgsql's
/// <c>DISCARD ALL</c>, MySqlConnector's connection reset). The CLI does not need them: one run, one pool.
/// </summary>
public sealed class DatabaseConnectionPools : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<DbDataSource>> pools = new(StringComparer.Ordinal);

    internal NpgsqlDataSource Postgres(NpgsqlConnectionStringBuilder builder) =>
        (NpgsqlDataSource)pools.GetOrAdd("postgres\n" + builder.ConnectionString,
            _ => new Lazy<DbDataSource>(() => PostgresDataSources.Create(builder.ConnectionString))).Value;

    internal MySqlDataSource MySql(MySqlConnectionStringBuilder builder) =>
        (MySqlDataSource)pools.GetOrAdd("mysql\n" + builder.ConnectionString,
            _ => new Lazy<DbDataSource>(() => new MySqlDataSource(builder.ConnectionString))).Value;

    /// <summary>Pools created so far (one per distinct database URL).</summary>
    public int Count => pools.Count;

    public async ValueTask DisposeAsync()
    {
        foreach (var pool in pools.Values.Where(p => p.IsValueCreated))
        {
            await pool.Value.DisposeAsync().ConfigureAwait(false);
        }

        pools.Clear();
    }
}
