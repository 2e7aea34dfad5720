using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;

namespace Gatekeeper.Core.Tests.Planning;

public sealed class MigrationPlannerTests
{
    private static readonly DatabaseIdentity Database = new("postgres", "db.internal", 5432, "shop", "gatekeeper_schema_history");

    private static Migration Versioned(string version, string sql = "select 1;", string? name = null) =>
        Make(version, MigrationKind.Versioned, sql, name ?? $"V{version}__step.sql");

    private static Migration Make(string id, MigrationKind kind, string sql, string file)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        var version = kind == MigrationKind.Versioned ? MigrationVersion.Parse(id) : MigrationVersion.Parse("0");
        return new Migration(id, version, "step", kind, file, sql, 1, null, true, Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes);
    }

    private static MigrationDirectory Directory(params Migration[] migrations) => new("test", MigrationFormat.Flyway, migrations, false);

    private static AppliedMigration Row(Migration migration, bool dirty = false) =>
        new(migration.Id, migration.Description, migration.Checksum, MigrationChecksums.Sha256, DateTimeOffset.UnixEpoch, TimeSpan.Zero, dirty);

    private static HistoryState History(params AppliedMigration[] rows) => new("gatekeeper_schema_history", HistoryTableKind.Gatekeeper, true, rows);

    [Fact]
    public void Plan_on_an_empty_database_lists_every_migration_in_order()
    {
        var one = Versioned("1");
        var two = Versioned("2");
        var ten = Versioned("10");

        var plan = MigrationPlanner.Plan(Directory(one, two, ten), HistoryState.Empty("h", HistoryTableKind.Gatekeeper), Database);

        Assert.Equal(["1", "2", "10"], plan.Pending.Select(m => m.Id));
        Assert.Empty(plan.Problems);
        Assert.Equal("10", plan.TargetVersion);
    }

    [Fact]
    public void Plan_skips_applied_migrations_and_keeps_new_ones()
    {
        var one = Versioned("1");
        var two = Versioned("2");

        var plan = MigrationPlanner.Plan(Directory(one, two), History(Row(one)), Database);

        Assert.Equal(["2"], plan.Pending.Select(m => m.Id));
        Assert.Equal(["1"], plan.Applied.Select(m => m.Id));
        Assert.False(plan.IsBlocked);
    }

    [Fact]
    public void Plan_reports_drift_when_an_applied_file_changed()
    {
        var original = Versioned("1", "create table a(id int);");
        var edited = Versioned("1", "create table a(id bigint);");

        var plan = MigrationPlanner.Plan(Directory(edited), History(Row(original)), Database);

        var problem = Assert.Single(plan.Problems);
        Assert.Equal(PlanProblemKind.Drift, problem.Kind);
        Assert.Contains("V1__step.sql changed after it was applied", problem.Message);
        Assert.True(plan.IsBlocked);
        Assert.Empty(plan.Pending);
    }

    [Fact]
    public void Plan_reports_a_missing_file_for_an_applied_version()
    {
        var one = Versioned("1");
        var two = Versioned("2");

        var plan = MigrationPlanner.Plan(Directory(two), History(Row(one), Row(two)), Database);

        var problem = Assert.Single(plan.Problems);
        Assert.Equal(PlanProblemKind.Missing, problem.Kind);
        Assert.Equal("1", problem.MigrationId);
    }

    [Fact]
    public void Plan_reports_a_new_file_below_the_latest_applied_version_as_out_of_order()
    {
        var one = Versioned("1");
        var late = Versioned("1.5");
        var two = Versioned("2");

        var plan = MigrationPlanner.Plan(Directory(one, late, two), History(Row(one), Row(two)), Database);

        var problem = Assert.Single(plan.Problems);
        Assert.Equal(PlanProblemKind.OutOfOrder, problem.Kind);
        Assert.Contains("sorts before 2", problem.Message);
        Assert.Equal(["1.5"], plan.Pending.Select(m => m.Id));
    }

    [Fact]
    public void Plan_refuses_to_continue_after_a_dirty_migration()
    {
        var one = Versioned("1");
        var two = Versioned("2");

        var plan = MigrationPlanner.Plan(Directory(one, two), History(Row(one, dirty: true)), Database);

        var problem = Assert.Single(plan.Problems);
        Assert.Equal(PlanProblemKind.Dirty, problem.Kind);
        Assert.Contains("gatekeeper repair --version 1", problem.Message);
    }

    [Fact]
    public void Plan_treats_versions_up_to_a_high_water_mark_as_applied()
    {
        var one = Versioned("20230101000000");
        var two = Versioned("20230102000000");
        var three = Versioned("20230103000000");
        var history = new HistoryState("schema_migrations", HistoryTableKind.GolangMigrate, true, [], AppliedThrough: "20230102000000");

        var plan = MigrationPlanner.Plan(Directory(one, two, three), history, Database);

        Assert.Equal(["20230103000000"], plan.Pending.Select(m => m.Id));
        Assert.Empty(plan.Problems);
    }

    [Fact]
    public void Plan_does_not_judge_drift_when_the_adopted_table_keeps_no_checksum()
    {
        var one = Versioned("1");
        var row = new AppliedMigration("1", null, null, null, null, null, false);

        var plan = MigrationPlanner.Plan(Directory(one), History(row), Database);

        Assert.Empty(plan.Problems);
        Assert.Empty(plan.Pending);
    }

    [Fact]
    public void Plan_reapplies_a_repeatable_migration_whose_checksum_changed()
    {
        var before = Make("refresh views", MigrationKind.Repeatable, "create or replace view v as select 1;", "R__refresh_views.sql");
        var after = Make("refresh views", MigrationKind.Repeatable, "create or replace view v as select 2;", "R__refresh_views.sql");

        var unchanged = MigrationPlanner.Plan(Directory(before), History(Row(before)), Database);
        var changed = MigrationPlanner.Plan(Directory(after), History(Row(before)), Database);

        Assert.Empty(unchanged.Pending);
        Assert.Equal(["refresh views"], changed.Pending.Select(m => m.Id));
        Assert.Empty(changed.Problems);
    }

    [Fact]
    public void Plan_hash_is_stable_and_names_what_is_applied_not_where()
    {
        var one = Versioned("1", "create table a(id int);");
        var empty = HistoryState.Empty("h", HistoryTableKind.Gatekeeper);

        var first = MigrationPlanner.Plan(Directory(one), empty, Database);
        var again = MigrationPlanner.Plan(Directory(Versioned("1", "create table a(id int);")), empty, Database);
        var otherContent = MigrationPlanner.Plan(Directory(Versioned("1", "create table b(id int);")), empty, Database);
        var elsewhere = new[]
        {
            Database with { Host = "ci-postgres" },
            Database with { Port = 6543 },
            Database with { Database = "shop_ci_1234" },
            Database with { User = "ci" },
            Database with { Schema = "billing" },
        }.Select(where => MigrationPlanner.Plan(Directory(one), empty, where)).ToList();

        Assert.Equal(first.Hash, again.Hash);
        Assert.Matches("^[0-9a-f]{64}$", first.Hash);
        Assert.NotEqual(first.Hash, otherContent.Hash);
        Assert.NotEqual(first.Hash, MigrationPlanner.Plan(Directory(one), empty, Database with { Engine = "mysql" }).Hash);
        Assert.NotEqual(first.Hash, MigrationPlanner.Plan(Directory(one), empty, Database with { HistoryTable = "flyway_schema_history" }).Hash);
        // The same plan from the same history, reached another way: one plan hash (an approval made on a CI copy holds),
        // one release key per database (a plan applied on one never releases the pods of another).
        Assert.All(elsewhere, plan => Assert.Equal(first.Hash, plan.Hash));
        Assert.Equal(elsewhere.Count + 1, elsewhere.Select(p => p.ReleaseKey).Append(first.ReleaseKey).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Plan_hash_differs_when_the_same_pending_migrations_start_from_another_history()
    {
        var one = Versioned("1", "create table a(id int);");
        var two = Versioned("2", "create table b(id int);");
        var three = Versioned("3", "create table c(id int);");

        // Both databases have only V3 pending, but one of them never had V2 (its files never held it).
        var withTwo = MigrationPlanner.Plan(Directory(one, two, three), History(Row(one), Row(two)), Database);
        var withoutTwo = MigrationPlanner.Plan(Directory(one, three), History(Row(one)), Database);
        var ahead = MigrationPlanner.Plan(Directory(one), History(Row(one), Row(two)), Database);
        var notAhead = MigrationPlanner.Plan(Directory(one), History(Row(one)), Database);

        Assert.Equal(withTwo.Pending, withoutTwo.Pending);
        Assert.NotEqual(withTwo.Hash, withoutTwo.Hash);
        Assert.NotEqual(ahead.Hash, notAhead.Hash);
        // Version 2 covered only the pending migrations and the database: it could not tell these apart.
        Assert.Equal(withTwo.LegacyHash, withoutTwo.LegacyHash);
    }

    [Fact]
    public void Plan_hash_and_release_key_are_the_documented_sha256_so_other_processes_can_recompute_them()
    {
        var one = Versioned("1", "select 1;");
        var two = Versioned("2", "select 2;");
        var plan = MigrationPlanner.Plan(Directory(one, two), History(Row(one)), Database);

        var planInput = "gatekeeper-plan/v3\npostgres\ngatekeeper_schema_history\napplied\n1\0" + one.Checksum + "\nahead\npending\n2\0" + two.Checksum + "\n";
        var planHash = Sha256(planInput);
        var whereInput = "gatekeeper-release/v3\npostgres\ndb.internal\n5432\nshop\n\n\ngatekeeper_schema_history\n" + planHash + "\n";
        var legacyInput = "gatekeeper-plan/v2\npostgres\ndb.internal\n5432\nshop\ngatekeeper_schema_history\n\n\n2\0" + two.Checksum + "\n";

        Assert.Equal(planHash, plan.Hash);
        Assert.Equal(planHash[..32] + "-" + Sha256(whereInput)[..24], plan.ReleaseKey);
        Assert.True(PlanKeys.IsReleaseKey(plan.ReleaseKey));
        Assert.Equal(Sha256(legacyInput), plan.LegacyHash);
        Assert.False(PlanKeys.IsReleaseKey(plan.LegacyHash!));

        static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Plan_judges_drift_against_a_flyway_crc32_recorded_by_flyway()
    {
        var applied = Versioned("1", "create table a(id int);\n");
        var flywayRow = new AppliedMigration("1", "step", MigrationChecksums.Compute(applied, MigrationChecksums.FlywayCrc32), MigrationChecksums.FlywayCrc32, null, null, false);
        var edited = Versioned("1", "create table a(id bigint);\n");
        var sameLinesOtherEndings = Versioned("1", "create table a(id int);\r\n");

        Assert.Equal(PlanProblemKind.Drift, Assert.Single(MigrationPlanner.Plan(Directory(edited), History(flywayRow), Database).Problems).Kind);
        // Flyway's checksum ignores line terminators, so a CRLF checkout of the same file is not drift.
        Assert.Empty(MigrationPlanner.Plan(Directory(sameLinesOtherEndings), History(flywayRow), Database).Problems);
    }

    [Fact]
    public void A_database_ahead_of_the_files_is_noted_not_blocked_when_nothing_is_pending()
    {
        // A rollback: the older files, a history that already has the newer migrations.
        var one = Versioned("1");
        var two = Versioned("2");
        var three = Versioned("3");

        var plan = MigrationPlanner.Plan(Directory(one, two), History(Row(one), Row(two), Row(three)), Database);

        Assert.Empty(plan.Problems);
        Assert.True(plan.IsEmpty);
        Assert.Equal(["3"], plan.Ahead);
        var verdict = PlanJudge.Judge(new PlanEvidence { Plan = plan, Audience = VerdictAudience.Admission, Subject = "shop/web" });
        Assert.True(verdict.Allowed);
        Assert.Contains("ahead of these migration files: 1 applied migration(s) have no file here (3)", Assert.Single(verdict.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_below_the_newest_or_beside_pending_work_still_blocks()
    {
        var one = Versioned("1");
        var two = Versioned("2");
        var three = Versioned("3");
        var four = Versioned("4");

        var hole = MigrationPlanner.Plan(Directory(one, three), History(Row(one), Row(two), Row(three)), Database);
        var aheadButPending = MigrationPlanner.Plan(Directory(one, two, four), History(Row(one), Row(two), Row(Versioned("5"))), Database);

        Assert.Equal(PlanProblemKind.Missing, Assert.Single(hole.Problems).Kind);
        Assert.Empty(hole.Ahead);
        Assert.Contains(aheadButPending.Problems, p => p.Kind == PlanProblemKind.Missing && p.MigrationId == "5");
        Assert.Empty(aheadButPending.Ahead);
    }
}
