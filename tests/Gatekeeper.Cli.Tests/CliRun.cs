using Gatekeeper.Cli;
using Gatekeeper.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>The outcome of one in-process <c>gatekeeper</c> invocation.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>Runs the real command line in process, capturing stdout and stderr.</summary>
public static class CliRun
{
    public static async Task<CliResult> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await GatekeeperCommandLine.InvokeAsync(args, output, error);
        OutputCapture.Record(OutputCapture.CliOutput, "gatekeeper " + args.FirstOrDefault(), $"exit {exitCode}\n{output}{error}");
        return new CliResult(exitCode, output.ToString(), error.ToString());
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
