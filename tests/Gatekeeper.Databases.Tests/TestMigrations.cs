using System.Text;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Databases.Tests;

/// <summary>Builds migration directories from name → SQL pairs through the real reader, as a ConfigMap would hold them.</summary>
internal static class TestMigrations
{
    public static MigrationDirectory Directory(MigrationFormat format, params (string Name, string Sql)[] files)
    {
        var result = MigrationDirectoryReader.Read(
            "test files",
            files.Select(f => new MigrationFile(f.Name, Encoding.UTF8.GetBytes(f.Sql))).ToList(),
            format);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Directory!;
    }

    public static MigrationDirectory Flyway(params (string Name, string Sql)[] files) => Directory(MigrationFormat.Flyway, files);
}
