using System.Diagnostics;
using System.Globalization;

namespace Gatekeeper.Tests;

/// <summary>
/// Temporary directories named after the test process that owns them (<c>prefix-pid-random</c>), so a run that was
/// killed before it could delete its own does not leave them behind for good: the next run of the same kind removes
/// every directory of that prefix whose owner is gone (no such process, or a newer process with a reused pid). A
/// directory named the old way, without an owner, goes once it is a day old. Removal is best effort and never fails a test.
/// </summary>
public static class OwnedTempDirectory
{
    private static readonly TimeSpan OwnerlessAge = TimeSpan.FromDays(1);

    /// <summary>Removes stale directories of <paramref name="prefix"/>, then creates this process's next one.</summary>
    public static string Create(string prefix)
    {
        RemoveStale(prefix, Path.GetTempPath());
        return Directory.CreateTempSubdirectory($"{prefix}{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-").FullName;
    }

    /// <summary>The same under <paramref name="root"/> instead of the temporary directory (e.g. <see cref="TestDataRoot"/>).</summary>
    public static string Create(string prefix, string root)
    {
        RemoveStale(prefix, root);
        var path = Path.Combine(root, $"{prefix}{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Deletes a directory this process made; one a process still holds is left for a later run.</summary>
    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A child process still holds a file: the next run removes the directory once this process has ended.
        }
    }

    private static void RemoveStale(string prefix, string root)
    {
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateDirectories(root, prefix + "*").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        foreach (var directory in candidates)
        {
            if (IsStale(directory, Path.GetFileName(directory)[prefix.Length..]))
            {
                Delete(directory);
            }
        }
    }

    private static bool IsStale(string directory, string suffix)
    {
        try
        {
            var created = Directory.GetCreationTimeUtc(directory);
            var dash = suffix.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(suffix[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return DateTime.UtcNow - Directory.GetLastWriteTimeUtc(directory) > OwnerlessAge;
            }

            if (pid == Environment.ProcessId)
            {
                return false;
            }

            using var owner = Process.GetProcessById(pid);
            // A pid the system gave again to a process that started after the directory was made is not its owner.
            return owner.HasExited || owner.StartTime.ToUniversalTime() > created;
        }
        catch (ArgumentException)
        {
            // No process has that pid: its owner is gone.
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
