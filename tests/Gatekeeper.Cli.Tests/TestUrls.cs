using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// Full URLs (with the password) for a test's own database, built from the server URL the start scripts export:
/// what a user passes with --url. Gatekeeper's own <see cref="DatabaseUrl"/> deliberately cannot print one.
/// </summary>
internal static class TestUrls
{
    public static string For(TestDatabase database) => WithDatabase(ServerText(database.Engine), database.Name);

    public static string Password(DatabaseEngine engine) =>
        Uri.UnescapeDataString(new Uri(ServerText(engine)).UserInfo.Split(':', 2)[1]);

    public static string WithDatabase(string serverUrl, string database)
    {
        var builder = new UriBuilder(serverUrl) { Path = "/" + database };
        return builder.Uri.ToString();
    }

    private static string ServerText(DatabaseEngine engine)
    {
        TestServers.Server(engine);
        return Environment.GetEnvironmentVariable(engine == DatabaseEngine.Postgres ? TestServers.PostgresVariable : TestServers.MySqlVariable)!;
    }
}
