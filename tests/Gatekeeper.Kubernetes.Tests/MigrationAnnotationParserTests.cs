using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Annotations;

namespace Gatekeeper.Kubernetes.Tests;

public sealed class MigrationAnnotationParserTests
{
    private static Dictionary<string, string> Minimal(params (string Key, string Value)[] extra)
    {
        var annotations = new Dictionary<string, string>
        {
            [GatekeeperNames.Migrations] = "shop-migrations",
            [GatekeeperNames.DatabaseSecret] = "shop-db",
        };
        foreach (var (key, value) in extra)
        {
            annotations[key] = value;
        }

        return annotations;
    }

    [Fact]
    public void Parser_fills_every_default_from_the_two_required_annotations()
    {
        var result = MigrationAnnotationParser.Parse(Minimal());

        Assert.True(result.Succeeded);
        var parsed = result.Annotations!;
        Assert.Equal(["shop-migrations"], parsed.Migrations.Names);
        Assert.Null(parsed.Migrations.LabelSelector);
        Assert.Equal(new SecretKeyReference("shop-db", null), parsed.DatabaseSecret);
        Assert.Null(parsed.Format);
        Assert.Equal("gatekeeper_schema_history", parsed.HistoryTable);
        Assert.Empty(parsed.Allow);
        Assert.Null(parsed.ApprovedPlanHash);
        Assert.Equal(DryRunMode.Shadow, parsed.DryRun);
        Assert.Equal(TimeSpan.FromMinutes(30), parsed.JobTimeout);
        Assert.Equal(parsed.DatabaseSecret, parsed.PlanningSecret);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Parser_reads_every_annotation_of_the_design_table()
    {
        var hash = new string('A', 64);
        var result = MigrationAnnotationParser.Parse(Minimal(
            (GatekeeperNames.Migrations, " part-1, part-2 "),
            (GatekeeperNames.DatabaseSecret, "cluster-app/uri"),
            (GatekeeperNames.Format, "golang-migrate"),
            (GatekeeperNames.HistoryTable, "public.schema_migrations"),
            (GatekeeperNames.Allow, "GK101, destructive"),
            (GatekeeperNames.ApprovePlan, "sha256:" + hash),
            (GatekeeperNames.DryRun, "shadow"),
            (GatekeeperNames.JobTimeout, "1h30m"),
            (GatekeeperNames.PlanSecret, "readonly"),
            (GatekeeperNames.DevDatabaseSecret, "scratch/url"),
            (GatekeeperNames.Ignore, "README.sql, notes-*.sql")));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        var parsed = result.Annotations!;
        Assert.Equal(["part-1", "part-2"], parsed.Migrations.Names);
        Assert.Equal(new SecretKeyReference("cluster-app", "uri"), parsed.DatabaseSecret);
        Assert.Equal(MigrationFormat.GolangMigrate, parsed.Format);
        Assert.Equal("public.schema_migrations", parsed.HistoryTable);
        Assert.Equal(["GK101", "destructive"], parsed.Allow);
        Assert.Equal(new string('a', 64), parsed.ApprovedPlanHash);
        Assert.Equal(DryRunMode.Shadow, parsed.DryRun);
        Assert.Equal(TimeSpan.FromMinutes(90), parsed.JobTimeout);
        Assert.Equal(["README.sql", "notes-*.sql"], parsed.Ignore);
        Assert.Equal(new SecretKeyReference("readonly", null), parsed.PlanningSecret);
        Assert.Equal(new SecretKeyReference("scratch", "url"), parsed.DevDatabaseSecret);
    }

    [Theory]
    [InlineData(null, DryRunMode.Shadow, false)]
    [InlineData("shadow", DryRunMode.Shadow, false)]
    [InlineData("live", DryRunMode.Live, false)]
    [InlineData(" LIVE ", DryRunMode.Live, false)]
    [InlineData("none", DryRunMode.None, false)]
    [InlineData("transaction", DryRunMode.Live, true)]
    public void Parser_defaults_to_the_dry_run_off_production_and_takes_the_live_one_only_when_asked(string? value, DryRunMode expected, bool warns)
    {
        var result = MigrationAnnotationParser.Parse(value is null ? Minimal() : Minimal((GatekeeperNames.DryRun, value)));

        Assert.True(result.Succeeded);
        Assert.Equal(expected, result.Annotations!.DryRun);
        Assert.Equal(warns, result.Warnings.Any(w => w.Contains("is now spelled \"live\"", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(null, LockPreflightPolicy.Deny)]
    [InlineData("deny", LockPreflightPolicy.Deny)]
    [InlineData(" Warn ", LockPreflightPolicy.Warn)]
    public void Parser_denies_on_open_transactions_by_default_and_warns_only_when_asked(string? value, LockPreflightPolicy expected)
    {
        var result = MigrationAnnotationParser.Parse(value is null ? Minimal() : Minimal((GatekeeperNames.LockPreflight, value)));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(expected, result.Annotations!.LockPreflight);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Parser_reads_a_label_selector_for_migrations_split_over_several_configmaps()
    {
        var result = MigrationAnnotationParser.Parse(Minimal((GatekeeperNames.Migrations, "selector:app=shop,part in (a,b)")));

        Assert.True(result.Succeeded);
        Assert.Equal("app=shop,part in (a,b)", result.Annotations!.Migrations.LabelSelector);
        Assert.Empty(result.Annotations.Migrations.Names);
    }

    public static TheoryData<string, string, string> MalformedValues => new()
    {
        { GatekeeperNames.Migrations, "Shop_Migrations", "not a valid ConfigMap name" },
        { GatekeeperNames.Migrations, "a,a", "names the same ConfigMap twice" },
        { GatekeeperNames.Migrations, "selector:", "no valid label selector" },
        { GatekeeperNames.Migrations, "  ", "is empty" },
        { GatekeeperNames.DatabaseSecret, "db/", "invalid key" },
        { GatekeeperNames.DatabaseSecret, "DB", "valid Secret name" },
        { GatekeeperNames.Format, "liquibase", "not a known format" },
        { GatekeeperNames.Ignore, "old/*.sql", "not a file name pattern" },
        { GatekeeperNames.HistoryTable, "drop table x;", "not a table name" },
        { GatekeeperNames.Allow, "GK101;rm", "not a lint rule id" },
        { GatekeeperNames.ApprovePlan, "abc123", "not a plan hash" },
        { GatekeeperNames.DryRun, "yes", "not a dry-run mode" },
        { GatekeeperNames.LockPreflight, "ignore", "not a pre-flight policy (deny" },
        { GatekeeperNames.JobTimeout, "30", "not a duration" },
        { GatekeeperNames.JobTimeout, "0s", "not a duration" },
        { GatekeeperNames.PlanSecret, "a/b/c", "invalid key" },
    };

    [Theory]
    [MemberData(nameof(MalformedValues))]
    public void Parser_names_the_annotation_and_its_value_when_the_value_is_malformed(string annotation, string value, string expected)
    {
        var result = MigrationAnnotationParser.Parse(Minimal((annotation, value)));

        Assert.False(result.Succeeded);
        var problem = Assert.Single(result.Problems);
        Assert.Equal(annotation, problem.Annotation);
        Assert.Contains(annotation, problem.Message, StringComparison.Ordinal);
        Assert.Contains(expected, problem.Message, StringComparison.Ordinal);
        if (value.Trim().Length > 0)
        {
            Assert.Contains($"\"{value}\"", problem.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain('\n', problem.Message);
    }

    [Fact]
    public void Parser_requires_the_database_secret_and_reports_every_problem_at_once()
    {
        var result = MigrationAnnotationParser.Parse(new Dictionary<string, string>
        {
            [GatekeeperNames.Migrations] = "shop",
            [GatekeeperNames.Format] = "rails",
        });

        Assert.False(result.Succeeded);
        Assert.Equal([GatekeeperNames.DatabaseSecret, GatekeeperNames.Format], result.Problems.Select(p => p.Annotation).Order());
    }

    [Fact]
    public void Parser_warns_about_an_unknown_gatekeeper_annotation_and_suggests_the_closest()
    {
        var result = MigrationAnnotationParser.Parse(Minimal(("gatekeeper.dev/alow", "GK101"), ("example.com/other", "x")));

        Assert.True(result.Succeeded);
        var warning = Assert.Single(result.Warnings);
        Assert.Contains("gatekeeper.dev/alow", warning, StringComparison.Ordinal);
        Assert.Contains("did you mean gatekeeper.dev/allow?", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Objects_without_the_migrations_annotation_are_not_opted_in()
    {
        Assert.False(MigrationAnnotationParser.IsOptedIn(null));
        Assert.False(MigrationAnnotationParser.IsOptedIn(new Dictionary<string, string> { [GatekeeperNames.DatabaseSecret] = "db" }));
        Assert.True(MigrationAnnotationParser.IsOptedIn(new Dictionary<string, string> { [GatekeeperNames.Migrations] = "m" }));
    }

    [Theory]
    [InlineData("30m", 1800)]
    [InlineData("1h30m", 5400)]
    [InlineData("90s", 90)]
    [InlineData("1.5h", 5400)]
    [InlineData("1500ms", 1.5)]
    public void Go_durations_parse_as_kubernetes_users_write_them(string text, double seconds)
    {
        Assert.True(GoDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("-5m")]
    [InlineData("5 m")]
    [InlineData("1d")]
    [InlineData("m")]
    public void Go_durations_reject_what_go_rejects(string text)
    {
        Assert.False(GoDuration.TryParse(text, out _));
    }
}
