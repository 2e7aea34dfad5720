using System.Data.Common;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases;
using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A database of the test's own (<c>gk_test_&lt;guid&gt;</c>) on a real server, dropped when disposed, plus a few direct
/// SQL helpers that bypass Gatekeeper (to set up a foreign tool's table or to look at what Gatekeeper left).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly DatabaseUrl _server;

    private TestDatabase(DatabaseUrl server, string name)
    {
        _server = server;
        Name = name;
        Url = server.WithDatabase(name);
    }

    public string Name { get; }

    public DatabaseUrl Url { get; }

    public DatabaseEngine Engine => Url.Engine;

    public static async Task<TestDatabase> CreateAsync(DatabaseEngine engine)
    {
        var server = TestServers.Server(engine);
        var database = new TestDatabase(server, "gk_test_" + Guid.NewGuid().ToString("N")[..20]);
        await database.ExecuteOnServerAsync($"CREATE DATABASE {database.Quote(database.Name)}");
        return database;
    }

    public IMigrationDatabase Open(MigrationDatabaseOptions? options = null) => MigrationDatabase.Open(Url, options);

    public string Quote(string identifier) => Engine == DatabaseEngine.Postgres ? $"\"{identifier}\"" : $"`{identifier}`";

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenAsync(Url);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = await OpenAsync(Url);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    public async Task<long> CountAsync(string sql) => Convert.ToInt64(await ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);

    public async Task<List<object?[]>> RowsAsync(string sql)
    {
        await using var connection = await OpenAsync(Url);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            reader.GetValues(row!);
            rows.Add(row.Select(v => v is DBNull ? null : v).ToArray());
        }

        return rows;
    }

    public async Task<bool> TableExistsAsync(string table, string? schema = null)
    {
        var schemaExpression = schema is not null ? $"'{schema}'" : Engine == DatabaseEngine.Postgres ? "current_schema()" : "DATABASE()";
        return await CountAsync($"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = {schemaExpression} AND table_name = '{table}'") > 0;
    }

    /// <summary>
    /// A raw connection to the test database, for holding locks or transactions open while Gatekeeper runs. On PostgreSQL
    /// it starts with no statement, lock or idle-in-transaction limit of its own: a test that sets one on its database for
    /// the app (<c>ALTER DATABASE … SET statement_timeout = '100ms'</c>) still needs its holder to open, and Npgsql's first
    /// query on a new connection (loading the server's types) took longer than that on a loaded CI machine.
    /// </summary>
    public async Task<DbConnection> OpenConnectionAsync()
    {
        if (Url.Engine != DatabaseEngine.Postgres)
        {
            return await OpenAsync(Url);
        }

        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Url.ToNpgsqlConnectionStringBuilder().ConnectionString)
        {
            Pooling = false,
            Options = "-c statement_timeout=0 -c lock_timeout=0 -c idle_in_transaction_session_timeout=0",
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task ExecuteOnServerAsync(string sql)
    {
        await using var connection = await OpenAsync(_server);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // FORCE ends sessions a killed runner left behind; MySQL's KILL does the same for its leftovers.
        if (Engine == DatabaseEngine.Postgres)
        {
            await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS {Quote(Name)} WITH (FORCE)");
        }
        else
        {
            await using var connection = await OpenAsync(_server);
            await using (var list = connection.CreateCommand())
            {
                list.CommandText = $"SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{Name}' AND ID <> CONNECTION_ID()";
                var ids = new List<long>();
                await using (var reader = await list.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        ids.Add(Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
                    }
                }

                foreach (var id in ids)
                {
                    await using var kill = connection.CreateCommand();
                    kill.CommandText = $"KILL {id}";
                    try
                    {
                        await kill.ExecuteNonQueryAsync();
                    }
                    catch (MySqlException)
                    {
                        // The session ended on its own in between.
                    }
                }
            }

            await using var drop = connection.CreateCommand();
            drop.CommandText = $"DROP DATABASE IF EXISTS {Quote(Name)}";
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static async Task<DbConnection> OpenAsync(DatabaseUrl url)
    {
        DbConnection connection = url.Engine == DatabaseEngine.Postgres
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(url.ToNpgsqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString)
            : new MySqlConnection(new MySqlConnectionStringBuilder(url.ToMySqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}

public static class EngineExtensions
{
    public static SqlDialect Dialect(this DatabaseEngine engine) => engine == DatabaseEngine.Postgres ? SqlDialect.Postgres : SqlDialect.MySql;
}
