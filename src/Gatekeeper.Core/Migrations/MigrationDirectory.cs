using System.Diagnostics.CodeAnalysis;

namespace Gatekeeper.Core.Migrations;

/// <summary>
/// A parsed, validated migration source: every migration of one format in apply order
/// (versioned by version, then repeatables by description).
/// </summary>
/// <param name="Source">Where the files came from, for messages.</param>
/// <param name="Format">The detected or requested format.</param>
/// <param name="Migrations">Apply order.</param>
/// <param name="AtlasSumVerified">True when an atlas.sum was present and matched every file.</param>
public sealed record MigrationDirectory(
    string Source,
    MigrationFormat Format,
    IReadOnlyList<Migration> Migrations,
    bool AtlasSumVerified)
{
    /// <summary>Files left out on purpose (<c>--ignore</c>, <c>gatekeeper.dev/ignore</c>), by name: shown wherever the plan is.</summary>
    public IReadOnlyList<string> Ignored { get; init; } = [];
}

/// <summary>Something wrong with the files themselves; <see cref="File"/> is null when it concerns the whole source.</summary>
public sealed record SourceProblem(string? File, string Message)
{
    public override string ToString() => File is null ? Message : $"{File}: {Message}";
}

/// <summary>Either a directory or the problems that stop one from being read (never both empty).</summary>
public sealed record MigrationDirectoryReadResult(MigrationDirectory? Directory, IReadOnlyList<SourceProblem> Problems)
{
    [MemberNotNullWhen(true, nameof(Directory))]
    public bool Succeeded => Directory is not null && Problems.Count == 0;
}
