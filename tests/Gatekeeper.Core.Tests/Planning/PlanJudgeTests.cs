using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Planning;

/// <summary>The one plan verdict as a decision table: each row a situation and what the webhook, plan and migrate must answer.</summary>
public sealed class PlanJudgeTests
{
    private static readonly DatabaseIdentity Database = new("postgres", "db.internal", 5432, "shop", "gatekeeper_schema_history");

    private static Migration Versioned(string version, string sql) => Make(version, MigrationKind.Versioned, sql, $"V{version}__step.sql");

    private static Migration Repeatable(string id, string sql) => Make(id, MigrationKind.Repeatable, sql, $"R__{id}.sql");

    private static Migration Make(string id, MigrationKind kind, string sql, string file)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        var version = kind == MigrationKind.Versioned ? MigrationVersion.Parse(id) : MigrationVersion.Parse("0");
        return new Migration(id, version, "step", kind, file, sql, 1, null, true, Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes);
    }

    private static readonly Migration Create = Versioned("1", "create table users (id bigint primary key, email text);");
    private static readonly Migration Safe = Versioned("2", "create table orders (id bigint primary key);");
    private static readonly Migration DropColumn = Versioned("3", "alter table users drop column email;");
    private static readonly Migration AllowedDrop = Versioned("3", "-- gatekeeper:allow GK102 the app stopped reading it in 4.2\nalter table users drop column email;");
    private static readonly Migration Third = Versioned("3", "create table lines (id bigint primary key);");
    private static readonly Migration View = Repeatable("views", "create or replace view v as select 1;");
    private static readonly Migration OtherView = Repeatable("zviews", "create or replace view z as select 2;");

    private static MigrationPlan Plan(Migration[] applied, params Migration[] pending)
    {
        var directory = new MigrationDirectory("test", MigrationFormat.Flyway, [.. applied, .. pending], false);
        var history = new HistoryState("gatekeeper_schema_history", HistoryTableKind.Gatekeeper, true,
            applied.Select(m => new AppliedMigration(m.Id, m.Description, m.Checksum, MigrationChecksums.Sha256, DateTimeOffset.UnixEpoch, TimeSpan.Zero, false)).ToList());
        return MigrationPlanner.Plan(directory, history, Database);
    }

    private static MigrationPlan Drifted()
    {
        var directory = new MigrationDirectory("test", MigrationFormat.Flyway, [Create, Safe], false);
        var history = new HistoryState("gatekeeper_schema_history", HistoryTableKind.Gatekeeper, true,
            [new AppliedMigration("1", "step", "0000", MigrationChecksums.Sha256, DateTimeOffset.UnixEpoch, TimeSpan.Zero, false)]);
        return MigrationPlanner.Plan(directory, history, Database);
    }

    private static readonly MigrationPlan SafePlan = Plan([Create], Safe);
    private static readonly MigrationPlan UnsafePlan = Plan([Create, Safe], DropColumn);
    private static readonly MigrationPlan EmptyPlan = Plan([Create, Safe]);

    /// <summary>One row: the evidence, and the outcome, reason and words the verdict must carry.</summary>
    public sealed record Case(
        MigrationPlan Plan,
        VerdictAudience Audience,
        PlanVerdictOutcome Outcome,
        string Reason,
        string[] MessageSays,
        string[]? WarningsSay = null,
        string[]? Allow = null,
        Func<MigrationPlan, string?>? Approve = null,
        Func<MigrationPlan, PlanExpectation?>? Expect = null,
        DryRunEvidence? DryRun = null,
        string? SchemaProblem = null,
        string? ServerVersionProblem = null,
        bool Undecidable = false,
        bool Approved = false,
        PreflightEvidence? Preflight = null,
        LockPreflightPolicy LockPolicy = LockPreflightPolicy.Deny);

    private static readonly SourceLocation OrdersAt = new("V2__step.sql", 1, 1);

    private static readonly LockBlocker IdleReader = new("pid 4242", "reporting", "idle in transaction", TimeSpan.FromSeconds(754), "AccessShareLock", new TableName("public", "orders"), Waiting: false);

    private static readonly DataCheck UniqueEmail = new(DataCheckKind.Unique, new TableName(null, "users"), ["email"], OrdersAt, "UNIQUE INDEX users_email (email)");

    private static PreflightEvidence.Ran Saw(LockBlocker[]? blockers = null, InvalidIndex[]? invalid = null, string[]? lockNotes = null, DataViolation[]? violations = null, string[]? notChecked = null) =>
        new PreflightEvidence.Ran(new LockPreflight(blockers ?? [], invalid ?? [], lockNotes ?? []), new DataPrechecks(violations ?? [], notChecked ?? []));

    private static readonly DryRunEvidence ShadowFailed = new DryRunEvidence.Failed("on postgres://db.internal:5432/shop (in a transaction that was rolled back)", "V2__step.sql:1:1", "relation \"x\" does not exist");

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["A plan with drift is blocked for every audience and cannot be approved"] = new(
            Drifted(), VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.PlanBlocked,
            ["gatekeeper: rollout of team-a/shop blocked", "Drift V1__step.sql", "cannot be allowed or approved"], Approve: p => p.Hash),
        ["A blocked plan on the command line names the plan, not a rollout"] = new(
            Drifted(), VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.PlanBlocked, ["plan ", " for team-a/shop blocked"]),
        ["Nothing pending is admitted without warnings"] = new(
            EmptyPlan, VerdictAudience.Admission, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [], []),
        ["A safe plan at admission asks for its dry-run first"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.DryRunNeeded, PlanVerdictReasons.DryRunNeeded, [], DryRun: DryRunEvidence.Wanted),
        ["A safe plan that dry-ran is admitted with its summary and the dry-run's notes"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            ["applies 1 migration(s) (V2__step.sql)", "not checked by the dry-run: V2__step.sql:1:1: CONCURRENTLY"],
            DryRun: new DryRunEvidence.Succeeded(["V2__step.sql:1:1: CONCURRENTLY"])),
        ["A plan with dry-run none is admitted with a warning that says so"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [], ["the plan was not dry-run (gatekeeper.dev/dry-run: none)"],
            DryRun: new DryRunEvidence.NotRun("gatekeeper.dev/dry-run: none")),
        ["A blocking finding rejects the rollout and says how to allow it by annotation"] = new(
            UnsafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.LintRejected,
            ["gatekeeper: plan ", "is unsafe: 1 blocking finding in V3__step.sql", "GK102 V3__step.sql:1:", "gatekeeper.dev/allow: \"GK102\"", "gatekeeper.dev/approve-plan: \""],
            DryRun: DryRunEvidence.Wanted),
        ["A blocking finding on the command line says how to allow it by flag"] = new(
            UnsafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.LintRejected,
            ["is unsafe: 1 blocking finding", "--allow GK102", "--approve-plan ", "-- gatekeeper:allow RULE <reason>"]),
        ["An allow rule admits the finding, which stays a warning"] = new(
            UnsafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [], ["GK102", "[allowed: allowed by the gatekeeper.dev/allow annotation]"],
            Allow: ["GK102"], DryRun: new DryRunEvidence.Succeeded([])),
        ["An allowed category admits the finding too"] = new(
            UnsafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [], [], Allow: ["destructive"]),
        ["An inline allow admits the statement it precedes"] = new(
            Plan([Create, Safe], AllowedDrop), VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [], []),
        ["An approved hash admits exactly that plan and says it was approved"] = new(
            UnsafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            ["is approved by gatekeeper.dev/approve-plan despite 1 blocking finding(s)"], Approve: p => p.Hash, DryRun: new DryRunEvidence.Succeeded([]), Approved: true),
        ["An approval of another plan does not admit this one"] = new(
            UnsafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.LintRejected, ["is unsafe"], Approve: _ => SafePlan.Hash),
        ["An approval on the command line names the flag"] = new(
            UnsafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [], ["is approved by --approve-plan"], Approve: p => p.Hash, Approved: true),
        ["A failed dry-run rejects with where it failed"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.DryRunFailed,
            ["gatekeeper: plan ", "failed its dry-run on postgres://db.internal:5432/shop (in a transaction that was rolled back)", "V2__step.sql:1:1: relation \"x\" does not exist", "nothing was applied"],
            DryRun: ShadowFailed),
        ["A dry-run that could not reach the database is undecidable"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.DatabaseUnreachable, ["database unreachable: db.internal:5432"],
            DryRun: new DryRunEvidence.Unreachable("database unreachable: db.internal:5432 refused the connection"), Undecidable: true),
        ["A lint rejection comes before the dry-run's result"] = new(
            UnsafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.LintRejected, ["is unsafe"], DryRun: ShadowFailed),
        ["An unreadable live schema is a warning, not a verdict"] = new(
            SafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            ["the live schema could not be read (permission denied for pg_class): findings were judged from the migration text alone"], SchemaProblem: "permission denied for pg_class"),
        ["A server version that cannot be read is one warning sentence, not a verdict"] = new(
            SafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            ["the server's VERSION() '8.0.mysql_aurora.3.05.2' is not a server version Gatekeeper can read"],
            ServerVersionProblem: Gatekeeper.Core.Sql.ServerVersion.Unreadable("8.0.mysql_aurora.3.05.2", "the server's VERSION()")),
        ["A pod template stamped with another plan is stale at admission"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.StaleStamp,
            ["gatekeeper: the pod template of team-a/shop carries plan 0000 but the plan is now", "apply again"], Expect: _ => new PlanExpectation("0000", false)),
        ["A stamp without a plan is stale when something is pending now"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.StaleStamp, ["carries plan (none)"], Expect: _ => new PlanExpectation(null, false)),
        ["A stamp without a plan matches nothing pending"] = new(
            EmptyPlan, VerdictAudience.Admission, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [], Expect: _ => new PlanExpectation(null, false)),
        ["The expected plan is applied by the runner even with a finding the webhook allowed"] = new(
            UnsafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [], ["is the expected plan (--expect-plan)"],
            Expect: p => new PlanExpectation(p.Hash, true), Approved: true),
        ["Another plan than the expected one is refused and nothing applies"] = new(
            SafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.PlanChanged,
            ["refusing to apply plan ", "1 pending: V2__step.sql", "--expect-plan names plan 000000000000", "nothing was applied", "gatekeeper plan"],
            Expect: _ => new PlanExpectation(new string('0', 64), true)),
        ["The rest of the expected plan, after an earlier attempt applied its first part, is accepted"] = new(
            Plan([Create, Safe], Third), VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            Expect: _ => new PlanExpectation(Plan([Create], Safe, Third).Hash, true)),
        ["The rest of an expected plan that ended with repeatables is accepted"] = new(
            Plan([Create, Safe, View], OtherView), VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            Expect: _ => new PlanExpectation(Plan([Create], Safe, View, OtherView).Hash, true)),
        ["A plan that only shares its end with the expected one is refused"] = new(
            Plan([Create, Safe], Third), VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.PlanChanged, ["refusing to apply"],
            Expect: _ => new PlanExpectation(Plan([Create], DropColumn, Third).Hash, true)),
        ["The rest of a plan that started from another history is refused"] = new(
            Plan([Create, Safe], Third), VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.PlanChanged, ["refusing to apply"],
            Expect: _ => new PlanExpectation(Plan([], Safe, Third).Hash, true)),
        ["A runner handed the release key the webhook stamped applies the plan it names"] = new(
            UnsafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [], ["is the expected plan (--expect-plan)"],
            Expect: p => new PlanExpectation(PlanKeys.ReleaseKey(Database with { User = "reader", Host = "replica.internal" }, p.Hash), true), Approved: true),
        ["A runner handed the rest of a plan by its release key resumes it"] = new(
            Plan([Create, Safe], Third), VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            Expect: _ => new PlanExpectation(Plan([Create], Safe, Third).ReleaseKey, true)),
        ["A runner handed a stamp written before hash version 3 applies the plan it names"] = new(
            SafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            Expect: p => new PlanExpectation(p.LegacyHash, true)),
        ["A stamp written before hash version 3 is not stale at admission"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            Expect: p => new PlanExpectation(p.LegacyHash, false)),
        ["An admission stamp must be this plan's release key, not its plan hash"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.StaleStamp, ["carries plan"],
            Expect: p => new PlanExpectation(p.Hash, false)),
        ["An admission stamp for the same plan on another database is stale"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.StaleStamp, ["carries plan"],
            Expect: p => new PlanExpectation(PlanKeys.ReleaseKey(Database with { Database = "shop_restored" }, p.Hash), false)),
        ["Nothing left of the expected plan is success for a runner"] = new(
            EmptyPlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            Expect: _ => new PlanExpectation(Plan([Create], Safe).Hash, true)),
        ["An admission stamp never accepts a remainder"] = new(
            Plan([Create, Safe], Third), VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.StaleStamp, ["carries plan"],
            Expect: _ => new PlanExpectation(Plan([Create], Safe, Third).ReleaseKey, false)),
        ["An open transaction on a plan's table denies the rollout with the blocker named, before any dry-run, also with a cached one"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.LocksBlocked,
            ["gatekeeper: plan ", "would wait for its locks behind 1 open transaction on shop",
             "pid 4242 (user reporting) holds AccessShareLock on public.orders, idle in transaction, transaction open for 12m34s",
             "end those transactions", "gatekeeper.dev/lock-preflight: \"warn\"", "Nothing was applied"],
            DryRun: new DryRunEvidence.Succeeded([]), Preflight: Saw(blockers: [IdleReader])),
        ["Blockers on the command line name the flag that admits them"] = new(
            SafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.LocksBlocked, ["--lock-preflight warn"],
            Preflight: Saw(blockers: [IdleReader])),
        ["With lock-preflight warn the blockers are warnings"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Admit, PlanVerdictReasons.Planned, [],
            ["gatekeeper: the plan's locks would wait behind an open transaction: pid 4242 (user reporting)"],
            DryRun: new DryRunEvidence.Succeeded([]), Preflight: Saw(blockers: [IdleReader]), LockPolicy: LockPreflightPolicy.Warn),
        ["Rows that would fail a change deny, and no approval makes them pass"] = new(
            UnsafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.ExistingRowsViolate,
            ["would fail on rows already in shop\n",
             "V2__step.sql:1:1: UNIQUE INDEX users_email (email) on users fails on existing rows: rows share a value of email, e.g. the row with id = 7",
             "fix the data first", "nothing was applied"],
            Approve: p => p.Hash, DryRun: DryRunEvidence.Wanted, Preflight: Saw(violations: [new DataViolation(UniqueEmail, "id = 7")])),
        ["Rows that would fail come before blockers"] = new(
            SafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.ExistingRowsViolate, ["fix the data first"],
            Preflight: Saw(blockers: [IdleReader], violations: [new DataViolation(UniqueEmail, null)])),
        ["Rows that would fail come before lint findings, which an allow could get past"] = new(
            UnsafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.ExistingRowsViolate, ["fix the data first"],
            Preflight: Saw(violations: [new DataViolation(UniqueEmail, null)])),
        ["A lint rejection comes before blockers"] = new(
            UnsafePlan, VerdictAudience.CommandLine, PlanVerdictOutcome.Reject, PlanVerdictReasons.LintRejected, ["is unsafe"],
            Preflight: Saw(blockers: [IdleReader])),
        ["What the pre-flight could not see or check, and INVALID indexes, are warnings; the dry-run is still asked for"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.DryRunNeeded, PlanVerdictReasons.DryRunNeeded, [],
            ["gatekeeper: index users_email on public.users is INVALID", "gatekeeper: the lock pre-flight did not see everything: user app may not",
             "gatekeeper: V2__step.sql:1:1: UNIQUE was not checked"],
            DryRun: DryRunEvidence.Wanted,
            Preflight: Saw(invalid: [new InvalidIndex(new TableName("public", "users"), "users_email")], lockNotes: ["user app may not see other sessions' transactions"],
                notChecked: ["V2__step.sql:1:1: UNIQUE was not checked against existing rows: the query did not finish within 2 s"])),
        ["A pre-flight that could not reach the database is undecidable"] = new(
            SafePlan, VerdictAudience.Admission, PlanVerdictOutcome.Reject, PlanVerdictReasons.DatabaseUnreachable,
            ["the pre-flight of plan ", "could not look at shop: db.internal:5432 did not answer in time", "retry the apply"],
            DryRun: new DryRunEvidence.Succeeded([]), Preflight: new PreflightEvidence.Unreachable("db.internal:5432 did not answer in time"), Undecidable: true),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_verdict_follows_the_decision_table(string name)
    {
        var row = Cases[name];
        var lint = row.Plan.IsEmpty || row.Plan.IsBlocked ? null : Linter.Lint(row.Plan.Pending, SqlDialect.Postgres, new LintOptions { Allow = row.Allow ?? [] });
        var verdict = PlanJudge.Judge(new PlanEvidence
        {
            Plan = row.Plan,
            Audience = row.Audience,
            Subject = "team-a/shop",
            Lint = lint,
            ApprovedPlanHash = row.Approve?.Invoke(row.Plan),
            Expected = row.Expect?.Invoke(row.Plan),
            DryRun = row.DryRun ?? DryRunEvidence.None,
            SchemaProblem = row.SchemaProblem,
            ServerVersionProblem = row.ServerVersionProblem,
            Preflight = row.Preflight ?? PreflightEvidence.None,
            LockPolicy = row.LockPolicy,
        });

        Assert.Equal(row.Outcome, verdict.Outcome);
        Assert.Equal(row.Reason, verdict.Reason);
        Assert.Equal(row.Undecidable, verdict.Undecidable);
        Assert.Equal(row.Approved, verdict.Approved);
        Assert.Equal(row.Outcome == PlanVerdictOutcome.Reject, verdict.Message is not null);
        foreach (var words in row.MessageSays)
        {
            Assert.Contains(words, verdict.Message, StringComparison.Ordinal);
        }

        if (row.WarningsSay is { } expected)
        {
            if (expected.Length == 0 && row.Audience == VerdictAudience.CommandLine)
            {
                Assert.Empty(verdict.Warnings);
            }

            foreach (var words in expected)
            {
                Assert.Contains(verdict.Warnings, w => w.Contains(words, StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public void Every_rejection_on_the_command_line_ends_with_what_to_do()
    {
        foreach (var (name, row) in Cases.Where(c => c.Value.Audience == VerdictAudience.CommandLine && c.Value.Outcome == PlanVerdictOutcome.Reject))
        {
            var lint = row.Plan.IsEmpty || row.Plan.IsBlocked ? null : Linter.Lint(row.Plan.Pending, SqlDialect.Postgres);
            var verdict = PlanJudge.Judge(new PlanEvidence
            {
                Plan = row.Plan, Audience = row.Audience, Subject = "shop", Lint = lint, Expected = row.Expect?.Invoke(row.Plan), ApprovedPlanHash = row.Approve?.Invoke(row.Plan),
                Preflight = row.Preflight ?? PreflightEvidence.None,
            });
            Assert.False(verdict.Message!.StartsWith("gatekeeper:", StringComparison.Ordinal), name);
            Assert.Matches("(To proceed|To allow it|Run `gatekeeper plan`)", verdict.Message);
        }
    }

    [Fact]
    public void A_plan_with_pending_migrations_cannot_be_judged_without_its_lint()
    {
        Assert.Throws<ArgumentException>(() => PlanJudge.Judge(new PlanEvidence { Plan = SafePlan, Audience = VerdictAudience.CommandLine, Subject = "shop" }));
    }

    [Fact]
    public void The_remainder_check_finds_the_split_after_many_applied_migrations()
    {
        var applied = Enumerable.Range(1, 300).Select(i => Versioned(i.ToString(System.Globalization.CultureInfo.InvariantCulture), $"create table t{i} (id int);")).ToArray();
        var pending = Versioned("301", "create table t301 (id int);");
        var plan = Plan(applied, pending);
        Assert.True(MigrationPlanner.IsRemainderOf(plan, Plan(applied[..^40], [.. applied[^40..], pending]).Hash));
        Assert.False(MigrationPlanner.IsRemainderOf(plan, Plan([], applied[0], pending).Hash));
    }
}
