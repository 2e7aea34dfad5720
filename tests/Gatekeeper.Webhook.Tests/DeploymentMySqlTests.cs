using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Webhook.Tests;

/// <summary>The Deployment webhooks against a real MariaDB, whose DDL auto-commits: the dry-run runs on a shadow copy.</summary>
public sealed class DeploymentMySqlTests : IAsyncLifetime
{
    private DeploymentScenario scenario = null!;

    public async Task InitializeAsync() => scenario = await DeploymentScenario.StartAsync("mysql");

    public async Task DisposeAsync() => await scenario.DisposeAsync();

    private async Task<long> TableCount() =>
        Convert.ToInt64(await scenario.Database!.ScalarAsync($"SELECT count(*) FROM information_schema.tables WHERE table_schema = '{scenario.Database.Name}'"), System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_safe_plan_is_admitted_after_a_shadow_dry_run_that_leaves_the_database_untouched()
    {
        await scenario.Database!.ScalarAsync("CREATE TABLE customers (id BIGINT PRIMARY KEY)");
        scenario.PutMigrations(new Dictionary<string, string>
        {
            ["V1__create_orders.sql"] = "CREATE TABLE orders (\n  id BIGINT PRIMARY KEY,\n  customer_id BIGINT NOT NULL\n);\n",
        });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.True(result.Admitted, result.Denial);
        Assert.Matches("^[0-9a-f]{32}-[0-9a-f]{24}$", result.PlanStamp);
        Assert.Equal(1, await TableCount());
    }

    [Fact]
    public async Task A_statement_that_fails_on_the_shadow_copy_is_denied_with_its_location()
    {
        await scenario.Database!.ScalarAsync("CREATE TABLE customers (id BIGINT PRIMARY KEY)");
        scenario.PutMigrations(new Dictionary<string, string>
        {
            ["V1__index_phone.sql"] = "-- customers has no phone column\nCREATE INDEX customers_phone ON customers (phone);\n",
        });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.False(result.Admitted);
        var lines = result.Denial!.Split('\n');
        Assert.Contains("failed its dry-run", lines[0], StringComparison.Ordinal);
        Assert.Contains("on a throwaway copy of the schema", lines[0], StringComparison.Ordinal);
        Assert.Contains("V1__index_phone.sql:2", lines[1], StringComparison.Ordinal);
        Assert.Contains("phone", lines[1], StringComparison.Ordinal);
        Assert.Equal(1, await TableCount());
    }

    /// <summary>
    /// With logging on, as in every real install, ASP.NET Core starts an activity for each request, and the admission's
    /// spans are its children: once, that parent was not sampled and the parent-based sampler dropped every span of
    /// the admission (this test then passed only while another test's listener happened to record them). The webhook
    /// here logs to a sink that takes every level, so the request activity always exists.
    /// </summary>
    [Fact]
    public async Task The_database_calls_of_an_admission_are_MySqlConnector_spans_under_the_plans_spans_and_carry_no_secret()
    {
        await using var logged = await DeploymentScenario.StartAsync("mysql", configureServices: services => services.AddSingleton<ILoggerProvider, EveryLevelLoggerProvider>());
        await logged.Database!.ScalarAsync("CREATE TABLE customers (id BIGINT PRIMARY KEY)");
        logged.PutMigrations(new Dictionary<string, string>
        {
            ["V1__create_orders.sql"] = "CREATE TABLE orders (\n  id BIGINT PRIMARY KEY,\n  customer_id BIGINT NOT NULL\n);\n",
        });
        // Only watches: it samples nothing itself, so a MySqlConnector span exists only when Gatekeeper's own tracing
        // (OpenTelemetry in the webhook host) listens to that source.
        var stopped = new List<Activity>();
        using var watcher = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MySqlConnector",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                lock (stopped)
                {
                    stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(watcher);

        var result = await logged.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.True(result.Admitted, result.Denial);
        List<Activity> ofPlan;
        lock (stopped)
        {
            ofPlan = stopped.Where(a => Ancestors(a).Any(p => (p.GetTagItem("gatekeeper.plan.release_key") as string) == result.PlanStamp)).ToList();
        }

        string Seen()
        {
            lock (stopped)
            {
                return string.Join("; ", stopped.Select(a => string.Join(" < ", new[] { a }.Concat(Ancestors(a)).Select(p => $"{p.Source.Name}:{p.OperationName}[{p.GetTagItem("gatekeeper.plan.hash") as string}]"))));
            }
        }

        Assert.True(ofPlan.Count > 0, $"no MySqlConnector span under plan {result.PlanStamp}; stopped: {Seen()}");
        Assert.True(ofPlan.Any(a => Ancestors(a).Any(p => p.OperationName == "dry-run")), $"no MySqlConnector span under the dry-run of {result.PlanStamp}; stopped: {Seen()}");
        var password = new Uri(logged.Database.Url).UserInfo.Split(':').ElementAtOrDefault(1);
        foreach (var value in ofPlan.SelectMany(a => a.TagObjects).Select(t => t.Value?.ToString() ?? string.Empty))
        {
            Assert.DoesNotContain("://", value, StringComparison.Ordinal);
            if (!string.IsNullOrEmpty(password))
            {
                Assert.DoesNotContain(password, value, StringComparison.Ordinal);
            }
        }
    }

    /// <summary>A logging sink that is on for every level and keeps nothing.</summary>
    private sealed class EveryLevelLoggerProvider : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }

        public void Dispose()
        {
        }
    }

    private static IEnumerable<Activity> Ancestors(Activity activity)
    {
        for (var parent = activity.Parent; parent is not null; parent = parent.Parent)
        {
            yield return parent;
        }
    }
}
