using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Webhook.Tests;

/// <summary>The Deployment webhooks against a real PostgreSQL: plan, stamp, lint, dry-run, deny or admit.</summary>
public sealed class DeploymentPostgresTests : IAsyncLifetime
{
    private DeploymentScenario scenario = null!;

    public async Task InitializeAsync() => scenario = await DeploymentScenario.StartAsync("postgres");

    public async Task DisposeAsync() => await scenario.DisposeAsync();

    private static Dictionary<string, string> SafeMigrations() => new()
    {
        ["V1__create_customers.sql"] = "CREATE TABLE customers (\n  id bigint PRIMARY KEY,\n  email text NOT NULL\n);\n",
        ["V2__create_orders.sql"] = "CREATE TABLE orders (\n  id bigint PRIMARY KEY,\n  customer_id bigint NOT NULL REFERENCES customers (id)\n);\n",
    };

    private async Task<bool> TableExists(string table) =>
        (long)(await scenario.Database!.ScalarAsync($"SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}'"))! > 0;

    [Fact]
    public async Task A_safe_plan_is_allowed_and_stamped_on_the_pod_template()
    {
        scenario.PutMigrations(SafeMigrations());

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.True(result.Admitted, result.Denial);
        Assert.Equal("JSONPatch", result.Mutation.PatchType);
        Assert.Matches("^[0-9a-f]{32}-[0-9a-f]{24}$", result.PlanStamp);
        Assert.Equal("2", result.TargetVersionStamp);
        Assert.Contains(result.Validation!.Warnings, w => w.Contains("applies 2 migration(s) (V1__create_customers.sql, V2__create_orders.sql)", StringComparison.Ordinal));
        // The dry-run rolled back: nothing exists until the migration Job runs.
        Assert.False(await TableExists("customers"));
        Assert.False(await TableExists("gatekeeper_schema_history"));
        Assert.Contains("gatekeeper_pending_migrations{namespace=\"team-a\",deployment=\"shop\"} 2", scenario.Webhook.MetricsText(), StringComparison.Ordinal);
        var planned = Assert.Single(scenario.Api.RequestsTo("POST", "/api/v1/namespaces/team-a/events"));
        Assert.Contains("\"reason\":\"Planned\"", planned.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_database_statement_timeout_meant_for_the_app_does_not_stop_the_plan_read()
    {
        // Before: the history read behind another session's lock ran into the database's 100 ms and the rollout was denied
        // with "canceling statement due to statement timeout", naming neither the setting nor what Gatekeeper was doing.
        var files = SafeMigrations();
        await scenario.Database!.MigrateAsync(new Dictionary<string, string> { ["V1__create_customers.sql"] = files["V1__create_customers.sql"] });
        await scenario.Database.ScalarAsync($"ALTER DATABASE {scenario.Database.Name} SET statement_timeout = '100ms'");
        scenario.PutMigrations(files);
        await using var blocker = await scenario.Database.OpenConnectionAsync();
        var transaction = await blocker.BeginTransactionAsync();
        await using (var take = blocker.CreateCommand())
        {
            take.Transaction = transaction;
            take.CommandText = "LOCK TABLE gatekeeper_schema_history IN ACCESS EXCLUSIVE MODE";
            await take.ExecuteNonQueryAsync();
        }

        var release = Task.Delay(TimeSpan.FromMilliseconds(800)).ContinueWith(_ => transaction.RollbackAsync(), TaskScheduler.Default).Unwrap();
        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));
        await release;

        Assert.True(result.Admitted, result.Denial);
        Assert.Equal("2", result.TargetVersionStamp);
    }

    [Fact]
    public async Task Files_no_naming_rule_accepts_are_refused_unless_the_ignore_annotation_names_them_and_then_they_are_listed()
    {
        var files = SafeMigrations();
        files["README.sql"] = "-- notes for the team, not a migration\n";
        scenario.PutMigrations(files);

        var refused = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));
        var admitted = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/ignore", "README*.sql"))));

        Assert.False(refused.Admitted);
        Assert.Contains("README.sql", refused.Denial, StringComparison.Ordinal);
        Assert.Contains("gatekeeper.dev/ignore", refused.Denial, StringComparison.Ordinal);
        Assert.True(admitted.Admitted, admitted.Denial);
        Assert.Contains(admitted.Validation!.Warnings, w => w == "gatekeeper: 1 file(s) left out by gatekeeper.dev/ignore: README.sql");
    }

    [Fact]
    public async Task Lint_warnings_of_an_admitted_plan_reach_kubectl_as_warnings()
    {
        scenario.PutMigrations(new Dictionary<string, string>
        {
            ["V1__create_events.sql"] = "CREATE TABLE events (\n  id bigint PRIMARY KEY,\n  created_at timestamp NOT NULL\n);\n",
        });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.True(result.Admitted, result.Denial);
        Assert.Contains(result.Validation!.Warnings, w => w.StartsWith("GK604 V1__create_events.sql:3:", StringComparison.Ordinal) && w.Contains("warning", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Once_the_job_applied_the_plan_the_next_rollout_has_nothing_pending_and_holds_no_pod()
    {
        scenario.PutMigrations(SafeMigrations());
        var first = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));
        Assert.NotNull(first.PlanStamp);

        await scenario.Database!.MigrateAsync(SafeMigrations());
        var next = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(), image: "ghcr.io/example/shop:1.1.0"), first.Stored);

        Assert.True(next.Admitted, next.Denial);
        Assert.Null(next.PlanStamp);
        Assert.Equal("2", next.TargetVersionStamp);
        Assert.True(await TableExists("customers"));
    }

    [Fact]
    public async Task An_applied_migration_that_changed_is_drift_and_blocks_the_rollout()
    {
        await scenario.Database!.MigrateAsync(SafeMigrations());
        var changed = SafeMigrations();
        changed["V1__create_customers.sql"] = "CREATE TABLE customers (\n  id bigint PRIMARY KEY,\n  email text\n);\n";
        scenario.PutMigrations(changed);

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.False(result.Admitted);
        var lines = result.Denial!.Split('\n');
        Assert.StartsWith("gatekeeper: rollout of team-a/shop blocked: the migration files disagree with the history of postgres://", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("  Drift V1__create_customers.sql: V1__create_customers.sql changed after it was applied", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("To proceed:", lines[^1], StringComparison.Ordinal);
        Assert.Contains("reason=\"PlanBlocked\"", scenario.Webhook.MetricsText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_plan_hash_is_the_same_on_every_apply_of_the_same_files_and_history()
    {
        scenario.PutMigrations(SafeMigrations());

        var first = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));
        var second = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(), image: "ghcr.io/example/shop:1.0.1"), first.Stored);

        Assert.Equal(first.PlanStamp, second.PlanStamp);
        Assert.True(second.Admitted);
    }

    [Fact]
    public async Task A_plan_whose_dry_run_fails_is_denied_with_the_file_line_and_the_servers_message()
    {
        scenario.PutMigrations(new Dictionary<string, string>
        {
            ["V1__create_customers.sql"] = "CREATE TABLE customers (id bigint PRIMARY KEY);\n",
            ["V2__index_orders.sql"] = "-- orders does not exist\nCREATE UNIQUE INDEX customers_email ON customers (email);\n",
        });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.False(result.Admitted);
        Assert.Equal(403, result.Validation!.Code);
        var lines = result.Denial!.Split('\n');
        Assert.StartsWith("gatekeeper: plan ", lines[0], StringComparison.Ordinal);
        Assert.Contains("failed its dry-run", lines[0], StringComparison.Ordinal);
        Assert.Contains("V2__index_orders.sql:2", lines[1], StringComparison.Ordinal);
        Assert.Contains("email", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("To proceed:", lines[^1], StringComparison.Ordinal);
        Assert.False(await TableExists("customers"));
        Assert.Contains("gatekeeper_plan_rejections_total{namespace=\"team-a\",deployment=\"shop\",reason=\"DryRunFailed\"} 1", scenario.Webhook.MetricsText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unsafe_plan_is_denied_with_its_findings_and_how_to_allow_it()
    {
        await scenario.Database!.ScalarAsync("CREATE TABLE legacy_orders (id bigint PRIMARY KEY)");
        scenario.PutMigrations(new Dictionary<string, string> { ["V1__drop_legacy.sql"] = "DROP TABLE legacy_orders;\n" });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.False(result.Admitted);
        var lines = result.Denial!.Split('\n');
        Assert.Matches("^gatekeeper: plan [0-9a-f]{12} for team-a/shop is unsafe: 1 blocking finding", lines[0]);
        Assert.Matches(@"^  \S+ V1__drop_legacy\.sql:1:1: ", lines[1]);
        Assert.Contains(lines, l => l.StartsWith("    hint: ", StringComparison.Ordinal));
        Assert.Matches("^To allow it: .*gatekeeper.dev/allow: \"[^\"]+\".*gatekeeper.dev/approve-plan: \"[0-9a-f]{64}\"", lines[^1]);
        Assert.True(await TableExists("legacy_orders"));
        var rejected = Assert.Single(scenario.Api.RequestsTo("POST", "/api/v1/namespaces/team-a/events"));
        Assert.Contains("\"reason\":\"PlanRejected\"", rejected.Body, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"Warning\"", rejected.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_index_build_on_a_small_analysed_table_is_admitted_with_a_warning_that_says_its_size()
    {
        await scenario.Database!.ScalarAsync("CREATE TABLE audit_log (id bigint, kind integer); INSERT INTO audit_log SELECT g, g % 3 FROM generate_series(1, 40) g; ANALYZE audit_log");
        scenario.PutMigrations(new Dictionary<string, string> { ["V1__index_kind.sql"] = "CREATE INDEX audit_log_kind ON audit_log (kind);\n" });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.True(result.Admitted, result.Denial);
        Assert.Contains(result.Validation!.Warnings, w => w.StartsWith("GK303 V1__index_kind.sql:1:", StringComparison.Ordinal)
            && w.Contains("warning", StringComparison.Ordinal) && w.Contains("40 rows", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_approved_plan_is_admitted_with_its_findings_as_warnings()
    {
        await scenario.Database!.ScalarAsync("CREATE TABLE legacy_orders (id bigint PRIMARY KEY)");
        scenario.PutMigrations(new Dictionary<string, string> { ["V1__drop_legacy.sql"] = "DROP TABLE legacy_orders;\n" });
        var denied = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));
        var hash = System.Text.RegularExpressions.Regex.Match(denied.Denial!, "approve-plan: \"([0-9a-f]{64})\"").Groups[1].Value;

        var approved = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/approve-plan", hash))));

        Assert.True(approved.Admitted, approved.Denial);
        // The approval names the plan hash; the template is stamped with the plan's release key on this database.
        Assert.StartsWith(hash[..32] + "-", approved.PlanStamp, StringComparison.Ordinal);
        Assert.Contains(approved.Warnings, w => w.Contains($"plan {hash} is approved", StringComparison.Ordinal));
        Assert.Contains(approved.Warnings, w => w.Contains("V1__drop_legacy.sql:1:1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Allowing_the_rule_admits_the_plan_and_keeps_the_finding_as_a_warning()
    {
        await scenario.Database!.ScalarAsync("CREATE TABLE legacy_orders (id bigint PRIMARY KEY)");
        scenario.PutMigrations(new Dictionary<string, string> { ["V1__drop_legacy.sql"] = "DROP TABLE legacy_orders;\n" });
        var denied = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));
        var rules = System.Text.RegularExpressions.Regex.Match(denied.Denial!, "gatekeeper.dev/allow: \"([^\"]+)\"").Groups[1].Value;

        var allowed = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/allow", rules))));

        Assert.True(allowed.Admitted, allowed.Denial);
        Assert.Contains(allowed.Warnings, w => w.Contains("V1__drop_legacy.sql:1:1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_dry_run_request_gets_the_same_verdict_and_leaves_no_trace()
    {
        await scenario.Database!.ScalarAsync("CREATE TABLE legacy_orders (id bigint PRIMARY KEY)");
        scenario.PutMigrations(new Dictionary<string, string> { ["V1__drop_legacy.sql"] = "DROP TABLE legacy_orders;\n" });

        var dryRun = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()), dryRun: true);
        var metricsAfterDryRun = scenario.Webhook.MetricsText();
        var eventsAfterDryRun = scenario.Api.RequestsTo("POST", "/api/v1/namespaces/team-a/events").Count;
        var real = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.False(dryRun.Admitted);
        Assert.Equal(real.Denial, dryRun.Denial);
        Assert.Equal(0, eventsAfterDryRun);
        Assert.DoesNotContain("gatekeeper_plan_rejections_total{", metricsAfterDryRun, StringComparison.Ordinal);
        Assert.True(await TableExists("legacy_orders"));
        Assert.Single(scenario.Api.RequestsTo("POST", "/api/v1/namespaces/team-a/events"));
    }

    [Fact]
    public async Task A_database_that_refuses_connections_is_a_clear_deny_naming_it()
    {
        scenario.PutMigrations(SafeMigrations());
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        scenario.PutSecret("down", new Dictionary<string, string> { ["url"] = $"postgres://app:s3cret@127.0.0.1:{port}/shop" });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/database-secret", "down"))));

        Assert.False(result.Admitted);
        Assert.Equal(503, result.Mutation.Code);
        Assert.StartsWith("gatekeeper: cannot plan team-a/shop: database unreachable", result.Denial, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", result.Denial, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", result.Denial, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_database_that_never_answers_is_denied_within_the_budget()
    {
        // The webhook's clock stands still until the database has the connection, then runs to the handler's deadline:
        // the deny comes from the budget of 2 s, however long a busy machine took to get there.
        var clock = new AdmissionClock(TimeSpan.FromSeconds(2));
        await using var silent = await DeploymentScenario.StartAsync("postgres", clock.Settings(), clock.Install);
        silent.PutMigrations(SafeMigrations());
        using var blackHole = new TcpListener(IPAddress.Loopback, 0);
        blackHole.Start();
        var accepted = new List<Socket>();
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = AcceptForeverAsync(blackHole, accepted, connected);
        silent.PutSecret("hang", new Dictionary<string, string> { ["url"] = $"postgres://app:s3cret@127.0.0.1:{((IPEndPoint)blackHole.LocalEndpoint).Port}/shop" });

        var pending = Task.Run(async () => await AdmissionReviewResponse.ReadAsync(await silent.Webhook.PostAsync("/mutate/deployments",
            AdmissionReviewBodies.Review("CREATE", DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/database-secret", "hang")))))));
        if (await Task.WhenAny(connected.Task, pending).WaitAsync(Gatekeeper.Tests.Patience.Default) == pending)
        {
            Assert.Fail($"answered before the database had the connection: {(await pending).Message}");
        }

        var response = await clock.RunOutAsync(pending);

        Assert.False(response.Allowed);
        Assert.Equal(503, response.Code);
        Assert.Contains("database unreachable", response.Message, StringComparison.Ordinal);
        Assert.Contains("did not answer in time", response.Message, StringComparison.Ordinal);
        lock (accepted)
        {
            foreach (var socket in accepted)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_namespace_that_fails_open_admits_with_a_warning_when_the_database_is_down()
    {
        await using var lenient = await DeploymentScenario.StartAsync("postgres", new Dictionary<string, string?> { ["Webhook:FailOpenNamespaces:0"] = "team-a" });
        lenient.PutMigrations(SafeMigrations());
        lenient.PutSecret("down", new Dictionary<string, string> { ["url"] = "postgres://app:s3cret@127.0.0.1:1/shop" });

        var result = await lenient.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/database-secret", "down"))));

        Assert.True(result.Admitted);
        Assert.Contains(result.Warnings, w => w.Contains("fails open", StringComparison.Ordinal) && w.Contains("database unreachable", StringComparison.Ordinal));
        Assert.Null(result.PlanStamp);
    }

    [Fact]
    public async Task A_malformed_database_url_is_denied_without_repeating_it()
    {
        scenario.PutMigrations(SafeMigrations());
        scenario.PutSecret("garbled", new Dictionary<string, string> { ["url"] = "postgress//app:s3cret@db" });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/database-secret", "garbled"))));

        Assert.False(result.Admitted);
        Assert.Equal(422, result.Mutation.Code);
        Assert.DoesNotContain("s3cret", result.Denial, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_admissions_of_one_deployment_run_one_dry_run_and_agree()
    {
        scenario.PutMigrations(SafeMigrations());
        var deployment = DeploymentScenario.Deployment(DeploymentScenario.OptIn());
        using var spans = new PlanSpans();

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => scenario.ApplyAsync((JsonObject)deployment.DeepClone())));

        Assert.All(results, r => Assert.True(r.Admitted, r.Denial));
        var hash = Assert.Single(results.Select(r => r.PlanStamp).Distinct());
        Assert.Single(spans.For(hash!), a => a.OperationName == "dry-run");
    }

    [Fact]
    public async Task Spans_nest_plan_and_dry_run_under_the_admission_and_carry_no_secret()
    {
        scenario.PutMigrations(SafeMigrations());
        using var spans = new PlanSpans();

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        var ofPlan = spans.For(result.PlanStamp!);
        var dryRun = Assert.Single(ofPlan, a => a.OperationName == "dry-run");
        Assert.Equal("admission validate-deployments", dryRun.Parent?.OperationName);
        // The validating step judged the plan the mutating step made moments before, from the same reads: no plan span
        // of its own, and its admission span names the plan it was handed.
        Assert.Contains(ofPlan, a => a.OperationName == "plan" && a.Parent?.OperationName == "admission mutate-deployments");
        Assert.DoesNotContain(ofPlan, a => a.OperationName == "plan" && a.Parent?.OperationName == "admission validate-deployments");
        Assert.Contains(ofPlan, a => a.OperationName == "admission validate-deployments" && Equals(a.GetTagItem("gatekeeper.plan.handed_over"), true));
        var password = new Uri(scenario.Database!.Url).UserInfo.Split(':').ElementAtOrDefault(1);
        foreach (var tag in ofPlan.SelectMany(a => a.TagObjects))
        {
            Assert.DoesNotContain("://", tag.Value?.ToString() ?? string.Empty, StringComparison.Ordinal);
            if (!string.IsNullOrEmpty(password))
            {
                Assert.DoesNotContain(password, tag.Value?.ToString() ?? string.Empty, StringComparison.Ordinal);
            }
        }
    }

    private static async Task AcceptForeverAsync(TcpListener listener, List<Socket> accepted, TaskCompletionSource connected)
    {
        try
        {
            while (true)
            {
                var socket = await listener.AcceptSocketAsync();
                lock (accepted)
                {
                    accepted.Add(socket);
                }

                connected.TrySetResult();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The test is over.
        }
    }
}

/// <summary>Collects the webhook's spans of one plan (others run in parallel tests), to check how they nest.</summary>
internal sealed class PlanSpans : IDisposable
{
    private readonly ActivityListener listener;
    private readonly List<Activity> stopped = [];

    public PlanSpans()
    {
        listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Gatekeeper.Webhook.WebhookTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                {
                    stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
    }

    /// <summary>The spans of the plan stamped <paramref name="releaseKey"/> on the pod template, and their parents.</summary>
    public IReadOnlyList<Activity> For(string releaseKey)
    {
        lock (stopped)
        {
            var ofPlan = stopped.Where(a => (a.GetTagItem("gatekeeper.plan.release_key") as string) == releaseKey).ToList();
            var parents = ofPlan.Select(a => a.Parent).OfType<Activity>().ToList();
            return [.. ofPlan, .. parents.Where(p => !ofPlan.Contains(p))];
        }
    }

    public void Dispose() => listener.Dispose();
}
