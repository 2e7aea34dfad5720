using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;
using static Gatekeeper.Core.Sql.SqlDialect;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>One migration text and the rule it is about.</summary>
public sealed record RuleCase(string Rule, SqlDialect Dialect, string Name, string Sql, bool Transactional = true, LintOptions? Options = null)
{
    public override string ToString() => $"{Rule} {Dialect}: {Name}";
}

/// <summary>
/// For every rule and every dialect it applies to: SQL that must trigger it, and a tricky neighbour that must not
/// (the safe way to do the same thing, or text that only looks like the hazard).
/// </summary>
public static class RuleCases
{
    private static readonly LintOptions UsersEmailNotNull = new()
    {
        Schema = new SchemaContext([new SchemaTable("app", "users", 5_000_000, [
            new SchemaColumn("email", "varchar(200)", NotNull: true, HasDefault: true, HasComment: true),
            new SchemaColumn("active", "tinyint(1)", NotNull: true, HasDefault: true),
            new SchemaColumn("nickname", "varchar(50)", NotNull: false, HasDefault: false),
            new SchemaColumn("note", "varchar(50)", NotNull: false, HasDefault: false),
        ])]),
    };

    private static readonly LintOptions MariaDb1011 = new() { Server = ServerVersion.Parse("10.11.6-MariaDB-0+deb12u1") };
    private static readonly LintOptions MySql8015 = new() { Server = ServerVersion.Parse("8.0.15") };
    private static readonly LintOptions MySql8016 = new() { Server = ServerVersion.Parse("8.0.16") };

    private static readonly LintOptions EnablePreferText = new() { Enable = ["GK603"] };
    private static readonly LintOptions EnableEnumOrdering = new() { Enable = ["GK609"] };
    private static readonly LintOptions EnableRequireSchema = new() { Enable = ["GK610"] };

    public static IEnumerable<RuleCase> Positive =>
    [
        new("GK001", Postgres, "unterminated string", "SELECT 'never closed;\nDROP TABLE users;"),
        new("GK001", MySql, "unterminated block comment", "SELECT 1; /* never closed\nDROP TABLE users;"),
        new("GK002", Postgres, "directive without a reason", "-- gatekeeper:allow GK101\nDROP TABLE users;"),
        new("GK002", MySql, "directive naming an unknown rule", "# gatekeeper:allow GK999 legacy table\nDROP TABLE users;"),
        new("GK003", Postgres, "directive on a harmless statement", "-- gatekeeper:allow GK101 cleanup\nSELECT 1;"),
        new("GK003", MySql, "directive for another rule", "-- gatekeeper:allow GK102 cleanup\nDROP TABLE users;"),

        new("GK101", Postgres, "drop table", "DROP TABLE users;"),
        new("GK101", MySql, "drop table with backticks", "DROP TABLE `users`;"),
        new("GK102", Postgres, "drop column", "ALTER TABLE users DROP COLUMN email;"),
        new("GK102", MySql, "drop column without the COLUMN keyword", "ALTER TABLE users DROP email;"),
        new("GK103", Postgres, "drop schema", "DROP SCHEMA billing CASCADE;"),
        new("GK103", MySql, "drop database", "DROP DATABASE billing;"),
        new("GK104", Postgres, "truncate", "TRUNCATE audit_log;"),
        new("GK104", MySql, "truncate table", "TRUNCATE TABLE audit_log;"),
        new("GK105", Postgres, "truncate cascade", "TRUNCATE customers CASCADE;"),
        new("GK106", Postgres, "delete without where", "DELETE FROM sessions;"),
        new("GK106", MySql, "delete without where", "DELETE FROM sessions;"),
        new("GK107", Postgres, "drop view cascade", "DROP VIEW report CASCADE;"),
        new("GK108", Postgres, "drop a constraint", "ALTER TABLE orders DROP CONSTRAINT orders_customer_fk;"),
        new("GK108", MySql, "drop a foreign key", "ALTER TABLE orders DROP FOREIGN KEY fk_customer;"),

        new("GK109", MySql, "drop a partition", "ALTER TABLE logs DROP PARTITION p2019;"),

        new("GK201", Postgres, "rename table", "ALTER TABLE users RENAME TO accounts;"),
        new("GK201", MySql, "RENAME TABLE", "RENAME TABLE users TO accounts;"),
        new("GK202", Postgres, "rename column", "ALTER TABLE users RENAME COLUMN name TO full_name;"),
        new("GK202", MySql, "CHANGE to another name", "ALTER TABLE users CHANGE name full_name VARCHAR(100) NOT NULL;"),
        new("GK203", Postgres, "rename an enum value", "ALTER TYPE status RENAME VALUE 'open' TO 'opened';"),
        new("GK204", Postgres, "add NOT NULL without default", "ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;"),
        new("GK204", MySql, "add NOT NULL without default", "ALTER TABLE users ADD COLUMN tenant_id BIGINT NOT NULL;"),
        new("GK205", Postgres, "add with a default, then drop it", "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;\nALTER TABLE users ALTER COLUMN active DROP DEFAULT;"),
        new("GK205", MySql, "drop the default of a known NOT NULL column", "ALTER TABLE users ALTER COLUMN active DROP DEFAULT;", Options: UsersEmailNotNull),
        new("GK206", Postgres, "drop a view", "DROP VIEW active_users;"),
        new("GK206", MySql, "drop a view", "DROP VIEW v_orders;"),
        new("GK207", Postgres, "drop not null", "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;"),
        new("GK207", MySql, "MODIFY … NULL of a NOT NULL column", "ALTER TABLE users MODIFY email VARCHAR(200) NULL DEFAULT '' COMMENT 'login';", Options: UsersEmailNotNull),
        new("GK208", MySql, "MODIFY that forgets NOT NULL, DEFAULT and COMMENT", "ALTER TABLE users MODIFY email VARCHAR(255);", Options: UsersEmailNotNull),

        new("GK301", Postgres, "int to bigint", "ALTER TABLE orders ALTER COLUMN id TYPE bigint;"),
        new("GK302", Postgres, "set not null", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
        new("GK303", Postgres, "create index", "CREATE INDEX idx_users_email ON users (email);"),
        new("GK304", Postgres, "drop index", "DROP INDEX idx_users_email;"),
        new("GK305", Postgres, "add foreign key", "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);"),
        new("GK305", MySql, "add foreign key with checks on", "ALTER TABLE orders ADD CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id);"),
        new("GK306", Postgres, "add check", "ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0);"),
        new("GK307", Postgres, "add unique constraint", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);"),
        new("GK308", Postgres, "volatile default", "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();"),
        new("GK309", Postgres, "update without where", "UPDATE users SET active = true;"),
        new("GK309", MySql, "update without where", "UPDATE users SET active = 1;"),
        new("GK310", MySql, "convert the character set", "ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4;"),
        new("GK311", MySql, "add a fulltext index", "ALTER TABLE posts ADD FULLTEXT INDEX ft_body (body);"),
        new("GK312", MySql, "add a primary key", "ALTER TABLE events ADD PRIMARY KEY (id);"),
        new("GK313", Postgres, "refresh a materialized view", "REFRESH MATERIALIZED VIEW daily_stats;"),
        new("GK314", Postgres, "lock table", "LOCK TABLE users;"),
        new("GK314", MySql, "lock tables write", "LOCK TABLES users WRITE;"),
        new("GK315", Postgres, "vacuum full", "VACUUM FULL users;", Transactional: false),
        new("GK316", Postgres, "reindex", "REINDEX TABLE users;"),
        new("GK317", Postgres, "detach partition", "ALTER TABLE events DETACH PARTITION events_2020;"),
        new("GK318", Postgres, "create trigger on an existing table", "CREATE TRIGGER touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();"),
        new("GK319", Postgres, "alter domain add constraint", "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%');"),
        new("GK320", Postgres, "create a partition of an existing table", "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');"),

        new("GK401", Postgres, "unique index on an existing table", "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);", Transactional: false),
        new("GK401", MySql, "unique key on an existing table", "ALTER TABLE users ADD UNIQUE KEY uk_email (email);"),
        new("GK402", Postgres, "set not null", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
        new("GK402", MySql, "MODIFY to NOT NULL of a nullable column", "ALTER TABLE users MODIFY nickname VARCHAR(50) NOT NULL;", Options: UsersEmailNotNull),
        new("GK403", Postgres, "shorter varchar", "ALTER TABLE users ALTER COLUMN note TYPE varchar(20);", Options: UsersEmailNotNull),
        new("GK403", MySql, "shorter varchar", "ALTER TABLE users MODIFY note VARCHAR(20);", Options: UsersEmailNotNull),

        new("GK501", Postgres, "create index concurrently in a transaction", "CREATE INDEX CONCURRENTLY idx ON users (email);"),
        new("GK502", Postgres, "new enum value used in the same transaction", "ALTER TYPE mood ADD VALUE 'ecstatic';\nUPDATE people SET mood = 'ecstatic' WHERE id = 1;"),
        new("GK503", Postgres, "add column then backfill", "ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free';"),
        new("GK504", Postgres, "BEGIN in a transactional migration", "BEGIN;\nALTER TABLE users ADD COLUMN c int;\nCOMMIT;"),
        new("GK505", Postgres, "BEGIN without COMMIT", "BEGIN;\nALTER TABLE users ADD COLUMN c int;", Transactional: false),
        new("GK505", MySql, "START TRANSACTION without COMMIT", "START TRANSACTION;\nINSERT INTO users (id) VALUES (1);"),
        new("GK506", MySql, "DDL inside START TRANSACTION", "START TRANSACTION;\nALTER TABLE users ADD COLUMN c INT;\nCOMMIT;"),
        new("GK507", Postgres, "validate in the same transaction", "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT fk;"),
        new("GK508", Postgres, "concurrent index if not exists", "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx ON users (email);", Transactional: false),

        new("GK601", Postgres, "serial key", "CREATE TABLE t (id serial PRIMARY KEY);"),
        new("GK601", MySql, "INT AUTO_INCREMENT key", "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY);"),
        new("GK602", Postgres, "bigserial", "CREATE TABLE t (id bigserial PRIMARY KEY);"),
        new("GK603", Postgres, "varchar(n) when enabled", "CREATE TABLE t (name varchar(100));", Options: EnablePreferText),
        new("GK604", Postgres, "timestamp without time zone", "CREATE TABLE t (at timestamp);"),
        new("GK004", MySql, "DROP CHECK on MariaDB", "ALTER TABLE orders DROP CHECK orders_total_positive;", Options: MariaDb1011),
        new("GK605", Postgres, "char(n)", "CREATE TABLE t (code char(3));"),
        new("GK606", Postgres, "create table followed by more in a non-transactional migration", "CREATE TABLE t (id bigint);\nCREATE TABLE u (id bigint);", Transactional: false),
        new("GK607", Postgres, "64-byte table name", $"CREATE TABLE {new string('a', 64)} (id bigint);"),
        new("GK607", MySql, "65-character table name", $"CREATE TABLE {new string('a', 65)} (id BIGINT);"),
        new("GK608", Postgres, "same column twice", "UPDATE t SET a = 1, a = 2 WHERE id = 1;"),
        new("GK608", MySql, "same column twice", "UPDATE t SET a = 1, a = 2 WHERE id = 1;"),
        new("GK609", Postgres, "add value without position when enabled", "ALTER TYPE mood ADD VALUE 'meh';", Transactional: false, Options: EnableEnumOrdering),
        new("GK610", Postgres, "unqualified table when enabled", "CREATE TABLE t (id bigint);", Options: EnableRequireSchema),
        new("GK611", Postgres, "domain with check", "CREATE DOMAIN posint AS integer CHECK (VALUE > 0);"),
        new("GK612", MySql, "inline references", "CREATE TABLE pets (owner_id BIGINT REFERENCES users(id));"),
        new("GK613", MySql, "MySQL 8 versioned comment", "/*!80016 ALTER TABLE users ENCRYPTION='Y' */;"),
        new("GK614", MySql, "CHECK on MySQL 8.0.15", "CREATE TABLE orders (id BIGINT PRIMARY KEY, total INT CHECK (total >= 0));", Options: MySql8015),
    ];

    public static IEnumerable<RuleCase> Negative =>
    [
        new("GK001", Postgres, "doubled quote inside a string", "SELECT 'it''s fine';\nDROP TABLE users;"),
        new("GK001", MySql, "backslash-escaped quote", "SELECT 'it\\'s fine';"),
        new("GK002", Postgres, "directive with a reason", "-- gatekeeper:allow GK101 emptied and unused since v3\nDROP TABLE users;"),
        new("GK002", MySql, "hash directive with a category and a reason", "# gatekeeper:allow destructive archived to S3 first\nDROP TABLE users;"),
        new("GK003", Postgres, "directive that allows the finding", "-- gatekeeper:allow GK101 archived\nDROP TABLE users;"),
        new("GK003", MySql, "directive that allows the finding", "-- gatekeeper:allow GK101 archived\nDROP TABLE users;"),

        new("GK101", Postgres, "table created earlier in the plan", "CREATE TABLE tmp_import (id bigint);\nDROP TABLE tmp_import;"),
        new("GK101", MySql, "the words only in a string", "INSERT INTO audit (note) VALUES ('DROP TABLE users');"),
        new("GK102", Postgres, "drop a constraint, not a column", "ALTER TABLE users DROP CONSTRAINT users_email_check;"),
        new("GK102", MySql, "drop an index, not a column", "ALTER TABLE users DROP INDEX idx_email;"),
        new("GK103", Postgres, "only in a comment", "-- DROP SCHEMA billing CASCADE;\nSELECT 1;"),
        new("GK103", MySql, "create database", "CREATE DATABASE billing;"),
        new("GK104", Postgres, "table created earlier in the plan", "CREATE TABLE staging (id bigint);\nTRUNCATE staging;"),
        new("GK104", MySql, "table created earlier in the plan", "CREATE TABLE staging (id BIGINT);\nTRUNCATE TABLE staging;"),
        new("GK105", Postgres, "truncate restrict", "TRUNCATE customers RESTRICT;"),
        new("GK106", Postgres, "delete with where", "DELETE FROM sessions WHERE expires_at < now();"),
        new("GK106", MySql, "batched delete with LIMIT", "DELETE FROM sessions LIMIT 1000;"),
        new("GK107", Postgres, "cascade on a view created earlier", "CREATE VIEW v AS SELECT 1;\nDROP VIEW v CASCADE;"),
        new("GK108", Postgres, "constraint dropped and re-added", "ALTER TABLE orders DROP CONSTRAINT total_check, ADD CONSTRAINT total_check CHECK (total >= 0) NOT VALID;"),
        new("GK108", MySql, "dropping an index is not a constraint", "ALTER TABLE orders DROP INDEX idx_customer;"),
        new("GK109", MySql, "add a range partition", "ALTER TABLE logs ADD PARTITION (PARTITION p2027 VALUES LESS THAN (2028));"),

        new("GK201", Postgres, "rename with a compatibility view", "ALTER TABLE users RENAME TO accounts;\nCREATE VIEW users AS SELECT * FROM accounts;"),
        new("GK201", MySql, "renaming a table created earlier", "CREATE TABLE users_new (id BIGINT);\nRENAME TABLE users_new TO users_v2;"),
        new("GK202", Postgres, "renaming a constraint", "ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk;"),
        new("GK202", MySql, "CHANGE keeping the name", "ALTER TABLE users CHANGE name name VARCHAR(200) NOT NULL;"),
        new("GK203", Postgres, "swap a type under its old name", "ALTER TYPE mood RENAME TO mood_old;\nCREATE TYPE mood AS ENUM ('sad', 'happy');"),
        new("GK204", Postgres, "NOT NULL with a default", "ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0;"),
        new("GK204", MySql, "NOT NULL with a default", "ALTER TABLE users ADD COLUMN tenant_id BIGINT NOT NULL DEFAULT 0;"),
        new("GK205", Postgres, "default dropped and set again", "ALTER TABLE users ALTER COLUMN status DROP DEFAULT, ALTER COLUMN status TYPE text, ALTER COLUMN status SET DEFAULT 'new';"),
        new("GK205", MySql, "default of a nullable column", "ALTER TABLE users ALTER COLUMN nickname DROP DEFAULT;", Options: UsersEmailNotNull),
        new("GK206", Postgres, "view dropped and recreated", "DROP VIEW active_users;\nCREATE VIEW active_users AS SELECT * FROM users WHERE active;"),
        new("GK206", MySql, "procedure dropped and recreated", "DROP PROCEDURE IF EXISTS refresh_totals;\nCREATE PROCEDURE refresh_totals() SELECT 1;"),
        new("GK207", Postgres, "column of a table created earlier", "CREATE TABLE t (a text NOT NULL);\nALTER TABLE t ALTER COLUMN a DROP NOT NULL;"),
        new("GK207", MySql, "MODIFY keeping NOT NULL", "ALTER TABLE users MODIFY email VARCHAR(200) NOT NULL DEFAULT '' COMMENT 'login';", Options: UsersEmailNotNull),
        new("GK208", MySql, "MODIFY repeating every attribute", "ALTER TABLE users MODIFY email VARCHAR(255) NOT NULL DEFAULT '' COMMENT 'login';", Options: UsersEmailNotNull),

        new("GK301", Postgres, "varchar to text is binary-coercible", "ALTER TABLE users ALTER COLUMN note TYPE text;", Options: UsersEmailNotNull),
        new("GK302", Postgres, "set not null after a validated check", "ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT email_nn;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;", Transactional: false),
        new("GK303", Postgres, "index on a table created earlier", "CREATE TABLE users2 (email text);\nCREATE INDEX ON users2 (email);"),
        new("GK304", Postgres, "drop index concurrently", "DROP INDEX CONCURRENTLY IF EXISTS idx_users_email;", Transactional: false),
        new("GK305", Postgres, "foreign key NOT VALID", "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;"),
        new("GK305", MySql, "foreign key with checks off", "SET FOREIGN_KEY_CHECKS = 0;\nALTER TABLE orders ADD CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id);\nSET FOREIGN_KEY_CHECKS = 1;"),
        new("GK306", Postgres, "check NOT VALID", "ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID;"),
        new("GK307", Postgres, "unique constraint using an index", "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;"),
        new("GK308", Postgres, "stable default now()", "ALTER TABLE users ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();"),
        new("GK309", Postgres, "update with where", "UPDATE users SET active = true WHERE id = 1;"),
        new("GK309", MySql, "batched update with LIMIT", "UPDATE users SET active = 1 LIMIT 1000;"),
        new("GK310", MySql, "table default charset only", "ALTER TABLE users DEFAULT CHARACTER SET utf8mb4;"),
        new("GK311", MySql, "plain index", "ALTER TABLE posts ADD INDEX idx_title (title);"),
        new("GK312", MySql, "unique key", "ALTER TABLE events ADD UNIQUE KEY uk_id (id);"),
        new("GK313", Postgres, "refresh concurrently", "REFRESH MATERIALIZED VIEW CONCURRENTLY daily_stats;"),
        new("GK314", Postgres, "row exclusive lock", "LOCK TABLE users IN ROW EXCLUSIVE MODE;"),
        new("GK314", MySql, "unlock", "UNLOCK TABLES;"),
        new("GK315", Postgres, "plain vacuum", "VACUUM (ANALYZE) users;", Transactional: false),
        new("GK316", Postgres, "reindex concurrently", "REINDEX TABLE CONCURRENTLY users;", Transactional: false),
        new("GK317", Postgres, "detach concurrently", "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;", Transactional: false),
        new("GK318", Postgres, "trigger on a table created earlier", "CREATE TABLE t (id bigint);\nCREATE TRIGGER touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();"),
        new("GK319", Postgres, "domain constraint NOT VALID", "ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%') NOT VALID;"),
        new("GK320", Postgres, "partition of a table created earlier in the plan",
            "CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at);\nCREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');"),

        new("GK401", Postgres, "unique index on a table created earlier", "CREATE TABLE t (email text);\nCREATE UNIQUE INDEX t_email ON t (email);"),
        new("GK401", MySql, "non-unique key", "ALTER TABLE users ADD KEY k_email (email);"),
        new("GK402", Postgres, "set not null on a table created earlier", "CREATE TABLE t (a text);\nALTER TABLE t ALTER COLUMN a SET NOT NULL;"),
        new("GK402", MySql, "MODIFY of a column already NOT NULL", "ALTER TABLE users MODIFY email VARCHAR(200) NOT NULL DEFAULT '' COMMENT 'login';", Options: UsersEmailNotNull),
        new("GK403", Postgres, "longer varchar", "ALTER TABLE users ALTER COLUMN note TYPE varchar(200);", Options: UsersEmailNotNull),
        new("GK403", MySql, "longer varchar", "ALTER TABLE users MODIFY note VARCHAR(200);", Options: UsersEmailNotNull),

        new("GK501", Postgres, "concurrent index in a non-transactional migration", "CREATE INDEX CONCURRENTLY idx ON users (email);", Transactional: false),
        new("GK502", Postgres, "enum value used in a non-transactional migration", "ALTER TYPE mood ADD VALUE 'ecstatic';\nUPDATE people SET mood = 'ecstatic' WHERE id = 1;", Transactional: false),
        new("GK503", Postgres, "backfill in a non-transactional migration", "ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free';", Transactional: false),
        new("GK504", Postgres, "BEGIN in a non-transactional migration", "BEGIN;\nALTER TABLE users ADD COLUMN c int;\nCOMMIT;", Transactional: false),
        new("GK505", Postgres, "BEGIN with COMMIT", "BEGIN;\nALTER TABLE users ADD COLUMN c int;\nCOMMIT;", Transactional: false),
        new("GK505", MySql, "START TRANSACTION with COMMIT", "START TRANSACTION;\nINSERT INTO users (id) VALUES (1);\nCOMMIT;"),
        new("GK506", MySql, "DML only inside START TRANSACTION", "START TRANSACTION;\nUPDATE users SET c = 1 WHERE id = 2;\nCOMMIT;"),
        new("GK507", Postgres, "validate in its own transaction", "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT fk;", Transactional: false),
        new("GK508", Postgres, "drop if exists, then create", "DROP INDEX CONCURRENTLY IF EXISTS idx;\nCREATE INDEX CONCURRENTLY idx ON users (email);", Transactional: false),

        new("GK601", Postgres, "bigint key, int payload", "CREATE TABLE t (id bigserial PRIMARY KEY, qty integer);"),
        new("GK601", MySql, "BIGINT key", "CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, qty INT);"),
        new("GK602", Postgres, "identity column", "CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);"),
        new("GK603", Postgres, "varchar(n) when not enabled", "CREATE TABLE t (name varchar(100));"),
        new("GK604", Postgres, "timestamptz, and a column named timestamp", "CREATE TABLE t (at timestamptz, \"timestamp\" text);"),
        new("GK004", MySql, "DROP CONSTRAINT of a CHECK on MariaDB", "ALTER TABLE orders DROP CONSTRAINT orders_total_positive;", Options: MariaDb1011),
        new("GK605", Postgres, "varchar, and a column named char", "CREATE TABLE t (code varchar(3), \"char\" text);"),
        new("GK606", Postgres, "create table in a transactional migration", "CREATE TABLE t (id bigint);"),
        new("GK607", Postgres, "63-byte table name", $"CREATE TABLE {new string('a', 63)} (id bigint);"),
        new("GK607", MySql, "64-character table name", $"CREATE TABLE {new string('a', 64)} (id BIGINT);"),
        new("GK608", Postgres, "assignment text inside a string", "UPDATE t SET a = 1, b = 'a = 2' WHERE id = 1;"),
        new("GK608", MySql, "two different columns", "UPDATE t SET a = 1, b = 2 WHERE id = 1;"),
        new("GK609", Postgres, "add value with AFTER", "ALTER TYPE mood ADD VALUE 'meh' AFTER 'sad';", Transactional: false, Options: EnableEnumOrdering),
        new("GK610", Postgres, "qualified table", "CREATE TABLE app.t (id bigint);", Options: EnableRequireSchema),
        new("GK611", Postgres, "domain without constraint", "CREATE DOMAIN label AS text;"),
        new("GK612", MySql, "separate foreign key", "CREATE TABLE pets (owner_id BIGINT, FOREIGN KEY (owner_id) REFERENCES users(id));"),
        new("GK613", MySql, "mysqldump-style versioned comment", "/*!40101 SET NAMES utf8mb4 */;"),
        new("GK614", MySql, "CHECK on MySQL 8.0.16", "CREATE TABLE orders (id BIGINT PRIMARY KEY, total INT CHECK (total >= 0));", Options: MySql8016),
    ];

    public static TheoryData<RuleCase> PositiveData => ToData(Positive);

    public static TheoryData<RuleCase> NegativeData => ToData(Negative);

    private static TheoryData<RuleCase> ToData(IEnumerable<RuleCase> cases)
    {
        var data = new TheoryData<RuleCase>();
        foreach (var c in cases)
        {
            data.Add(c);
        }

        return data;
    }
}
