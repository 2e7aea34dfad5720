using System.Data.Common;
using System.Globalization;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// The webhook opens a database per admission call; shared pools keep one server session across those opens instead of
/// paying a new one (TCP and SCRAM on PostgreSQL: tens of milliseconds) every time.
/// </summary>
public sealed class DatabaseConnectionPoolsTests
{
    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task Databases_opened_one_after_another_on_shared_pools_reuse_one_server_session_until_the_pools_are_disposed(DatabaseEngine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var observer = await db.OpenConnectionAsync();
        var pools = new DatabaseConnectionPools();

        for (var call = 0; call < 3; call++)
        {
            await using var database = MigrationDatabase.Open(db.Url, pools: pools);
            await database.ReadHistoryAsync(CancellationToken.None);
        }

        Assert.Equal(1, pools.Count);
        Assert.Equal(1, await SessionsOnAsync(db, observer));

        await pools.DisposeAsync();
        var deadline = DateTime.UtcNow + Gatekeeper.Tests.Patience.Default;
        while (await SessionsOnAsync(db, observer) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, await SessionsOnAsync(db, observer));
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task A_database_opened_without_shared_pools_leaves_no_server_session_behind(DatabaseEngine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var observer = await db.OpenConnectionAsync();

        await using (var database = db.Open())
        {
            await database.ReadHistoryAsync(CancellationToken.None);
        }

        var deadline = DateTime.UtcNow + Gatekeeper.Tests.Patience.Default;
        while (await SessionsOnAsync(db, observer) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, await SessionsOnAsync(db, observer));
    }

    /// <summary>
    /// Server sessions connected to the test's database other than the observer's. One observer session asks every time:
    /// a new session per question would see its just-closed predecessor still leaving on a busy server.
    /// </summary>
    private static async Task<long> SessionsOnAsync(TestDatabase db, DbConnection observer)
    {
        await using var command = observer.CreateCommand();
        command.CommandText = db.Engine == DatabaseEngine.Postgres
            ? $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db.Name}' AND pid <> pg_backend_pid()"
            : $"SELECT count(*) FROM information_schema.processlist WHERE db = '{db.Name}' AND id <> CONNECTION_ID()";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}
