using System.Globalization;
using System.Text;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// Each adopted tool's table is created by hand with that tool's own DDL and filled as the tool fills it; Gatekeeper must
/// read it, plan only the truly new files, and append in the tool's layout (so the team could switch back).
/// </summary>
public abstract class HistoryAdoptionSuite
{
    protected abstract DatabaseEngine Engine { get; }

    private bool Pg => Engine == DatabaseEngine.Postgres;

    [Fact]
    public async Task Flyway_history_is_adopted_and_extended_with_a_row_flyway_itself_would_write()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        var files = new (string Name, string Sql)[]
        {
            ("V1__create_items.sql", "CREATE TABLE items (id integer);\n"),
            ("V2__add_name.sql", "ALTER TABLE items ADD name varchar(20);\n"),
            ("V3__add_price.sql", "ALTER TABLE items ADD price integer;\n"),
        };
        await db.ExecuteAsync(Pg
            ? """
              CREATE TABLE "flyway_schema_history" ("installed_rank" INT NOT NULL, "version" VARCHAR(50), "description" VARCHAR(200) NOT NULL,
                "type" VARCHAR(20) NOT NULL, "script" VARCHAR(1000) NOT NULL, "checksum" INTEGER, "installed_by" VARCHAR(100) NOT NULL,
                "installed_on" TIMESTAMP NOT NULL DEFAULT now(), "execution_time" INTEGER NOT NULL, "success" BOOLEAN NOT NULL);
              ALTER TABLE "flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
              CREATE INDEX "flyway_schema_history_s_idx" ON "flyway_schema_history" ("success");
              """
            : """
              CREATE TABLE `flyway_schema_history` (`installed_rank` INT NOT NULL, `version` VARCHAR(50), `description` VARCHAR(200) NOT NULL,
                `type` VARCHAR(20) NOT NULL, `script` VARCHAR(1000) NOT NULL, `checksum` INT, `installed_by` VARCHAR(100) NOT NULL,
                `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, `execution_time` INT NOT NULL, `success` BOOL NOT NULL,
                CONSTRAINT `flyway_schema_history_pk` PRIMARY KEY (`installed_rank`)) ENGINE=InnoDB;
              CREATE INDEX `flyway_schema_history_s_idx` ON `flyway_schema_history` (`success`);
              """);
        await db.ExecuteAsync("CREATE TABLE items (id integer, name varchar(20))");
        for (var i = 0; i < 2; i++)
        {
            var crc = FlywayChecksum.Compute(Encoding.UTF8.GetBytes(files[i].Sql));
            await db.ExecuteAsync(
                $"INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) " +
                $"VALUES ({i + 1}, '{i + 1}', '{(i == 0 ? "create items" : "add name")}', 'SQL', '{files[i].Name}', {crc}, 'flyway', 12, {(Pg ? "true" : "1")})");
        }

        var directory = TestMigrations.Directory(MigrationFormat.Flyway, files);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("flyway_schema_history") });

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(HistoryTableKind.Flyway, history.Kind);
        Assert.Equal(["1", "2"], history.Applied.Select(a => a.Id));
        Assert.All(history.Applied, a => Assert.Equal("flyway-crc32", a.ChecksumAlgorithm));

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Applied, result.Status);
        Assert.Equal(["3"], result.Applied.Select(a => a.Migration.Id));

        var row = (await db.RowsAsync("SELECT installed_rank, version, type, script, checksum, success FROM flyway_schema_history WHERE installed_rank = 3")).Single();
        Assert.Equal(3L, Convert.ToInt64(row[0], CultureInfo.InvariantCulture));
        Assert.Equal("3", row[1]);
        Assert.Equal("SQL", row[2]);
        Assert.Equal("V3__add_price.sql", row[3]);
        Assert.Equal(FlywayChecksum.Compute(Encoding.UTF8.GetBytes(files[2].Sql)), Convert.ToInt32(row[4], CultureInfo.InvariantCulture));
        Assert.True(Convert.ToBoolean(row[5], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Flyway_baseline_row_counts_every_version_up_to_it_as_applied()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await db.ExecuteAsync(
            "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, " +
            "type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL, " +
            $"installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL, success {(Pg ? "BOOLEAN" : "BOOL")} NOT NULL)");
        await db.ExecuteAsync(
            "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) " +
            $"VALUES (1, '2', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'flyway', 0, {(Pg ? "true" : "1")})");
        var directory = TestMigrations.Flyway(
            ("V1__old.sql", "CREATE TABLE old_one (id integer);\n"),
            ("V2__old.sql", "CREATE TABLE old_two (id integer);\n"),
            ("V3__new.sql", "CREATE TABLE new_three (id integer);\n"));
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("flyway_schema_history") });

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(["3"], result.Applied.Select(a => a.Migration.Id));
        Assert.False(await db.TableExistsAsync("old_one"));
        Assert.True(await db.TableExistsAsync("new_three"));
    }

    [Fact]
    public async Task Golang_migrate_history_is_adopted_as_a_high_water_mark_and_advanced_in_its_single_row()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await db.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint not null primary key, dirty boolean not null)");
        await db.ExecuteAsync($"INSERT INTO schema_migrations (version, dirty) VALUES (2, {(Pg ? "false" : "0")})");
        var directory = TestMigrations.Directory(
            MigrationFormat.GolangMigrate,
            ("1_create.up.sql", "CREATE TABLE g_one (id integer);\n"),
            ("1_create.down.sql", "DROP TABLE g_one;\n"),
            ("2_second.up.sql", "CREATE TABLE g_two (id integer);\n"),
            ("3_third.up.sql", "CREATE TABLE g_three (id integer);\n"));
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("schema_migrations"), Format = MigrationFormat.GolangMigrate });

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(HistoryTableKind.GolangMigrate, history.Kind);
        Assert.Equal("2", history.AppliedThrough);

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(["3"], result.Applied.Select(a => a.Migration.Id));
        var rows = await db.RowsAsync("SELECT version, dirty FROM schema_migrations");
        var row = Assert.Single(rows);
        Assert.Equal(3L, Convert.ToInt64(row[0], CultureInfo.InvariantCulture));
        Assert.False(Convert.ToBoolean(row[1], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Dbmate_history_is_adopted_and_extended_with_one_version_row()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await db.ExecuteAsync(Pg
            ? "create table if not exists schema_migrations (version character varying(128) primary key)"
            : "create table if not exists schema_migrations (version varchar(128) primary key) character set latin1 collate latin1_bin");
        await db.ExecuteAsync("insert into schema_migrations (version) values ('20230101000000')");
        var directory = TestMigrations.Directory(
            MigrationFormat.Dbmate,
            ("20230101000000_first.sql", "-- migrate:up\nCREATE TABLE d_one (id integer);\n\n-- migrate:down\nDROP TABLE d_one;\n"),
            ("20230102000000_second.sql", "-- migrate:up\nCREATE TABLE d_two (id integer);\n\n-- migrate:down\nDROP TABLE d_two;\n"));
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("schema_migrations"), Format = MigrationFormat.Dbmate });

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(HistoryTableKind.Dbmate, history.Kind);

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(["20230102000000"], result.Applied.Select(a => a.Migration.Id));
        var versions = (await db.RowsAsync("SELECT version FROM schema_migrations ORDER BY version")).Select(r => r[0]);
        Assert.Equal(["20230101000000", "20230102000000"], versions);
        Assert.False(await db.TableExistsAsync("d_one"));
    }

    [Fact]
    public async Task Sql_migrate_history_is_adopted_by_whole_file_name()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        await db.ExecuteAsync(Pg
            ? "create table if not exists \"gorp_migrations\" (\"id\" text not null primary key, \"applied_at\" timestamp with time zone)"
            : "create table if not exists `gorp_migrations` (`id` varchar(255) not null primary key, `applied_at` datetime) engine=InnoDB charset=UTF8");
        await db.ExecuteAsync("insert into gorp_migrations (id, applied_at) values ('20230101000000-first.sql', '2023-01-01 10:00:00')");
        var directory = TestMigrations.Directory(
            MigrationFormat.SqlMigrate,
            ("20230101000000-first.sql", "-- +migrate Up\nCREATE TABLE s_one (id integer);\n-- +migrate Down\nDROP TABLE s_one;\n"),
            ("20230101000000-first_b.sql", "-- +migrate Up\nCREATE TABLE s_two (id integer);\n-- +migrate Down\nDROP TABLE s_two;\n"));
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("gorp_migrations") });

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(HistoryTableKind.SqlMigrate, history.Kind);
        Assert.Equal(new DateTimeOffset(2023, 1, 1, 10, 0, 0, TimeSpan.Zero), history.Applied.Single().AppliedAt);

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(["20230101000000-first_b.sql"], result.Applied.Select(a => a.Migration.Id));
        Assert.Equal(2, await db.CountAsync("SELECT COUNT(*) FROM gorp_migrations WHERE applied_at IS NOT NULL"));
    }

    [Fact]
    public async Task Atlas_revisions_are_adopted_and_extended_with_the_files_atlas_sum_hash()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        var table = Pg ? "\"atlas_schema_revisions\".\"atlas_schema_revisions\"" : "atlas_schema_revisions";
        if (Pg)
        {
            await db.ExecuteAsync("CREATE SCHEMA \"atlas_schema_revisions\"");
            await db.ExecuteAsync(
                "CREATE TABLE \"atlas_schema_revisions\".\"atlas_schema_revisions\" (\"version\" character varying NOT NULL, \"description\" character varying NOT NULL, " +
                "\"type\" bigint NOT NULL DEFAULT 2, \"applied\" bigint NOT NULL DEFAULT 0, \"total\" bigint NOT NULL DEFAULT 0, \"executed_at\" timestamptz NOT NULL, " +
                "\"execution_time\" bigint NOT NULL, \"error\" text NULL, \"error_stmt\" text NULL, \"hash\" character varying NOT NULL, \"partial_hashes\" jsonb NULL, " +
                "\"operator_version\" character varying NOT NULL, PRIMARY KEY (\"version\"))");
        }
        else
        {
            await db.ExecuteAsync(
                "CREATE TABLE `atlas_schema_revisions` (`version` varchar(255) NOT NULL, `description` varchar(255) NOT NULL, `type` bigint unsigned NOT NULL DEFAULT 2, " +
                "`applied` bigint NOT NULL DEFAULT 0, `total` bigint NOT NULL DEFAULT 0, `executed_at` timestamp(6) NOT NULL, `execution_time` bigint NOT NULL, " +
                "`error` longtext NULL, `error_stmt` longtext NULL, `hash` varchar(255) NOT NULL, `partial_hashes` json NULL, `operator_version` varchar(255) NOT NULL, " +
                "PRIMARY KEY (`version`)) CHARSET utf8mb4 COLLATE utf8mb4_bin");
        }

        var files = new (string Name, string Sql)[]
        {
            ("20230101000000_first.sql", "CREATE TABLE a_one (id integer);\n"),
            ("20230102000000_second.sql", "CREATE TABLE a_two (id integer);\nCREATE TABLE a_three (id integer);\n"),
        };
        var sum = AtlasSum.Compute(files.Select(f => new MigrationFile(f.Name, Encoding.UTF8.GetBytes(f.Sql))));
        await db.ExecuteAsync(
            $"INSERT INTO {table} (version, description, type, applied, total, executed_at, execution_time, hash, operator_version) VALUES " +
            $"('.atlas_cloud_identifier', 'x', 0, 0, 0, '2023-01-01 00:00:00', 0, '', 'Atlas CLI v0.12.0'), " +
            $"('20230101000000', 'first', 2, 1, 1, '2023-01-01 00:00:00', 1500000, '{sum.Entries[0].Hash}', 'Atlas CLI v0.12.0')");
        var directory = TestMigrations.Directory(MigrationFormat.Atlas, [.. files, (AtlasSum.FileName, sum.ToText())]);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("atlas_schema_revisions") });

        var history = await database.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(HistoryTableKind.Atlas, history.Kind);
        var applied = Assert.Single(history.Applied);
        Assert.Equal("20230101000000", applied.Id);
        Assert.Equal(TimeSpan.FromMilliseconds(1.5), applied.ExecutionTime);

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(["20230102000000"], result.Applied.Select(a => a.Migration.Id));
        var row = (await db.RowsAsync($"SELECT description, type, applied, total, hash, error FROM {table} WHERE version = '20230102000000'")).Single();
        Assert.Equal("second", row[0]);
        Assert.Equal(2L, Convert.ToInt64(row[1], CultureInfo.InvariantCulture));
        Assert.Equal(2L, Convert.ToInt64(row[2], CultureInfo.InvariantCulture));
        Assert.Equal(2L, Convert.ToInt64(row[3], CultureInfo.InvariantCulture));
        Assert.Equal(sum.Entries[1].Hash, row[4]);
        Assert.Null(row[5]);
    }

    [Fact]
    public async Task A_history_table_that_does_not_exist_yet_is_created_in_the_layout_its_name_implies()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        var directory = TestMigrations.Directory(MigrationFormat.GolangMigrate, ("1_create.up.sql", "CREATE TABLE fresh (id integer);\n"));
        await using (var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("schema_migrations"), Format = MigrationFormat.GolangMigrate }))
        {
            var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);
            Assert.True(result.Succeeded, result.Message);
        }

        await using var reopened = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("schema_migrations") });
        var history = await reopened.ReadHistoryAsync(CancellationToken.None);
        Assert.Equal(HistoryTableKind.GolangMigrate, history.Kind);
        Assert.Equal("1", history.AppliedThrough);
    }
}

public sealed class PostgresHistoryAdoptionTests : HistoryAdoptionSuite
{
    protected override DatabaseEngine Engine => DatabaseEngine.Postgres;
}

public sealed class MySqlHistoryAdoptionTests : HistoryAdoptionSuite
{
    protected override DatabaseEngine Engine => DatabaseEngine.MySql;
}
