using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>
/// Issue 17.11: MySQL and MariaDB rules decided by the server's full version, patch level included. Every boundary is
/// tried just below, at and just above it, and every finding names the version it assumed and the one that changes it.
/// </summary>
public sealed class ServerVersionRuleTests
{
    private static LintReport OnServer(string version, string sql) => LintKit.MySql(sql, options: new LintOptions { Server = ServerVersion.Parse(version) });

    public static TheoryData<string, string, string, bool> Boundaries => new()
    {
        // ADD COLUMN as the last column: instant from MySQL 8.0.12 and MariaDB 10.3.2, rebuilt before.
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50);", "GK312", "8.0.11", true },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50);", "GK312", "8.0.12", false },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50);", "GK312", "8.0.13", false },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50);", "GK312", "10.3.1-MariaDB", true },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50);", "GK312", "10.3.2-MariaDB", false },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50);", "GK312", "10.3.3-MariaDB", false },
        // ADD COLUMN … AFTER / FIRST: instant anywhere from MySQL 8.0.29 and MariaDB 10.4.
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50) AFTER id;", "GK312", "8.0.28", true },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50) AFTER id;", "GK312", "8.0.29", false },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50) FIRST;", "GK312", "8.0.30", false },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50) FIRST;", "GK312", "10.3.39-MariaDB", true },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50) AFTER id;", "GK312", "10.4.0-MariaDB", false },
        { "ALTER TABLE orders ADD COLUMN note VARCHAR(50) AFTER id;", "GK312", "10.4.1-MariaDB", false },
        // DROP COLUMN: instant from MySQL 8.0.29 and MariaDB 10.4.
        { "ALTER TABLE orders DROP COLUMN note;", "GK312", "8.0.28", true },
        { "ALTER TABLE orders DROP COLUMN note;", "GK312", "8.0.29", false },
        { "ALTER TABLE orders DROP COLUMN note;", "GK312", "8.0.30", false },
        { "ALTER TABLE orders DROP COLUMN note;", "GK312", "10.3.39-MariaDB", true },
        { "ALTER TABLE orders DROP COLUMN note;", "GK312", "10.4.0-MariaDB", false },
        { "ALTER TABLE orders DROP COLUMN note;", "GK312", "10.4.1-MariaDB", false },
        // Expression defaults: accepted from MySQL 8.0.13 (MariaDB 10.2.1); refused before.
        { "ALTER TABLE orders ADD COLUMN token BINARY(16) DEFAULT (UUID_TO_BIN(UUID()));", "GK004", "8.0.12", true },
        { "ALTER TABLE orders ADD COLUMN token BINARY(16) DEFAULT (UUID_TO_BIN(UUID()));", "GK004", "8.0.13", false },
        { "ALTER TABLE orders ADD COLUMN token BINARY(16) DEFAULT (UUID_TO_BIN(UUID()));", "GK004", "8.0.14", false },
        { "CREATE TABLE t (id BIGINT PRIMARY KEY, price INT DEFAULT (1 + 1));", "GK004", "10.2.0-MariaDB", true },
        { "CREATE TABLE t (id BIGINT PRIMARY KEY, price INT DEFAULT (1 + 1));", "GK004", "10.2.1-MariaDB", false },
        { "CREATE TABLE t (id BIGINT PRIMARY KEY, created DATETIME DEFAULT CURRENT_TIMESTAMP, n INT DEFAULT 0);", "GK004", "8.0.12", false },
        // CHECK: parsed and ignored before MySQL 8.0.16 (MariaDB 10.2.1), enforced from then on.
        { "CREATE TABLE t (id BIGINT PRIMARY KEY, total INT, CONSTRAINT t_total CHECK (total >= 0));", "GK614", "8.0.15", true },
        { "CREATE TABLE t (id BIGINT PRIMARY KEY, total INT, CONSTRAINT t_total CHECK (total >= 0));", "GK614", "8.0.16", false },
        { "CREATE TABLE t (id BIGINT PRIMARY KEY, total INT, CONSTRAINT t_total CHECK (total >= 0));", "GK614", "8.0.17", false },
        { "ALTER TABLE orders ADD CONSTRAINT orders_total CHECK (total >= 0);", "GK614", "10.2.0-MariaDB", true },
        { "ALTER TABLE orders ADD CONSTRAINT orders_total CHECK (total >= 0);", "GK614", "10.2.1-MariaDB", false },
        { "ALTER TABLE orders ADD CONSTRAINT orders_total CHECK (total >= 0);", "GK310", "8.0.15", false },
        { "ALTER TABLE orders ADD CONSTRAINT orders_total CHECK (total >= 0);", "GK310", "8.0.16", true },
        // DROP CHECK: MySQL from 8.0.16, never MariaDB; DROP CONSTRAINT: MySQL from 8.0.19.
        { "ALTER TABLE orders DROP CHECK orders_total;", "GK004", "8.0.15", true },
        { "ALTER TABLE orders DROP CHECK orders_total;", "GK004", "8.0.16", false },
        { "ALTER TABLE orders DROP CHECK orders_total;", "GK004", "8.0.17", false },
        { "ALTER TABLE orders DROP CHECK orders_total;", "GK004", "10.11.6-MariaDB-0+deb12u1", true },
        { "ALTER TABLE orders DROP CONSTRAINT orders_total;", "GK004", "8.0.18", true },
        { "ALTER TABLE orders DROP CONSTRAINT orders_total;", "GK004", "8.0.19", false },
        { "ALTER TABLE orders DROP CONSTRAINT orders_total;", "GK004", "8.0.20", false },
        { "ALTER TABLE orders DROP CONSTRAINT orders_total;", "GK004", "5.5.5-10.11.6-MariaDB", false },
        // ALGORITHM=INSTANT demanded where the server cannot: the ALTER fails.
        { "ALTER TABLE orders DROP COLUMN note, ALGORITHM=INSTANT;", "GK004", "8.0.28", true },
        { "ALTER TABLE orders DROP COLUMN note, ALGORITHM=INSTANT;", "GK004", "8.0.29", false },
        { "ALTER TABLE orders ADD COLUMN note INT, ALGORITHM=INSTANT;", "GK004", "8.0.11", true },
        { "ALTER TABLE orders ADD COLUMN note INT, ALGORITHM=INSTANT;", "GK004", "8.0.12", false },
        { "ALTER TABLE orders ADD COLUMN note INT AFTER id, ALGORITHM=NOCOPY;", "GK004", "10.3.39-MariaDB", true },
        { "ALTER TABLE orders ADD COLUMN note INT AFTER id, ALGORITHM=NOCOPY;", "GK004", "10.4.0-MariaDB", false },
        { "ALTER TABLE orders ADD COLUMN note INT, ALGORITHM=NOCOPY;", "GK004", "8.0.36", true },
        { "ALTER TABLE orders ADD COLUMN note INT, ALGORITHM=INSTANT;", "GK004", "10.3.6-MariaDB", true },
        { "ALTER TABLE orders ADD COLUMN note INT, ALGORITHM=INSTANT;", "GK004", "10.3.7-MariaDB", false },
        // MySQL takes ALGORITHM=INPLACE literally and rebuilds; MariaDB's INPLACE includes instant.
        { "ALTER TABLE orders ADD COLUMN note INT, ALGORITHM=INPLACE, LOCK=NONE;", "GK312", "8.0.36", true },
        { "ALTER TABLE orders ADD COLUMN note INT, ALGORITHM=INPLACE, LOCK=NONE;", "GK312", "10.11.6-MariaDB", false },
    };

    [Theory]
    [MemberData(nameof(Boundaries))]
    public void Version_dependent_rules_turn_at_their_exact_version(string sql, string rule, string version, bool fires)
    {
        var report = OnServer(version, sql);

        if (fires)
        {
            var finding = report.Single(rule);
            var server = ServerVersion.Parse(version)!;
            // The finding names the version it assumed.
            Assert.Contains($"{(server.IsMariaDb ? "MariaDB" : "MySQL")} {server.Major}.{server.Minor}.{server.Patch}", finding.Message, StringComparison.Ordinal);
        }
        else
        {
            report.AssertSilent(rule);
        }
    }

    [Fact]
    public void A_rebuild_finding_says_which_version_it_assumed_and_where_the_change_becomes_instant()
    {
        var message = OnServer("8.0.28", "ALTER TABLE orders ADD COLUMN note INT AFTER id;").Single("GK312").Message;

        Assert.Equal(
            "adding column note to orders: MySQL 8.0.28 rebuilds the table for a column placed with AFTER/FIRST (instant anywhere from MySQL 8.0.29; drop AFTER/FIRST to add it last, instantly)",
            message);
    }

    [Fact]
    public void DROP_CHECK_is_an_error_for_MariaDB_and_a_warning_that_may_change_when_the_server_is_unknown()
    {
        const string Sql = "ALTER TABLE orders DROP CHECK orders_total;";

        var mariaDb = OnServer("10.11.6-MariaDB-0+deb12u1", Sql).Single("GK004");
        var unknown = LintKit.MySql(Sql).Single("GK004");

        Assert.Equal(LintSeverity.Error, mariaDb.Severity);
        Assert.Contains("write DROP CONSTRAINT orders_total", mariaDb.Message, StringComparison.Ordinal);
        Assert.Equal(LintSeverity.Warning, unknown.Severity);
        Assert.True(unknown.MayChangeWithLiveSchema);
        Assert.Contains("No server version is known", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_server_version_column_changes_are_judged_as_a_current_server_does_them()
    {
        var report = LintKit.MySql("ALTER TABLE orders ADD COLUMN note INT AFTER id;\nALTER TABLE orders DROP COLUMN legacy;\nALTER TABLE orders ADD COLUMN token BINARY(16) DEFAULT (UUID_TO_BIN(UUID()));");

        report.AssertSilent("GK312");
        report.AssertSilent("GK004");
        report.AssertFires("GK102");
    }

    [Fact]
    public void Changes_to_a_table_created_in_the_same_rollout_are_not_rebuild_hazards()
    {
        OnServer("8.0.11", "CREATE TABLE notes (id BIGINT PRIMARY KEY);\nALTER TABLE notes ADD COLUMN body TEXT;\nALTER TABLE notes DROP COLUMN body;")
            .AssertSilent("GK312");
    }

    [Theory]
    [InlineData("8.0.36", 8, 0, 36, false)]
    [InlineData("8.0.36-0ubuntu0.22.04.1", 8, 0, 36, false)]
    [InlineData("8.0.36-28", 8, 0, 36, false)]
    [InlineData("5.7.44-log", 5, 7, 44, false)]
    [InlineData("10.11.6-MariaDB-0+deb12u1", 10, 11, 6, true)]
    [InlineData("5.5.5-10.11.6-MariaDB", 10, 11, 6, true)]
    [InlineData("5.5.5-10.11.6-MariaDB-0+deb12u1-log", 10, 11, 6, true)]
    [InlineData(" 11.4.2-MariaDB-ubu2404 ", 11, 4, 2, true)]
    public void Real_version_strings_keep_the_patch_level(string text, int major, int minor, int patch, bool mariaDb)
    {
        var parsed = ServerVersion.Parse(text);

        Assert.NotNull(parsed);
        Assert.Equal((major, minor, patch, mariaDb, true), (parsed.Major, parsed.Minor, parsed.Patch, parsed.IsMariaDb, parsed.PatchKnown));
    }

    [Fact]
    public void A_version_without_its_patch_level_says_so()
    {
        var parsed = ServerVersion.Parse("8.0")!;

        Assert.False(parsed.PatchKnown);
        Assert.Equal("8.0", parsed.Numbers);
    }

    [Theory]
    [InlineData("8.0.mysql_aurora.3.05.2")]
    [InlineData("MySQL")]
    [InlineData("99999999999.1")]
    public void An_unreadable_version_is_one_sentence_that_names_it(string text)
    {
        Assert.Null(ServerVersion.Parse(text));
        var sentence = ServerVersion.Unreadable(text, "the server's VERSION()");

        Assert.StartsWith($"the server's VERSION() '{text}' is not a server version", sentence, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', sentence);
    }
}
