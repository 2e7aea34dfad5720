using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>
/// A session SET does not cross migration files: <c>migrate</c> runs each file on a session of its own (the Databases
/// tests prove it on both servers), so the linter judges each file with its own session, in <c>plan</c>'s one rollout
/// and <c>lint --dir</c>'s file-by-file alike, and says so where an earlier file's SET would have changed a finding.
/// </summary>
public sealed class SessionAcrossFilesTests
{
    private const string AddForeignKey = "ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id);\n";

    [Fact]
    public void FOREIGN_KEY_CHECKS_turned_off_in_an_earlier_file_does_not_spare_a_later_foreign_key()
    {
        var off = LintKit.Migration("V1__checks_off.sql", "SET FOREIGN_KEY_CHECKS = 0;\n");
        var add = LintKit.Migration("V2__fk.sql", AddForeignKey);

        var plan = Linter.Lint([off, add], SqlDialect.MySql);
        var eachFile = Linter.LintEachAsRollout([off, add], _ => true, SqlDialect.MySql);

        foreach (var report in new[] { plan, eachFile })
        {
            var finding = report.Single("GK305");
            Assert.Equal("V2__fk.sql", finding.Location.File);
            Assert.Contains("the SET foreign_key_checks = 0 at V1__checks_off.sql:1", finding.Message, StringComparison.Ordinal);
            Assert.Contains("each migration file runs on a session of its own", finding.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void FOREIGN_KEY_CHECKS_turned_off_in_the_same_file_still_counts()
    {
        var add = LintKit.Migration("V2__fk.sql", "SET FOREIGN_KEY_CHECKS = 0;\n" + AddForeignKey + "SET FOREIGN_KEY_CHECKS = 1;\n");

        Linter.Lint([add], SqlDialect.MySql).AssertSilent("GK305");
    }

    [Fact]
    public void A_foreign_key_with_no_earlier_SET_carries_no_note()
    {
        var finding = Linter.Lint([LintKit.Migration("V2__fk.sql", AddForeignKey)], SqlDialect.MySql).Single("GK305");

        Assert.DoesNotContain("does not reach this file", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_UTC_time_zone_set_in_an_earlier_file_does_not_make_a_later_timestamptz_change_cheap()
    {
        var zone = LintKit.Migration("V1__zone.sql", "SET timezone = 'UTC';\n");
        var change = LintKit.Migration("V2__tz.sql", "ALTER TABLE events ALTER COLUMN created_at TYPE timestamptz;\n");

        var finding = Linter.Lint([zone, change], SqlDialect.Postgres).Single("GK301");

        Assert.Equal(LintSeverity.Error, finding.Severity);
        Assert.Contains("the SET timezone = utc at V1__zone.sql:1", finding.Message, StringComparison.Ordinal);
        // In the same file it is the cheaper index rebuild (HeldOutClassTests).
        var same = Linter.Lint([LintKit.Migration("V2__tz.sql", "SET timezone = 'UTC';\nALTER TABLE events ALTER COLUMN created_at TYPE timestamptz;\n")], SqlDialect.Postgres);
        Assert.Equal(LintSeverity.Warning, same.Single("GK301").Severity);
    }
}
