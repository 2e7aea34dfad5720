using System.Data.Common;
using System.Text.RegularExpressions;
using Gatekeeper.Databases;
using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// The three database users of docs/database-permissions.md (migrator, reader, dev), created on a test server with
/// exactly the statements of that document's <c>sql grants:</c> blocks (user names made unique, the database and
/// password replaced), and dropped when disposed. Tests that run Gatekeeper as these users prove the documented
/// rights are enough, and the document cannot drift from what was tested.
/// </summary>
public sealed partial class DocumentedCredentials : IAsyncDisposable
{
    /// <summary>The password of every documented user (the secret scan looks for it in Gatekeeper's output).</summary>
    public const string Password = "gk-documented-grant-pw";

    public const string DocumentPath = "docs/database-permissions.md";

    private static readonly string[] Credentials = ["migrator", "reader", "dev"];

    private readonly DatabaseUrl _admin;
    private readonly string _adminText;

    private DocumentedCredentials(DatabaseEngine engine, DatabaseUrl admin, string adminText, string database, string suffix)
    {
        Engine = engine;
        _admin = admin;
        _adminText = adminText;
        Database = database;
        Users = Credentials.ToDictionary(c => c, c => $"gk_{c[0]}_{suffix}");
    }

    public DatabaseEngine Engine { get; }

    public string Database { get; }

    /// <summary>The generated user name of each credential (migrator, reader, dev).</summary>
    public IReadOnlyDictionary<string, string> Users { get; }

    public string Migrator => Users["migrator"];

    public string Reader => Users["reader"];

    public string Dev => Users["dev"];

    /// <summary>The URL of <paramref name="credential"/> on the test database, as a team would put it in a Secret.</summary>
    public string UrlText(string credential, string? database = null) =>
        new UriBuilder(_adminText) { UserName = Users[credential], Password = Password, Path = "/" + (database ?? Database) }.Uri.ToString();

    public DatabaseUrl Url(string credential, string? database = null) => DatabaseUrl.Parse(UrlText(credential, database));

    /// <summary>The dev user's URL: PostgreSQL's names the server's maintenance database, MySQL's any name (not used).</summary>
    public DatabaseUrl DevServerUrl => Url("dev", Engine == DatabaseEngine.Postgres ? "postgres" : "gk_shadow");

    /// <summary>The statements of one <c>sql grants:engine/credential</c> block, with the names of this set.</summary>
    public IReadOnlyList<string> Statements(string credential)
    {
        var block = Blocks()[$"{(Engine == DatabaseEngine.Postgres ? "postgres" : "mysql")}/{credential}"];
        var text = block.Replace("'change-me'", $"'{Password}'", StringComparison.Ordinal);
        foreach (var (name, user) in Users)
        {
            text = text.Replace("gatekeeper_" + name, user, StringComparison.Ordinal);
        }

        text = ShopWord().Replace(text, Database);
        return text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Creates the three users on the test database's server with the documented grants, migrator first.</summary>
    public static async Task<DocumentedCredentials> CreateAsync(DatabaseEngine engine, string database)
    {
        var variable = engine == DatabaseEngine.Postgres ? TestServers.PostgresVariable : TestServers.MySqlVariable;
        var adminText = Environment.GetEnvironmentVariable(variable) ?? throw new InvalidOperationException($"{variable} is not set");
        var credentials = new DocumentedCredentials(engine, TestServers.Server(engine), adminText, database, Guid.NewGuid().ToString("N")[..8]);
        foreach (var credential in Credentials)
        {
            foreach (var statement in credentials.Statements(credential))
            {
                await credentials.ExecuteAsync(database, statement);
            }
        }

        return credentials;
    }

    /// <summary>Every <c>sql grants:</c> block of the document, by its name.</summary>
    public static IReadOnlyDictionary<string, string> Blocks()
    {
        var text = File.ReadAllText(FindDocument());
        return GrantBlock().Matches(text).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["sql"].Value, StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (Engine == DatabaseEngine.Postgres)
        {
            var roles = string.Join(", ", Users.Values);
            await TryExecuteAsync(Database, $"DROP OWNED BY {roles}");
            await TryExecuteAsync(_admin.Database, $"DROP OWNED BY {roles}");
            foreach (var user in Users.Values)
            {
                await TryExecuteAsync(_admin.Database, $"DROP ROLE IF EXISTS {user}");
            }
        }
        else
        {
            foreach (var user in Users.Values)
            {
                await TryExecuteAsync(_admin.Database, $"DROP USER IF EXISTS '{user}'@'%'");
            }
        }
    }

    private async Task TryExecuteAsync(string database, string sql)
    {
        try
        {
            await ExecuteAsync(database, sql);
        }
        catch (DbException)
        {
            // The test database is gone already, or the role owns nothing there.
        }
    }

    private async Task ExecuteAsync(string database, string sql)
    {
        var url = _admin.WithDatabase(database);
        await using DbConnection connection = Engine == DatabaseEngine.Postgres
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(url.ToNpgsqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString)
            : new MySqlConnection(new MySqlConnectionStringBuilder(url.ToMySqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static string FindDocument()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, DocumentPath);
            if (File.Exists(Path.Combine(directory.FullName, "Gatekeeper.sln")))
            {
                Assert.True(File.Exists(candidate), $"{DocumentPath} is missing from the repository.");
                return candidate;
            }
        }

        throw new InvalidOperationException("Gatekeeper.sln not found above the test assembly");
    }

    [GeneratedRegex(@"^```sql grants:(?<name>[a-z]+/[a-z]+)\n(?<sql>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex GrantBlock();

    [GeneratedRegex(@"\bshop\b")]
    private static partial Regex ShopWord();
}
