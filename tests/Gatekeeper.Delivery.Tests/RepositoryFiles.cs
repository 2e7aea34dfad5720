namespace Gatekeeper.Delivery.Tests;

/// <summary>
/// Files of the repository under test, found by walking up from the test assembly to Gatekeeper.sln. The checks read
/// what is committed (chart, manifests, alerts, docs, C# sources), so a missing file is a failure, never a skip.
/// </summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> RootDirectory = new(FindRoot);

    public static string Root => RootDirectory.Value;

    public static string PathOf(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    public static string ReadText(string relativePath)
    {
        var path = PathOf(relativePath);
        Assert.True(File.Exists(path), $"{relativePath} is missing from the repository.");
        return File.ReadAllText(path);
    }

    /// <summary>Every C# file under src/ (build output excluded): what the product is made of.</summary>
    public static IReadOnlyList<string> ProductSources()
    {
        var source = PathOf("src");
        return Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(path =>
            {
                var relative = Path.GetRelativePath(source, path).Split(Path.DirectorySeparatorChar);
                return !relative.Contains("bin") && !relative.Contains("obj");
            })
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The one source file with this name under src/; fails when the code that defines it is not on this branch.</summary>
    public static string ReadProductSource(string fileName, string whatItDefines)
    {
        var matches = ProductSources().Where(path => Path.GetFileName(path) == fileName).ToList();
        Assert.True(matches.Count == 1,
            $"src/**/{fileName} ({whatItDefines}) was found {matches.Count} times; the code it describes must be on this branch exactly once.");
        return File.ReadAllText(matches[0]);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gatekeeper.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Gatekeeper.sln above {AppContext.BaseDirectory}: the tests must run inside the repository.");
    }
}
