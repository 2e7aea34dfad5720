namespace Gatekeeper.Cli.Tests;

public sealed class LintCommandTests
{
    [Fact]
    public async Task Lint_exits_1_and_shows_the_rule_and_line_of_a_dropped_table()
    {
        using var dir = new TempMigrationDirectory(
            ("V1__create.sql", "create table orders (id bigint primary key);\n"),
            ("V2__drop.sql", "-- clean up\ndrop table customers;\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("GK101", result.Output);
        Assert.Contains("V2__drop.sql:2:1", result.Output);
    }

    [Fact]
    public async Task Lint_does_not_flag_dropping_a_table_created_earlier_in_the_same_plan()
    {
        using var dir = new TempMigrationDirectory(
            ("V1__create.sql", "create table scratch (id bigint primary key);\n"),
            ("V2__drop.sql", "drop table scratch;\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path);

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Lint_passes_a_safe_directory_with_exit_code_0()
    {
        using var dir = new TempMigrationDirectory(
            ("V1__create.sql", "create table customers (id bigint primary key, email text);\n"),
            ("V2__add.sql", "alter table customers add column nickname text;\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Error);
    }

    [Fact]
    public async Task Lint_accepts_a_rule_the_team_allows()
    {
        using var dir = new TempMigrationDirectory(("V1__drop.sql", "drop table legacy_audit;\n"));

        var blocked = await CliRun.InvokeAsync("lint", "--dir", dir.Path);
        var allowed = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--allow", "GK101");

        Assert.Equal(1, blocked.ExitCode);
        Assert.Equal(0, allowed.ExitCode);
    }

    [Fact]
    public async Task Lint_writes_github_annotations_with_file_and_line()
    {
        using var dir = new TempMigrationDirectory(("V1__drop.sql", "\ndrop table legacy_audit;\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--output", "github");

        Assert.Contains($"::error file={dir.Path}/V1__drop.sql,line=2,col=1", result.Output);
    }

    [Fact]
    public async Task Lint_of_a_missing_directory_is_a_one_line_usage_error()
    {
        var missing = Path.Combine(Path.GetTempPath(), "gk-missing-" + Guid.NewGuid().ToString("N"));

        var result = await CliRun.InvokeAsync("lint", "--dir", missing);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(missing, result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task Lint_of_a_directory_with_a_misnamed_file_names_the_file()
    {
        using var dir = new TempMigrationDirectory(
            ("V1__create.sql", "create table a (id int);\n"),
            ("V2_typo.sql", "create table b (id int);\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("V2_typo.sql", result.Error);
    }

    [Fact]
    public async Task Unknown_option_is_a_usage_error_with_exit_code_2()
    {
        var result = await CliRun.InvokeAsync("lint", "--no-such-option");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--no-such-option", result.Error);
    }
}
