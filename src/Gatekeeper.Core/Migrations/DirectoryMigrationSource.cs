namespace Gatekeeper.Core.Migrations;

/// <summary>
/// Reads the regular files at the top level of a directory (hidden files and subdirectories are skipped;
/// the reader decides which of the files are migrations).
/// </summary>
public sealed class DirectoryMigrationSource : IMigrationSource
{
    private readonly string path;

    public DirectoryMigrationSource(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        this.path = path;
    }

    public string Description => $"directory {path}";

    /// <remarks>
    /// Read synchronously: files of a migration directory are small and local, and an asynchronous read hands each one
    /// to the thread pool, whose start-up a one-shot <c>gatekeeper lint</c> would otherwise pay.
    /// </remarks>
    public Task<IReadOnlyList<MigrationFile>> ReadFilesAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(path))
        {
            throw new MigrationSourceException(
                File.Exists(path)
                    ? $"Migration directory {path} is a file, not a directory."
                    : $"Migration directory {path} does not exist.");
        }

        string[] names;
        try
        {
            names = Directory.GetFiles(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MigrationSourceException($"Migration directory {path} cannot be listed: {e.Message}", e);
        }

        var files = new List<MigrationFile>(names.Length);
        foreach (var fullName in names)
        {
            var name = Path.GetFileName(fullName);
            if (name.StartsWith('.'))
            {
                continue;
            }

            try
            {
                if ((File.GetAttributes(fullName) & (FileAttributes.Hidden | FileAttributes.Directory)) != 0)
                {
                    continue;
                }

                cancellationToken.ThrowIfCancellationRequested();
                var content = File.ReadAllBytes(fullName);
                files.Add(new MigrationFile(name, content));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new MigrationSourceException($"Migration file {fullName} cannot be read: {e.Message}", e);
            }
        }

        return Task.FromResult<IReadOnlyList<MigrationFile>>(files);
    }
}
