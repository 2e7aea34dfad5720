using System.Text.RegularExpressions;

namespace Gatekeeper.Delivery.Tests;

/// <summary>
/// The Dockerfile builds one small non-root image for both roles, and the chart runs it the way it was built. There
/// is no Docker engine in CI, so these are the parts of the image that can be judged from its recipe.
/// </summary>
public sealed partial class ContainerImageTests
{
    [Fact]
    public void The_image_is_built_in_stages_and_runs_on_a_runtime_only_base()
    {
        var stages = Stages();
        Assert.True(stages.Count >= 2, "The Dockerfile must be multi-stage: build with the SDK, run without it.");
        Assert.Contains("dotnet/sdk", stages[0].Base, StringComparison.Ordinal);
        var final = stages[^1];
        Assert.Matches("dotnet/(aspnet|runtime-deps):.*chiseled", final.Base);
        Assert.DoesNotContain(final.Lines, line => line.StartsWith("RUN ", StringComparison.Ordinal));
    }

    [Fact]
    public void The_image_runs_as_the_numeric_non_root_user_the_chart_asks_for()
    {
        var user = Stages()[^1].Lines.LastOrDefault(line => line.StartsWith("USER ", StringComparison.Ordinal));
        Assert.NotNull(user);
        var uid = user["USER ".Length..].Trim();
        // Numeric, so the kubelet can check runAsNonRoot without reading /etc/passwd in the image.
        Assert.Matches("^[1-9][0-9]*$", uid);
        var podContext = InstallManifest.Single("Deployment").MapAt("spec", "template", "spec", "securityContext");
        Assert.Equal("true", podContext.StringAt("runAsNonRoot"));
        Assert.Equal(uid, podContext.StringAt("runAsUser"));
    }

    [Fact]
    public void The_entrypoint_is_the_gatekeeper_binary_so_one_image_serves_and_migrates()
    {
        var final = Stages()[^1];
        Assert.Contains("ENTRYPOINT [\"/app/gatekeeper\"]", final.Lines);
        var project = RepositoryFiles.ReadText("src/Gatekeeper/Gatekeeper.csproj");
        Assert.Contains("<AssemblyName>gatekeeper</AssemblyName>", project, StringComparison.Ordinal);
        // The image is built the one way the binary is built: scripts/publish.sh, a Native AOT publish of that project.
        Assert.Contains(Stages().SelectMany(s => s.Lines), line => line.StartsWith("RUN scripts/publish.sh ", StringComparison.Ordinal));
        var publish = RepositoryFiles.ReadText("scripts/publish.sh");
        Assert.Contains("dotnet publish src/Gatekeeper/Gatekeeper.csproj", publish, StringComparison.Ordinal);
        Assert.Contains("-p:PublishAot=true", publish, StringComparison.Ordinal);
        Assert.Contains("<PublishAot>true</PublishAot>", project, StringComparison.Ordinal);
    }

    [Fact]
    public void The_chart_runs_the_image_with_a_read_only_root_and_a_writable_tmp()
    {
        var container = InstallManifest.GatekeeperContainer();
        Assert.Equal("true", container.StringAt("securityContext", "readOnlyRootFilesystem"));
        Assert.Equal("false", container.StringAt("securityContext", "allowPrivilegeEscalation"));
        Assert.Contains("ALL", container.ListAt("securityContext", "capabilities", "drop").Strings());
        Assert.Contains(container.ListAt("volumeMounts"), mount => mount.StringAt("mountPath") == "/tmp");
        Assert.Contains("TMPDIR=/tmp", RepositoryFiles.ReadText("Dockerfile"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_build_context_is_an_allow_list_without_build_output()
    {
        var rules = RepositoryFiles.ReadText(".dockerignore").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal("*", rules[0]);
        Assert.Contains("!src/", rules);
        Assert.Contains("src/**/bin/", rules);
        Assert.Contains("src/**/obj/", rules);
        // Every file the Dockerfile copies from the context is let in.
        foreach (var copied in Stages().SelectMany(s => s.Lines).Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from=", StringComparison.Ordinal)))
        {
            var source = copied.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            Assert.True(rules.Contains("!" + source) || rules.Contains("!" + source.Split('/')[0] + "/"), $".dockerignore keeps '{source}' out of the build context.");
            Assert.True(source.EndsWith('/') || File.Exists(Path.Combine(RepositoryFiles.Root, source)), $"the Dockerfile copies '{source}', which does not exist.");
        }
    }

    private sealed record Stage(string Base, List<string> Lines);

    private static List<Stage> Stages()
    {
        var stages = new List<Stage>();
        foreach (var raw in JoinedLines(RepositoryFiles.ReadText("Dockerfile")))
        {
            var line = raw.Trim();
            if (FromLine().Match(line) is { Success: true } from)
            {
                stages.Add(new Stage(from.Groups["image"].Value, []));
            }
            else if (stages.Count > 0 && line.Length > 0 && !line.StartsWith('#'))
            {
                stages[^1].Lines.Add(line);
            }
        }

        return stages;
    }

    /// <summary>Dockerfile lines with backslash continuations joined.</summary>
    private static string[] JoinedLines(string text) => text.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n');

    [GeneratedRegex(@"^FROM\s+(?:--platform=\S+\s+)?(?<image>\S+)")]
    private static partial Regex FromLine();
}
