using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>
/// The classes a held-out evaluation found missed or misjudged (issue 17.12), each as the real servers behave: what
/// PostgreSQL 15 and MariaDB 10.11 were seen to do is in the comments (relfilenodes, pg_locks, ALGORITHM=/LOCK= probes).
/// Every class has its hazard and its safe neighbour.
/// </summary>
public sealed class HeldOutClassTests
{
    private static readonly LintOptions MariaDb = new() { Server = ServerVersion.Parse("10.11.19-MariaDB-0+deb12u1") };
    private static readonly LintOptions MySql8 = new() { Server = ServerVersion.Parse("8.0.36") };

    // PostgreSQL 15: with TimeZone UTC (or Etc/UTC, GMT, 0) timestamp ↔ timestamptz kept the table's relfilenode (no
    // rewrite) but gave its index a new one; under Europe/Berlin both were rewritten.
    [Theory]
    [InlineData("SET timezone = 'UTC';")]
    [InlineData("SET TIME ZONE 'Etc/UTC';")]
    [InlineData("SET SESSION timezone TO 'GMT';")]
    [InlineData("SET LOCAL TimeZone = 'UTC';")]
    public void A_UTC_session_time_zone_set_earlier_turns_timestamptz_into_an_index_rebuild_warning(string set)
    {
        var report = LintKit.Postgres($"{set}\nALTER TABLE events ALTER COLUMN created_at TYPE timestamptz;");

        var finding = report.Single("GK301");
        Assert.Equal(LintSeverity.Warning, finding.Severity);
        Assert.Contains("index", finding.Message, StringComparison.Ordinal);
        Assert.False(report.IsBlocking);
    }

    [Theory]
    [InlineData("SET timezone = 'Europe/Berlin';\n")]
    [InlineData("SET timezone = 'UTC';\nRESET timezone;\n")]
    [InlineData("SET timezone = 'UTC';\nSET timezone TO DEFAULT;\n")]
    [InlineData("")]
    public void Without_a_UTC_session_time_zone_timestamptz_still_rewrites(string before)
    {
        var report = LintKit.Postgres($"{before}ALTER TABLE events ALTER COLUMN created_at TYPE timestamptz;");

        Assert.Equal(LintSeverity.Error, report.Single("GK301").Severity);
    }

    [Fact]
    public void SET_LOCAL_ends_with_its_transaction_and_does_nothing_in_autocommit()
    {
        var committed = LintKit.Postgres("BEGIN;\nSET LOCAL timezone = 'UTC';\nCOMMIT;\nALTER TABLE events ALTER COLUMN created_at TYPE timestamptz;", transactional: false);
        var autocommit = LintKit.Postgres("SET LOCAL timezone = 'UTC';\nALTER TABLE events ALTER COLUMN created_at TYPE timestamptz;", transactional: false);

        Assert.Equal(LintSeverity.Error, committed.Single("GK301").Severity);
        Assert.Equal(LintSeverity.Error, autocommit.Single("GK301").Severity);
    }

    [Fact]
    public void A_known_column_type_decides_the_time_zone_case_and_USING_or_old_servers_still_rewrite()
    {
        var schema = new LintOptions { Schema = LintKit.Schema(LintKit.Table("events", 5_000_000, new SchemaColumn("created_at", "timestamp without time zone", false, false))) };
        var known = LintKit.Postgres("SET timezone = 'UTC';\nALTER TABLE events ALTER COLUMN created_at TYPE timestamptz;", options: schema);
        var text = LintKit.Postgres("SET timezone = 'UTC';\nALTER TABLE events ALTER COLUMN created_at TYPE text;", options: schema);
        var usingClause = LintKit.Postgres("SET timezone = 'UTC';\nALTER TABLE events ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC';");
        var postgres11 = LintKit.Postgres("SET timezone = 'UTC';\nALTER TABLE events ALTER COLUMN created_at TYPE timestamptz;", options: new LintOptions { ServerMajorVersion = 11 });

        Assert.False(known.Single("GK301").MayChangeWithLiveSchema);
        Assert.Equal(LintSeverity.Warning, known.Single("GK301").Severity);
        Assert.Equal(LintSeverity.Error, text.Single("GK301").Severity);
        Assert.Equal(LintSeverity.Error, usingClause.Single("GK301").Severity);
        Assert.Equal(LintSeverity.Error, postgres11.Single("GK301").Severity);
    }

    // MariaDB 10.11: ENGINE=InnoDB and FORCE on an InnoDB table accept ALGORITHM=INPLACE, LOCK=NONE; ENGINE=MyISAM only COPY.
    [Fact]
    public void ENGINE_InnoDB_is_an_in_place_rebuild_and_another_engine_a_copy()
    {
        var innoDb = LintKit.MySql("ALTER TABLE orders ENGINE=InnoDB;");
        var spaced = LintKit.MySql("ALTER TABLE orders ENGINE = 'innodb';");
        var myIsam = LintKit.MySql("ALTER TABLE orders ENGINE=MyISAM;");
        var rowFormat = LintKit.MySql("ALTER TABLE orders ROW_FORMAT=DYNAMIC;");

        Assert.Equal(LintSeverity.Warning, innoDb.Single("GK312").Severity);
        innoDb.AssertSilent("GK310");
        spaced.AssertFires("GK312");
        spaced.AssertSilent("GK310");
        myIsam.AssertFires("GK310");
        rowFormat.AssertFires("GK312");
        rowFormat.AssertSilent("GK310");
    }

    // MariaDB 10.11: SELECT 1 /*!80013 + 1 */ is 1, /*!50699 + 1 */ is 2, /*!100500 + 1 */ is 2, /*M!100500 + 1 */ is 2.
    [Fact]
    public void A_MySQL_8_versioned_comment_is_skipped_on_MariaDB_and_read_on_MySQL_8()
    {
        const string Sql = "/*!80013 ALTER TABLE orders DROP COLUMN legacy */;";

        var mariaDb = LintKit.MySql(Sql, options: MariaDb);
        var mySql = LintKit.MySql(Sql, options: MySql8);
        var mySql57 = LintKit.MySql(Sql, options: new LintOptions { Server = ServerVersion.Parse("5.7.44") });
        var unknown = LintKit.MySql(Sql);

        mariaDb.AssertSilent("GK102");
        Assert.Contains("MariaDB skips", mariaDb.Single("GK613").Message, StringComparison.Ordinal);
        mySql.AssertFires("GK102");
        mySql.AssertSilent("GK613");
        mySql57.AssertSilent("GK102");
        unknown.AssertFires("GK102");
        Assert.Contains("MySQL 8.0.13 and later only: MariaDB skips it", unknown.Single("GK613").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Versioned_comments_both_engines_run_are_read_on_both_and_not_reported()
    {
        const string Sql = "/*!40101 ALTER TABLE orders DROP COLUMN legacy */;";

        LintKit.MySql(Sql, options: MariaDb).AssertFires("GK102");
        LintKit.MySql(Sql, options: MySql8).AssertFires("GK102");
        LintKit.MySql(Sql).AssertSilent("GK613");
        LintKit.MySql("/*M!100500 ALTER TABLE orders DROP COLUMN legacy */;", options: MariaDb).AssertFires("GK102");
        LintKit.MySql("/*M!100500 ALTER TABLE orders DROP COLUMN legacy */;", options: MySql8).AssertSilent("GK102");
        LintKit.MySql("/*!101200 ALTER TABLE orders DROP COLUMN legacy */;", options: MariaDb).AssertSilent("GK102");
    }

    [Theory]
    [InlineData("10.11.6-MariaDB", 10, 11, 6, true)]
    [InlineData("5.5.5-10.11.6-MariaDB-log", 10, 11, 6, true)]
    [InlineData("8.0.36", 8, 0, 36, false)]
    [InlineData("16", 16, 0, 0, false)]
    [InlineData("16.4", 16, 4, 0, false)]
    [InlineData("mariadb-10.11", 10, 11, 0, true)]
    public void Server_versions_keep_the_patch_level_and_tell_MariaDB_apart(string text, int major, int minor, int patch, bool mariaDb)
    {
        var parsed = ServerVersion.Parse(text);
        Assert.NotNull(parsed);
        Assert.Equal((major, minor, patch, mariaDb), (parsed.Major, parsed.Minor, parsed.Patch, parsed.IsMariaDb));
    }

    [Theory]
    [InlineData("")]
    [InlineData("latest")]
    [InlineData("v16")]
    [InlineData("16x")]
    public void Text_that_is_no_version_is_not_read_as_one(string text)
    {
        Assert.Null(ServerVersion.Parse(text));
    }

    // A unique index over a column added NULL in the same rollout finds no duplicates: NULLs never collide.
    [Theory]
    [InlineData("ALTER TABLE users ADD COLUMN handle text;\nCREATE UNIQUE INDEX CONCURRENTLY users_handle_key ON users (handle);", false)]
    [InlineData("ALTER TABLE users ADD COLUMN handle text;\nCREATE UNIQUE INDEX users_tenant_handle_key ON users (tenant_id, handle);", true)]
    [InlineData("ALTER TABLE users ADD COLUMN handle text, ADD CONSTRAINT users_handle_key UNIQUE (handle);", true)]
    [InlineData("ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();\nCREATE UNIQUE INDEX users_token_key ON users (token);", true)]
    public void A_unique_key_over_a_column_added_null_or_distinct_in_the_same_rollout_cannot_fail(string sql, bool transactional)
    {
        LintKit.Postgres(sql, transactional).AssertSilent("GK401");
    }

    [Theory]
    [InlineData("ALTER TABLE users ADD COLUMN handle VARCHAR(50) NULL;\nCREATE UNIQUE INDEX users_handle ON users (handle);")]
    [InlineData("ALTER TABLE users ADD COLUMN handle VARCHAR(50) NULL AFTER name, ADD UNIQUE INDEX `handle_UNIQUE` (`handle` ASC);")]
    [InlineData("ALTER TABLE users ADD COLUMN code INT NULL UNIQUE;")]
    public void MySQL_unique_keys_over_a_new_nullable_column_cannot_fail(string sql)
    {
        LintKit.MySql(sql).AssertSilent("GK401");
    }

    // MariaDB 10.11 with two rows: ADD COLUMN code INT NOT NULL DEFAULT 0 UNIQUE and ADD COLUMN id BIGINT NOT NULL PRIMARY KEY fail (duplicate).
    [Theory]
    [InlineData("ALTER TABLE users ADD COLUMN handle VARCHAR(50) NOT NULL DEFAULT '';\nCREATE UNIQUE INDEX users_handle ON users (handle);")]
    [InlineData("ALTER TABLE users ADD COLUMN code INT NOT NULL DEFAULT 0 UNIQUE;")]
    [InlineData("ALTER TABLE legacy ADD COLUMN id BIGINT NOT NULL PRIMARY KEY;")]
    [InlineData("ALTER TABLE legacy ADD COLUMN id BIGINT PRIMARY KEY;")]
    public void A_unique_key_over_a_column_added_with_one_value_for_every_row_fails_on_two_rows(string sql)
    {
        var finding = LintKit.MySql(sql).Single("GK401");

        Assert.Equal(LintSeverity.Error, finding.Severity);
        Assert.Contains("two rows", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_backfill_between_the_new_column_and_its_unique_key_makes_it_an_ordinary_unique_key()
    {
        var report = LintKit.Postgres("ALTER TABLE users ADD COLUMN handle text;\nUPDATE users SET handle = lower(name) WHERE handle IS NULL;\nCREATE UNIQUE INDEX users_handle_key ON users (handle);");

        Assert.Equal(LintSeverity.Warning, report.Single("GK401").Severity);
    }

    [Fact]
    public void A_unique_key_over_existing_columns_or_with_nulls_not_distinct_may_still_fail()
    {
        LintKit.Postgres("CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);", transactional: false).AssertFires("GK401");
        LintKit.Postgres("ALTER TABLE users ADD COLUMN handle text;\nCREATE UNIQUE INDEX users_handle_key ON users (handle) NULLS NOT DISTINCT;").AssertFires("GK401");
        LintKit.Postgres("ALTER TABLE users ADD COLUMN handle text;\nCREATE UNIQUE INDEX users_handle_key ON users (lower(handle));").AssertFires("GK401");
    }

    [Fact]
    public void A_column_added_in_an_earlier_file_is_an_existing_column_for_a_later_one()
    {
        var migrations = new[]
        {
            LintKit.Migration("V1__add.sql", "ALTER TABLE users ADD COLUMN handle text;"),
            LintKit.Migration("V2__index.sql", "CREATE UNIQUE INDEX users_handle_key ON users (handle);"),
        };

        var report = Linter.LintEachAsRollout(migrations, _ => true, SqlDialect.Postgres);

        report.AssertFires("GK401");
    }

    // A single statement is atomic: if the last statement fails it leaves nothing behind, so a retry cannot trip on it.
    [Theory]
    [InlineData("CREATE TABLE audit (id bigint PRIMARY KEY, at timestamptz NOT NULL);")]
    [InlineData("-- the audit table\nCREATE TABLE audit (id bigint PRIMARY KEY);\n-- done\n")]
    [InlineData("CREATE TABLE IF NOT EXISTS a (id bigint);\nCREATE TABLE b (id bigint);")]
    [InlineData("DROP INDEX CONCURRENTLY IF EXISTS a_idx;\nDROP INDEX CONCURRENTLY b_idx;")]
    public void The_last_statement_of_a_non_transactional_migration_needs_no_IF_NOT_EXISTS(string sql)
    {
        LintKit.Postgres(sql, transactional: false).AssertSilent("GK606");
    }

    [Fact]
    public void A_statement_followed_by_others_still_needs_IF_NOT_EXISTS_and_a_lone_concurrent_index_still_leaves_an_invalid_one()
    {
        LintKit.Postgres("CREATE TABLE a (id bigint);\nCREATE TABLE b (id bigint);", transactional: false).Single("GK606");
        LintKit.Postgres("CREATE INDEX CONCURRENTLY a_idx ON a (x);", transactional: false).AssertFires("GK606");
    }

    // MariaDB 10.11: DROP CONSTRAINT of a CHECK accepts ALGORITHM=INSTANT; MySQL 8.0.19+ also has DROP CHECK (MariaDB does not).
    [Theory]
    [InlineData("ALTER TABLE orders DROP CHECK total_positive;")]
    [InlineData("CREATE TABLE orders (id BIGINT PRIMARY KEY, total INT, CONSTRAINT total_positive CHECK (total >= 0));\n")]
    public void Dropping_a_check_constraint_loses_no_data_on_MySQL(string sqlOrSetup)
    {
        var sql = sqlOrSetup.StartsWith("CREATE", StringComparison.Ordinal) ? string.Empty : sqlOrSetup;
        var migrations = sql.Length > 0
            ? new[] { LintKit.Migration("V1__drop.sql", sql) }
            : [LintKit.Migration("V1__create.sql", sqlOrSetup), LintKit.Migration("V2__drop.sql", "ALTER TABLE orders DROP CONSTRAINT total_positive;")];

        var report = Linter.LintEachAsRollout(migrations, _ => true, SqlDialect.MySql);

        report.AssertSilent("GK108");
        report.AssertSilent("GK102");
    }

    [Fact]
    public void Dropping_a_check_constraint_loses_no_data_on_PostgreSQL_but_a_foreign_key_or_unknown_one_is_still_reported()
    {
        LintKit.Postgres("ALTER TABLE orders DROP CONSTRAINT orders_total_check;").AssertSilent("GK108");
        LintKit.Postgres("ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey;").AssertFires("GK108");
        LintKit.MySql("ALTER TABLE orders DROP CONSTRAINT total_positive;").AssertFires("GK108");
        LintKit.MySql("ALTER TABLE orders DROP FOREIGN KEY fk_customer;").AssertFires("GK108");
    }

    [Theory]
    [InlineData("DROP SCHEMA billing CASCADE;")]
    [InlineData("DROP SCHEMA IF EXISTS \"billing\" CASCADE;")]
    [InlineData("DROP SCHEMA billing, reports CASCADE;")]
    public void DROP_SCHEMA_CASCADE_reports_the_schema_and_what_other_schemas_lose(string sql)
    {
        var report = LintKit.Postgres(sql);

        report.AssertFires("GK103");
        report.AssertFires("GK107");
    }

    [Fact]
    public void DROP_SCHEMA_without_CASCADE_reports_only_the_schema_and_MySQL_DROP_SCHEMA_is_a_database()
    {
        var restrict = LintKit.Postgres("DROP SCHEMA billing;");
        restrict.AssertFires("GK103");
        restrict.AssertSilent("GK107");
        LintKit.MySql("DROP SCHEMA IF EXISTS billing;").AssertFires("GK103");
    }

    // MariaDB 10.11: an AUTO_INCREMENT PRIMARY KEY column needs LOCK=SHARED; a plain NOT NULL PRIMARY KEY column on one row is INPLACE.
    [Fact]
    public void An_inline_primary_key_in_a_MySQL_ADD_COLUMN_is_reported()
    {
        var autoIncrement = LintKit.MySql("ALTER TABLE legacy ADD COLUMN id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST;");
        var plain = LintKit.MySql("ALTER TABLE legacy ADD COLUMN id BIGINT NOT NULL PRIMARY KEY;");

        Assert.Contains("PRIMARY KEY", autoIncrement.Single("GK311").Message, StringComparison.Ordinal);
        autoIncrement.AssertSilent("GK401");
        plain.AssertFires("GK312");
        plain.AssertFires("GK401");
    }

    // PostgreSQL 15 pg_locks: ATTACH PARTITION takes ShareUpdateExclusive on the parent and AccessExclusive on the attached
    // table and the DEFAULT partition; CREATE TABLE … PARTITION OF takes AccessExclusive on the parent.
    [Fact]
    public void Attaching_or_creating_a_partition_of_an_existing_table_is_a_lock_warning()
    {
        var attach = LintKit.Postgres("ALTER TABLE measurements ATTACH PARTITION measurements_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');");
        var create = LintKit.Postgres("CREATE TABLE measurements_2027 PARTITION OF measurements FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');");

        Assert.Equal(LintSeverity.Warning, attach.Single("GK320").Severity);
        Assert.Contains("ACCESS EXCLUSIVE lock on measurements", create.Single("GK320").Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ALTER TABLE logs DROP PARTITION p2019, p2020;", "GK109")]
    [InlineData("ALTER TABLE logs TRUNCATE PARTITION p2019;", "GK109")]
    [InlineData("ALTER TABLE logs REORGANIZE PARTITION p_max INTO (PARTITION p2026 VALUES LESS THAN (2027), PARTITION p_max VALUES LESS THAN MAXVALUE);", "GK311")]
    [InlineData("ALTER TABLE sessions COALESCE PARTITION 2;", "GK311")]
    [InlineData("ALTER TABLE sessions ADD PARTITION PARTITIONS 2;", "GK311")]
    [InlineData("ALTER TABLE logs REBUILD PARTITION p2019;", "GK311")]
    [InlineData("ALTER TABLE logs REMOVE PARTITIONING;", "GK310")]
    [InlineData("ALTER TABLE logs PARTITION BY HASH(id) PARTITIONS 4;", "GK310")]
    public void MySQL_partition_maintenance_is_reported_by_what_it_does_to_the_rows(string sql, string rule)
    {
        LintKit.MySql(sql).AssertFires(rule);
    }

    [Theory]
    [InlineData("ALTER TABLE logs ADD PARTITION (PARTITION p2027 VALUES LESS THAN (2028));")]
    [InlineData("ALTER TABLE logs EXCHANGE PARTITION p2019 WITH TABLE logs_2019;")]
    [InlineData("ALTER TABLE logs ANALYZE PARTITION p2019;")]
    public void Quick_MySQL_partition_clauses_are_not_reported(string sql)
    {
        Assert.Empty(LintKit.MySql(sql).Findings);
    }

    [Fact]
    public void Partitions_of_a_table_created_in_the_same_plan_are_not_reported()
    {
        const string Create = "CREATE TABLE logs (id BIGINT NOT NULL, y BIGINT NOT NULL, PRIMARY KEY (id, y)) PARTITION BY RANGE (y) (PARTITION p2019 VALUES LESS THAN (2020));\n";

        Assert.Empty(LintKit.MySql(Create + "ALTER TABLE logs DROP PARTITION p2019;").Findings);
    }

    // MariaDB 10.11: DEFAULT (UUID()), (UUID_SHORT()), (SYSDATE()) and table-level ADD CHECK accept only ALGORITHM=COPY;
    // DEFAULT (NOW()), (1+1), CURRENT_TIMESTAMP and an inline column CHECK are INSTANT.
    [Theory]
    [InlineData("ALTER TABLE orders ADD COLUMN ref CHAR(36) DEFAULT (UUID());")]
    [InlineData("ALTER TABLE orders ADD COLUMN ref VARCHAR(36) DEFAULT UUID();")]
    [InlineData("ALTER TABLE orders ADD COLUMN n BIGINT DEFAULT (UUID_SHORT());")]
    [InlineData("ALTER TABLE orders ADD COLUMN at DATETIME DEFAULT (SYSDATE());")]
    [InlineData("ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0);")]
    [InlineData("ALTER TABLE orders ADD CHECK (total >= 0);")]
    public void MySQL_per_row_defaults_and_ADD_CHECK_copy_the_table(string sql)
    {
        LintKit.MySql(sql).AssertFires("GK310");
    }

    [Theory]
    [InlineData("ALTER TABLE orders ADD COLUMN at DATETIME DEFAULT (NOW());")]
    [InlineData("ALTER TABLE orders ADD COLUMN n INT DEFAULT (1 + 1);")]
    [InlineData("ALTER TABLE orders ADD COLUMN at DATETIME DEFAULT CURRENT_TIMESTAMP;")]
    [InlineData("ALTER TABLE orders ADD COLUMN x INT CHECK (x > 0);")]
    [InlineData("ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0) NOT ENFORCED;")]
    [InlineData("ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0), ALGORITHM=INPLACE;")]
    public void MySQL_defaults_evaluated_once_and_unenforced_checks_do_not_copy(string sql)
    {
        LintKit.MySql(sql).AssertSilent("GK310");
    }

    [Theory]
    [InlineData("ALTER TABLE orders ADD CHECK (total >= 0);")]
    [InlineData("ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0);")]
    public void PostgreSQL_ADD_CHECK_without_NOT_VALID_is_reported_and_with_it_is_not(string sql)
    {
        LintKit.Postgres(sql).AssertFires("GK306");
        LintKit.Postgres(sql.Replace(";", " NOT VALID;", StringComparison.Ordinal)).AssertSilent("GK306");
    }

    // MariaDB 10.11 and MySQL: START TRANSACTION (or BEGIN) commits an open transaction implicitly.
    [Theory]
    [InlineData("START TRANSACTION;\nINSERT INTO settings (k) VALUES ('a');\nSTART TRANSACTION;\nINSERT INTO settings (k) VALUES ('b');\nCOMMIT;")]
    [InlineData("BEGIN;\nINSERT INTO settings (k) VALUES ('a');\nBEGIN;\nINSERT INTO settings (k) VALUES ('b');\nCOMMIT;")]
    public void A_MySQL_START_TRANSACTION_inside_an_open_one_is_an_implicit_commit(string sql)
    {
        var finding = LintKit.MySql(sql).Single("GK506");

        Assert.Equal(3, finding.Location.Line);
        Assert.Contains("implicitly", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Consecutive_MySQL_transactions_and_a_PostgreSQL_BEGIN_in_the_runners_transaction_are_told_apart()
    {
        LintKit.MySql("START TRANSACTION;\nINSERT INTO settings (k) VALUES ('a');\nCOMMIT;\nSTART TRANSACTION;\nINSERT INTO settings (k) VALUES ('b');\nCOMMIT;").AssertSilent("GK506");
        var postgres = LintKit.Postgres("START TRANSACTION;\nINSERT INTO settings (k) VALUES ('a');\nCOMMIT;");
        postgres.AssertFires("GK504");
        postgres.AssertSilent("GK505");
    }
}
