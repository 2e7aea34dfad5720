using Gatekeeper.Databases;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// The real servers the tests run against, from the URLs the start scripts print. A missing URL fails the test with the
/// command that fixes it: a database test that silently skips proves nothing.
/// </summary>
public static class TestServers
{
    public const string PostgresVariable = "GATEKEEPER_TEST_POSTGRES_URL";
    public const string MySqlVariable = "GATEKEEPER_TEST_MYSQL_URL";

    public static DatabaseUrl Server(DatabaseEngine engine)
    {
        var (variable, script) = engine == DatabaseEngine.Postgres
            ? (PostgresVariable, "scripts/db/start-postgres.sh")
            : (MySqlVariable, "scripts/db/start-mariadb.sh");
        var text = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InvalidOperationException($"{variable} is not set; start a test server first: eval \"$({script})\"");
        }

        if (!DatabaseUrl.TryParse(text, out var url, out var error))
        {
            throw new InvalidOperationException($"{variable} is not a usable URL: {error}");
        }

        return url;
    }
}
