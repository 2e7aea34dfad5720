namespace Gatekeeper.Core.Tests;

/// <summary>Finds ../shared/corpora beside the repository (worktrees live elsewhere, so /work/shared is the fallback).</summary>
public static class Corpora
{
    private static readonly Lazy<string> RootPath = new(Locate);

    /// <summary>The corpora folder: <c>&lt;project&gt;/&lt;engine&gt;/*.sql</c>.</summary>
    public static string Root => RootPath.Value;

    /// <summary>A corpus folder such as <c>Corpora.Dir("fineract", "mysql")</c>.</summary>
    public static string Dir(string project, string engine) => Path.Combine(Root, project, engine);

    private static string Locate()
    {
        var tried = new List<string>();
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gatekeeper.sln")))
            {
                var beside = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpora"));
                tried.Add(beside);
                if (Directory.Exists(beside))
                {
                    return beside;
                }

                break;
            }
        }

        const string fallback = "/work/shared/corpora";
        tried.Add(fallback);
        if (Directory.Exists(fallback))
        {
            return fallback;
        }

        throw new DirectoryNotFoundException(
            $"The shared migration corpora were not found; looked in {string.Join(" and ", tried)}.");
    }
}
