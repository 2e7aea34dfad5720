namespace Gatekeeper.Core.Tests;

/// <summary>Finds the shared corpora of real migration directories (../shared/corpora next to the repository).</summary>
public static class Corpora
{
    public static string Root { get; } = Locate();

    private static string Locate()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gatekeeper.sln")))
            {
                var candidate = Path.GetFullPath(Path.Combine(directory.FullName, "..", "shared", "corpora"));
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }

                break;
            }
        }

        return "/work/shared/corpora";
    }
}
