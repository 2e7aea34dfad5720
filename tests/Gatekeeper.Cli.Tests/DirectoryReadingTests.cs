using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// Directories written for other tools apply through the real command line on real servers as their tools apply them
/// (sql-migrate, golang-migrate, Flyway), and <c>lint</c>, <c>plan --dry-run</c> and <c>migrate</c> agree on them.
/// </summary>
public sealed class DirectoryReadingTests
{
    private static async Task<CliResult> MigrateAsync(string dir, string url, params string[] more) =>
        await CliRun.InvokeAsync(["migrate", "--dir", dir, "--url", url, .. more]);

    private static async Task<int> AppliedCountAsync(string dir, string url)
    {
        var status = await CliRun.InvokeAsync("status", "--dir", dir, "--url", url, "--output", "json");
        return JsonNode.Parse(status.Output)!["migrations"]!.AsArray().Count(m => (string?)m!["state"] == "applied");
    }

    [Fact]
    public async Task A_sql_migrate_file_with_a_licence_header_and_two_up_sections_applies_both()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var dir = new TempMigrationDirectory(("20240101000000-posts.sql", """
            /*
             * Copyright 2024 The Example Authors.
             * SPDX-License-Identifier: Apache-2.0
             */

            -- +migrate Up
            CREATE TABLE post (id bigint PRIMARY KEY, title text);

            -- +migrate Down
            DROP TABLE post;

            -- +migrate Up
            CREATE TABLE fancier_post (id bigint PRIMARY KEY, title text, created_on timestamptz);

            -- +migrate Down
            DROP TABLE fancier_post;
            """));
        var url = TestUrls.For(database);

        var lint = await CliRun.InvokeAsync("lint", "--dir", dir.Path);
        var migrate = await MigrateAsync(dir.Path, url);

        Assert.True(lint.ExitCode == 0, lint.Output + lint.Error);
        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
        Assert.True(await database.TableExistsAsync("post"));
        Assert.True(await database.TableExistsAsync("fancier_post"));
        Assert.Equal(1, await AppliedCountAsync(dir.Path, url));
    }

    [Fact]
    public async Task A_golang_migrate_mysql_procedure_and_trigger_without_delimiter_apply_as_one_statement_each()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        using var dir = new TempMigrationDirectory(
            ("1_orders.up.sql", "CREATE TABLE orders (id INT PRIMARY KEY, qty INT NOT NULL, total INT NULL);\n"),
            ("2_routines.up.sql", """
                CREATE PROCEDURE add_order(IN p_id INT, IN p_qty INT)
                BEGIN
                  DECLARE doubled INT;
                  SET doubled = CASE WHEN p_qty > 0 THEN p_qty * 2 ELSE 0 END;
                  INSERT INTO orders (id, qty) VALUES (p_id, doubled);
                END;

                CREATE TRIGGER orders_total BEFORE INSERT ON orders FOR EACH ROW
                BEGIN
                  IF NEW.total IS NULL THEN
                    SET NEW.total = NEW.qty * 10;
                  END IF;
                END;
                """));
        var url = TestUrls.For(database);

        var migrate = await MigrateAsync(dir.Path, url);
        await database.ExecuteAsync("CALL add_order(7, 3)");

        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
        Assert.Equal(60L, await database.CountAsync("SELECT total FROM orders WHERE id = 7"));
    }

    [Fact]
    public async Task Leaving_the_wrapper_transaction_for_a_concurrent_index_lints_clean_dry_runs_and_applies()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        // dbmate wraps each file in a transaction; the file steps out of it for the index and back in.
        using var dir = new TempMigrationDirectory(("20240101000000_users.sql", "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY, email text);\n"));
        var url = TestUrls.For(database);
        var firstOnly = await MigrateAsync(dir.Path, url);
        dir.Write("20240102000000_email_index.sql", "-- migrate:up\nCOMMIT;\nDROP INDEX CONCURRENTLY IF EXISTS users_email;\nCREATE INDEX CONCURRENTLY users_email ON users (email);\nBEGIN;\n\n-- migrate:down\nDROP INDEX users_email;\n");

        var lint = await CliRun.InvokeAsync("lint", "--dir", dir.Path);
        var plan = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url, "--dry-run");
        var migrate = await MigrateAsync(dir.Path, url);

        Assert.Equal(0, firstOnly.ExitCode);
        Assert.True(lint.ExitCode == 0 && lint.Output.Contains("no findings", StringComparison.Ordinal), lint.Output);
        Assert.True(plan.ExitCode == 0, plan.Output + plan.Error);
        Assert.Contains("dry-run   ok", plan.Output, StringComparison.Ordinal);
        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
        Assert.Equal(1L, await database.CountAsync("SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'users_email'"));
        Assert.Equal(0L, await database.CountAsync("SELECT COUNT(*) FROM pg_index WHERE NOT indisvalid"));
    }

    [Theory]
    [InlineData("V2__index.sql", "CREATE INDEX CONCURRENTLY users_email ON users (email);\nCREATE INDEX CONCURRENTLY users_id_email ON users (id, email);\n")]
    [InlineData("V2__vacuum.sql", "CREATE INDEX CONCURRENTLY users_email ON users (email);\nVACUUM ANALYZE users;\n")]
    public async Task A_flyway_script_with_statements_postgres_refuses_in_a_transaction_applies_outside_one_as_flyway_runs_it(string name, string content)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var dir = new TempMigrationDirectory(("V1__users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"), (name, content));
        var url = TestUrls.For(database);

        var plan = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url);
        var migrate = await MigrateAsync(dir.Path, url);

        Assert.Contains("[no transaction]", plan.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("GK501", plan.Output, StringComparison.Ordinal);
        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
        Assert.Equal(1L, await database.CountAsync("SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'users_email'"));
    }

    [Fact]
    public async Task A_lone_concurrent_index_in_a_golang_migrate_file_applies_outside_a_transaction()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var dir = new TempMigrationDirectory(
            ("1_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"),
            ("2_email.up.sql", "CREATE INDEX CONCURRENTLY users_email ON users (email);\n"));

        var migrate = await MigrateAsync(dir.Path, TestUrls.For(database));

        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
    }

    [Fact]
    public async Task A_file_no_naming_rule_accepts_is_refused_with_the_way_out_and_ignore_lists_what_it_leaves_out()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var dir = new TempMigrationDirectory(
            ("V1__users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n"),
            ("V2_single_underscore.sql", "CREATE TABLE orders (id bigint PRIMARY KEY);\n"),
            ("seed-dev-data.sql", "INSERT INTO users VALUES (1);\n"));
        var url = TestUrls.For(database);

        var refused = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url);
        var plan = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url, "--ignore", "seed-*.sql,V2_single_underscore.sql");
        var json = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url, "--ignore", "seed-*.sql", "--ignore", "V2_*.sql", "--output", "json");
        var migrate = await MigrateAsync(dir.Path, url, "--ignore", "seed-*.sql", "--ignore", "V2_single_underscore.sql");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("V2_single_underscore.sql: has a single underscore after the version where Flyway needs two", refused.Error, StringComparison.Ordinal);
        Assert.Contains("--ignore", refused.Error, StringComparison.Ordinal);
        Assert.True(plan.ExitCode == 0, plan.Output + plan.Error);
        Assert.Contains("ignored   2 files (--ignore): V2_single_underscore.sql, seed-dev-data.sql", plan.Output, StringComparison.Ordinal);
        Assert.Equal(["V2_single_underscore.sql", "seed-dev-data.sql"], JsonNode.Parse(json.Output)!["ignored"]!.AsArray().Select(n => (string?)n));
        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
        Assert.Contains("ignored   2 file(s) (--ignore)", migrate.Output, StringComparison.Ordinal);
        Assert.Equal(0L, await database.CountAsync("SELECT COUNT(*) FROM users"));
    }

    [Fact]
    public async Task A_migration_that_changes_search_path_leaves_the_history_where_it_was_found()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        using var dir = new TempMigrationDirectory(
            ("V1__reporting.sql", "CREATE SCHEMA reporting;\nSET search_path TO reporting;\nCREATE TABLE daily (day date PRIMARY KEY);\n"),
            ("V2__more.sql", "CREATE TABLE public.more (id int);\n"),
            ("V3__no_tx.sql", "SET search_path TO reporting;\nCREATE INDEX CONCURRENTLY daily_day ON reporting.daily (day);\n"));
        var url = TestUrls.For(database);

        var migrate = await MigrateAsync(dir.Path, url);
        var again = await MigrateAsync(dir.Path, url);

        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
        Assert.Contains("Nothing to apply", again.Output, StringComparison.Ordinal);
        Assert.Equal(3L, await database.CountAsync("SELECT COUNT(*) FROM public.gatekeeper_schema_history WHERE success"));
        Assert.False(await database.TableExistsAsync("gatekeeper_schema_history", "reporting"));
        Assert.True(await database.TableExistsAsync("daily", "reporting"));
    }

    [Fact]
    public async Task A_mysql_migration_that_switches_database_leaves_the_history_where_it_was_found()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var other = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        using var dir = new TempMigrationDirectory(
            ("V1__elsewhere.sql", $"USE `{other.Name}`;\nCREATE TABLE audit (id INT PRIMARY KEY);\n"),
            ("V2__here.sql", $"CREATE TABLE `{database.Name}`.local_table (id INT);\n"));
        var url = TestUrls.For(database);

        var migrate = await MigrateAsync(dir.Path, url);
        var again = await MigrateAsync(dir.Path, url);

        Assert.True(migrate.ExitCode == 0, migrate.Output + migrate.Error);
        Assert.Contains("Nothing to apply", again.Output, StringComparison.Ordinal);
        Assert.Equal(2L, await database.CountAsync("SELECT COUNT(*) FROM gatekeeper_schema_history"));
        Assert.False(await other.TableExistsAsync("gatekeeper_schema_history"));
        Assert.True(await other.TableExistsAsync("audit"));
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task Migrate_reports_an_unreadable_directory_while_the_server_has_not_answered_the_connection(string scheme)
    {
        // The server took the connection and stays silent (overloaded, paused, a proxy with nothing behind it): before,
        // the process said nothing until the URL's connect_timeout ran out (here ten minutes, past this run's 2-minute limit).
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var clients = new System.Collections.Concurrent.ConcurrentQueue<TcpClient>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    clients.Enqueue(await silent.AcceptTcpClientAsync());
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped at the end of the test.
            }
        });
        // Enough files that the connection is under way before the reading finds the misnamed one.
        using var dir = new TempMigrationDirectory([
            .. Enumerable.Range(1, 3000).Select(i => ($"V{i}__t{i}.sql", $"CREATE TABLE t{i} (id int);")),
            ("V3001_single_underscore.sql", "CREATE TABLE b (id int);")]);
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;

        var refused = await MigrateAsync(dir.Path, $"{scheme}://app:secret@127.0.0.1:{port}/shop?connect_timeout=600");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("V3001_single_underscore.sql: has a single underscore after the version where Flyway needs two", refused.Error, StringComparison.Ordinal);
        silent.Stop();
        await accepting;
        while (clients.TryDequeue(out var client))
        {
            client.Dispose();
        }
    }
}
