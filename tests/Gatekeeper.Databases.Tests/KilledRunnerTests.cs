using System.Diagnostics;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Tests;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// A runner process SIGKILLed in the middle of a migration (while the server executes a long sleep inside it): PostgreSQL
/// must show nothing of that migration, MySQL must show it dirty so the next run refuses with a clear message.
/// </summary>
public sealed class KilledRunnerTests
{
    [Fact]
    public async Task Postgres_runner_killed_mid_migration_leaves_the_database_unchanged_by_that_migration()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var files = new TemporaryDirectory(
            ("V1__before.sql", "CREATE TABLE before_kill (id integer);\n"),
            ("V2__slow.sql", "CREATE TABLE during_kill (id integer);\nINSERT INTO before_kill VALUES (1);\nSELECT pg_sleep(30);\nCREATE TABLE after_sleep (id integer);\n"));

        await KillDuringAsync(db, files.Path, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(30)%'");

        Assert.True(await db.TableExistsAsync("before_kill"));
        Assert.False(await db.TableExistsAsync("during_kill"));
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM before_kill"));

        // The server ends the orphaned session at its next write to the dead client; end it now instead of in 30 s.
        await db.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        await using var database = db.Open();
        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(["1"], history.Applied.Select(a => a.Id));
        Assert.DoesNotContain(history.Applied, a => a.Dirty);
        var directory = (await MigrationDirectoryReader.ReadAsync(new DirectoryMigrationSource(files.Path), MigrationFormat.Flyway, CancellationToken.None)).Directory!;
        var plan = Core.Planning.MigrationPlanner.Plan(directory, history, database.Identity);
        Assert.Equal(["2"], plan.Pending.Select(m => m.Id));
        Assert.False(plan.IsBlocked);
    }

    [Fact]
    public async Task MySql_runner_killed_mid_migration_leaves_it_dirty_and_the_next_run_refuses_with_a_clear_message()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        using var files = new TemporaryDirectory(
            ("V1__before.sql", "CREATE TABLE before_kill (id integer);\n"),
            ("V2__slow.sql", "CREATE TABLE during_kill (id integer);\nSELECT SLEEP(30);\nCREATE TABLE after_sleep (id integer);\n"));

        await KillDuringAsync(db, files.Path, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'SELECT SLEEP(30)%'");

        Assert.True(await db.TableExistsAsync("during_kill"));
        Assert.False(await db.TableExistsAsync("after_sleep"));
        var directory = (await MigrationDirectoryReader.ReadAsync(new DirectoryMigrationSource(files.Path), MigrationFormat.Flyway, CancellationToken.None)).Directory!;
        await using var database = db.Open();
        var next = await new MigrationRunner(database, new MigrationRunnerOptions { LockTimeout = TimeSpan.FromSeconds(20) }).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Dirty, next.Status);
        Assert.Equal(
            $"migration 2 failed half-way on {db.Name} at V2__slow.sql (interrupted before it finished); " +
            "repair the schema by hand, then run `gatekeeper repair --version 2 --resolution retry|applied`",
            next.Message);
        Assert.False(await db.TableExistsAsync("after_sleep"));
    }

    private static async Task KillDuringAsync(TestDatabase db, string directory, string sleepingQuery)
    {
        using var child = ChildRunner.Start(directory, MigrationFormat.Flyway, UrlText(db.Url));
        var output = child.StandardOutput.ReadToEndAsync();
        var errors = child.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (await db.CountAsync(sleepingQuery) == 0)
        {
            if (child.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                Assert.Fail($"the child runner never reached the sleep (exited: {child.HasExited}): {await Completed(output)} {await Completed(errors)}");
            }

            await Task.Delay(50);
        }

        child.Kill(entireProcessTree: true);
        await child.WaitForExitAsync();
        OutputCapture.Record(OutputCapture.CliOutput, "child runner", $"killed\n{await output}{await errors}");
        Assert.NotEqual(0, child.ExitCode);
    }

    private static async Task<string> Completed(Task<string> read) => read.IsCompleted ? await read : string.Empty;

    /// <summary>The child needs the real password; DatabaseUrl never prints it, so rebuild the text from the server URL.</summary>
    private static string UrlText(DatabaseUrl url)
    {
        var server = Environment.GetEnvironmentVariable(url.Engine == DatabaseEngine.Postgres ? TestServers.PostgresVariable : TestServers.MySqlVariable)!;
        var slash = server.LastIndexOf('/');
        return server[..(slash + 1)] + url.Database;
    }
}

internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory(params (string Name, string Content)[] files)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gk-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
        foreach (var (name, content) in files)
        {
            File.WriteAllText(System.IO.Path.Combine(Path, name), content);
        }
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
