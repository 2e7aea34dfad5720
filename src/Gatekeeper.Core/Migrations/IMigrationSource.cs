namespace Gatekeeper.Core.Migrations;

/// <summary>Where migration files come from: a directory, a ConfigMap's keys, or name→content pairs in tests.</summary>
public interface IMigrationSource
{
    /// <summary>Says where the files come from, for messages ("directory ./migrations", "ConfigMap shop/app-migrations").</summary>
    string Description { get; }

    /// <summary>Reads every file of the source; names are relative (no directories), in no particular order.</summary>
    Task<IReadOnlyList<MigrationFile>> ReadFilesAsync(CancellationToken cancellationToken);
}
