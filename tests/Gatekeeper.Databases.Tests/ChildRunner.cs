using System.Diagnostics;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// This test assembly's entry point: a separate runner process the kill tests start and SIGKILL mid-migration, so what
/// they check is what a real dead process leaves behind (its sessions cut by the kernel, not a polite cancellation).
/// The URL comes from an environment variable so the password never shows in the process list.
/// </summary>
public static class ChildRunner
{
    public const string UrlVariable = "GATEKEEPER_CHILD_URL";

    public static async Task<int> Main(string[] args)
    {
        if (args is not ["migrate", var directoryPath, var format])
        {
            await Console.Error.WriteLineAsync("usage: migrate <directory> <format>  (URL in " + UrlVariable + ")");
            return 2;
        }

        var url = DatabaseUrl.Parse(Environment.GetEnvironmentVariable(UrlVariable) ?? string.Empty);
        var read = await MigrationDirectoryReader.ReadAsync(new DirectoryMigrationSource(directoryPath), Enum.Parse<MigrationFormat>(format), CancellationToken.None);
        if (!read.Succeeded)
        {
            await Console.Error.WriteLineAsync(string.Join("; ", read.Problems));
            return 2;
        }

        await using var database = MigrationDatabase.Open(url);
        var result = await new MigrationRunner(database).RunAsync(read.Directory!, null, CancellationToken.None);
        Console.WriteLine(result.Message);
        return result.Succeeded ? 0 : 1;
    }

    /// <summary>Starts this assembly as a child runner on <paramref name="directoryPath"/>.</summary>
    public static Process Start(string directoryPath, MigrationFormat format, string urlText)
    {
        var assembly = typeof(ChildRunner).Assembly.Location;
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("migrate");
        start.ArgumentList.Add(directoryPath);
        start.ArgumentList.Add(format.ToString());
        start.Environment[UrlVariable] = urlText;
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the child runner");
    }
}
