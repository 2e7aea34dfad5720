using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Cli;

/// <summary>Reads a migration directory for a command, turning every file problem into one line on stderr.</summary>
internal static class SourceLoading
{
    public static async Task<MigrationDirectory> LoadAsync(DirectoryInfo directory, string formatName, IReadOnlyList<string> ignore, CancellationToken cancellationToken)
    {
        if (!MigrationFormats.TryParse(formatName, out var format))
        {
            // The --format option accepts only known names, so this is reached only by a new caller's mistake.
            throw new CommandLineError($"unknown migration format '{formatName}'; use one of {string.Join(", ", MigrationFormats.NamesWithAuto)}");
        }

        MigrationDirectoryReadResult result;
        try
        {
            result = await MigrationDirectoryReader.ReadAsync(new DirectoryMigrationSource(directory.FullName), format, cancellationToken, ignore);
        }
        catch (MigrationSourceException e)
        {
            throw new CommandLineError(e.Message);
        }

        if (result.Succeeded)
        {
            return result.Directory;
        }

        var lines = result.Problems.Select(problem => problem.File is null
            ? problem.Message
            : $"{Path.Combine(directory.ToString(), problem.File)}: {problem.Message}");
        throw new CommandLineError(
            $"{directory} cannot be read as a migration directory ({result.Problems.Count} problem{(result.Problems.Count == 1 ? string.Empty : "s")}):" +
            Environment.NewLine + string.Join(Environment.NewLine, lines.Select(line => "  " + line)));
    }
}
