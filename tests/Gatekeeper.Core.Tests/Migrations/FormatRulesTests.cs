using Gatekeeper.Core.Migrations;
using static Gatekeeper.Core.Tests.Migrations.MigrationFiles;

namespace Gatekeeper.Core.Tests.Migrations;

public sealed class FlywayRulesTests
{
    [Fact]
    public void Flyway_versions_are_written_with_dots_whatever_separator_the_name_used()
    {
        var directory = ReadValid(null, ("V1_10__add_users_table.sql", "select 1;"), ("V2.1__more.sql", "select 2;"));

        Assert.Equal(["1.10", "2.1"], directory.Migrations.Select(m => m.Id));
        Assert.Equal("add users table", directory.Migrations[0].Description);
        Assert.Equal(MigrationFormat.Flyway, directory.Format);
    }

    [Fact]
    public void Flyway_orders_versions_numerically_not_as_text()
    {
        var directory = ReadValid(null, ("V1_10__c.sql", "c"), ("V1_2__a.sql", "a"), ("V1_9__b.sql", "b"), ("V10__d.sql", "d"), ("V9__e.sql", "e"));

        Assert.Equal(["1.2", "1.9", "1.10", "9", "10"], directory.Migrations.Select(m => m.Id));
    }

    [Fact]
    public void Flyway_repeatables_come_after_versioned_migrations_keyed_by_description()
    {
        var directory = ReadValid(null, ("R__refresh_views.sql", "v"), ("R__a_first.sql", "a"), ("V1__init.sql", "i"));

        Assert.Equal(["1", "a first", "refresh views"], directory.Migrations.Select(m => m.Id));
        Assert.Equal([MigrationKind.Versioned, MigrationKind.Repeatable, MigrationKind.Repeatable], directory.Migrations.Select(m => m.Kind));
    }

    [Fact]
    public void Flyway_versions_1_and_1_0_are_ambiguous_and_both_files_are_named()
    {
        var result = Read(null, ("V1__a.sql", "a"), ("V1.0__b.sql", "b"));

        var problem = Assert.Single(result.Problems);
        Assert.Contains("V1__a.sql", problem.Message, StringComparison.Ordinal);
        Assert.Contains("V1.0__b.sql", problem.Message, StringComparison.Ordinal);
        Assert.Null(result.Directory);
    }

    [Fact]
    public void Flyway_name_with_a_single_underscore_is_a_problem_naming_the_file()
    {
        var result = Read(MigrationFormat.Flyway, ("V1__init.sql", "a"), ("V2_add_users.sql", "b"));

        var problem = Assert.Single(result.Problems);
        Assert.Equal("V2_add_users.sql", problem.File);
        Assert.Contains("single underscore", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flyway_undo_script_becomes_the_down_section_of_its_version()
    {
        var directory = ReadValid(null, ("V1__init.sql", "create table t (id int);"), ("U1__init.sql", "drop table t;"));

        var migration = Assert.Single(directory.Migrations);
        Assert.Equal("drop table t;", migration.DownSql);
    }

    [Fact]
    public void Flyway_undo_script_without_its_versioned_migration_is_a_problem()
    {
        var result = Read(null, ("V1__init.sql", "a"), ("U2__gone.sql", "b"));

        Assert.Equal("U2__gone.sql", Assert.Single(result.Problems).File);
    }

    [Fact]
    public void Flyway_script_configuration_can_opt_a_file_out_of_its_transaction()
    {
        var directory = ReadValid(null, ("V1__index.sql", "create index concurrently i on t (a);"), ("V1__index.sql.conf", "# no tx\nexecuteInTransaction=false\n"), ("V2__plain.sql", "select 1;"));

        Assert.Equal([false, true], directory.Migrations.Select(m => m.Transactional));
    }

    // Flyway's PostgreSQLParser.detectCanExecuteInTransaction, read from flyway/flyway: the leading words (outside
    // parentheses, at most ten) decide; one such statement takes the whole script out of the transaction.
    [Theory]
    [InlineData("create index concurrently i on t (a);")]
    [InlineData("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);")]
    [InlineData("drop index concurrently if exists i;")]
    [InlineData("create table t (id int);\ncreate index concurrently i on t (id);")]
    [InlineData("VACUUM ANALYZE t;")]
    [InlineData("vacuum;")]
    [InlineData("ALTER SYSTEM SET work_mem = '64MB';")]
    [InlineData("CREATE DATABASE other;")]
    [InlineData("DROP TABLESPACE fast;")]
    [InlineData("CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p;")]
    [InlineData("REINDEX SCHEMA public;")]
    [InlineData("REINDEX (VERBOSE) DATABASE app;")]
    [InlineData("DISCARD ALL;")]
    [InlineData("-- a comment first\n/* and another */ CREATE INDEX CONCURRENTLY i ON t (a);")]
    public void Flyway_runs_a_script_with_a_statement_that_cannot_run_in_a_transaction_outside_one(string sql)
    {
        var migration = Assert.Single(ReadValid(MigrationFormat.Flyway, ("V1__x.sql", sql)).Migrations);

        Assert.False(migration.Transactional);
        Assert.False(migration.TransactionalOn(16));
    }

    [Theory]
    [InlineData("create index i on t (a);")]
    [InlineData("REINDEX TABLE CONCURRENTLY t;")]
    [InlineData("REINDEX INDEX CONCURRENTLY i;")]
    [InlineData("select 'create index concurrently i on t (a)';")]
    [InlineData("-- create index concurrently i on t (a)\nselect 1;")]
    [InlineData("do $$ begin perform 1; end $$; -- VACUUM is not possible in here")]
    [InlineData("create table vacuum_log (id int);")]
    [InlineData("insert into t (a, b, c, d, e, f, g) select a, b, c, d, e, f, g from u where vacuum is not null;")]
    public void Flyway_keeps_other_scripts_in_its_transaction_including_reindex_concurrently_which_its_list_leaves_out(string sql)
    {
        var migration = Assert.Single(ReadValid(MigrationFormat.Flyway, ("V1__x.sql", sql)).Migrations);

        Assert.True(migration.Transactional);
        Assert.Null(migration.TransactionalFromPostgres);
    }

    [Fact]
    public void Flyway_takes_add_enum_value_out_of_its_transaction_only_before_postgres_12()
    {
        var migration = Assert.Single(ReadValid(MigrationFormat.Flyway, ("V1__mood.sql", "ALTER TYPE public.mood ADD VALUE 'ecstatic';")).Migrations);

        Assert.True(migration.Transactional);
        Assert.Equal(12, migration.TransactionalFromPostgres);
        Assert.False(migration.TransactionalOn(11));
        Assert.True(migration.TransactionalOn(12));
        Assert.False(migration.TransactionalOn(null));
    }

    [Fact]
    public void Flyway_script_configuration_wins_over_its_detection()
    {
        var directory = ReadValid(null, ("V1__index.sql", "create index concurrently i on t (a);"), ("V1__index.sql.conf", "executeInTransaction=true\n"));

        Assert.True(Assert.Single(directory.Migrations).Transactional);
    }

    [Fact]
    public void Dbmate_and_atlas_keep_their_own_markers_and_are_not_read_by_flyways_rules()
    {
        var dbmate = ReadValid(null, ("20240101000000_index.sql", "-- migrate:up\ncreate index concurrently i on t (a);\n"));
        var atlas = ReadValid(MigrationFormat.Atlas, ("20240101000000_index.sql", "create index concurrently i on t (a);\n"));

        Assert.True(Assert.Single(dbmate.Migrations).Transactional);
        Assert.True(Assert.Single(atlas.Migrations).Transactional);
    }

    // golang-migrate's postgres driver runs a file as one query: a lone statement is no transaction block, more are one.
    [Theory]
    [InlineData("create index concurrently i on t (a);", false)]
    [InlineData("REINDEX INDEX CONCURRENTLY i;", false)]
    [InlineData("create table t (id int);\ncreate index concurrently i on t (id);", true)]
    [InlineData("create index i on t (a);", true)]
    public void Golang_migrate_runs_a_lone_statement_postgres_refuses_in_a_transaction_outside_one(string sql, bool transactional)
    {
        var directory = ReadValid(null, ("1_index.up.sql", sql));

        Assert.Equal(transactional, Assert.Single(directory.Migrations).Transactional);
    }
}

public sealed class GolangMigrateRulesTests
{
    [Fact]
    public void Golang_migrate_pairs_up_and_down_files_and_accepts_an_empty_down()
    {
        var directory = ReadValid(null,
            ("1_init.up.sql", "create table t (id int);"), ("1_init.down.sql", "drop table t;"),
            ("2_irreversible.up.sql", "delete from t;"), ("2_irreversible.down.sql", ""),
            ("10_no_down.up.sql", "select 1;"));

        Assert.Equal(MigrationFormat.GolangMigrate, directory.Format);
        Assert.Equal(["1", "2", "10"], directory.Migrations.Select(m => m.Id));
        Assert.Equal(["drop table t;", "", null], directory.Migrations.Select(m => m.DownSql));
        Assert.Equal(["init", "irreversible", "no_down"], directory.Migrations.Select(m => m.Description));
    }

    [Fact]
    public void Golang_migrate_ids_are_the_number_it_stores_without_leading_zeros()
    {
        var directory = ReadValid(null, ("0001_init.up.sql", "a"), ("0002_next.up.sql", "b"));

        Assert.Equal(["1", "2"], directory.Migrations.Select(m => m.Id));
    }

    [Fact]
    public void Golang_migrate_down_file_without_an_up_file_is_a_problem()
    {
        var result = Read(null, ("1_init.up.sql", "a"), ("2_orphan.down.sql", "b"));

        Assert.Equal("2_orphan.down.sql", Assert.Single(result.Problems).File);
    }

    [Fact]
    public void Golang_migrate_two_up_files_with_one_version_are_ambiguous()
    {
        var result = Read(null, ("5_a.up.sql", "a"), ("5_b.up.sql", "b"));

        var problem = Assert.Single(result.Problems);
        Assert.Contains("5_a.up.sql", problem.Message, StringComparison.Ordinal);
        Assert.Contains("5_b.up.sql", problem.Message, StringComparison.Ordinal);
    }
}

public sealed class DbmateRulesTests
{
    [Fact]
    public void Dbmate_keeps_only_the_up_section_and_says_where_it_starts()
    {
        var directory = ReadValid(null, ("20230101120000_users.sql", "-- a header comment\n-- migrate:up\ncreate table users (id int);\n\n-- migrate:down\ndrop table users;\n"));

        var migration = Assert.Single(directory.Migrations);
        Assert.Equal(MigrationFormat.Dbmate, directory.Format);
        Assert.Equal("20230101120000", migration.Id);
        Assert.Equal("users", migration.Description);
        Assert.Equal("create table users (id int);\n\n", migration.UpSql);
        Assert.Equal(3, migration.UpStartLine);
        Assert.Equal("drop table users;\n", migration.DownSql);
        Assert.True(migration.Transactional);
    }

    [Fact]
    public void Dbmate_transaction_false_on_the_marker_line_opts_out_of_a_transaction()
    {
        var directory = ReadValid(null, ("20230101120000_index.sql", "-- migrate:up transaction:false\ncreate index concurrently i on t (a);\n-- migrate:down\n"));

        Assert.False(Assert.Single(directory.Migrations).Transactional);
    }

    [Theory]
    [InlineData("-- migrate:down\ndrop table t;\n-- migrate:up\ncreate table t (id int);\n", "before")]
    [InlineData("create table t (id int);\n-- migrate:up\nselect 1;\n", "before the")]
    [InlineData("-- migrate:up\nselect 1;\n-- migrate:up\nselect 2;\n", "second")]
    [InlineData("-- migrate:up transaction:maybe\nselect 1;\n", "unknown dbmate option")]
    public void Dbmate_file_with_misplaced_markers_is_a_problem_with_its_line(string content, string expected)
    {
        var result = Read(MigrationFormat.Dbmate, ("20230101120000_x.sql", content));

        var problem = Assert.Single(result.Problems);
        Assert.StartsWith("20230101120000_x.sql:", problem.File, StringComparison.Ordinal);
        Assert.Contains(expected, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dbmate_file_without_an_up_marker_is_a_problem()
    {
        var result = Read(MigrationFormat.Dbmate, ("20230101120000_x.sql", "select 1;\n"));

        Assert.Contains(result.Problems, p => p.File!.StartsWith("20230101120000_x.sql", StringComparison.Ordinal));
    }
}

public sealed class SqlMigrateRulesTests
{
    [Fact]
    public void Sql_migrate_keys_on_the_file_name_and_orders_by_number_then_name()
    {
        var directory = ReadValid(null,
            ("20241108160105-b.sql", "-- +migrate Up\nselect 2;\n"),
            ("20241108160105-a.sql", "-- +migrate Up\nselect 1;\n"),
            ("9-early.sql", "-- +migrate Up\nselect 0;\n"),
            ("20250101000000-late.sql", "-- +migrate Up\nselect 3;\n"));

        Assert.Equal(MigrationFormat.SqlMigrate, directory.Format);
        Assert.Equal(["9-early.sql", "20241108160105-a.sql", "20241108160105-b.sql", "20250101000000-late.sql"], directory.Migrations.Select(m => m.Id));
    }

    [Fact]
    public void Sql_migrate_notransaction_and_statement_blocks_are_honoured()
    {
        const string content = "-- +migrate Up notransaction\n-- +migrate StatementBegin\ncreate function f() returns int as $$ select 1; $$ language sql;\n-- +migrate StatementEnd\n\n-- +migrate Down\ndrop function f();\n";
        var directory = ReadValid(null, ("1-f.sql", content));

        var migration = Assert.Single(directory.Migrations);
        Assert.False(migration.Transactional);
        Assert.Equal(2, migration.UpStartLine);
        Assert.StartsWith("-- +migrate StatementBegin\n", migration.UpSql, StringComparison.Ordinal);
        Assert.EndsWith("-- +migrate StatementEnd\n\n", migration.UpSql, StringComparison.Ordinal);
        Assert.Equal("drop function f();\n", migration.DownSql);
    }

    [Fact]
    public void Sql_migrate_down_section_may_come_before_the_up_section()
    {
        var directory = ReadValid(null, ("1-x.sql", "-- +migrate Down\ndrop table t;\n-- +migrate Up\ncreate table t (id int);\n"));

        var migration = Assert.Single(directory.Migrations);
        Assert.Equal("create table t (id int);\n", migration.UpSql);
        Assert.Equal(4, migration.UpStartLine);
        Assert.Equal("drop table t;\n", migration.DownSql);
    }

    [Fact]
    public void Sql_migrate_file_without_a_leading_number_is_a_problem_naming_it()
    {
        var result = Read(null, ("1-a.sql", "-- +migrate Up\nselect 1;\n"), ("init.sql", "-- +migrate Up\nselect 1;\n"));

        Assert.Equal("init.sql", Assert.Single(result.Problems).File);
    }

    // Behaviour read from rubenv/sql-migrate sqlparse.ParseMigration: lines before the first direction marker are
    // skipped, every Up/Down marker switches the direction (so sections repeat), notransaction on an Up marker disables
    // the transaction for the whole Up direction, and a direction switch with an unended statement is an error.

    [Fact]
    public void Sql_migrate_ignores_a_licence_header_in_a_block_comment_before_the_first_marker()
    {
        const string content = "/*\n * Copyright 2024 The Authors.\n * Licensed under the Apache License, Version 2.0;\n */\n\n-- +migrate Up\ncreate table t (id int);\n";
        var migration = Assert.Single(ReadValid(MigrationFormat.SqlMigrate, ("1-t.sql", content)).Migrations);

        Assert.Equal("create table t (id int);\n", migration.UpSql);
        Assert.Equal(7, migration.UpStartLine);
    }

    [Fact]
    public void Sql_migrate_header_markers_are_detected_even_after_a_block_comment()
    {
        var directory = ReadValid(null, ("1-t.sql", "/* generated; do not edit */\n-- +migrate Up\nselect 1;\n"));

        Assert.Equal(MigrationFormat.SqlMigrate, directory.Format);
    }

    [Fact]
    public void Sql_migrate_joins_several_up_sections_in_order_keeping_their_line_numbers()
    {
        const string content =
            "-- +migrate Up\ncreate table post (id int);\n\n-- +migrate Down\ndrop table post;\n\n" +
            "-- +migrate Up\ncreate table fancier_post (id int);\n\n-- +migrate Down\ndrop table fancier_post;\n";
        var migration = Assert.Single(ReadValid(MigrationFormat.SqlMigrate, ("1-posts.sql", content)).Migrations);

        var statements = Gatekeeper.Core.Sql.SqlSplitter.Split(migration.UpSql, Gatekeeper.Core.Sql.SqlDialect.Postgres, migration.FileName, migration.UpStartLine).Statements;
        Assert.Equal(["create table post (id int)", "create table fancier_post (id int)"], statements.Select(s => s.Text));
        Assert.Equal([2, 8], statements.Select(s => s.Location.Line));
        Assert.DoesNotContain("drop table", migration.UpSql, StringComparison.Ordinal);
        Assert.Contains("drop table post;", migration.DownSql, StringComparison.Ordinal);
        Assert.Contains("drop table fancier_post;", migration.DownSql, StringComparison.Ordinal);
    }

    [Fact]
    public void Sql_migrate_notransaction_on_any_up_marker_takes_the_whole_file_out_of_a_transaction()
    {
        const string content = "-- +migrate Up\ncreate table t (id int);\n-- +migrate Down\ndrop table t;\n-- +migrate Up notransaction\ncreate index concurrently t_id on t (id);\n";
        var migration = Assert.Single(ReadValid(MigrationFormat.SqlMigrate, ("1-t.sql", content)).Migrations);

        Assert.False(migration.Transactional);
    }

    [Theory]
    [InlineData("-- +migrate Up\ncreate table post (id int)\n\n-- +migrate Down\ndrop table post;\n", "1-a.sql:2", "ends without a semicolon before the '-- +migrate Down' marker at line 4")]
    [InlineData("-- +migrate Up\ncreate table post (id int);\nselect 'no end' -- not ; really\n-- +migrate Down\ndrop table post;\n", "1-a.sql:3", "ends without a semicolon")]
    [InlineData("-- +migrate Up\ncreate table post (id int);\n-- +migrate Down\ndrop table post\n-- +migrate Up\nselect 1;\n", "1-a.sql:4", "before the '-- +migrate Up' marker at line 5")]
    [InlineData("-- +migrate Up\n-- +migrate StatementBegin\nselect 'open';\n-- +migrate Down\nselect 1;\n", "1-a.sql:2", "StatementBegin' block that has no StatementEnd")]
    public void Sql_migrate_refuses_a_direction_switch_with_a_statement_not_ended(string content, string where, string says)
    {
        var problem = Assert.Single(Read(MigrationFormat.SqlMigrate, ("1-a.sql", content)).Problems);

        Assert.Equal(where, problem.File);
        Assert.Contains(says, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sql_migrate_statement_end_closes_a_section_whose_last_line_has_no_semicolon()
    {
        const string content = "-- +migrate Up\n-- +migrate StatementBegin\ncreate function f() returns int as $$ select 1 $$ language sql\n-- +migrate StatementEnd\n-- +migrate Down\ndrop function f;\n";

        Assert.Single(ReadValid(MigrationFormat.SqlMigrate, ("1-f.sql", content)).Migrations);
    }

    [Fact]
    public void Sql_migrate_sql_before_any_marker_is_a_problem_with_its_line()
    {
        var result = Read(MigrationFormat.SqlMigrate, ("1-a.sql", "-- comment\n\ndelete from t;\n-- +migrate Up\nselect 1;\n"));

        Assert.Equal("1-a.sql:3", Assert.Single(result.Problems).File);
    }
}

public sealed class AtlasRulesTests
{
    [Fact]
    public void Atlas_version_is_the_text_before_the_first_underscore()
    {
        var directory = ReadValid(null, ("20241217152316_v0.53.0.sql", "a"), ("20240122014727_v0_6_0.sql", "b"));

        Assert.Equal(MigrationFormat.Atlas, directory.Format);
        Assert.Equal(["20240122014727", "20241217152316"], directory.Migrations.Select(m => m.Id));
        Assert.Equal(["v0_6_0", "v0.53.0"], directory.Migrations.Select(m => m.Description));
        Assert.False(directory.AtlasSumVerified);
    }

    [Fact]
    public void Atlas_txmode_none_at_the_top_of_a_file_opts_out_of_a_transaction()
    {
        var directory = ReadValid(null,
            ("1_index.sql", "-- atlas:txmode none\n\ncreate index concurrently i on t (a);\n"),
            ("2_plain.sql", "create table t (id int);\n-- atlas:txmode none\n"));

        Assert.Equal([false, true], directory.Migrations.Select(m => m.Transactional));
    }

    [Fact]
    public void Atlas_unknown_txmode_is_a_problem()
    {
        var result = Read(null, ("1_index.sql", "-- atlas:txmode sometimes\n\nselect 1;\n"));

        Assert.Equal("1_index.sql:1", Assert.Single(result.Problems).File);
    }

    [Fact]
    public void Atlas_two_files_with_one_version_are_ambiguous()
    {
        var result = Read(null, ("20240101000000_a.sql", "a"), ("20240101000000_b.sql", "b"));

        var problem = Assert.Single(result.Problems);
        Assert.Contains("20240101000000_a.sql and 20240101000000_b.sql both have version 20240101000000", problem.Message, StringComparison.Ordinal);
    }
}
