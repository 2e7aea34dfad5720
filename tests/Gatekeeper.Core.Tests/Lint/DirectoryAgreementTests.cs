using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;
using static Gatekeeper.Core.Tests.Migrations.MigrationFiles;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>The linter judges a file the way its tool and Gatekeeper's runner will run it, transaction-wise.</summary>
public sealed class DirectoryAgreementTests
{
    private static LintReport LintDirectory(MigrationFormat? format, params (string Name, string Content)[] files) =>
        Linter.Lint(ReadValid(format, files).Migrations, SqlDialect.Postgres);

    [Fact]
    public void Leaving_the_runners_transaction_for_a_concurrent_index_and_reopening_it_is_not_a_finding()
    {
        var report = LintKit.Postgres("COMMIT;\nCREATE INDEX CONCURRENTLY users_email ON users (email);\nBEGIN;\n");

        Assert.Empty(report.Findings);
    }

    [Fact]
    public void Committing_work_of_the_runners_transaction_early_is_still_a_warning_but_the_reopened_one_is_not_left_open()
    {
        var report = LintKit.Postgres("UPDATE users SET plan = 'free' WHERE id = 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY users_email ON users (email);\nBEGIN;\n");

        report.AssertFires("GK504");
        report.AssertSilent("GK505");
        report.AssertSilent("GK501");
    }

    [Fact]
    public void A_transaction_left_open_in_a_file_without_the_runners_transaction_is_still_reported()
    {
        LintKit.Postgres("BEGIN;\nALTER TABLE users ADD COLUMN c int;\n", transactional: false).AssertFires("GK505");
    }

    [Fact]
    public void A_flyway_script_flyway_runs_outside_a_transaction_is_linted_outside_one()
    {
        var report = LintDirectory(null, ("V1__index.sql", "CREATE INDEX CONCURRENTLY users_email ON users (email);\n"));

        report.AssertSilent("GK501");
    }

    [Fact]
    public void A_flyway_reindex_concurrently_stays_in_flyways_transaction_and_the_linter_says_postgres_refuses_it()
    {
        var report = LintDirectory(null, ("V1__reindex.sql", "REINDEX TABLE CONCURRENTLY users;\n"));

        report.AssertFires("GK501");
    }

    [Fact]
    public void A_lone_concurrent_index_in_a_golang_migrate_file_is_linted_outside_a_transaction()
    {
        LintDirectory(null, ("1_index.up.sql", "CREATE INDEX CONCURRENTLY users_email ON users (email);\n")).AssertSilent("GK501");
        LintDirectory(null, ("1_index.up.sql", "SELECT 1;\nCREATE INDEX CONCURRENTLY users_email ON users (email);\n")).AssertFires("GK501");
    }

    [Fact]
    public void A_flyway_enum_value_script_is_judged_as_the_server_version_runs_it()
    {
        var migrations = ReadValid(null, ("V1__mood.sql", "ALTER TYPE mood ADD VALUE 'ecstatic';\nUPDATE people SET mood = 'ecstatic' WHERE id = 1;\n")).Migrations;

        Linter.Lint(migrations, SqlDialect.Postgres, new LintOptions { ServerMajorVersion = 16 }).AssertFires("GK502");
        Linter.Lint(migrations, SqlDialect.Postgres).AssertFires("GK502");
        Linter.Lint(migrations, SqlDialect.Postgres, new LintOptions { ServerMajorVersion = 11 }).AssertSilent("GK502");
    }
}
