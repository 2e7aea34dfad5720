using System.Diagnostics;
using Gatekeeper.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// The published Native AOT <c>gatekeeper</c> binary (<see cref="PublishedBinary"/>) as a separate process, the way a
/// Kubernetes Job or CI runs it. <see cref="Start"/> passes the URL in the environment (as from a Secret), so the
/// password never shows in the process list.
/// </summary>
public sealed class GatekeeperProcess : IDisposable
{
    private readonly Process process;
    private readonly Task<string> output;
    private readonly Task<string> error;

    private GatekeeperProcess(Process process)
    {
        this.process = process;
        output = process.StandardOutput.ReadToEndAsync();
        error = process.StandardError.ReadToEndAsync();
    }

    public bool HasExited => process.HasExited;

    public static GatekeeperProcess Start(string url, params string[] args) => Launch(url, args);

    /// <summary>Starts the binary with only these arguments: no <c>GATEKEEPER_DATABASE_URL</c> in its environment.</summary>
    public static GatekeeperProcess StartWithoutUrl(params string[] args) => Launch(null, args);

    private static GatekeeperProcess Launch(string? url, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(PublishedBinary.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (url is null)
        {
            start.Environment.Remove("GATEKEEPER_DATABASE_URL");
        }
        else
        {
            start.Environment["GATEKEEPER_DATABASE_URL"] = url;
        }

        return new GatekeeperProcess(Process.Start(start) ?? throw new InvalidOperationException($"could not start {PublishedBinary.Path}"));
    }

    /// <summary>Runs one command to its end (at most 2 minutes).</summary>
    public static async Task<CliResult> RunAsync(string url, params string[] args)
    {
        using var run = Start(url, args);
        return await run.WaitAsync(TimeSpan.FromMinutes(2));
    }

    /// <summary>Waits for the exit; a process still running after <paramref name="timeout"/> is killed and fails the test.</summary>
    public async Task<CliResult> WaitAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"gatekeeper {string.Join(' ', process.StartInfo.ArgumentList)} did not exit within {timeout}: {await output} {await error}");
        }

        var result = new CliResult(process.ExitCode, await output, await error);
        OutputCapture.Record(OutputCapture.CliOutput, "gatekeeper " + process.StartInfo.ArgumentList.FirstOrDefault(), $"exit {result.ExitCode}\n{result.Output}{result.Error}");
        return result;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }
}

/// <summary>
/// Where the Native AOT binary under test is: <c>$GATEKEEPER_BINARY</c>, which scripts/test.sh sets after building it
/// with scripts/publish.sh. The CLI tests judge that binary, not the assembly under the JIT.
/// </summary>
public static class PublishedBinary
{
    public const string Variable = "GATEKEEPER_BINARY";

    public static string Path =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path && File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"${Variable} does not name the published gatekeeper binary: run the tests with scripts/test.sh (it publishes it), or run scripts/publish.sh DIR and set {Variable}=DIR/gatekeeper.");
}
