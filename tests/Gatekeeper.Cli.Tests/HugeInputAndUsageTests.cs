using System.Text.Json;

namespace Gatekeeper.Cli.Tests;

/// <summary>What a newcomer and a CI job see at the edges: unknown commands and options, and lint output of many findings.</summary>
public sealed class HugeInputAndUsageTests
{
    [Theory]
    [InlineData("gatekeeper: unknown command 'nosuch'; see 'gatekeeper --help'.", "nosuch")]
    [InlineData("gatekeeper: unknown option '--nosuch'; see 'gatekeeper --help'.", "--nosuch")]
    [InlineData("gatekeeper schema: unknown command 'nosuch'; see 'gatekeeper schema --help'.", "schema", "nosuch")]
    [InlineData("gatekeeper lint: unknown option '--nosuch'; see 'gatekeeper lint --help'.", "lint", "--nosuch")]
    [InlineData("gatekeeper plan: unknown option '--nosuch'; see 'gatekeeper plan --help'.", "plan", "--dir", ".", "--nosuch")]
    [InlineData("gatekeeper plan: unexpected argument 'extra'; see 'gatekeeper plan --help'.", "plan", "--dir", ".", "extra")]
    [InlineData("gatekeeper schema plan: unknown option '--bogus'; see 'gatekeeper schema plan --help'.", "schema", "plan", "--bogus")]
    [InlineData("gatekeeper serve: unknown option '--nosuch'; see 'gatekeeper serve --help'.", "serve", "--nosuch")]
    public async Task An_unknown_command_or_option_exits_2_with_one_line_at_every_level(string expected, params string[] args)
    {
        var result = await CliRun.InvokeAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(expected, result.Error.TrimEnd('\n'));
        Assert.Equal(string.Empty, result.Output);
    }

    [Fact]
    public async Task A_bad_value_is_one_line_that_names_the_allowed_values()
    {
        var result = await CliRun.InvokeAsync("lint", "--dir", ".", "--output", "yaml");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("gatekeeper lint: ", line, StringComparison.Ordinal);
        Assert.Contains("'yaml'", line, StringComparison.Ordinal);
        Assert.Contains("'github'", line, StringComparison.Ordinal);
    }

    private static TempMigrationDirectory ManyDrops() => new(
        ("V1__drops.sql", string.Concat(Enumerable.Range(1, 40).Select(i => $"drop table old_{i};\n")) + "create index i on t (c);\n"));

    [Fact]
    public async Task Lint_lists_at_most_the_cap_per_rule_in_every_output_and_counts_the_rest()
    {
        using var dir = ManyDrops();

        var text = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "postgres");
        var json = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "postgres", "--output", "json", "--max-per-rule", "5");
        var github = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "postgres", "--output", "github", "--max-per-rule", "5");
        var all = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "postgres", "--output", "json", "--max-per-rule", "0");

        Assert.Equal(1, text.ExitCode);
        Assert.Equal(25, text.Output.Split("error[GK101]").Length - 1);
        Assert.Contains("GK101 drop-table: 40 errors (and 15 more not shown; --max-per-rule 0 shows all)", text.Output, StringComparison.Ordinal);
        Assert.Contains("41 errors, 0 warnings", text.Output, StringComparison.Ordinal);

        Assert.Equal(1, json.ExitCode);
        using (var document = JsonDocument.Parse(json.Output))
        {
            var root = document.RootElement;
            Assert.Equal(6, root.GetProperty("findings").GetArrayLength());
            Assert.Equal(41, root.GetProperty("summary").GetProperty("errors").GetInt32());
            Assert.Equal(35, root.GetProperty("summary").GetProperty("notListed").GetInt32());
            Assert.True(root.GetProperty("blocking").GetBoolean());
        }

        Assert.Equal(1, github.ExitCode);
        var lines = github.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, lines.Length);
        Assert.Equal("::notice title=GK101 drop-table::35 more findings of GK101 not annotated (40 in all; --max-per-rule 0 annotates every one)", lines[^1]);

        using (var document = JsonDocument.Parse(all.Output))
        {
            Assert.Equal(41, document.RootElement.GetProperty("findings").GetArrayLength());
            Assert.Equal(0, document.RootElement.GetProperty("summary").GetProperty("notListed").GetInt32());
        }
    }
}
