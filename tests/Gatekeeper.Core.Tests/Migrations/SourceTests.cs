using System.Text;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Tests.Migrations;

public sealed class SourceTests
{
    [Fact]
    public async Task A_missing_directory_throws_a_sentence_naming_the_path()
    {
        var path = Path.Combine(Path.GetTempPath(), "gatekeeper-missing-" + Guid.NewGuid().ToString("N"));

        var error = await Assert.ThrowsAsync<MigrationSourceException>(() => new DirectoryMigrationSource(path).ReadFilesAsync(CancellationToken.None));

        Assert.Equal($"Migration directory {path} does not exist.", error.Message);
    }

    [Fact]
    public async Task A_directory_source_reads_top_level_files_and_skips_hidden_ones_and_subdirectories()
    {
        var root = Directory.CreateTempSubdirectory("gatekeeper-source-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root.FullName, "V1__init.sql"), "select 1;");
            await File.WriteAllTextAsync(Path.Combine(root.FullName, ".V2__hidden.sql"), "select 2;");
            Directory.CreateDirectory(Path.Combine(root.FullName, "nested"));
            await File.WriteAllTextAsync(Path.Combine(root.FullName, "nested", "V3__nested.sql"), "select 3;");

            var source = new DirectoryMigrationSource(root.FullName);
            var files = await source.ReadFilesAsync(CancellationToken.None);

            var file = Assert.Single(files);
            Assert.Equal("V1__init.sql", file.Name);
            Assert.Equal("select 1;", Encoding.UTF8.GetString(file.Content.Span));
            Assert.Equal($"directory {root.FullName}", source.Description);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task An_in_memory_source_serves_configmap_style_name_content_pairs()
    {
        var source = new InMemoryMigrationSource("ConfigMap shop/app-migrations", new Dictionary<string, byte[]>
        {
            ["V1__init.sql"] = Encoding.UTF8.GetBytes("create table t (id int);"),
            ["V2__more.sql"] = Encoding.UTF8.GetBytes("alter table t add column b int;"),
        });

        var result = await MigrationDirectoryReader.ReadAsync(source, null, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal("ConfigMap shop/app-migrations", result.Directory!.Source);
        Assert.Equal(["1", "2"], result.Directory.Migrations.Select(m => m.Id));
    }
}
