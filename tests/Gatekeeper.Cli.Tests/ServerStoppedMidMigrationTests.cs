using System.Diagnostics;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// The database server itself goes down in the middle of <c>gatekeeper migrate</c> (PostgreSQL: pg_ctl stop -m immediate;
/// MariaDB: SIGKILL), then comes back on the same data directory. Each test stops a private server of its own, never
/// the shared ones. The stop happens at a known point: while migration 2 sleeps for as long as a row the test owns says,
/// a row the test sets to 0 before the recovery run (so the rerun does not sleep).
/// </summary>
public sealed class ServerStoppedMidMigrationTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Postgres_stopped_mid_migration_keeps_nothing_of_it_and_the_next_run_finishes_the_plan()
    {
        await using var server = await PrivateDatabaseServer.StartAsync(DatabaseEngine.Postgres);
        await server.ExecuteAsync("postgres", "CREATE DATABASE app");
        await server.ExecuteAsync("app", "CREATE TABLE fault_gate (seconds int); INSERT INTO fault_gate VALUES (120); CREATE TABLE applied_log (migration text)");
        using var dir = new TempMigrationDirectory(
            ("V1__first.sql", "CREATE TABLE first_table (id int);\nINSERT INTO applied_log VALUES ('1');\n"),
            ("V2__stalled.sql", "CREATE TABLE during_stop (id int);\nINSERT INTO applied_log VALUES ('2');\nSELECT pg_sleep((SELECT seconds FROM fault_gate));\nCREATE TABLE after_sleep (id int);\n"),
            ("V3__last.sql", "CREATE TABLE last_table (id int);\nINSERT INTO applied_log VALUES ('3');\n"));
        using var reasonFile = new TerminationLog();

        var interrupted = await StopServerDuringSleepAsync(server, dir.Path, reasonFile.Path,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' AND query LIKE 'SELECT pg_sleep(%'");

        Assert.Equal(ExitCodes.Rejected, interrupted.ExitCode);
        var reason = reasonFile.Read();
        Assert.StartsWith($"migration 2 was cut off: the connection to {server.Endpoint} was lost at V2__stalled.sql:3:1: ", reason, StringComparison.Ordinal);
        Assert.EndsWith("; nothing of it was applied", reason, StringComparison.Ordinal);
        Assert.Contains($"error: {reason}\n", interrupted.Output, StringComparison.Ordinal);
        Assert.Contains("The connection broke, not the file: run migrate again once the server answers", interrupted.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Password, interrupted.Output + interrupted.Error + reason, StringComparison.Ordinal);

        await server.StartAgainAsync();

        // Crash recovery rolled the open transaction back: none of migration 2's objects, its history row absent.
        Assert.Equal(0, await server.CountAsync("app", "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('during_stop', 'after_sleep')"));
        Assert.Equal(["1"], await server.ColumnAsync("app", "SELECT migration FROM applied_log ORDER BY migration"));
        Assert.Equal(["1"], await server.ColumnAsync("app", "SELECT version FROM gatekeeper_schema_history ORDER BY installed_rank"));
        var status = await GatekeeperProcess.RunAsync(server.Url("app"), "status", "--dir", dir.Path);
        Assert.True(status.ExitCode == ExitCodes.Ok, status.Output + status.Error);
        Assert.Contains("1 applied, 2 pending", status.Output, StringComparison.Ordinal);

        await server.ExecuteAsync("app", "UPDATE fault_gate SET seconds = 0");
        var next = await GatekeeperProcess.RunAsync(server.Url("app"), "migrate", "--dir", dir.Path);

        Assert.True(next.ExitCode == ExitCodes.Ok, next.Output + next.Error);
        Assert.Contains("Applied 2 migrations", next.Output, StringComparison.Ordinal);
        Assert.Equal(["1", "2", "3"], await server.ColumnAsync("app", "SELECT migration FROM applied_log ORDER BY migration"));
        Assert.Equal(["1", "2", "3"], await server.ColumnAsync("app", "SELECT version FROM gatekeeper_schema_history WHERE success AND NOT dirty ORDER BY installed_rank"));
        Assert.Equal(3, await server.CountAsync("app", "SELECT count(*) FROM gatekeeper_schema_history"));
    }

    [Fact]
    public async Task MariaDb_killed_mid_migration_reports_it_dirty_with_the_repair_step_and_runs_on_once_repaired()
    {
        await using var server = await PrivateDatabaseServer.StartAsync(DatabaseEngine.MySql);
        await server.ExecuteAsync("mysql", "CREATE DATABASE app");
        await server.ExecuteAsync("app", "CREATE TABLE fault_gate (seconds int); INSERT INTO fault_gate VALUES (120); CREATE TABLE applied_log (migration varchar(10))");
        using var dir = new TempMigrationDirectory(
            ("V1__first.sql", "CREATE TABLE first_table (id int);\nINSERT INTO applied_log VALUES ('1');\n"),
            ("V2__stalled.sql", "CREATE TABLE during_stop (id int);\nSELECT SLEEP((SELECT seconds FROM fault_gate));\nCREATE TABLE after_sleep (id int);\nINSERT INTO applied_log VALUES ('2');\n"),
            ("V3__last.sql", "CREATE TABLE last_table (id int);\nINSERT INTO applied_log VALUES ('3');\n"));
        using var reasonFile = new TerminationLog();

        var interrupted = await StopServerDuringSleepAsync(server, dir.Path, reasonFile.Path,
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = 'app' AND INFO LIKE 'SELECT SLEEP(%'");

        Assert.Equal(ExitCodes.Rejected, interrupted.ExitCode);
        var reason = reasonFile.Read();
        Assert.StartsWith($"migration 2 was cut off: the connection to {server.Endpoint} was lost at V2__stalled.sql:2:1: ", reason, StringComparison.Ordinal);
        Assert.EndsWith("; it is marked dirty: repair the schema by hand, then run `gatekeeper repair --version 2 --resolution retry|applied`", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", interrupted.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Password, interrupted.Output + interrupted.Error + reason, StringComparison.Ordinal);

        await server.StartAgainAsync();
        var url = server.Url("app");

        // MySQL committed CREATE TABLE during_stop before the kill: the history says so, and every run refuses until repaired.
        var refused = await GatekeeperProcess.RunAsync(url, "migrate", "--dir", dir.Path);
        Assert.Equal(ExitCodes.Rejected, refused.ExitCode);
        Assert.Contains(
            "Nothing applied: migration 2 failed half-way on app at V2__stalled.sql (interrupted before it finished); " +
            "repair the schema by hand, then run `gatekeeper repair --version 2 --resolution retry|applied`",
            refused.Output, StringComparison.Ordinal);
        var status = await GatekeeperProcess.RunAsync(url, "status", "--dir", dir.Path);
        Assert.Equal(ExitCodes.Rejected, status.ExitCode);
        Assert.Contains(
            "✗ migration 2 failed half-way on app and is marked dirty in gatekeeper_schema_history; repair the schema by hand, " +
            "then run `gatekeeper repair --version 2 --resolution retry` (you undid it) or `--resolution applied` (you finished it)",
            status.Output, StringComparison.Ordinal);
        Assert.Equal(["1"], await server.ColumnAsync("app", "SELECT migration FROM applied_log ORDER BY migration"));

        // The repair step as printed: undo the partial change by hand, then tell gatekeeper it will be retried.
        await server.ExecuteAsync("app", "DROP TABLE during_stop");
        var repair = await GatekeeperProcess.RunAsync(url, "repair", "--dir", dir.Path, "--version", "2", "--resolution", "retry");
        Assert.True(repair.ExitCode == ExitCodes.Ok, repair.Output + repair.Error);
        await server.ExecuteAsync("app", "UPDATE fault_gate SET seconds = 0");
        var next = await GatekeeperProcess.RunAsync(url, "migrate", "--dir", dir.Path);

        Assert.True(next.ExitCode == ExitCodes.Ok, next.Output + next.Error);
        Assert.Contains("Applied 2 migrations", next.Output, StringComparison.Ordinal);
        Assert.Equal(["1", "2", "3"], await server.ColumnAsync("app", "SELECT migration FROM applied_log ORDER BY migration"));
        Assert.Equal(["1", "2", "3"], await server.ColumnAsync("app", "SELECT version FROM gatekeeper_schema_history WHERE success AND NOT dirty ORDER BY installed_rank"));
        Assert.Equal(3, await server.CountAsync("app", "SELECT count(*) FROM gatekeeper_schema_history"));
    }

    /// <summary>Starts a runner, waits until the server runs migration 2's sleep, stops the server and returns the runner's outcome.</summary>
    private static async Task<CliResult> StopServerDuringSleepAsync(PrivateDatabaseServer server, string directory, string terminationLog, string sleeping)
    {
        using var runner = GatekeeperProcess.Start(server.Url("app"), "migrate", "--dir", directory, "--termination-log", terminationLog);
        var clock = Stopwatch.StartNew();
        while (await server.CountAsync("app", sleeping) == 0)
        {
            if (runner.HasExited || clock.Elapsed > Generous)
            {
                var early = await runner.WaitAsync(TimeSpan.FromSeconds(5));
                Assert.Fail($"the runner never reached migration 2's sleep (exit {early.ExitCode}): {early.Output} {early.Error}");
            }

            await Task.Delay(50);
        }

        await server.StopAbruptlyAsync();
        return await runner.WaitAsync(Generous);
    }

    private sealed class TerminationLog : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gk-termination-" + Guid.NewGuid().ToString("N"));

        /// <summary>The one-line reason the controller shows in Events; it must be there and be one line.</summary>
        public string Read()
        {
            Assert.True(File.Exists(Path), "the runner wrote no termination log");
            var text = File.ReadAllText(Path);
            Assert.DoesNotContain('\n', text.TrimEnd());
            return text;
        }

        public void Dispose() => File.Delete(Path);
    }
}
