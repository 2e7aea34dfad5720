using System.Text.Json.Nodes;
using Gatekeeper.Core.Tests;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// Real public migration directories, applied through the real command line to real servers: every corpus that
/// ../shared/corpora/README.md marks as applying on a vanilla server goes from empty to latest, and a second run is a no-op.
/// </summary>
public sealed class CorpusMigrationTests
{
    public static TheoryData<string, string, int> Applicable => new()
    {
        { "goalert", "postgres", 280 },
        { "hatchet", "postgres", 82 },
        { "openmeter", "postgres", 269 },
        { "kestra", "postgres", 26 },
        { "fineract", "mysql", 403 },
    };

    [Theory]
    [MemberData(nameof(Applicable))]
    public async Task Corpus_applies_from_empty_and_a_second_run_is_a_no_op(string project, string engine, int migrations)
    {
        using var directory = CorpusCopy(project, engine);
        await using var database = await TestDatabase.CreateAsync(engine == "mysql" ? DatabaseEngine.MySql : DatabaseEngine.Postgres);
        var url = TestUrls.For(database);

        // A team adopting a whole reviewed history approves the plan it applies once, as the webhook's approve-plan does.
        var plan = await CliRun.InvokeAsync("plan", "--dir", directory.Path, "--url", url, "--output", "json");
        var approve = JsonNode.Parse(plan.Output)!["hash"]!.GetValue<string>();
        var first = await CliRun.InvokeAsync("migrate", "--dir", directory.Path, "--url", url, "--approve-plan", approve);
        var second = await CliRun.InvokeAsync("migrate", "--dir", directory.Path, "--url", url);
        var status = await CliRun.InvokeAsync("status", "--dir", directory.Path, "--url", url);

        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Assert.Contains($"Applied {migrations} migrations", first.Output);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("Nothing to apply", second.Output);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains($"{migrations} applied, 0 pending, 0 problems.", status.Output);
        Assert.DoesNotContain(TestUrls.Password(database.Engine), first.Output + first.Error + second.Output + status.Output);
    }

    [Fact]
    public async Task Kestra_mysql_fails_on_mariadb_with_the_server_message_and_the_statement_location()
    {
        using var directory = CorpusCopy("kestra", "mysql");
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.MySql);

        var result = await CliRun.InvokeAsync("migrate", "--dir", directory.Path, "--url", TestUrls.For(database));

        Assert.Equal(1, result.ExitCode);
        Assert.Matches(@"error: V1_1__initial\.sql:\d+:\d+: .*SQL syntax", result.Output);
    }

    [Fact]
    public async Task Supabase_needs_its_own_roles_and_fails_on_vanilla_postgres_naming_file_and_line()
    {
        using var directory = CorpusCopy("supabase-postgres", "postgres");
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);

        var plan = await CliRun.InvokeAsync("plan", "--dir", directory.Path, "--url", TestUrls.For(database));
        var migrate = await CliRun.InvokeAsync("migrate", "--dir", directory.Path, "--url", TestUrls.For(database));

        Assert.Contains("30 migrations", plan.Output);
        Assert.Equal(1, migrate.ExitCode);
        Assert.Matches(@"error: \d{14}_[\w-]+\.sql:\d+:\d+: .*(does not exist|permission denied)", migrate.Output);
    }

    private static TempMigrationDirectory CorpusCopy(string project, string engine)
    {
        var copy = new TempMigrationDirectory();
        foreach (var file in Directory.EnumerateFiles(Corpora.Dir(project, engine)))
        {
            // fineract's V366_… has one underscore where Flyway needs two; Flyway skipped it silently, Gatekeeper refuses it.
            if (!Path.GetFileName(file).StartsWith("V366_", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(copy.Path, Path.GetFileName(file)));
            }
        }

        return copy;
    }
}
