namespace Gatekeeper.Databases.Tests;

/// <summary>
/// Where test database servers keep their data: in memory (<c>/dev/shm</c>) when it is writable with
/// <see cref="MinimumFree"/> free, as scripts/db/data-root.sh decides for the shared servers, else the temporary
/// directory. DDL is what the suites do most, and on disk each CREATE TABLE waits for file creation and syncs:
/// 200 MariaDB tables took 22 s on this machine's disk and 0.7 s in memory. The fault tests kill server processes,
/// not the machine, so nothing they prove depends on the disk. <c>GATEKEEPER_TEST_DATA_ROOT</c> chooses another directory.
/// </summary>
public static class TestDataRoot
{
    public const long MinimumFree = 2L * 1024 * 1024 * 1024;

    private const string Memory = "/dev/shm";

    public static string Path { get; } = Choose();

    private static string Choose()
    {
        if (Environment.GetEnvironmentVariable("GATEKEEPER_TEST_DATA_ROOT") is { Length: > 0 } chosen)
        {
            Directory.CreateDirectory(chosen);
            return chosen;
        }

        try
        {
            var memory = new DriveInfo(Memory);
            if (Directory.Exists(Memory) && memory.AvailableFreeSpace >= MinimumFree && IsWritable(Memory))
            {
                return Memory;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // No /dev/shm here (or not readable): the temporary directory.
        }

        return System.IO.Path.GetTempPath();
    }

    private static bool IsWritable(string directory)
    {
        var probe = System.IO.Path.Combine(directory, "gatekeeper-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllText(probe, string.Empty);
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
