namespace Gatekeeper.Cli.Tests;

/// <summary>The outcome of one run of the <c>gatekeeper</c> binary.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>Runs the published <c>gatekeeper</c> binary with these arguments alone (no database URL in its environment).</summary>
public static class CliRun
{
    public static async Task<CliResult> InvokeAsync(params string[] args)
    {
        using var process = GatekeeperProcess.StartWithoutUrl(args);
        return await process.WaitAsync(TimeSpan.FromMinutes(2));
    }
}

/// <summary>A temporary migration directory owned by one test.</summary>
public sealed class TempMigrationDirectory : IDisposable
{
    public TempMigrationDirectory(params (string Name, string Content)[] files)
    {
        Path = Directory.CreateTempSubdirectory("gk-cli-").FullName;
        foreach (var (name, content) in files)
        {
            Write(name, content);
        }
    }

    public string Path { get; }

    public void Write(string name, string content) => File.WriteAllText(System.IO.Path.Combine(Path, name), content);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
