using System.Data.Common;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// A Deployment admission whose database is down, silent, stuck behind a lock, or stopped while Gatekeeper waits on it:
/// the webhook denies with one sentence naming host:port (never the password) before the API server gives up on it,
/// and keeps answering pod reviews from memory meanwhile. Pod reviews start only once the Deployment's database call
/// is known to be stuck, so they really run alongside it. The webhook's clock (<see cref="AdmissionClock"/>) moves only
/// when a test runs the budget out, after the pods were answered: a refused or lost connection must be reported without
/// it moving, a silent or locked database exactly at the handler's own deadline, however slow the machine is.
/// </summary>
public sealed class DatabaseOutageAdmissionTests
{
    /// <summary>charts/gatekeeper/values.yaml admission.deployments.timeoutSeconds: the API server's limit for the answer.</summary>
    private static readonly TimeSpan ApiServerTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Webhook:RequestBudget for these tests; the chart's default is 8 s, under the same 10 s limit.</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(4);

    private const string PendingPlan = "4444444444444444444444444444444444444444444444444444444444444444";
    private const string Password = "s3cret-outage";

    private static Dictionary<string, string> Migrations() => new()
    {
        ["V1__create_customers.sql"] = "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);\n",
    };

    [Theory]
    [InlineData("postgres", "silent")]
    [InlineData("mysql", "silent")]
    [InlineData("mysql", "closed")]
    public async Task A_database_that_is_closed_or_silent_is_denied_before_the_api_server_gives_up_while_pods_keep_being_answered(string scheme, string fault)
    {
        var clock = new AdmissionClock(Budget);
        await using var scenario = await DeploymentScenario.StartAsync(engine: null, clock.Settings(), clock.Install);
        scenario.PutMigrations(Migrations());
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (fault == "closed")
        {
            listener.Stop();
            accepted.SetResult(null!);
        }
        else
        {
            // Accepts and never says a word: the PostgreSQL client waits for the startup reply, MySQL for the greeting.
            _ = Task.Run(async () => accepted.TrySetResult(await listener.AcceptSocketAsync()));
        }

        scenario.PutSecret("outage", new Dictionary<string, string> { ["url"] = $"{scheme}://app:{Password}@127.0.0.1:{port}/shop" });

        var pending = await AdmitWhilePodsFlowAsync(scenario, "outage", accepted.Task);
        // A refused connection is reported as soon as its retries are refused too; a silent server at the deadline.
        var admission = fault == "closed" ? await Answered(pending, clock) : await RunOutAsync(pending, clock);

        Assert.False(admission.Response.Allowed);
        Assert.Equal(503, admission.Response.Code);
        Assert.StartsWith("gatekeeper: cannot plan team-a/shop: database unreachable: ", admission.Response.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", admission.Response.Message, StringComparison.Ordinal);
        Assert.Contains(fault == "closed" ? "connection refused" : "did not answer in time", admission.Response.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, admission.Response.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', admission.Response.Message!);
        if (fault == "silent")
        {
            (await accepted.Task).Dispose();
        }
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task A_history_table_locked_by_another_session_is_a_deny_by_the_deadline_while_pods_keep_being_answered(string engine)
    {
        var clock = new AdmissionClock(Budget);
        await using var scenario = await DeploymentScenario.StartAsync(engine, clock.Settings(), clock.Install);
        scenario.PutMigrations(Migrations());
        var database = scenario.Database!;
        await database.MigrateAsync(Migrations());
        await using var holder = await OpenAsync(database.Database);
        await ExecuteAsync(holder, engine == "postgres"
            ? "BEGIN; LOCK TABLE gatekeeper_schema_history IN ACCESS EXCLUSIVE MODE"
            : "LOCK TABLES gatekeeper_schema_history WRITE");
        var waiting = engine == "postgres"
            ? $"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database.Name}' AND wait_event_type = 'Lock' AND query LIKE '%gatekeeper_schema_history%'"
            : $"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{database.Name}' AND STATE LIKE 'Waiting for table%' AND INFO LIKE '%gatekeeper_schema_history%'";

        var admission = await RunOutAsync(await AdmitWhilePodsFlowAsync(scenario, DeploymentScenario.SecretName, WaitUntilAsync(async () => Convert.ToInt64(await database.ScalarAsync(waiting)) > 0)), clock);

        Assert.False(admission.Response.Allowed);
        Assert.Equal(503, admission.Response.Code);
        Assert.Equal(
            $"gatekeeper: cannot plan team-a/shop: database unreachable: {database.Database.Endpoint} did not answer in time while reading gatekeeper_schema_history",
            admission.Response.Message);
    }

    [Fact]
    public async Task A_database_server_stopped_while_the_webhook_waits_on_it_is_a_deny_naming_it_while_pods_keep_being_answered()
    {
        await using var server = await PrivateDatabaseServer.StartAsync(DatabaseEngine.Postgres);
        await server.ExecuteAsync("postgres", "CREATE DATABASE shop");
        var clock = new AdmissionClock(Budget);
        await using var scenario = await DeploymentScenario.StartAsync(engine: null, clock.Settings(), clock.Install);
        scenario.PutMigrations(Migrations());
        scenario.PutSecret("private", new Dictionary<string, string> { ["url"] = server.Url("shop") });
        await MigrateAsync(DatabaseUrl.Parse(server.Url("shop")), Migrations());
        var holder = await server.OpenAsync("shop");
        await ExecuteAsync(holder, "BEGIN; LOCK TABLE gatekeeper_schema_history IN ACCESS EXCLUSIVE MODE");
        const string Waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = 'shop' AND wait_event_type = 'Lock'";

        // Once the webhook's read waits on the lock, the server goes down under it (pg_ctl stop -m immediate).
        async Task StopWhenWaitingAsync()
        {
            await WaitUntilAsync(async () => await server.CountAsync("shop", Waiting) > 0);
            await server.StopAbruptlyAsync();
            await holder.DisposeAsync();
        }

        // The lost connection and the refused reconnects are the answer, without the clock moving.
        var admission = await Answered(await AdmitWhilePodsFlowAsync(scenario, "private", StopWhenWaitingAsync()), clock);

        Assert.False(admission.Response.Allowed);
        Assert.Equal(503, admission.Response.Code);
        Assert.StartsWith($"gatekeeper: cannot plan team-a/shop: database unreachable: {server.Endpoint} (", admission.Response.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Password, admission.Response.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', admission.Response.Message!);
    }

    private sealed record Admission(AdmissionReviewResponse Response);

    /// <summary>
    /// Sends the Deployment's review, waits until <paramref name="stuck"/> says its database call is in the fault, then sends
    /// twenty pod reviews in parallel and checks each answer; returns the Deployment's answer, still to come.
    /// </summary>
    private static async Task<Task<Admission>> AdmitWhilePodsFlowAsync(DeploymentScenario scenario, string secret, Task stuck)
    {
        var deployment = Task.Run(async () => new Admission(await AdmissionReviewResponse.ReadAsync(await scenario.Webhook.PostAsync("/mutate/deployments",
            AdmissionReviewBodies.Review("CREATE", DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/database-secret", secret))))))));
        await Task.WhenAny(stuck, deployment);
        try
        {
            await stuck.WaitAsync(Patience.Default);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the Deployment's database call never reached the fault; its answer: {(deployment.IsCompleted ? (await deployment).Response.Message : "none yet")}");
        }

        var pods = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => AdmitPodAsync(scenario.Webhook, gated: i % 2 == 0)));
        Assert.All(pods, Assert.True);
        return deployment;
    }

    /// <summary>The answer that comes without the webhook's clock moving: well before the API server gives up.</summary>
    private static async Task<Admission> Answered(Task<Admission> pending, AdmissionClock clock)
    {
        var admission = await pending.WaitAsync(Patience.Default);
        Assert.Equal(TimeSpan.Zero, clock.Elapsed);
        return admission;
    }

    /// <summary>The answer that comes when the clock reaches the handler's deadline, before the API server's limit.</summary>
    private static async Task<Admission> RunOutAsync(Task<Admission> pending, AdmissionClock clock)
    {
        var admission = await clock.RunOutAsync(pending);
        Assert.True(clock.Elapsed < ApiServerTimeout, $"the Deployment was answered after {clock.Elapsed}, past the API server's {ApiServerTimeout.TotalSeconds} s");
        return admission;
    }

    /// <summary>One pod review; true when the answer is right (a pod of a pending plan gets the gate, a plain pod nothing).</summary>
    private static async Task<bool> AdmitPodAsync(TestWebhook webhook, bool gated)
    {
        var uid = Guid.NewGuid().ToString();
        var pod = AdmissionReviewBodies.Pod("team-a", "shop", gated ? new Dictionary<string, string> { ["gatekeeper.dev/plan"] = PendingPlan } : null);
        var response = await AdmissionReviewResponse.ReadAsync(await webhook.PostAsync("/mutate/pods", AdmissionReviewBodies.Review("CREATE", pod, uid: uid)));
        if (response.Uid != uid || !response.Allowed)
        {
            return false;
        }

        if (!gated)
        {
            return response.Patch is null;
        }

        var patched = JsonPatchApplier.Apply(pod, response.Patch!);
        return patched["spec"]?["schedulingGates"]?[0]?["name"]?.GetValue<string>() == "gatekeeper.dev/migration";
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience.Default, "the webhook's database call never reached the fault");
            await Task.Delay(20);
        }
    }

    /// <summary>Applies the files as the migration Job does, so the history table is Gatekeeper's own.</summary>
    private static async Task MigrateAsync(DatabaseUrl url, IDictionary<string, string> files)
    {
        var read = MigrationDirectoryReader.Read("test files", files.Select(f => new MigrationFile(f.Key, Encoding.UTF8.GetBytes(f.Value))).ToList());
        await using var database = MigrationDatabase.Open(url);
        var result = await new MigrationRunner(database).RunAsync(read.Directory!, null, CancellationToken.None);
        Assert.True(result.Succeeded, result.Message);
    }

    private static async Task<DbConnection> OpenAsync(DatabaseUrl url)
    {
        DbConnection connection = url.Engine == DatabaseEngine.Postgres
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(url.ToNpgsqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString)
            : new MySqlConnection(new MySqlConnectionStringBuilder(url.ToMySqlConnectionStringBuilder().ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
