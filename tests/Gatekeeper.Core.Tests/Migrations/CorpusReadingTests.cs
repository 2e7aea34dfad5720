using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Tests.Migrations;

public sealed class CorpusReadingTests
{
    private static async Task<MigrationDirectory> ReadCorpusAsync(string corpus, MigrationFormat expected)
    {
        var result = await MigrationDirectoryReader.ReadAsync(new DirectoryMigrationSource(Path.Combine(Corpora.Root, corpus)), null, CancellationToken.None);
        Assert.Empty(result.Problems.Select(p => p.ToString()));
        Assert.True(result.Succeeded);
        Assert.Equal(expected, result.Directory!.Format);
        return result.Directory;
    }

    private static void AssertApplyOrderIsVersionOrder(MigrationDirectory directory)
    {
        var versioned = directory.Migrations.Where(m => m.Kind == MigrationKind.Versioned).ToList();
        for (var i = 1; i < versioned.Count; i++)
        {
            Assert.True(versioned[i - 1].Version.CompareTo(versioned[i].Version) < 0, $"{versioned[i - 1].FileName} should come before {versioned[i].FileName}");
        }

        Assert.Equal(directory.Migrations.Count, directory.Migrations.Select(m => m.Id).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task Goalert_reads_as_sql_migrate_with_280_migrations_keyed_by_file_name()
    {
        var directory = await ReadCorpusAsync("goalert/postgres", MigrationFormat.SqlMigrate);

        Assert.Equal(280, directory.Migrations.Count);
        Assert.Equal(40, directory.Migrations.Count(m => !m.Transactional));
        Assert.Equal(271 + 9, directory.Migrations.Count(m => m.DownSql is not null));
        Assert.All(directory.Migrations, m => Assert.Equal(m.FileName, m.Id));
        AssertApplyOrderIsVersionOrder(directory);

        var sharing = directory.Migrations.Where(m => m.FileName.StartsWith("20241108160105-", StringComparison.Ordinal)).Select(m => m.FileName).ToList();
        Assert.Equal(
            ["20241108160105-import-river-migration-2.sql", "20241108160105-import-river-migration-3.sql", "20241108160105-import-river-migration-4.sql", "20241108160105-import-river-migration-5.sql"],
            sharing);
        Assert.All(directory.Migrations, m => Assert.DoesNotContain("-- +migrate Up", m.UpSql, StringComparison.Ordinal));
        Assert.All(directory.Migrations, m => Assert.DoesNotContain("-- +migrate Down", m.UpSql, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Goalert_up_sections_start_on_the_line_after_their_marker()
    {
        var directory = await ReadCorpusAsync("goalert/postgres", MigrationFormat.SqlMigrate);

        foreach (var migration in directory.Migrations)
        {
            var lines = File.ReadAllText(Path.Combine(Corpora.Root, "goalert/postgres", migration.FileName)).Split('\n');
            Assert.StartsWith("-- +migrate Up", lines[migration.UpStartLine - 2], StringComparison.Ordinal);
            var firstUpLine = migration.UpSql.Split('\n')[0];
            Assert.Equal(lines[migration.UpStartLine - 1], firstUpLine);
        }
    }

    [Fact]
    public async Task Hatchet_reads_as_atlas_with_its_atlas_sum_verified()
    {
        var directory = await ReadCorpusAsync("hatchet/postgres", MigrationFormat.Atlas);

        Assert.Equal(82, directory.Migrations.Count);
        Assert.Equal(12, directory.Migrations.Count(m => !m.Transactional));
        Assert.All(directory.Migrations.Where(m => !m.Transactional), m => Assert.Contains("CONCURRENTLY", m.UpSql, StringComparison.Ordinal));
        Assert.True(directory.AtlasSumVerified);
        Assert.Equal("20240115180414", directory.Migrations[0].Id);
        Assert.Equal("v0.53.0", directory.Migrations.Single(m => m.FileName == "20241217152316_v0.53.0.sql").Description);
        AssertApplyOrderIsVersionOrder(directory);
    }

    [Fact]
    public async Task Openmeter_reads_as_golang_migrate_with_down_files_and_its_atlas_sum_verified()
    {
        var directory = await ReadCorpusAsync("openmeter/postgres", MigrationFormat.GolangMigrate);

        Assert.Equal(269, directory.Migrations.Count);
        Assert.All(directory.Migrations, m => Assert.NotNull(m.DownSql));
        Assert.Equal(12, directory.Migrations.Count(m => m.DownSql!.Length == 0));
        Assert.All(directory.Migrations, m => Assert.EndsWith(".up.sql", m.FileName, StringComparison.Ordinal));
        Assert.True(directory.AtlasSumVerified);
        Assert.Equal("20240826120919", directory.Migrations[0].Id);
        AssertApplyOrderIsVersionOrder(directory);
    }

    [Theory]
    [InlineData("kestra/postgres", 26)]
    [InlineData("kestra/mysql", 24)]
    public async Task Kestra_reads_as_flyway_with_numeric_version_order(string corpus, int count)
    {
        var directory = await ReadCorpusAsync(corpus, MigrationFormat.Flyway);

        Assert.Equal(count, directory.Migrations.Count);
        var ids = directory.Migrations.Select(m => m.Id).ToList();
        Assert.True(ids.IndexOf("1.2") < ids.IndexOf("1.9"));
        Assert.Equal(ids.IndexOf("1.9") + 1, ids.IndexOf("1.10"));
        Assert.Equal("multitenant indices", directory.Migrations.Single(m => m.Id == "1.10").Description);
        AssertApplyOrderIsVersionOrder(directory);
    }

    [Fact]
    public async Task Fineract_is_rejected_only_for_its_single_underscore_file()
    {
        var result = await MigrationDirectoryReader.ReadAsync(new DirectoryMigrationSource(Path.Combine(Corpora.Root, "fineract/mysql")), null, CancellationToken.None);

        var problem = Assert.Single(result.Problems);
        Assert.Equal("V366_remove_leading_or_trailing_spaces_in_reportnames.sql", problem.File);
        Assert.Contains("single underscore", problem.Message, StringComparison.Ordinal);
        Assert.Null(result.Directory);
    }

    [Fact]
    public async Task Fineract_without_its_misnamed_file_reads_as_403_flyway_migrations()
    {
        var files = (await new DirectoryMigrationSource(Path.Combine(Corpora.Root, "fineract/mysql")).ReadFilesAsync(CancellationToken.None))
            .Where(f => !f.Name.StartsWith("V366_", StringComparison.Ordinal))
            .ToList();

        var result = MigrationDirectoryReader.Read("fineract", files);

        Assert.Empty(result.Problems);
        var directory = result.Directory!;
        Assert.Equal(MigrationFormat.Flyway, directory.Format);
        Assert.Equal(403, directory.Migrations.Count);
        var ids = directory.Migrations.Select(m => m.Id).ToList();
        Assert.Equal(ids.IndexOf("118") + 1, ids.IndexOf("118.1"));
        Assert.True(ids.IndexOf("118.8") < ids.IndexOf("119"));
        Assert.Equal("added savings accont type", directory.Migrations.Single(m => m.FileName == "V94__added_savings_accont type.sql").Description);
        AssertApplyOrderIsVersionOrder(directory);
    }

    [Fact]
    public async Task Supabase_reads_as_dbmate_starting_with_its_synthetic_version()
    {
        var directory = await ReadCorpusAsync("supabase-postgres/postgres", MigrationFormat.Dbmate);

        Assert.Equal(30, directory.Migrations.Count);
        Assert.Equal("10000000000000", directory.Migrations[0].Id);
        Assert.All(directory.Migrations, m => Assert.True(string.IsNullOrWhiteSpace(m.DownSql)));
        Assert.All(directory.Migrations, m => Assert.True(m.Transactional));
        Assert.All(directory.Migrations, m => Assert.DoesNotContain("migrate:", m.UpSql, StringComparison.Ordinal));
        AssertApplyOrderIsVersionOrder(directory);
    }

    [Theory]
    [InlineData("hatchet/postgres", "20240122014727_v0_6_0.sql")]
    [InlineData("openmeter/postgres", "20240903155435_entitlement-expired-index.up.sql")]
    public async Task A_migration_changed_by_one_byte_is_named_by_the_atlas_sum_check(string corpus, string tampered)
    {
        var files = (await new DirectoryMigrationSource(Path.Combine(Corpora.Root, corpus)).ReadFilesAsync(CancellationToken.None)).ToList();
        var index = files.FindIndex(f => f.Name == tampered);
        var bytes = files[index].Content.ToArray();
        bytes[bytes.Length / 2] ^= 0x01;
        files[index] = files[index] with { Content = bytes };

        var result = MigrationDirectoryReader.Read(corpus, files);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(AtlasSum.FileName, problem.File);
        Assert.Equal($"checksum of {tampered} does not match; the file changed after atlas.sum was written — run `atlas migrate hash` if the change is intended.", problem.Message);
    }

    [Fact]
    public async Task A_tampered_file_in_a_copied_directory_fails_the_atlas_sum_check()
    {
        var copy = Directory.CreateTempSubdirectory("gatekeeper-hatchet-");
        try
        {
            foreach (var file in Directory.GetFiles(Path.Combine(Corpora.Root, "hatchet/postgres")))
            {
                File.Copy(file, Path.Combine(copy.FullName, Path.GetFileName(file)));
            }

            var target = Path.Combine(copy.FullName, "20250127160736_v0.54.0.sql");
            var bytes = await File.ReadAllBytesAsync(target);
            bytes[0] = (byte)(bytes[0] == (byte)' ' ? '\t' : ' ');
            await File.WriteAllBytesAsync(target, bytes);

            var result = await MigrationDirectoryReader.ReadAsync(new DirectoryMigrationSource(copy.FullName), null, CancellationToken.None);

            var problem = Assert.Single(result.Problems);
            Assert.Contains("20250127160736_v0.54.0.sql", problem.Message, StringComparison.Ordinal);
            Assert.Null(result.Directory);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_tampered_line_of_atlas_sum_is_reported_as_a_hand_edit()
    {
        var files = (await new DirectoryMigrationSource(Path.Combine(Corpora.Root, "hatchet/postgres")).ReadFilesAsync(CancellationToken.None)).ToList();
        var index = files.FindIndex(f => f.Name == AtlasSum.FileName);
        var text = System.Text.Encoding.UTF8.GetString(files[index].Content.Span);
        var lines = text.Split('\n');
        lines[5] = lines[5][..^3] + (lines[5][^3] == 'A' ? "B" : "A") + lines[5][^2..];
        files[index] = files[index] with { Content = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines)) };

        var result = MigrationDirectoryReader.Read("hatchet", files);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(AtlasSum.FileName, problem.File);
        Assert.Contains("header does not match", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hatchet/postgres", ".sql")]
    [InlineData("openmeter/postgres", ".up.sql")]
    public void Atlas_sum_computed_from_the_corpus_reproduces_the_committed_file_byte_for_byte(string corpus, string suffix)
    {
        var root = Path.Combine(Corpora.Root, corpus);
        var files = Directory.GetFiles(root)
            .Where(f => f.EndsWith(suffix, StringComparison.Ordinal))
            .Select(f => new MigrationFile(Path.GetFileName(f), File.ReadAllBytes(f)));

        var sum = AtlasSum.Compute(files);

        Assert.Equal(File.ReadAllText(Path.Combine(root, AtlasSum.FileName)), sum.ToText());
    }
}
