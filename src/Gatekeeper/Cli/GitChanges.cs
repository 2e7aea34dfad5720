using System.ComponentModel;
using System.Diagnostics;

namespace Gatekeeper.Cli;

/// <summary>
/// Which files of a directory a branch adds or changes, for <c>gatekeeper lint --since GITREF</c>: the files that
/// differ from the commit where the branch left <c>GITREF</c> (its merge base, as <c>atlas migrate lint --git-base</c>
/// compares), including changes not yet committed and untracked files. A file that only moved on <c>GITREF</c>'s side
/// after the branch left it is not the branch's change, so it does not count.
/// </summary>
internal static class GitChanges
{
    /// <summary>Names (relative to <paramref name="directory"/>) of the files added or modified since <paramref name="gitRef"/>.</summary>
    public static async Task<IReadOnlySet<string>> ChangedSinceAsync(DirectoryInfo directory, string gitRef, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(gitRef) || gitRef.StartsWith('-'))
        {
            throw new CommandLineError($"--since '{gitRef}' is not a git reference (a branch, tag or commit such as origin/main).");
        }

        var inside = await GitAsync(directory, ["rev-parse", "--is-inside-work-tree"], cancellationToken);
        if (inside.ExitCode != 0)
        {
            throw new CommandLineError($"--since needs {directory} to be inside a git work tree; git says: {FirstLine(inside.Error)}");
        }

        var baseCommit = await GitAsync(directory, ["merge-base", gitRef, "HEAD"], cancellationToken);
        if (baseCommit.ExitCode != 0 || string.IsNullOrWhiteSpace(baseCommit.Output))
        {
            throw new CommandLineError(
                $"--since {gitRef}: git finds no common commit of {gitRef} and HEAD in {directory} " +
                $"(in CI, fetch it first, e.g. git fetch origin main, and check out with enough history){Said(baseCommit.Error)}.");
        }

        var changed = new HashSet<string>(StringComparer.Ordinal);
        var diff = await GitAsync(directory, ["diff", "--name-only", "--relative", "--no-renames", "--diff-filter=AM", "-z", baseCommit.Output.Trim(), "--", "."], cancellationToken);
        var untracked = await GitAsync(directory, ["ls-files", "--others", "--exclude-standard", "-z", "--", "."], cancellationToken);
        foreach (var run in new[] { diff, untracked })
        {
            if (run.ExitCode != 0)
            {
                throw new CommandLineError($"--since {gitRef}: git could not list the changed files of {directory}: {FirstLine(run.Error)}");
            }

            foreach (var path in run.Output.Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                changed.Add(path.Replace('\\', '/'));
            }
        }

        return changed;
    }

    private static async Task<(int ExitCode, string Output, string Error)> GitAsync(DirectoryInfo directory, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(directory.FullName);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CommandLineError("--since needs git, and git could not be started.");
        }
        catch (Win32Exception)
        {
            throw new CommandLineError("--since needs git on PATH; it was not found.");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return (process.ExitCode, await output, await error);
        }
    }

    private static string FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";

    private static string Said(string error) => string.IsNullOrWhiteSpace(error) ? string.Empty : "; git says: " + FirstLine(error);
}
