using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>Switching to Gatekeeper from another tool: only the truly new files are pending, and new rows keep the tool's layout.</summary>
public sealed class AdoptionTests
{
    [Fact]
    public async Task Plan_against_a_database_dbmate_migrated_lists_only_the_new_file()
    {
        using var dir = new TempMigrationDirectory(
            ("20240101000000_create.sql", "-- migrate:up\ncreate table accounts (id int);\n-- migrate:down\ndrop table accounts;\n"),
            ("20240201000000_index.sql", "-- migrate:up\nalter table accounts add column name text;\n-- migrate:down\n"),
            ("20240301000000_new.sql", "-- migrate:up\nalter table accounts add column email text;\n-- migrate:down\n"));
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        // What dbmate itself leaves behind after applying the first two files.
        await database.ExecuteAsync("create table accounts (id int, name text)");
        await database.ExecuteAsync("create table schema_migrations (version varchar(128) primary key)");
        await database.ExecuteAsync("insert into schema_migrations values ('20240101000000'), ('20240201000000')");
        var url = TestUrls.For(database);

        var plan = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url, "--history-table", "schema_migrations", "--output", "json");
        var migrate = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url, "--history-table", "schema_migrations");

        Assert.Equal(0, plan.ExitCode);
        Assert.Contains("\"pending\": [", plan.Output);
        Assert.Contains("20240301000000_new.sql", plan.Output);
        Assert.DoesNotContain("20240201000000_index.sql\", \"kind", plan.Output);
        Assert.Contains("Applied 1 migration", migrate.Output);
        Assert.Equal(3, await database.CountAsync("select count(*) from schema_migrations"));
        Assert.False(await database.TableExistsAsync("gatekeeper_schema_history"));
    }
}
