using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>The real <c>gatekeeper</c> binary as separate processes, the way Jobs and CI run it.</summary>
public sealed class ProcessRunnerTests
{
    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task Ten_processes_started_at_once_apply_each_migration_exactly_once_and_all_exit_0(DatabaseEngine engine)
    {
        using var dir = new TempMigrationDirectory(
            ("V1__create.sql", "create table runs (id int primary key, note varchar(40));\n"),
            ("V2__seed.sql", "insert into runs values (1, 'seeded once');\n"),
            ("V3__more.sql", "insert into runs values (2, 'also once');\n"));
        await using var database = await TestDatabase.CreateAsync(engine);

        var runners = Enumerable.Range(0, 10).Select(_ => RunAsync(TestUrls.For(database), "migrate", "--dir", dir.Path)).ToList();
        var results = await Task.WhenAll(runners);

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Output + r.Error));
        Assert.Equal(1, results.Count(r => r.Output.Contains("Applied 3 migrations", StringComparison.Ordinal)));
        Assert.Equal(2, await database.CountAsync("select count(*) from runs"));
        Assert.Equal(3, await database.CountAsync("select count(*) from gatekeeper_schema_history"));
    }

    [Fact]
    public async Task A_failed_migration_leaves_its_reason_in_the_termination_log_for_the_controller()
    {
        using var dir = new TempMigrationDirectory(("V1__broken.sql", "create table ok_table (id int);\nselect * from no_such_table;\n"));
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        var log = Path.Combine(Path.GetTempPath(), "gk-termination-" + Guid.NewGuid().ToString("N"));

        try
        {
            var result = await RunAsync(TestUrls.For(database), "migrate", "--dir", dir.Path, "--termination-log", log);

            Assert.Equal(1, result.ExitCode);
            var reason = await File.ReadAllTextAsync(log);
            Assert.Contains("V1__broken.sql:2:15", reason);
            Assert.Contains("no_such_table", reason);
            Assert.DoesNotContain(TestUrls.Password(DatabaseEngine.Postgres), reason + result.Output + result.Error);
            Assert.False(await database.TableExistsAsync("ok_table"));
        }
        finally
        {
            File.Delete(log);
        }
    }

    private static Task<CliResult> RunAsync(string url, params string[] args) => GatekeeperProcess.RunAsync(url, args);
}
