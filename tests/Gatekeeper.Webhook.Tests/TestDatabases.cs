using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// A database of its own for one test, created on the server the test scripts start
/// (<c>eval "$(scripts/db/start-postgres.sh)"</c>, <c>scripts/db/start-mariadb.sh</c>) and dropped afterwards.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "GATEKEEPER_TEST_POSTGRES_URL";
    public const string MySqlVariable = "GATEKEEPER_TEST_MYSQL_URL";

    private readonly Func<string, Task> drop;

    private TestDatabase(string engine, string name, string url, Func<string, Task> drop)
    {
        Engine = engine;
        Name = name;
        Url = url;
        this.drop = drop;
    }

    public string Engine { get; }

    public string Name { get; }

    /// <summary>The URL a team would put in its Secret, pointing at this test's own database.</summary>
    public string Url { get; }

    public static async Task<TestDatabase> CreatePostgresAsync()
    {
        var server = ServerUrl(PostgresVariable, "scripts/db/start-postgres.sh");
        var name = "gk_webhook_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(PostgresConnectionString(server, database: null)))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new TestDatabase("postgres", name, WithDatabase(server, name), async n =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(PostgresConnectionString(server, database: null));
            await connection.OpenAsync();
            await using var dropCommand = new NpgsqlCommand($"DROP DATABASE IF EXISTS {n} WITH (FORCE)", connection);
            await dropCommand.ExecuteNonQueryAsync();
        });
    }

    public static async Task<TestDatabase> CreateMySqlAsync()
    {
        var server = ServerUrl(MySqlVariable, "scripts/db/start-mariadb.sh");
        var name = "gk_webhook_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new MySqlConnection(MySqlConnectionString(server, database: null)))
        {
            await connection.OpenAsync();
            await using var create = new MySqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new TestDatabase("mysql", name, WithDatabase(server, name), async n =>
        {
            await using var connection = new MySqlConnection(MySqlConnectionString(server, database: null));
            await connection.OpenAsync();
            await using var dropCommand = new MySqlCommand($"DROP DATABASE IF EXISTS {n}", connection);
            await dropCommand.ExecuteNonQueryAsync();
        });
    }

    /// <summary>Runs SQL directly on this test's database (to set up or inspect, never to judge the webhook).</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        if (Engine == "postgres")
        {
            await using var connection = new NpgsqlConnection(PostgresConnectionString(Url, Name));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            return await command.ExecuteScalarAsync();
        }

        await using var mysql = new MySqlConnection(MySqlConnectionString(Url, Name));
        await mysql.OpenAsync();
        await using var mysqlCommand = new MySqlCommand(sql, mysql);
        return await mysqlCommand.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync() => await drop(Name);

    private static string ServerUrl(string variable, string script) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } url
            ? url
            : throw new InvalidOperationException($"{variable} is not set: start the test server first with eval \"$({script})\" (scripts/test.sh does this).");

    private static string WithDatabase(string url, string database)
    {
        var builder = new UriBuilder(url) { Path = "/" + database };
        return builder.Uri.ToString();
    }

    private static string PostgresConnectionString(string url, string? database)
    {
        var uri = new Uri(url);
        var (user, password) = Credentials(uri);
        return new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Username = user,
            Password = password,
            Database = database ?? "postgres",
            Pooling = false,
        }.ConnectionString;
    }

    private static string MySqlConnectionString(string url, string? database)
    {
        var uri = new Uri(url);
        var (user, password) = Credentials(uri);
        return new MySqlConnectionStringBuilder
        {
            Server = uri.Host,
            Port = (uint)(uri.IsDefaultPort || uri.Port < 0 ? 3306 : uri.Port),
            UserID = user,
            Password = password,
            Database = database ?? string.Empty,
            Pooling = false,
        }.ConnectionString;
    }

    private static (string User, string? Password) Credentials(Uri uri)
    {
        var parts = uri.UserInfo.Split(':', 2);
        return (Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : null);
    }
}
