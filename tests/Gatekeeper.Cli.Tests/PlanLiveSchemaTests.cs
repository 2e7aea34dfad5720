using System.Text.Json.Nodes;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary><c>gatekeeper plan</c> lints with the live schema: table sizes decide whether a locking finding blocks.</summary>
public sealed class PlanLiveSchemaTests
{
    [Fact]
    public async Task Plan_blocks_an_index_build_on_a_large_table_and_only_warns_on_a_small_analysed_one()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await database.ExecuteAsync("""
            CREATE TABLE big_events (id bigint, kind integer);
            INSERT INTO big_events SELECT g, g % 7 FROM generate_series(1, 120000) g;
            CREATE TABLE small_events (id bigint, kind integer);
            INSERT INTO small_events SELECT g, g % 7 FROM generate_series(1, 50) g;
            ANALYZE big_events;
            ANALYZE small_events;
            """);
        using var dir = new TempMigrationDirectory(
            ("V1__index_kinds.sql", "CREATE INDEX big_events_kind ON big_events (kind);\nCREATE INDEX small_events_kind ON small_events (kind);\n"));

        var result = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", TestUrls.For(database), "--output", "json");

        Assert.True(result.ExitCode == 1, result.Output + result.Error);
        var findings = JsonNode.Parse(result.Output)!["lint"]!["findings"]!.AsArray()
            .Where(f => (string?)f!["rule"] == "GK303")
            .Select(f => f!)
            .ToList();
        var big = Assert.Single(findings, f => ((string)f["message"]!).Contains("big_events", StringComparison.Ordinal));
        var small = Assert.Single(findings, f => ((string)f["message"]!).Contains("small_events", StringComparison.Ordinal));
        Assert.Equal("error", (string?)big["severity"]);
        Assert.True((bool)big["blocking"]!);
        Assert.Equal("warning", (string?)small["severity"]);
        Assert.False((bool)small["blocking"]!);
        Assert.Contains("50 rows", (string)small["message"]!, StringComparison.Ordinal);
        Assert.Contains("120,000 rows", (string)big["message"]!, StringComparison.Ordinal);
    }
}

/// <summary><c>gatekeeper lint --url</c>: the same live-schema judgement without a plan.</summary>
public sealed class LintLiveSchemaTests
{
    [Fact]
    public async Task Lint_with_a_url_lowers_an_index_build_on_a_small_analysed_table_to_a_warning()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await database.ExecuteAsync("""
            CREATE TABLE tiny_events (id bigint, kind integer);
            INSERT INTO tiny_events SELECT g, g % 3 FROM generate_series(1, 30) g;
            ANALYZE tiny_events;
            """);
        using var dir = new TempMigrationDirectory(("V1__index.sql", "CREATE INDEX tiny_events_kind ON tiny_events (kind);\n"));

        var textOnly = await CliRun.InvokeAsync("lint", "--dir", dir.Path);
        var withSchema = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--url", TestUrls.For(database));

        Assert.Equal(1, textOnly.ExitCode);
        Assert.Contains("GK303", textOnly.Output);
        Assert.True(withSchema.ExitCode == 0, withSchema.Output + withSchema.Error);
        Assert.Contains("warning[GK303]", withSchema.Output);
        Assert.Contains("30 rows", withSchema.Output);
    }
}
