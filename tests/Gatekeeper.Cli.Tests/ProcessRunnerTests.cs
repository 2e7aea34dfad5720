using System.Globalization;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;
using Gatekeeper.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>The real <c>gatekeeper</c> binary as separate processes, the way Jobs and CI run it.</summary>
public sealed class ProcessRunnerTests
{
    /// <summary>
    /// How Jobs and CI meet in practice: many runner processes on one database at once, again after each release adds
    /// migrations. They queue on the migration lock; the first applies what is pending, the rest find nothing to do.
    /// Each migration inserts its own version into a counter table, so a migration run twice shows as a second row.
    /// </summary>
    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task Twenty_processes_started_at_once_in_three_rounds_apply_each_migration_exactly_once(DatabaseEngine engine)
    {
        const int Runners = 20;
        using var dir = new TempMigrationDirectory();
        await using var database = await TestDatabase.CreateAsync(engine);
        await database.ExecuteAsync("create table applied_counter (version int not null)");
        var applied = new List<long>();

        for (var round = 1; round <= 3; round++)
        {
            var added = Enumerable.Range(3 * (round - 1) + 1, 3).ToList();
            foreach (var version in added)
            {
                dir.Write($"V{version}__round_{round}.sql",
                    $"create table round_{round}_v{version} (id int);\ninsert into applied_counter values ({version});\n");
            }

            var results = await Task.WhenAll(Enumerable.Range(0, Runners).Select(_ => RunAsync(TestUrls.For(database), "migrate", "--dir", dir.Path)));

            Assert.All(results, r => Assert.True(r.ExitCode == 0, $"round {round}: exit {r.ExitCode}: {r.Output}{r.Error}"));
            var target = added[^1];
            Assert.Single(results, r => r.Output.Contains($"Applied 3 migrations in ", StringComparison.Ordinal)
                                        && r.Output.Contains($"the database is at version {target}.", StringComparison.Ordinal));
            Assert.Equal(Runners - 1, results.Count(r => r.Output.Contains($"Nothing to apply: the database is up to date at version {target}.", StringComparison.Ordinal)));
            applied.AddRange(added.Select(v => (long)v));
            Assert.Equal(applied, (await database.RowsAsync("select version from applied_counter order by version")).Select(row => Convert.ToInt64(row[0], CultureInfo.InvariantCulture)));
            Assert.Equal(applied.Count, await database.CountAsync("select count(*) from gatekeeper_schema_history"));
            Assert.Equal(applied.Count, await database.CountAsync("select count(distinct version) from gatekeeper_schema_history"));
        }
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
