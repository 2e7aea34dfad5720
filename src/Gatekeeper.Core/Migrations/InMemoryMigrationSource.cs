namespace Gatekeeper.Core.Migrations;

/// <summary>
/// Files already in memory: a ConfigMap's keys (its <c>binaryData</c> or UTF-8 encoded <c>data</c>), or test data.
/// </summary>
public sealed class InMemoryMigrationSource : IMigrationSource
{
    private readonly IReadOnlyList<MigrationFile> files;

    public InMemoryMigrationSource(string description, IEnumerable<MigrationFile> files)
    {
        ArgumentException.ThrowIfNullOrEmpty(description);
        ArgumentNullException.ThrowIfNull(files);
        Description = description;
        this.files = [.. files];
    }

    public InMemoryMigrationSource(string description, IReadOnlyDictionary<string, byte[]> files)
        : this(description, (files ?? throw new ArgumentNullException(nameof(files))).Select(pair => new MigrationFile(pair.Key, pair.Value)))
    {
    }

    public string Description { get; }

    public Task<IReadOnlyList<MigrationFile>> ReadFilesAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(files);
    }
}
