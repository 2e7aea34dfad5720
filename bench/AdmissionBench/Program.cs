using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gatekeeper.Bench;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases;
using Gatekeeper.Tests.ApiServerDouble;
using Gatekeeper.Webhook;
using Gatekeeper.Webhook.Tests;
using k8s.Models;
using MySqlConnector;
using Npgsql;

// Deployment admission latency: the real webhook (WebhookHost, in process, HTTPS on loopback) answering the
// AdmissionReviews the API server sends for one `kubectl apply` of a Deployment — POST /mutate/deployments, the
// patch applied, POST /validate/deployments — with the migrations in a ConfigMap read through KubernetesClient
// from the API server double, and the database a real PostgreSQL or MariaDB.
//
// Usage: AdmissionBench --engine postgres|mysql [--pending 0,1,10,100] [--applied 100] [--requests 200]
//                       [--warmup 20] [--case-seconds 20] [--min-requests 10] [--markdown FILE]
// The server comes from GATEKEEPER_TEST_POSTGRES_URL / GATEKEEPER_TEST_MYSQL_URL (scripts/db/start-*.sh).
var settings = BenchSettings.Parse(args);
var serverUrl = Environment.GetEnvironmentVariable(settings.Dialect == SqlDialect.Postgres ? "GATEKEEPER_TEST_POSTGRES_URL" : "GATEKEEPER_TEST_MYSQL_URL")
    ?? throw new InvalidOperationException("start the database first: eval \"$(scripts/db/start-postgres.sh)\" / start-mariadb.sh");

var spans = new SpanTotals();
using var listener = new ActivityListener
{
    // The webhook's own spans; with --spans all also the database driver's and HttpClient's (the Kubernetes calls).
    ShouldListenTo = source => source.Name == WebhookTracing.SourceName
        || (settings.AllSpans && source.Name is "Npgsql" or "MySqlConnector" or "System.Net.Http"),
    Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
    ActivityStopped = activity => spans.Add(SpanTotals.KeyOf(activity), activity.Duration),
};
ActivitySource.AddActivityListener(listener);

await using var database = await TestDatabase.CreateOnAsync(serverUrl);
Console.Error.WriteLine($"applying {settings.Applied} migrations to {database.Name} as the migration Job would…");
var applyClock = Stopwatch.StartNew();
await database.MigrateAsync(GeneratedMigrations.Files(settings.Applied, settings.Dialect));
Console.Error.WriteLine($"  applied in {applyClock.Elapsed.TotalSeconds:0.0} s");

await using var api = await KubeApiServerDouble.StartAsync();
await using var webhook = await TestWebhook.StartAsync(api, new Dictionary<string, string?> { ["Webhook:WatchDeployments"] = "false" });

var rows = new List<CaseResult>();
foreach (var pending in settings.Pending)
{
    foreach (var newPlanEachApply in pending == 0 ? new[] { false } : new[] { true, false })
    {
        var scenario = new AdmissionCase(api, webhook, settings, database, pending, newPlanEachApply, spans);
        var result = await scenario.RunAsync();
        rows.Add(result);
        Console.Error.WriteLine(result.Describe());
        if (settings.AllSpans)
        {
            Console.Error.WriteLine(spans.Describe(result.Count));
        }
    }
}

var table = CaseResult.Table(settings.Dialect, rows);
Console.WriteLine(table);
if (settings.Markdown is { } markdown)
{
    await File.AppendAllTextAsync(markdown, table + "\n");
}

namespace Gatekeeper.Bench
{
    public sealed record BenchSettings(SqlDialect Dialect, IReadOnlyList<int> Pending, int Applied, int Requests, int Warmup, TimeSpan CaseBudget, int MinRequests, string? Markdown, bool AllSpans)
    {
        public static BenchSettings Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                values[args[i].TrimStart('-')] = args[i + 1];
            }

            string Get(string key, string fallback) => values.TryGetValue(key, out var value) ? value : fallback;
            var engine = Get("engine", "postgres");
            return new BenchSettings(
                engine is "mysql" or "mariadb" ? SqlDialect.MySql : SqlDialect.Postgres,
                Get("pending", "0,1,10,100").Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList(),
                int.Parse(Get("applied", "100"), CultureInfo.InvariantCulture),
                int.Parse(Get("requests", "200"), CultureInfo.InvariantCulture),
                int.Parse(Get("warmup", "20"), CultureInfo.InvariantCulture),
                TimeSpan.FromSeconds(double.Parse(Get("case-seconds", "20"), CultureInfo.InvariantCulture)),
                int.Parse(Get("min-requests", "10"), CultureInfo.InvariantCulture),
                values.GetValueOrDefault("markdown"),
                Get("spans", "webhook") == "all");
        }
    }

    /// <summary>Mean time per apply spent in the webhook's own spans (plan, dry-run, each admission).</summary>
    public sealed class SpanTotals
    {
        private readonly Dictionary<string, (TimeSpan Total, int Count)> totals = new(StringComparer.Ordinal);
        private readonly Lock gate = new();

        public void Add(string name, TimeSpan duration)
        {
            lock (gate)
            {
                var (total, count) = totals.GetValueOrDefault(name);
                totals[name] = (total + duration, count + 1);
            }
        }

        public static string KeyOf(Activity activity)
        {
            if (activity.Source.Name == WebhookTracing.SourceName)
            {
                return activity.OperationName;
            }

            if (activity.GetTagItem("url.full") is string url)
            {
                var path = new Uri(url).AbsolutePath;
                var kind = path.Contains("/configmaps", StringComparison.Ordinal) ? "ConfigMap"
                    : path.Contains("/secrets", StringComparison.Ordinal) ? "Secret"
                    : path.Contains("/events", StringComparison.Ordinal) ? "Event"
                    : path;
                return $"http {activity.GetTagItem("http.request.method")} {kind}";
            }

            // The database driver's spans by statement (its first 60 characters), so a new query shows as its own line.
            var text = activity.GetTagItem("db.query.text") as string ?? activity.GetTagItem("db.statement") as string ?? activity.DisplayName;
            text = text.ReplaceLineEndings(" ");
            return $"{activity.Source.Name} {(text.Length > 60 ? text[..60] : text)}";
        }

        public void Reset()
        {
            lock (gate)
            {
                totals.Clear();
            }
        }

        public string Describe(int applies)
        {
            lock (gate)
            {
                return string.Join("\n", totals.OrderByDescending(t => t.Value.Total).Select(t =>
                    $"      {t.Key}: {t.Value.Total.TotalMilliseconds / applies:0.00} ms and {(double)t.Value.Count / applies:0.#} spans per apply"));
            }
        }

        /// <summary>Total milliseconds of a span per apply.</summary>
        public double PerApply(string name, int applies)
        {
            lock (gate)
            {
                return totals.TryGetValue(name, out var value) ? value.Total.TotalMilliseconds / applies : 0;
            }
        }
    }

    /// <summary>One pending count and plan mode: warm-up applies, then timed applies until the count or the time budget.</summary>
    public sealed class AdmissionCase(KubeApiServerDouble api, TestWebhook webhook, BenchSettings settings, TestDatabase database, int pending, bool newPlanEachApply, SpanTotals spans)
    {
        private readonly string ns = $"bench-{pending}-{(newPlanEachApply ? "new" : "same")}";
        private const string Name = "shop";

        public async Task<CaseResult> RunAsync()
        {
            var files = GeneratedMigrations.Files(settings.Applied + pending, settings.Dialect);
            var last = GeneratedMigrations.NameOf(settings.Applied + pending, settings.Dialect);
            api.Put(new V1Secret
            {
                Metadata = new V1ObjectMeta { Name = "shop-db", NamespaceProperty = ns },
                Data = new Dictionary<string, byte[]> { ["url"] = Encoding.UTF8.GetBytes(database.Url) },
            });
            PutMigrations(files);
            var annotations = new Dictionary<string, string>
            {
                ["gatekeeper.dev/migrations"] = "shop-migrations",
                ["gatekeeper.dev/database-secret"] = "shop-db",
            };
            var stored = AdmissionReviewBodies.Deployment(Name, ns, annotations, "ghcr.io/example/shop:0");
            ((JsonObject)stored["metadata"]!)["uid"] = Guid.NewGuid().ToString();

            var mutate = new List<double>();
            var validate = new List<double>();
            var total = new List<double>();
            var budget = Stopwatch.StartNew();
            var measuring = false;
            for (var i = 1; ; i++)
            {
                // Warm-up: the set count and at least 2 s (the first case runs in a cold process: connection pools,
                // caches and the JIT's first compilations), but no longer than a quarter of the case's budget (a MariaDB shadow dry-run of 100
                // migrations takes seconds) and never fewer than two applies.
                if (!measuring && ((i > settings.Warmup && budget.Elapsed >= TimeSpan.FromSeconds(2)) || (i > 2 && budget.Elapsed > settings.CaseBudget / 4)))
                {
                    measuring = true;
                    spans.Reset();
                    budget.Restart();
                }

                if (measuring && (mutate.Count >= settings.Requests || (budget.Elapsed > settings.CaseBudget && mutate.Count >= settings.MinRequests)))
                {
                    break;
                }

                if (newPlanEachApply)
                {
                    // A new release: the newest pending file changed, so the plan (and its dry-run) is new.
                    files[last] = files[last].TrimEnd('\n').Split("\n-- release ")[0] + $"\n-- release {i}\n";
                    PutMigrations(files);
                }

                var next = AdmissionReviewBodies.Deployment(Name, ns, annotations, $"ghcr.io/example/shop:{i}");
                next["metadata"]!["uid"] = stored["metadata"]!["uid"]!.GetValue<string>();
                var (mutation, mutateMs) = await PostAsync("/mutate/deployments", AdmissionReviewBodies.Review("UPDATE", next, stored));
                var mutated = mutation.Patch is null ? next : (JsonObject)JsonPatchApplier.Apply(next, mutation.Patch);
                var (validation, validateMs) = await PostAsync("/validate/deployments", AdmissionReviewBodies.Review("UPDATE", mutated, stored));
                if (!mutation.Allowed || !validation.Allowed)
                {
                    throw new InvalidOperationException($"{ns}: apply {i} was denied, so it measures no admission: {mutation.Message ?? validation.Message}");
                }

                var stamp = mutated["spec"]!["template"]!["metadata"]!["annotations"]?["gatekeeper.dev/plan"];
                if ((stamp is null) != (pending == 0))
                {
                    throw new InvalidOperationException($"{ns}: apply {i} stamped plan {stamp} with {pending} pending");
                }

                if (pending > 0 && !validation.Warnings.Any(w => w.Contains($"applies {pending} migration(s)", StringComparison.Ordinal)))
                {
                    throw new InvalidOperationException($"{ns}: apply {i} did not plan {pending} migrations: {string.Join(" | ", validation.Warnings)}");
                }

                stored = mutated;
                if (measuring)
                {
                    mutate.Add(mutateMs);
                    validate.Add(validateMs);
                    total.Add(mutateMs + validateMs);
                }
            }

            var n = total.Count;
            return new CaseResult(pending, newPlanEachApply, n, budget.Elapsed, mutate, validate, total,
                spans.PerApply("plan", n), spans.PerApply("dry-run", n),
                spans.PerApply("admission mutate-deployments", n), spans.PerApply("admission validate-deployments", n));
        }

        private void PutMigrations(Dictionary<string, string> files) => api.Put(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "shop-migrations", NamespaceProperty = ns },
            Data = new Dictionary<string, string>(files),
        });

        private async Task<(Review Review, double Milliseconds)> PostAsync(string path, string body)
        {
            var clock = Stopwatch.StartNew();
            using var response = await webhook.PostAsync(path, body);
            var text = await response.Content.ReadAsStringAsync();
            var elapsed = clock.Elapsed.TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{path}: HTTP {(int)response.StatusCode}: {text}");
            }

            return (Review.Parse(text), elapsed);
        }
    }

    public sealed record Review(bool Allowed, string? Message, IReadOnlyList<string> Warnings, byte[]? Patch)
    {
        public static Review Parse(string text)
        {
            var response = JsonNode.Parse(text)!["response"]!;
            return new Review(
                response["allowed"]!.GetValue<bool>(),
                response["status"]?["message"]?.GetValue<string>(),
                response["warnings"]?.AsArray().Select(w => w!.GetValue<string>()).ToList() ?? [],
                response["patch"] is { } patch ? Convert.FromBase64String(patch.GetValue<string>()) : null);
        }
    }

    public sealed record CaseResult(
        int Pending, bool NewPlanEachApply, int Count, TimeSpan Elapsed,
        List<double> Mutate, List<double> Validate, List<double> Total,
        double PlanMs, double DryRunMs, double MutateSpanMs, double ValidateSpanMs)
    {
        public string Mode => Pending == 0 ? "nothing to plan" : NewPlanEachApply ? "new plan each apply" : "same plan again (cached dry-run)";

        public string Describe() =>
            $"  {Pending,3} pending, {Mode}: n={Count}, apply p50 {Percentile(Total, 50):0.0} ms, p99 {Percentile(Total, 99):0.0} ms";

        public static double Percentile(List<double> values, double p)
        {
            var sorted = values.Order().ToList();
            var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
            return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
        }

        private string Goal(SqlDialect _)
        {
            if (Pending == 0)
            {
                return Percentile(Total, 50) <= 10 ? "≤ 10 ms p50: met" : "≤ 10 ms p50: MISSED";
            }

            if (Pending == 100 && NewPlanEachApply)
            {
                return Percentile(Total, 50) <= 1000
                    ? Percentile(Total, 99) <= 1000 ? "≤ 1 s: met (p50 and p99)" : "≤ 1 s: met at p50, not p99"
                    : "≤ 1 s: MISSED";
            }

            return "";
        }

        public static string Table(SqlDialect dialect, IReadOnlyList<CaseResult> rows)
        {
            var engine = dialect == SqlDialect.Postgres ? "PostgreSQL" : "MariaDB";
            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"| engine | pending | plan | n | mutate p50 / p99 ms | validate p50 / p99 ms | **apply p50 / p99 ms** | plan span ms/apply | dry-run span ms/apply | goal |");
            text.AppendLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
            foreach (var row in rows)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {engine} | {row.Pending} | {row.Mode} | {row.Count} | {Percentile(row.Mutate, 50):0.0} / {Percentile(row.Mutate, 99):0.0} | {Percentile(row.Validate, 50):0.0} / {Percentile(row.Validate, 99):0.0} | **{Percentile(row.Total, 50):0.0} / {Percentile(row.Total, 99):0.0}** | {row.PlanMs:0.0} | {row.DryRunMs:0.0} | {row.Goal(dialect)} |");
            }

            return text.ToString();
        }
    }
}
