using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Lint.Formatting;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;
using Xunit.Abstractions;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>
/// Every real migration directory in ../shared/corpora, linted file by file (each file as the one new migration, the
/// way a pull request is reviewed) and as one plan from an empty database. The hand-checked findings below were read
/// against their files and are right; they stay here so a regression that loses them fails.
/// </summary>
public sealed class CorpusLintTests(ITestOutputHelper output)
{
    public static TheoryData<string, SqlDialect> Directories => new()
    {
        { "goalert/postgres", SqlDialect.Postgres },
        { "hatchet/postgres", SqlDialect.Postgres },
        { "openmeter/postgres", SqlDialect.Postgres },
        { "kestra/postgres", SqlDialect.Postgres },
        { "supabase-postgres/postgres", SqlDialect.Postgres },
        { "kestra/mysql", SqlDialect.MySql },
        { "fineract/mysql", SqlDialect.MySql },
    };

    [Theory]
    [MemberData(nameof(Directories))]
    public async Task Every_corpus_lints_file_by_file_and_as_one_plan_with_findings_inside_their_files(string corpus, SqlDialect dialect)
    {
        var migrations = await ReadAsync(corpus);
        var lineCounts = migrations.ToDictionary(m => m.FileName, m => m.UpStartLine + m.UpSql.Count(c => c == '\n'), StringComparer.Ordinal);

        var fileByFile = migrations.SelectMany(m => Linter.Lint([m], dialect).Findings).ToList();
        var asOnePlan = Linter.Lint(migrations, dialect);

        Assert.True(asOnePlan.StatementCount > migrations.Count, $"{corpus}: only {asOnePlan.StatementCount} statements in {migrations.Count} migrations");
        foreach (var finding in fileByFile.Concat(asOnePlan.Findings))
        {
            Assert.True(lineCounts.TryGetValue(finding.Location.File, out var lines), $"{finding} names a file that is not a migration");
            Assert.InRange(finding.Location.Line, 1, lines);
            Assert.True(finding.Location.Column >= 1, finding.ToString());
            Assert.NotEqual(LintRules.SyntaxProblem, finding.Rule);
        }

        // A plan from an empty database creates its own tables, so it finds fewer locking hazards than files judged alone.
        Assert.True(asOnePlan.Findings.Count(f => f.Rule.Category == LintCategory.Locking) <= fileByFile.Count(f => f.Rule.Category == LintCategory.Locking));
        Assert.NotEmpty(LintReportFormatter.FormatHuman(asOnePlan));
        Assert.NotEmpty(LintReportFormatter.FormatJson(asOnePlan));
        LintReportFormatter.FormatGitHub(asOnePlan);

        output.WriteLine($"{corpus}: {migrations.Count} migrations, {asOnePlan.StatementCount} statements; file by file {fileByFile.Count} findings, as one plan {asOnePlan.Findings.Count}");
        foreach (var group in fileByFile.GroupBy(f => f.Rule).OrderBy(g => g.Key.Id, StringComparer.Ordinal))
        {
            output.WriteLine($"  {group.Key.Id} {group.Key.Name}: {group.Count()}");
        }
    }

    public static TheoryData<string, string, int, string> HandCheckedFindings => new()
    {
        // ADD CONSTRAINT … NOT VALID and VALIDATE CONSTRAINT in one transactional file: the lock lasts through the scan.
        { "openmeter/postgres", "20260319155747_tax-code-fk.up.sql", 5, "GK507" },
        // ADD COLUMN … NOT NULL DEFAULT FALSE then DROP DEFAULT: the running version's inserts omit the column and fail.
        { "openmeter/postgres", "20250108103427_billing-profile-progressive-billing-flag.up.sql", 5, "GK205" },
        // UPDATE … WHERE deleted_at IS NOT NULL after ALTER TABLE customers ADD COLUMN in the same transaction.
        { "openmeter/postgres", "20250130034713_customer_key.up.sql", 9, "GK503" },
        // The file's own BEGIN inside the runner's transaction.
        { "openmeter/postgres", "20260527120000_dedupe_tax_codes_by_app_mapping.up.sql", 10, "GK504" },
        // DELETE FROM plan_phases without WHERE (the authors silenced Atlas with atlas:nolint destructive).
        { "openmeter/postgres", "20250103121359_plan-phase-duration.up.sql", 3, "GK106" },
        // ALTER TABLE goalert_user RENAME TO users.
        { "goalert/postgres", "20170428154209-users-table.sql", 12, "GK201" },
        // ADD COLUMN id BIGSERIAL fills every existing row from a sequence.
        { "goalert/postgres", "20180816095055-add-row-ids.sql", 6, "GK308" },
        // ADD COLUMN closed_at … NOT NULL without a default: the running version's inserts fail.
        { "goalert/postgres", "20220317153438-alert-metrics-add-closed-at.sql", 9, "GK204" },
        // CREATE INDEX CONCURRENTLY IF NOT EXISTS keeps an INVALID index on retry.
        { "hatchet/postgres", "20240703194656_v0.35.1.sql", 4, "GK508" },
        // ALTER TYPE … RENAME VALUE inside a DO block.
        { "kestra/postgres", "V1_22__flow_with_source.sql", 4, "GK203" },
        // A STORED generated column rewrites flows (PostgreSQL) / copies it (MySQL).
        { "kestra/postgres", "V1_5__multitenant.sql", 1, "GK308" },
        { "kestra/mysql", "V1_4__multitenant.sql", 1, "GK310" },
        // CHANGE nominal_interest_rate_per_period nominal_annual_interest_rate: a rename.
        { "fineract/mysql", "V5__update-savings-product-and-account-tables.sql", 22, "GK202" },
    };

    [Theory]
    [MemberData(nameof(HandCheckedFindings))]
    public async Task A_hand_checked_real_finding_is_reported(string corpus, string file, int line, string rule)
    {
        var migrations = await ReadAsync(corpus);
        var migration = migrations.Single(m => m.FileName == file);
        var dialect = corpus.EndsWith("/mysql", StringComparison.Ordinal) ? SqlDialect.MySql : SqlDialect.Postgres;

        var report = Linter.Lint([migration], dialect);

        Assert.True(report.Findings.Any(f => f.Rule.Id == rule && f.Location.Line == line), $"expected {rule} at {file}:{line}; found {LintKit.Describe(report)}");
    }

    [Theory]
    [MemberData(nameof(Directories))]
    public async Task Preparing_on_a_second_thread_gives_the_same_findings_in_the_same_order(string corpus, SqlDialect dialect)
    {
        var migrations = await ReadAsync(corpus);
        var secondThread = LintOptions.Default with { PrepareOnSecondThread = true, SecondThreadFromChars = 0 };
        // Every third file judged, the others replayed as history; and a cap, so the per-rule counting is compared too.
        var judged = migrations.Where((_, i) => i % 3 == 0).ToHashSet(ReferenceEqualityComparer.Instance);
        bool Judged(Migration m) => judged.Contains(m);

        foreach (var (judge, maxPerRule) in new (Func<Migration, bool>, int)[] { (_ => true, 0), (_ => true, 3), (Judged, 0), (Judged, 3) })
        {
            var alone = Linter.LintEachAsRollout(migrations, judge, dialect, LintOptions.Default, new LintCollector(maxPerRule));
            var paired = Linter.LintEachAsRollout(migrations, judge, dialect, secondThread, new LintCollector(maxPerRule));
            Assert.Equal(alone.Findings, paired.Findings);
            Assert.Equal(alone.RuleCounts, paired.RuleCounts);
            Assert.Equal((alone.StatementCount, alone.MigrationCount, alone.HistoryCount), (paired.StatementCount, paired.MigrationCount, paired.HistoryCount));
        }

        var plan = Linter.Lint(migrations, dialect);
        var planPaired = Linter.Lint(migrations, dialect, secondThread);
        Assert.NotEmpty(plan.Findings);
        Assert.Equal(plan.Findings, planPaired.Findings);
        Assert.Equal(plan.StatementCount, planPaired.StatementCount);
    }

    [Fact]
    public async Task Goalert_uses_new_enum_values_only_in_non_transactional_files_so_no_enum_finding_fires()
    {
        var migrations = await ReadAsync("goalert/postgres");

        Assert.DoesNotContain(Linter.Lint(migrations, SqlDialect.Postgres).Findings, f => f.Rule == LintRules.NewEnumValueInSameTransaction);
    }

    [Fact]
    public async Task Fineract_explicit_null_is_reported_as_dropping_not_null_not_as_a_silent_attribute_loss()
    {
        var migration = (await ReadAsync("fineract/mysql")).Single(m => m.FileName == "V9__add_min_max_constraint_column_to_loan_loanproduct.sql");

        var report = Linter.Lint([migration], SqlDialect.MySql);

        Assert.Contains(report.Findings, f => f.Rule == LintRules.DropNotNull && f.Location.Line == 38);
        Assert.DoesNotContain(report.Findings, f => f.Rule == LintRules.RedefineColumnDropsAttributes && f.Location.Line == 38);
    }

    /// <summary>Reads a corpus; files the reader rejects (fineract's single-underscore V366, which Flyway skips too) are left out.</summary>
    private static async Task<IReadOnlyList<Migration>> ReadAsync(string corpus)
    {
        var path = Path.Combine(Corpora.Root, corpus);
        var files = await new DirectoryMigrationSource(path).ReadFilesAsync(CancellationToken.None);
        var result = MigrationDirectoryReader.Read(path, files);
        if (!result.Succeeded)
        {
            var rejected = result.Problems.Select(p => p.File).ToHashSet(StringComparer.Ordinal);
            result = MigrationDirectoryReader.Read(path, files.Where(f => !rejected.Contains(f.Name)).ToList());
        }

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Directory!.Migrations;
    }
}
