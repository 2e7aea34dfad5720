using System.Diagnostics;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Tests;
using Gatekeeper.Databases;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// Real public migration directories applied from empty to latest on a real server, each recorded in its own tool's
/// history table (so every adopted layout is written at scale), then a second run that must find nothing to do.
/// </summary>
public sealed class CorpusApplyTests
{
    public static TheoryData<string, string, DatabaseEngine, string> VanillaCorpora => new()
    {
        { "goalert", "postgres", DatabaseEngine.Postgres, "gorp_migrations" },
        { "hatchet", "postgres", DatabaseEngine.Postgres, "atlas_schema_revisions" },
        { "openmeter", "postgres", DatabaseEngine.Postgres, "schema_migrations" },
        { "kestra", "postgres", DatabaseEngine.Postgres, "flyway_schema_history" },
        { "fineract", "mysql", DatabaseEngine.MySql, "flyway_schema_history" },
    };

    [Theory]
    [MemberData(nameof(VanillaCorpora))]
    public async Task A_corpus_marked_as_applying_on_a_vanilla_server_applies_from_empty_and_a_second_run_is_a_no_op(
        string project, string engineFolder, DatabaseEngine engine, string historyTable)
    {
        var directory = await ReadAsync(project, engineFolder);
        await using var db = await TestDatabase.CreateAsync(engine);
        var options = new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse(historyTable), Format = directory.Format };

        var clock = Stopwatch.StartNew();
        await using (var database = db.Open(options))
        {
            var first = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);
            Assert.True(first.Status == MigrationRunStatus.Applied, first.Message);
            Assert.Equal(directory.Migrations.Count, first.Applied.Count);
        }

        var applyTime = clock.Elapsed;
        await using (var database = db.Open(options))
        {
            var second = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);
            Assert.True(second.Status == MigrationRunStatus.UpToDate, second.Message);
            Assert.True(second.Plan!.IsEmpty);
        }

        Console.WriteLine($"{project}/{engineFolder}: {directory.Migrations.Count} migrations applied in {applyTime.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Kestra_mysql_fails_on_mariadb_with_the_servers_message_and_the_file_line_of_the_statement()
    {
        var directory = await ReadAsync("kestra", "mysql");
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.MySql);
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("flyway_schema_history") });

        var result = await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None);

        Assert.Equal(MigrationRunStatus.Failed, result.Status);
        var failure = result.Failure!;
        Assert.Equal("V1_1__initial.sql", failure.File);
        Assert.Equal(DatabaseErrorKind.Syntax, failure.Kind);
        Assert.Contains("You have an error in your SQL syntax", failure.ServerMessage, StringComparison.Ordinal);
        Assert.Contains("offset", failure.ServerMessage, StringComparison.Ordinal);
        var lineText = File.ReadAllLines(Path.Combine(Corpora.Root, "kestra", "mysql", failure.File))[failure.Location!.Value.Line - 1];
        Assert.Contains("offset", lineText, StringComparison.Ordinal);
        Assert.StartsWith($"migration 1.1 failed at V1_1__initial.sql:{failure.Location.Value.Line}:", result.Message, StringComparison.Ordinal);
    }

    // Files Flyway skips silently (a single underscore after the version), which Gatekeeper's reader refuses; the
    // corpus applies without them, exactly as Flyway applied it.
    private static readonly string[] SkippedByFlyway = ["V366_remove_leading_or_trailing_spaces_in_reportnames.sql"];

    private static async Task<MigrationDirectory> ReadAsync(string project, string engineFolder)
    {
        var path = Path.Combine(Corpora.Root, project, engineFolder);
        var files = (await new DirectoryMigrationSource(path).ReadFilesAsync(CancellationToken.None))
            .Where(f => !SkippedByFlyway.Contains(f.Name))
            .ToList();
        var read = MigrationDirectoryReader.Read($"corpus {project}/{engineFolder}", files);
        Assert.True(read.Succeeded, string.Join("; ", read.Problems));
        return read.Directory!;
    }
}
