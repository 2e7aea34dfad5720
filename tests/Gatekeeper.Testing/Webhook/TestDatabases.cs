using System.Text;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
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

    private readonly DatabaseUrl server;

    private TestDatabase(string serverUrl, string name)
    {
        server = DatabaseUrl.Parse(serverUrl);
        Name = name;
        Database = server.WithDatabase(name);
        // DatabaseUrl never prints its password, so the Secret's URL is made from the text the test script exported.
        Url = new UriBuilder(serverUrl) { Path = "/" + name }.Uri.ToString();
    }

    public string Name { get; }

    public DatabaseUrl Database { get; }

    /// <summary>The URL a team would put in its Secret, pointing at this test's own database.</summary>
    public string Url { get; }

    public static Task<TestDatabase> CreatePostgresAsync() => CreateAsync(PostgresVariable, "scripts/db/start-postgres.sh");

    public static Task<TestDatabase> CreateMySqlAsync() => CreateAsync(MySqlVariable, "scripts/db/start-mariadb.sh");

    /// <summary>A database of its own on the server at <paramref name="serverUrl"/> (the admission benchmark's server).</summary>
    public static async Task<TestDatabase> CreateOnAsync(string serverUrl)
    {
        var database = new TestDatabase(serverUrl, "gk_webhook_" + Guid.NewGuid().ToString("N")[..12]);
        await database.OnServerAsync($"CREATE DATABASE {database.Name}");
        return database;
    }

    private static Task<TestDatabase> CreateAsync(string variable, string script) =>
        CreateOnAsync(Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: start the test server first with eval \"$({script})\" (scripts/test.sh does this)."));

    /// <summary>Runs SQL directly on this test's database (to set up or inspect, never to judge the webhook).</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        if (Database.Engine == DatabaseEngine.Postgres)
        {
            await using var connection = new NpgsqlConnection(Connection(Database));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            return await command.ExecuteScalarAsync();
        }

        await using var mysql = new MySqlConnection(Connection(Database));
        await mysql.OpenAsync();
        await using var mysqlCommand = new MySqlCommand(sql, mysql);
        return await mysqlCommand.ExecuteScalarAsync();
    }

    /// <summary>An open connection to this test's database, for a session a test keeps (a transaction that holds locks).</summary>
    public async Task<System.Data.Common.DbConnection> OpenConnectionAsync()
    {
        System.Data.Common.DbConnection connection = Database.Engine == DatabaseEngine.Postgres
            ? new NpgsqlConnection(Connection(Database))
            : new MySqlConnection(Connection(Database));
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Applies the files as the migration Job does (the same runner, lock and history table).</summary>
    public async Task MigrateAsync(IDictionary<string, string> files)
    {
        var read = MigrationDirectoryReader.Read("test files", files.Select(f => new MigrationFile(f.Key, Encoding.UTF8.GetBytes(f.Value))).ToList());
        Assert.True(read.Succeeded, string.Join("; ", read.Problems));
        await using var database = MigrationDatabase.Open(Database);
        var result = await new MigrationRunner(database).RunAsync(read.Directory!, null, CancellationToken.None);
        Assert.True(result.Succeeded, result.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        MySqlConnection.ClearAllPools();
        await OnServerAsync(Database.Engine == DatabaseEngine.Postgres
            ? $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)"
            : $"DROP DATABASE IF EXISTS {Name}");
    }

    private async Task OnServerAsync(string sql)
    {
        if (server.Engine == DatabaseEngine.Postgres)
        {
            await using var connection = new NpgsqlConnection(Connection(server));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
            return;
        }

        await using var mysql = new MySqlConnection(Connection(server));
        await mysql.OpenAsync();
        await using var mysqlCommand = new MySqlCommand(sql, mysql);
        await mysqlCommand.ExecuteNonQueryAsync();
    }

    private static string Connection(DatabaseUrl url) => url.Engine == DatabaseEngine.Postgres
        ? new NpgsqlConnectionStringBuilder(url.ToNpgsqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString
        : new MySqlConnectionStringBuilder(url.ToMySqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString;
}
