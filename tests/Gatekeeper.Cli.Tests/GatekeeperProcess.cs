using System.Diagnostics;
using Gatekeeper.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>
/// The built gatekeeper.dll as a separate process, the way a Kubernetes Job or CI runs it: the URL comes from the
/// environment (as from a Secret), so the password never shows in the process list.
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

    public static GatekeeperProcess Start(string url, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gatekeeper.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["GATEKEEPER_DATABASE_URL"] = url;
        return new GatekeeperProcess(Process.Start(start) ?? throw new InvalidOperationException("could not start gatekeeper"));
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
            Assert.Fail($"gatekeeper {string.Join(' ', process.StartInfo.ArgumentList.Skip(2))} did not exit within {timeout}: {await output} {await error}");
        }

        var result = new CliResult(process.ExitCode, await output, await error);
        OutputCapture.Record(OutputCapture.CliOutput, "gatekeeper.dll " + process.StartInfo.ArgumentList.ElementAtOrDefault(2), $"exit {result.ExitCode}\n{result.Output}{result.Error}");
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
