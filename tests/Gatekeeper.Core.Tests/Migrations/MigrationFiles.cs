using System.Text;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Tests.Migrations;

/// <summary>Builds small in-memory sources for the naming and parsing tests.</summary>
internal static class MigrationFiles
{
    public static MigrationFile File(string name, string content) => new(name, Encoding.UTF8.GetBytes(content));

    public static MigrationDirectoryReadResult Read(MigrationFormat? format, params (string Name, string Content)[] files) =>
        MigrationDirectoryReader.Read("test source", files.Select(f => File(f.Name, f.Content)).ToList(), format);

    public static MigrationDirectory ReadValid(MigrationFormat? format, params (string Name, string Content)[] files)
    {
        var result = Read(format, files);
        Assert.Empty(result.Problems.Select(p => p.ToString()));
        return result.Directory!;
    }
}
