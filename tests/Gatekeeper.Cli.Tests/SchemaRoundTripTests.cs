using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Tests;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;
using Xunit.Abstractions;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// The declarative mode on real public schemas: a corpus migrated into A is dumped with the engine's own tool
/// (Gatekeeper's tables left out); <c>gatekeeper schema apply</c> of that dump to an empty database B and to a database C
/// migrated only half way makes both dump exactly like A, and <c>schema plan --output sql</c> then prints nothing.
/// </summary>
public sealed partial class SchemaRoundTripTests(ITestOutputHelper output)
{
    private static readonly string[] GatekeeperTables = ["gatekeeper_schema_history", "gatekeeper_declarative_history", "gatekeeper_dirty_migrations"];

    // A round trip is about the diff, not the lint: every category is accepted (the lint of declarative plans has tests of its own).
    private const string AllowEverything = "destructive,backward-incompatible,locking,data-dependent,transaction,hygiene";

    /// <param name="extraDesired">What the dump alone cannot say: kestra renamed an enum label half way (V1_22), and a
    /// rename is never guessed, so C needs it declared.</param>
    public static TheoryData<string, string, string> CorpusCases => new()
    {
        { "kestra", "postgres", "-- gatekeeper:rename value public.queue_type 'io.kestra.core.models.flows.Flow' to 'io.kestra.core.models.flows.FlowWithSource'\n" },
        { "hatchet", "postgres", string.Empty },
        { "openmeter", "postgres", string.Empty },
        { "goalert", "postgres", string.Empty },
        { "fineract", "mysql", string.Empty },
    };

    [Theory]
    [MemberData(nameof(CorpusCases))]
    public async Task A_dump_applied_to_an_empty_and_to_a_half_migrated_database_dumps_identically_and_then_plans_nothing(string project, string engineFolder, string extraDesired)
    {
        var engine = engineFolder == "mysql" ? DatabaseEngine.MySql : DatabaseEngine.Postgres;
        var (all, half, migrationCount, halfCount) = await CorpusHalvesAsync(project, engineFolder);
        using var fullDirectory = CorpusCopy(project, engineFolder, all);
        using var halfDirectory = CorpusCopy(project, engineFolder, half);
        await using var a = await TestDatabase.CreateAsync(engine);
        await using var b = await TestDatabase.CreateAsync(engine);
        await using var c = await TestDatabase.CreateAsync(engine);
        await using var dev = await TestDatabase.CreateAsync(engine);

        await MigrateAsync(fullDirectory.Path, a);
        // The dump goes in exactly as the tool wrote it (pg_dump's \restrict lines and owners included).
        var dumpA = await DumpAsync(a);
        using var desired = new TempMigrationDirectory(("schema.sql", dumpA));
        if (extraDesired.Length > 0)
        {
            desired.Write("renames.sql", extraDesired);
        }

        var intoB = await ApplyAsync(desired.Path, b, dev);
        Assert.Equal(Comparable(dumpA), Comparable(await DumpAsync(b)));
        var planB = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", TestUrls.For(b), "--dev-url", TestUrls.For(dev), "--output", "sql");
        Assert.True(planB.ExitCode == 0, planB.Output + planB.Error);
        Assert.Equal(string.Empty, planB.Output);

        await MigrateAsync(halfDirectory.Path, c);
        var intoC = await ApplyAsync(desired.Path, c, dev);
        // MySQL's next AUTO_INCREMENT value follows the rows C's own half of the history inserted; it is data, and Gatekeeper
        // only ever raises it (as Atlas does), so it is the one thing compared without its number.
        Assert.Equal(WithoutCounters(Comparable(dumpA)), WithoutCounters(Comparable(await DumpAsync(c))));
        var planC = await CliRun.InvokeAsync("schema", "plan", "--to", desired.Path, "--url", TestUrls.For(c), "--dev-url", TestUrls.For(dev), "--output", "sql");
        Assert.True(planC.ExitCode == 0, planC.Output + planC.Error);
        Assert.Equal(string.Empty, planC.Output);

        Assert.DoesNotContain(TestUrls.Password(engine), planB.Output + planB.Error + planC.Output + planC.Error);
        output.WriteLine($"{project}/{engineFolder}: {migrationCount} migrations, {halfCount} in C; " +
                         $"into B {intoB.Statements} statements (read {intoB.ReadMs:0} ms, load desired {intoB.LoadMs:0} ms, diff {intoB.DiffMs:0} ms); " +
                         $"into C {intoC.Statements} statements (read {intoC.ReadMs:0} ms, load desired {intoC.LoadMs:0} ms, diff {intoC.DiffMs:0} ms)");
    }

    private sealed record ApplyNumbers(int Statements, double ReadMs, double LoadMs, double DiffMs);

    private static async Task<ApplyNumbers> ApplyAsync(string desired, TestDatabase target, TestDatabase dev)
    {
        var apply = await CliRun.InvokeAsync("schema", "apply", "--to", desired, "--url", TestUrls.For(target), "--dev-url", TestUrls.For(dev),
            "--allow", AllowEverything, "--output", "json");
        Assert.True(apply.ExitCode == 0, apply.Output + apply.Error);
        var document = JsonNode.Parse(apply.Output)!;
        Assert.Equal("Applied", document["status"]!.GetValue<string>());
        var timings = document["timings"]!;
        return new ApplyNumbers(document["changes"]!.AsArray().Count, timings["readDatabaseMs"]!.GetValue<double>(),
            timings["loadDesiredMs"]!.GetValue<double>(), timings["diffMs"]!.GetValue<double>());
    }

    private static async Task MigrateAsync(string directory, TestDatabase database)
    {
        var url = TestUrls.For(database);
        var plan = await CliRun.InvokeAsync("plan", "--dir", directory, "--url", url, "--output", "json");
        var hash = JsonNode.Parse(plan.Output)!["hash"]!.GetValue<string>();
        var migrate = await CliRun.InvokeAsync("migrate", "--dir", directory, "--url", url, "--approve-plan", hash);
        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
    }

    /// <summary>The corpus's migration files in apply order, and the first half of them (whole migrations: up and down files).</summary>
    private static async Task<(List<string> All, List<string> Half, int Migrations, int HalfMigrations)> CorpusHalvesAsync(string project, string engine)
    {
        var files = (await new DirectoryMigrationSource(Corpora.Dir(project, engine)).ReadFilesAsync(CancellationToken.None))
            .Where(f => !f.Name.StartsWith("V366_", StringComparison.Ordinal))
            .ToList();
        var read = MigrationDirectoryReader.Read(project, files);
        Assert.True(read.Succeeded, string.Join("; ", read.Problems));
        var migrations = read.Directory!.Migrations;
        var all = files.Select(f => f.Name).ToList();
        var kept = migrations.Take(migrations.Count / 2).Select(m => m.FileName).ToHashSet(StringComparer.Ordinal);
        // A golang-migrate pair's down file goes with its up file; atlas.sum would not match half a directory.
        var half = all.Where(n => kept.Contains(n) || kept.Contains(n.Replace(".down.sql", ".up.sql", StringComparison.Ordinal))).ToList();
        return (all, half, migrations.Count, kept.Count);
    }

    private static TempMigrationDirectory CorpusCopy(string project, string engine, IEnumerable<string> names)
    {
        var copy = new TempMigrationDirectory();
        foreach (var name in names)
        {
            File.Copy(Path.Combine(Corpora.Dir(project, engine), name), Path.Combine(copy.Path, name));
        }

        return copy;
    }

    /// <summary>
    /// The schema as the engine's own dump tool writes it, Gatekeeper's tables left out: pg_dump -s, or mariadb-dump
    /// --no-data without comments (they name the database, which differs).
    /// </summary>
    private static async Task<string> DumpAsync(TestDatabase database)
    {
        var url = new Uri(TestUrls.For(database));
        var user = Uri.UnescapeDataString(url.UserInfo.Split(':', 2)[0]);
        var password = TestUrls.Password(database.Engine);
        var start = database.Engine == DatabaseEngine.Postgres
            ? new ProcessStartInfo("pg_dump", ["-s", "-h", url.Host, "-p", url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", user,
                .. GatekeeperTables.SelectMany(t => new[] { "-T", t }), database.Name])
            : new ProcessStartInfo("mariadb-dump", ["--no-data", "--skip-comments", "-h", url.Host, "-P", url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-u", user,
                .. GatekeeperTables.Select(t => $"--ignore-table={database.Name}.{t}"), database.Name]);
        start.Environment[database.Engine == DatabaseEngine.Postgres ? "PGPASSWORD" : "MYSQL_PWD"] = password;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{start.FileName} failed: {await stderr}");
        return await stdout;
    }

    /// <summary>A dump without pg_dump's \restrict lines, whose key is random per run.</summary>
    private static string Comparable(string dump) => PsqlRestrict().Replace(dump, string.Empty);

    private static string WithoutCounters(string dump) => AutoIncrementOption().Replace(dump, string.Empty);

    [GeneratedRegex(@"^\\(un)?restrict .*$\n?", RegexOptions.Multiline)]
    private static partial Regex PsqlRestrict();

    [GeneratedRegex(@" AUTO_INCREMENT=\d+")]
    private static partial Regex AutoIncrementOption();
}
