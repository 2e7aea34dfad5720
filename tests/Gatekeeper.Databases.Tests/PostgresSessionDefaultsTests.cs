using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A PostgreSQL role's or database's session defaults (<c>ALTER ROLE/DATABASE … SET</c>) must not change what Gatekeeper
/// keeps or says: what a default breaks is either pinned for Gatekeeper's own statements or refused in one sentence that
/// names the setting. Each test sets them on a database of its own (<c>ALTER DATABASE … SET</c>), so the shared server's
/// other databases keep theirs.
/// </summary>
public sealed class PostgresSessionDefaultsTests
{
    private static async Task<TestDatabase> DatabaseWithDefaultAsync(string setting)
    {
        var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        try
        {
            await database.ExecuteOnServerAsync($"ALTER DATABASE {database.Quote(database.Name)} SET {setting}");
            return database;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task Postgres_the_migration_lock_outlives_an_idle_session_timeout()
    {
        // The lock's session sits idle while the files run: idle_session_timeout ended it, and with it the lock, so a
        // second runner got in while the first was still applying (reproduced with two `gatekeeper migrate` processes).
        await using var test = await DatabaseWithDefaultAsync("idle_session_timeout = '300ms'");
        await using var first = test.Open();
        await using var second = test.Open();
        await using var held = await first.AcquireMigrationLockAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        await Task.Delay(TimeSpan.FromSeconds(1.5));

        var refused = await Assert.ThrowsAsync<DatabaseException>(() => second.AcquireMigrationLockAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(DatabaseErrorKind.MigrationLockHeld, refused.Kind);
    }
}
