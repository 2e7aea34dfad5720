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
    public async Task Lint_does_not_flag_dropping_a_table_created_earlier_in_the_same_file()
    {
        using var dir = new TempMigrationDirectory(("V1__create.sql", "create table scratch (id bigint primary key);\ndrop table scratch;\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path);

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Lint_judges_each_file_as_its_own_rollout_so_a_later_drop_of_an_earlier_files_column_exits_1()
    {
        using var dir = new TempMigrationDirectory(
            ("V1__create.sql", "create table orders (id bigint primary key, note text);\n"),
            ("V2__drop.sql", "alter table orders drop column note;\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("GK102", result.Output);
        Assert.Contains("V2__drop.sql:1:", result.Output);
    }

    [Fact]
    public async Task Lint_with_files_judges_only_those_and_replays_the_others_as_history()
    {
        using var dir = new TempMigrationDirectory(
            ("V1__create.sql", "create table orders (id bigint primary key, note text);\ndrop table legacy;\n"),
            ("V2__drop.sql", "alter table orders drop column note;\n"),
            ("V3__add.sql", "alter table orders add column shipped_at timestamptz;\n"));

        var onlyNew = await CliRun.InvokeAsync("lint", "--dir", dir.Path, Path.Combine(dir.Path, "V3__add.sql"), "--output", "json");
        var second = await CliRun.InvokeAsync("lint", "--dir", dir.Path, Path.Combine(dir.Path, "V2__drop.sql"));

        Assert.Equal(0, onlyNew.ExitCode);
        Assert.Contains("\"historyFiles\": 2", onlyNew.Output);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("GK102", second.Output);
        Assert.DoesNotContain("GK101", second.Output);
        Assert.Contains("1 migration (1 statement) after 2 earlier files replayed as history", second.Output);
    }

    [Theory]
    [InlineData("elsewhere")]
    [InlineData("missing")]
    [InlineData("down")]
    [InlineData("both")]
    public async Task Lint_refuses_files_that_are_not_up_migrations_of_the_directory_in_one_line(string wrong)
    {
        using var dir = new TempMigrationDirectory(
            ("1_create.up.sql", "create table orders (id bigint primary key);\n"),
            ("1_create.down.sql", "drop table orders;\n"));
        using var other = new TempMigrationDirectory(("1_other.up.sql", "select 1;\n"));
        var args = wrong switch
        {
            "elsewhere" => new[] { Path.Combine(other.Path, "1_other.up.sql") },
            "missing" => [Path.Combine(dir.Path, "2_missing.up.sql")],
            "down" => [Path.Combine(dir.Path, "1_create.down.sql")],
            _ => [Path.Combine(dir.Path, "1_create.up.sql"), "--since", "main"],
        };

        var result = await CliRun.InvokeAsync(["lint", "--dir", dir.Path, .. args]);

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.StartsWith("gatekeeper lint: ", result.Error);
    }

    [Fact]
    public async Task Lint_since_a_git_ref_judges_the_files_the_branch_added_or_changed()
    {
        using var repo = new TempMigrationDirectory();
        var migrations = Path.Combine(repo.Path, "db", "migrations");
        Directory.CreateDirectory(migrations);
        await GitAsync(repo.Path, "init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(migrations, "V1__create.sql"), "create table orders (id bigint primary key, note text);\ndrop table legacy;\n");
        File.WriteAllText(Path.Combine(migrations, "V2__index.sql"), "create index orders_note on orders (note);\n");
        await GitAsync(repo.Path, "add", ".");
        await GitAsync(repo.Path, "commit", "-q", "-m", "first");
        await GitAsync(repo.Path, "checkout", "-q", "-b", "feature");
        File.WriteAllText(Path.Combine(migrations, "V3__drop.sql"), "alter table orders drop column note;\n");
        await GitAsync(repo.Path, "add", ".");
        await GitAsync(repo.Path, "commit", "-q", "-m", "feature");
        File.WriteAllText(Path.Combine(migrations, "V4__add.sql"), "alter table orders add column shipped_at timestamptz;\n");

        var result = await CliRun.InvokeAsync("lint", "--dir", migrations, "--since", "main");
        var unknown = await CliRun.InvokeAsync("lint", "--dir", migrations, "--since", "no-such-branch");
        var whole = await CliRun.InvokeAsync("lint", "--dir", migrations);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("V3__drop.sql", result.Output);
        Assert.DoesNotContain("V1__create.sql", result.Output);
        Assert.DoesNotContain("V2__index.sql", result.Output);
        Assert.Contains("2 migrations (2 statements) after 2 earlier files replayed as history", result.Output);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--since no-such-branch", unknown.Error);
        Assert.Contains("GK101", whole.Output);
        Assert.Contains("GK303", whole.Output);
    }

    private static readonly string[] GitIdentity = ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"];

    private static async Task GitAsync(string directory, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("git") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(directory);
        foreach (var arg in GitIdentity.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', args)}: {error}");
    }

    [Fact]
    public async Task Lint_passes_a_safe_directory_with_exit_code_0()
    {
        using var dir = new TempMigrationDirectory(
            ("V1__create.sql", "create table customers (id bigint primary key, email text);\n"),
            ("V2__add.sql", "alter table customers add column nickname text;\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "postgres");

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

public sealed class LintDialectTests
{
    [Theory]
    [InlineData("fineract")]
    [InlineData("kestra")]
    public async Task A_mysql_corpus_lints_the_same_with_and_without_dialect_mysql_and_the_guess_is_said(string project)
    {
        var dir = Gatekeeper.Core.Tests.Corpora.Dir(project, "mysql");
        const string Skipped = "V366_remove_leading_or_trailing_spaces_in_reportnames.sql";

        var guessed = await CliRun.InvokeAsync("lint", "--dir", dir, "--ignore", Skipped, "--output", "json");
        var told = await CliRun.InvokeAsync("lint", "--dir", dir, "--ignore", Skipped, "--output", "json", "--dialect", "mysql");

        Assert.Equal(told.ExitCode, guessed.ExitCode);
        Assert.Equal(told.Output, guessed.Output);
        Assert.Contains("\"dialect\": \"mysql\"", guessed.Output);
        Assert.StartsWith("gatekeeper lint: linting as mysql, guessed from the files (backtick-quoted names in", guessed.Error);
        Assert.Equal(string.Empty, told.Error);
    }

    [Fact]
    public async Task Without_any_marker_the_default_is_said_aloud()
    {
        using var dir = new TempMigrationDirectory(("V1__create.sql", "create table orders (id bigint primary key);\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("linting as postgres, the default (nothing in the files is particular to one dialect); pass --dialect to choose.", result.Error);
    }

    [Fact]
    public async Task A_dialect_that_contradicts_the_url_is_refused()
    {
        using var dir = new TempMigrationDirectory(("V1__create.sql", "create table orders (id bigint primary key);\n"));

        var result = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "mysql", "--url", "postgres://someone@127.0.0.1:1/none");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--dialect mysql does not match the --url database, which is postgres", result.Error);
    }

    [Fact]
    public async Task The_server_version_decides_version_dependent_rules()
    {
        using var dir = new TempMigrationDirectory(("1_mood.up.sql", "ALTER TYPE mood ADD VALUE 'ecstatic';\n"));

        var eleven = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "postgres", "--server-version", "11.22");
        var sixteen = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "postgres", "--server-version", "16");
        var wrong = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--server-version", "sixteen");

        Assert.Equal(1, eleven.ExitCode);
        Assert.Contains("GK501", eleven.Output);
        Assert.Equal(0, sixteen.ExitCode);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("--server-version 'sixteen' is not a server version", wrong.Error);
    }

    [Fact]
    public async Task A_MySQL_server_version_with_its_patch_level_decides_instant_column_changes()
    {
        using var dir = new TempMigrationDirectory(
            ("V1__create.sql", "CREATE TABLE orders (id BIGINT PRIMARY KEY, note VARCHAR(20));\n"),
            ("V2__note.sql", "ALTER TABLE orders ADD COLUMN code INT AFTER id;\n"));

        var before = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "mysql", "--server-version", "8.0.28-0ubuntu0.20.04.3");
        var at = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "mysql", "--server-version", "8.0.29");
        var mariaDb = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "mysql", "--server-version", "5.5.5-10.3.39-MariaDB");
        var partial = await CliRun.InvokeAsync("lint", "--dir", dir.Path, "--dialect", "mysql", "--server-version", "8.0");
        var help = await CliRun.InvokeAsync("lint", "--help");

        Assert.Contains("MySQL 8.0.28 rebuilds the table for a column placed with AFTER/FIRST (instant anywhere from MySQL 8.0.29", before.Output);
        Assert.DoesNotContain("GK312", at.Output);
        Assert.Contains("MariaDB 10.3.39 rebuilds the table", mariaDb.Output);
        Assert.Equal(2, partial.ExitCode);
        Assert.Contains("--server-version '8.0' has no patch level", partial.Error);
        Assert.DoesNotContain("\n   at ", partial.Error);
        Assert.Contains("MySQL and MariaDB need the patch level", help.Output);
    }
}
