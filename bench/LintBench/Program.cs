using System.Diagnostics;
using System.Text;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Lint.Formatting;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

// Usage: dotnet run -c Release --project bench/LintBench -- [--corpora ROOT] [--generated FILE] [--runs N] [--only NAME]
//   Lints every ROOT/<project>/{postgres,mysql} directory and a generated PostgreSQL file (written to FILE when it
//   does not exist yet, so that bench/lint-vs-squawk.sh can hand the very same file to squawk), in-process, and prints
//   a Markdown table. ROOT defaults to ../shared/corpora of the repository, then /work/shared/corpora. --only keeps the
//   inputs whose name contains NAME (for a profiler). Memory allocated, collections, GC pause and process CPU per timed
//   pass go to stderr.
//   Each input is linted as `gatekeeper lint --dir` lints it (Linter.LintEachAsRollout, every file judged, findings past
//   the default --max-per-rule counted, not kept), without writing the output. --keep-all keeps every finding instead
//   (a collector without a cap, as Linter.Lint's default): on the generated file (one migration) that compares with
//   results before 2026-12-05 14:00; the corpora were then linted as one rollout (Linter.Lint), with fewer findings.
//        dotnet run -c Release --project bench/LintBench -- generate FILE [MEGABYTES]
//   Only writes the generated file.
if (args is ["generate", var target, ..])
{
    var size = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10;
    await File.WriteAllTextAsync(target, GeneratedPostgres.Create(size * 1_000_000));
    Console.WriteLine($"wrote {new FileInfo(target).Length / 1e6:F1} MB to {target}");
    return 0;
}

var corpora = Option("--corpora") ?? DefaultCorpora();
var generatedPath = Option("--generated");
var runs = int.Parse(Option("--runs") ?? "5", System.Globalization.CultureInfo.InvariantCulture);
var only = Option("--only");
var keepAll = args.Contains("--keep-all");
var maxPerRule = keepAll ? 0 : LintReportFormatter.DefaultMaxPerRule;
if (corpora is null || !Directory.Exists(corpora))
{
    Console.Error.WriteLine($"No corpora directory found (tried {corpora ?? "../shared/corpora and /work/shared/corpora"}); pass --corpora ROOT.");
    return 2;
}

// fineract's V366 is excluded: the brief for this benchmark leaves it out of every run (it is judged by the tests).
var excluded = new HashSet<string>(StringComparer.Ordinal) { "V366_remove_leading_or_trailing_spaces_in_reportnames.sql" };
var inputs = new List<BenchInput>();
foreach (var project in Directory.GetDirectories(corpora).Order(StringComparer.Ordinal))
{
    foreach (var (engine, dialect) in new[] { ("postgres", SqlDialect.Postgres), ("mysql", SqlDialect.MySql) })
    {
        var dir = Path.Combine(project, engine);
        if (!Directory.Exists(dir))
        {
            continue;
        }

        var read = await MigrationDirectoryReader.ReadAsync(new ExcludingMigrationSource(new DirectoryMigrationSource(dir), excluded), null, CancellationToken.None);
        if (read.Directory is null)
        {
            Console.Error.WriteLine($"{dir} could not be read: {string.Join("; ", read.Problems)}");
            continue;
        }

        var migrations = read.Directory.Migrations;
        var bytes = migrations.Sum(m => (long)Encoding.UTF8.GetByteCount(m.UpSql));
        inputs.Add(new BenchInput($"{Path.GetFileName(project)}/{engine}", bytes, options => AsTheCliLints(migrations, dialect, options)));
    }
}

string generated;
if (generatedPath is null)
{
    generated = GeneratedPostgres.Create(10_000_000);
}
else
{
    if (!File.Exists(generatedPath))
    {
        await File.WriteAllTextAsync(generatedPath, GeneratedPostgres.Create(10_000_000));
    }

    generated = await File.ReadAllTextAsync(generatedPath);
}

// As `lint --dir` reads the file alone in its directory: a Flyway versioned migration, run in a transaction.
var generatedMigration = new Migration("1", MigrationVersion.Parse("1"), "generated", MigrationKind.Versioned, "V1__generated.sql", generated, 1, null, true, string.Empty, ReadOnlyMemory<byte>.Empty);
inputs.Add(new BenchInput("generated/postgres", Encoding.UTF8.GetByteCount(generated), options => AsTheCliLints([generatedMigration], SqlDialect.Postgres, options)));

Console.WriteLine(keepAll
    ? $"In-process `Linter.LintEachAsRollout`, every finding kept (--keep-all): warm-up passes (at least 2 and 1 s), then best and median of {runs} timed passes (wall clock), on one thread and with"
    : $"In-process, as `gatekeeper lint --dir` calls the linter (`Linter.LintEachAsRollout`, every file judged; at most --max-per-rule {maxPerRule} findings of a rule kept, the rest counted), output not written: warm-up passes (at least 2 and 1 s), then best and median of {runs} timed passes (wall clock), on one thread and with");
Console.WriteLine("`PrepareOnSecondThread` (statements cut and parsed on a second thread ahead of the judging, as `gatekeeper lint` runs: only from 64 KB of SQL; same findings).");
Console.WriteLine();
Console.WriteLine("| input | MB | statements | findings (listed) | ms per pass (best) | ms per pass (median) | MB/s (best) | two threads: ms (best) | ms (median) | MB/s (best) |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
long totalBytes = 0;
double totalBest = 0, totalBestTwo = 0;
var oneThread = LintOptions.Default;
var twoThreads = LintOptions.Default with { PrepareOnSecondThread = true };
foreach (var input in inputs.Where(i => only is null || i.Name.Contains(only, StringComparison.Ordinal)))
{
    var (report, times) = Time(input, oneThread);
    var (reportTwo, timesTwo) = Time(input, twoThreads);
    if (!reportTwo.Findings.SequenceEqual(report.Findings) || !reportTwo.RuleCounts.SequenceEqual(report.RuleCounts) || reportTwo.StatementCount != report.StatementCount)
    {
        Console.Error.WriteLine($"{input.Name}: two threads found {reportTwo.TotalCount} findings ({reportTwo.Findings.Count} listed) in {reportTwo.StatementCount} statements, one thread {report.TotalCount} ({report.Findings.Count}) in {report.StatementCount}");
        return 1;
    }

    var megabytes = input.Bytes / 1e6;
    totalBytes += input.Bytes;
    totalBest += times[0];
    totalBestTwo += timesTwo[0];
    Console.WriteLine(FormattableString.Invariant(
        $"| {input.Name} | {megabytes:F2} | {report.StatementCount} | {report.TotalCount} ({report.Findings.Count}) | {times[0]:F1} | {times[times.Count / 2]:F1} | {megabytes / (times[0] / 1000):F1} | {timesTwo[0]:F1} | {timesTwo[timesTwo.Count / 2]:F1} | {megabytes / (timesTwo[0] / 1000):F1} |"));
}

Console.WriteLine(FormattableString.Invariant($"| **all** | {totalBytes / 1e6:F2} | | | {totalBest:F1} | | {totalBytes / 1e6 / (totalBest / 1000):F1} | {totalBestTwo:F1} | | {totalBytes / 1e6 / (totalBestTwo / 1000):F1} |"));
return 0;

(LintReport Report, List<double> Times) Time(BenchInput input, LintOptions options)
{
    // Warm-up: at least 2 passes and 1 second. Two passes alone left a small corpus (kestra: 2.6 ms a pass) timed
    // partly in the JIT's unoptimised first tier (it counts calls only after 100 ms without new first-tier code, then
    // recompiles a method after 30 calls, in the background), code that neither a long-running `serve` nor the Native
    // AOT binary of `gatekeeper lint` runs; the 10 MB file is past the second after its first pass anyway.
    var warmUp = Stopwatch.StartNew();
    LintReport report = input.Run(options);
    for (var pass = 1; pass < 2 || warmUp.ElapsedMilliseconds < 1000; pass++)
    {
        report = input.Run(options);
    }

    var times = new List<double>();
    var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
    var collectionsBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
    var pauseBefore = GC.GetTotalPauseDuration();
    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    for (var run = 0; run < runs; run++)
    {
        var watch = Stopwatch.StartNew();
        report = input.Run(options);
        times.Add(watch.Elapsed.TotalMilliseconds);
    }

    Console.Error.WriteLine(FormattableString.Invariant(
        $"{input.Name} ({(options.PrepareOnSecondThread ? "two threads" : "one thread")}): {(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / 1e6 / runs:F1} MB allocated per pass; collections in {runs} passes: gen0 {GC.CollectionCount(0) - collectionsBefore.Item1}, gen1 {GC.CollectionCount(1) - collectionsBefore.Item2}, gen2 {GC.CollectionCount(2) - collectionsBefore.Item3}; GC pause {(GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds / runs:F1} ms per pass; process CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / runs:F1} ms per pass (all threads, the collector's included: steadier than wall time on a busy machine)"));
    times.Sort();
    return (report, times);
}

// `gatekeeper lint --dir DIR` judges every file, each as its own rollout, into a collector capped per rule.
LintReport AsTheCliLints(IReadOnlyList<Migration> migrations, SqlDialect dialect, LintOptions options) =>
    Linter.LintEachAsRollout(migrations, _ => true, dialect, options, new LintCollector(maxPerRule));

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

static string? DefaultCorpora()
{
    // The repository's sibling first (a checkout next to shared/), then the team machine's fixed place.
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Gatekeeper.sln")))
        {
            var sibling = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpora"));
            if (Directory.Exists(sibling))
            {
                return sibling;
            }

            break;
        }
    }

    return Directory.Exists("/work/shared/corpora") ? "/work/shared/corpora" : null;
}

sealed record BenchInput(string Name, long Bytes, Func<LintOptions, LintReport> Run);

/// <summary>A directory minus named files, so a benchmark can leave one out without copying the directory.</summary>
sealed class ExcludingMigrationSource(IMigrationSource inner, IReadOnlySet<string> excluded) : IMigrationSource
{
    public string Description => inner.Description;

    public async Task<IReadOnlyList<MigrationFile>> ReadFilesAsync(CancellationToken cancellationToken)
    {
        var files = await inner.ReadFilesAsync(cancellationToken).ConfigureAwait(false);
        return files.Where(f => !excluded.Contains(f.Name)).ToList();
    }
}

static class GeneratedPostgres
{
    /// <summary>
    /// Migration-shaped PostgreSQL: DDL that the rules judge (some safe, some not), DML, function bodies, comments and
    /// quoted text that must not raise anything, so the linter does the work it does on real files.
    /// </summary>
    public static string Create(int size)
    {
        var builder = new StringBuilder(size + 4096);
        var n = 0;
        while (builder.Length < size)
        {
            n++;
            builder.Append("-- step ").Append(n).Append(": orders and their totals\n");
            builder.Append("CREATE TABLE \"orders_").Append(n).Append("\" (id bigint PRIMARY KEY, note text DEFAULT 'it''s a drop table', total numeric(12,2) NOT NULL DEFAULT 0.0, created_at timestamptz NOT NULL DEFAULT now());\n");
            builder.Append("CREATE INDEX orders_").Append(n).Append("_total ON orders_").Append(n).Append(" (total);\n");
            builder.Append("ALTER TABLE customers ADD COLUMN tier_").Append(n).Append(" integer;\n");
            builder.Append("ALTER TABLE customers ADD CONSTRAINT customers_tier_").Append(n).Append("_check CHECK (tier_").Append(n).Append(" > 0);\n");
            builder.Append("CREATE INDEX customers_tier_").Append(n).Append(" ON customers (tier_").Append(n).Append(");\n");
            builder.Append("UPDATE customers SET tier_").Append(n).Append(" = 1;\n");
            builder.Append("INSERT INTO audit_log (step, message) VALUES (").Append(n).Append(", E'ALTER TABLE x DROP COLUMN y\\n');\n");
            builder.Append("CREATE OR REPLACE FUNCTION touch_").Append(n).Append("() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n  NEW.updated_at := now(); -- DROP TABLE in a comment\n  RETURN NEW;\nEND;\n$fn$;\n");
            builder.Append("/* a block /* nested */ comment */ ALTER TABLE customers ALTER COLUMN \"name_").Append(n).Append("\" TYPE text;\n");
            builder.Append("COMMENT ON TABLE orders_").Append(n).Append(" IS 'orders, step ").Append(n).Append("';\n\n");
        }

        return builder.ToString();
    }
}
