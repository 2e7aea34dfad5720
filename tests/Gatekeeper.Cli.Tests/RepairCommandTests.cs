using System.Text.Json.Nodes;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary><c>gatekeeper repair</c> for scripts and pipelines: what it did, as JSON, with the same exit codes as the text.</summary>
public sealed class RepairCommandTests
{
    [Fact]
    public async Task Repair_with_json_output_says_which_migration_it_cleared_and_refuses_a_second_time_without_the_password()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        // MySQL commits each DDL statement: the second CREATE fails after the first one stayed, so 2 is left dirty.
        using var dir = new TempMigrationDirectory(
            ("V1__first.sql", "CREATE TABLE first_table (id int);\n"),
            ("V2__half.sql", "CREATE TABLE half_a (id int);\nCREATE TABLE half_a (id int);\n"));
        var url = TestUrls.For(database);
        var failed = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url);
        Assert.Equal(ExitCodes.Rejected, failed.ExitCode);
        await database.ExecuteAsync("DROP TABLE half_a");

        var repaired = await CliRun.InvokeAsync("repair", "--dir", dir.Path, "--url", url, "--version", "2", "--resolution", "retry", "--output", "json");
        var again = await CliRun.InvokeAsync("repair", "--dir", dir.Path, "--url", url, "--version", "2", "--resolution", "retry", "-o", "json");

        Assert.True(repaired.ExitCode == ExitCodes.Ok, repaired.Output + repaired.Error);
        var document = JsonNode.Parse(repaired.Output)!.AsObject();
        Assert.Equal("2", (string?)document["version"]);
        Assert.Equal("retry", (string?)document["resolution"]);
        Assert.True((bool)document["cleared"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)document["message"]));
        Assert.Equal(database.Name, (string?)document["database"]!["database"]);
        Assert.Equal(ExitCodes.Rejected, again.ExitCode);
        var refused = JsonNode.Parse(again.Output)!.AsObject();
        Assert.False((bool)refused["cleared"]!);
        Assert.StartsWith("migration 2 is not marked dirty", (string?)refused["message"], StringComparison.Ordinal);
        var password = new Uri(url).UserInfo.Split(':').ElementAtOrDefault(1);
        Assert.False(string.IsNullOrEmpty(password));
        Assert.DoesNotContain(password, repaired.Output + again.Output, StringComparison.Ordinal);
    }
}
