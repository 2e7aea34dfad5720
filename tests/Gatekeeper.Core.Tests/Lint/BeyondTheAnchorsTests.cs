using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>Hazards that squawk and Atlas miss or get wrong, each with a positive and a tricky negative per engine.</summary>
public sealed class BeyondTheAnchorsTests
{
    [Theory]
    [InlineData(SqlDialect.Postgres)]
    [InlineData(SqlDialect.MySql)]
    public void An_unbatched_update_or_delete_without_where_is_reported(SqlDialect dialect)
    {
        LintKit.Lint(dialect, "UPDATE orders SET archived = true;").AssertFires("GK309");
        LintKit.Lint(dialect, "DELETE FROM orders;").AssertFires("GK106");
    }

    [Theory]
    [InlineData(SqlDialect.Postgres, "UPDATE orders SET archived = true WHERE created_at < '2020-01-01';")]
    [InlineData(SqlDialect.MySql, "UPDATE orders SET archived = 1 WHERE id BETWEEN 1 AND 10000;")]
    [InlineData(SqlDialect.MySql, "DELETE FROM orders ORDER BY id LIMIT 5000;")]
    public void A_bounded_or_batched_update_or_delete_is_not_reported(SqlDialect dialect, string sql)
    {
        var report = LintKit.Lint(dialect, sql);

        report.AssertSilent("GK309");
        report.AssertSilent("GK106");
    }

    [Fact]
    public void A_backfill_in_the_transaction_of_a_strong_ddl_lock_names_the_ddl_that_holds_the_lock()
    {
        var report = LintKit.Postgres("ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free' WHERE plan IS NULL;");

        var finding = report.Single("GK503");
        Assert.Equal(2, finding.Location.Line);
        Assert.Contains("ALTER TABLE at V1__test.sql:1:1", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_backfill_names_the_first_lock_of_the_transaction_under_the_name_a_later_rename_gave_its_table()
    {
        var report = LintKit.Postgres("ALTER TABLE users ADD COLUMN plan text;\nALTER TABLE accounts ADD COLUMN tier int;\nALTER TABLE users ADD COLUMN note text;\n" +
                                      "ALTER TABLE users RENAME TO members;\nUPDATE accounts SET tier = 1;");

        var finding = report.Single("GK503");
        Assert.Contains("ALTER TABLE at V1__test.sql:1:1 holds its lock on members until", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_backfill_of_a_table_created_in_the_transaction_is_silent_only_while_every_lock_is_on_that_table()
    {
        // The existing t is locked, dropped and created anew: every lock is on (a table named) t, which is new now.
        const string recreated = "ALTER TABLE t ADD COLUMN c int;\nALTER TABLE t ADD COLUMN d int;\nDROP TABLE t;\nCREATE TABLE t (id int);\n";
        LintKit.Postgres(recreated + "UPDATE t SET id = 1;").AssertSilent("GK503");
        LintKit.Postgres("ALTER TABLE u ADD COLUMN c int;\n" + recreated + "UPDATE t SET id = 1;").AssertFires("GK503");
        // Renamed onto the name of the locked table, the other lock counts as a lock on that table too.
        LintKit.Postgres("ALTER TABLE u ADD COLUMN c int;\nALTER TABLE u RENAME TO t;\n" + recreated.Replace("ALTER TABLE t ADD COLUMN c int;\n", string.Empty, StringComparison.Ordinal) +
                         "UPDATE t SET id = 1;").AssertSilent("GK503");
    }

    [Fact]
    public void A_backfill_after_a_commit_or_on_mysql_is_not_under_the_ddl_lock()
    {
        LintKit.Postgres("BEGIN;\nALTER TABLE users ADD COLUMN plan text;\nCOMMIT;\nUPDATE users SET plan = 'free' WHERE plan IS NULL;", transactional: false).AssertSilent("GK503");
        // MySQL commits implicitly after DDL, so the backfill never runs under the ALTER's lock.
        LintKit.MySql("ALTER TABLE users ADD COLUMN plan TEXT;\nUPDATE users SET plan = 'free';").AssertSilent("GK503");
        // A targeted update is not a table-wide backfill.
        LintKit.Postgres("ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'pro' WHERE id = 42;").AssertSilent("GK503");
    }

    [Fact]
    public void Sql_inside_a_do_block_is_linted_at_its_real_position()
    {
        const string sql = "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'x') THEN\n    ALTER TABLE users DROP COLUMN email;\n  END IF;\nEND $$;";

        var finding = LintKit.Postgres(sql).Single("GK102");

        Assert.Equal(4, finding.Location.Line);
        Assert.Equal(23, finding.Location.Column);
        Assert.Equal("    ALTER TABLE users DROP COLUMN email;", finding.SourceLine);
    }

    [Fact]
    public void A_function_body_is_not_linted_because_creating_it_runs_nothing()
    {
        const string sql = "CREATE FUNCTION purge() RETURNS void AS $$\nBEGIN\n  DROP TABLE users;\n  DELETE FROM orders;\nEND\n$$ LANGUAGE plpgsql;";

        Assert.Empty(LintKit.Postgres(sql).Findings);
    }

    [Fact]
    public void A_concurrent_index_inside_a_do_block_is_reported_even_in_a_non_transactional_migration()
    {
        var report = LintKit.Postgres("DO $$ BEGIN CREATE INDEX CONCURRENTLY idx ON users (email); END $$;", transactional: false);

        Assert.Contains("DO block", report.Single("GK501").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sql_inside_a_mysql_executable_comment_is_linted_at_its_real_position()
    {
        var finding = LintKit.MySql("SELECT 1;\n/*!50100 ALTER TABLE users DROP COLUMN email */;").Single("GK102");

        Assert.Equal(2, finding.Location.Line);
        Assert.Equal(28, finding.Location.Column);
    }

    [Fact]
    public void A_plain_mysql_comment_is_not_executed_and_not_linted()
    {
        Assert.Empty(LintKit.MySql("/* ALTER TABLE users DROP COLUMN email */ SELECT 1;").Findings);
    }

    [Theory]
    [InlineData("/*!80000 ALTER TABLE t ALTER INDEX i INVISIBLE */;", "MariaDB skips it")]
    [InlineData("/*M!100400 ALTER TABLE t ADD COLUMN c INT */;", "only on MariaDB")]
    public void Executable_comments_whose_meaning_differs_between_mysql_and_mariadb_are_reported(string sql, string expected)
    {
        Assert.Contains(expected, LintKit.MySql(sql).Single("GK613").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_classic_mysqldump_executable_comments_are_not_reported()
    {
        Assert.Empty(LintKit.MySql("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n/*!50503 SET NAMES utf8mb4 */;\n/*!40014 SET FOREIGN_KEY_CHECKS=0 */;").Findings);
    }

    [Theory]
    [InlineData("CREATE INDEX CONCURRENTLY idx ON users (email);")]
    [InlineData("DROP INDEX CONCURRENTLY idx;")]
    [InlineData("REINDEX INDEX CONCURRENTLY idx;")]
    [InlineData("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;")]
    [InlineData("ALTER TABLE events DETACH PARTITION events_2020 FINALIZE;")]
    [InlineData("VACUUM users;")]
    [InlineData("VACUUM (FULL) users;")]
    [InlineData("CREATE DATABASE scratch;")]
    [InlineData("ALTER SYSTEM SET work_mem = '64MB';")]
    [InlineData("REINDEX SCHEMA public;")]
    public void Every_statement_that_cannot_run_in_a_transaction_is_reported_in_a_transactional_migration(string sql)
    {
        LintKit.Postgres(sql).AssertFires("GK501");
        LintKit.Postgres(sql, transactional: false).AssertSilent("GK501");
    }

    [Fact]
    public void A_statement_that_cannot_run_in_a_transaction_is_reported_inside_a_transaction_the_file_opens()
    {
        var finding = LintKit.Postgres("BEGIN;\nCREATE INDEX CONCURRENTLY idx ON users (email);\nCOMMIT;", transactional: false).Single("GK501");

        Assert.Contains("opened one at V1__test.sql:1:1", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_an_enum_value_in_a_transaction_is_reported_only_on_servers_before_postgresql_12()
    {
        const string sql = "ALTER TYPE mood ADD VALUE 'meh';";

        LintKit.Postgres(sql, options: new LintOptions { ServerMajorVersion = 11 }).AssertFires("GK501");
        LintKit.Postgres(sql, options: new LintOptions { ServerMajorVersion = 16 }).AssertSilent("GK501");
        LintKit.Postgres(sql).AssertSilent("GK501");
        // PostgreSQL 11 accepts ADD VALUE in the transaction that created the type.
        LintKit.Postgres("CREATE TYPE mood AS ENUM ('sad');\n" + sql, options: new LintOptions { ServerMajorVersion = 11 }).AssertSilent("GK501");
    }

    [Fact]
    public void A_new_enum_value_is_safe_to_use_in_a_later_migration_a_function_body_or_for_a_type_created_in_the_same_transaction()
    {
        var migrations = new[]
        {
            LintKit.Migration("V1__add_value.sql", "ALTER TYPE mood ADD VALUE 'ecstatic';"),
            LintKit.Migration("V2__use_value.sql", "UPDATE people SET mood = 'ecstatic' WHERE id = 1;"),
        };
        Linter.Lint(migrations, SqlDialect.Postgres).AssertSilent("GK502");

        LintKit.Postgres("ALTER TYPE mood ADD VALUE 'ecstatic';\nCREATE FUNCTION f() RETURNS text AS $$ SELECT 'ecstatic' $$ LANGUAGE sql;").AssertSilent("GK502");
        LintKit.Postgres("CREATE TYPE mood AS ENUM ('sad');\nALTER TYPE mood ADD VALUE 'ecstatic';\nCREATE TABLE people (mood mood DEFAULT 'ecstatic');").AssertSilent("GK502");
    }

    [Fact]
    public void A_new_enum_value_used_inside_a_do_block_of_the_same_transaction_is_reported()
    {
        LintKit.Postgres("ALTER TYPE mood ADD VALUE 'ecstatic';\nDO $$ BEGIN UPDATE people SET mood = 'ecstatic' WHERE id = 1; END $$;").AssertFires("GK502");
    }

    [Fact]
    public void Locks_taken_without_ddl_are_reported()
    {
        LintKit.Postgres("REFRESH MATERIALIZED VIEW daily_stats;").AssertFires("GK313");
        LintKit.Postgres("LOCK TABLE users IN SHARE MODE;").AssertFires("GK314");
        LintKit.Postgres("CREATE MATERIALIZED VIEW daily_stats AS SELECT 1;\nREFRESH MATERIALIZED VIEW daily_stats;").AssertSilent("GK313");
        LintKit.Postgres("LOCK TABLE users IN ACCESS SHARE MODE;").AssertSilent("GK314");
    }

    [Theory]
    [InlineData("NOT NULL", "ALTER TABLE users MODIFY code VARCHAR(20) DEFAULT 'x' COMMENT 'short code';")]
    [InlineData("DEFAULT", "ALTER TABLE users MODIFY code VARCHAR(20) NOT NULL COMMENT 'short code';")]
    [InlineData("COMMENT", "ALTER TABLE users MODIFY code VARCHAR(20) NOT NULL DEFAULT 'x';")]
    [InlineData("AUTO_INCREMENT", "ALTER TABLE users MODIFY seq BIGINT NOT NULL;")]
    public void A_mysql_modify_that_silently_drops_an_attribute_names_it(string attribute, string modify)
    {
        const string added = "ALTER TABLE users ADD COLUMN code VARCHAR(20) NOT NULL DEFAULT 'x' COMMENT 'short code', ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT, ADD KEY (seq);\n";

        var finding = LintKit.MySql(added + modify).Single("GK208");

        Assert.Equal(LintSeverity.Error, finding.Severity);
        Assert.Contains($"does not repeat {attribute}", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mysql_modify_that_repeats_every_attribute_is_not_reported()
    {
        const string sql = "ALTER TABLE users ADD COLUMN code VARCHAR(20) NOT NULL DEFAULT 'x' COMMENT 'short code';\n" +
                           "ALTER TABLE users MODIFY code VARCHAR(30) NOT NULL DEFAULT 'x' COMMENT 'short code';";

        LintKit.MySql(sql).AssertSilent("GK208");
    }

    [Fact]
    public void A_mysql_modify_of_an_unknown_column_without_not_null_is_a_warning_that_may_change_with_the_live_schema()
    {
        var finding = LintKit.MySql("ALTER TABLE users MODIFY code VARCHAR(30);").Single("GK208");

        Assert.Equal(LintSeverity.Warning, finding.Severity);
        Assert.True(finding.MayChangeWithLiveSchema);
    }

    [Fact]
    public void Mysql_ddl_inside_an_explicit_transaction_is_reported_once_as_an_implicit_commit()
    {
        var report = LintKit.MySql("START TRANSACTION;\nALTER TABLE a ADD COLUMN c INT;\nALTER TABLE b ADD COLUMN c INT;\nCOMMIT;");

        Assert.Equal(2, report.Single("GK506").Location.Line);
    }

    [Fact]
    public void A_retry_safe_concurrent_index_drops_the_invalid_leftover_first()
    {
        LintKit.Postgres("CREATE INDEX CONCURRENTLY IF NOT EXISTS idx ON users (email);", transactional: false).AssertFires("GK508");
        var safe = LintKit.Postgres("DROP INDEX CONCURRENTLY IF EXISTS idx;\nCREATE INDEX CONCURRENTLY idx ON users (email);", transactional: false);
        safe.AssertSilent("GK508");
        safe.AssertSilent("GK606");
    }

    [Fact]
    public void A_mysql_procedure_called_in_the_same_migration_has_its_body_linted_where_it_is_written()
    {
        const string sql = "DELIMITER //\nCREATE PROCEDURE add_metric()\nBEGIN\n    DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN END;\n    ALTER TABLE metrics DROP COLUMN legacy;\nEND //\nDELIMITER ;\nCALL add_metric();\nDROP PROCEDURE add_metric;";

        var finding = LintKit.MySql(sql).Single("GK102");

        Assert.Equal(5, finding.Location.Line);
        Assert.EndsWith("(it runs at CALL add_metric at V1__test.sql:8:1)", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mysql_procedure_called_from_an_executable_comment_or_in_capitals_has_its_body_linted()
    {
        const string body = "DELIMITER //\nCREATE PROCEDURE add_metric()\nBEGIN\n    ALTER TABLE metrics DROP COLUMN legacy;\nEND //\nDELIMITER ;\n";

        Assert.EndsWith("(it runs at CALL add_metric at V1__test.sql:7:10)", LintKit.MySql(body + "/*!50000 CALL add_metric() */;").Single("GK102").Message, StringComparison.Ordinal);
        Assert.EndsWith("(it runs at CALL add_metric at V1__test.sql:7:1)", LintKit.MySql(body + "CALL ADD_METRIC();").Single("GK102").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_call_glued_to_a_comment_version_or_a_semicolon_still_has_the_procedure_body_linted()
    {
        // The linter looks for the word CALL in the text before it keeps procedure bodies; these have no space before it.
        const string body = "DELIMITER //\nCREATE PROCEDURE add_metric()\nBEGIN\n    ALTER TABLE metrics DROP COLUMN legacy;\nEND //\nDELIMITER ;\n";

        Assert.Contains("(it runs at CALL add_metric at V1__test.sql:7:", LintKit.MySql(body + "/*!50000CALL add_metric() */;").Single("GK102").Message, StringComparison.Ordinal);
        Assert.Contains("(it runs at CALL add_metric at V1__test.sql:7:", LintKit.MySql(body + "SELECT 1;CALL add_metric();").Single("GK102").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_procedure_that_is_created_but_not_called_runs_nothing()
    {
        LintKit.MySql("CREATE PROCEDURE purge() DELETE FROM logs;").AssertSilent("GK106");
        LintKit.MySql("CALL purge_defined_elsewhere();").AssertSilent("GK106");
    }

    [Fact]
    public void A_postgres_procedure_called_in_the_same_migration_has_its_body_linted()
    {
        const string sql = "CREATE PROCEDURE backfill() LANGUAGE plpgsql AS $$\nBEGIN\n  UPDATE users SET plan = 'free';\nEND $$;\nCALL backfill();";

        var finding = LintKit.Postgres(sql).Single("GK309");

        Assert.Equal(3, finding.Location.Line);
        LintKit.Postgres(sql.Replace("CALL backfill();", string.Empty, StringComparison.Ordinal)).AssertSilent("GK309");
    }
}
