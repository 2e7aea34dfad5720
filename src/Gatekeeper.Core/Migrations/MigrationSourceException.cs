namespace Gatekeeper.Core.Migrations;

/// <summary>
/// A migration source could not be read at all (missing directory, unreadable file): an I/O failure, as
/// opposed to a <see cref="SourceProblem"/>, which is something wrong with files that were read.
/// </summary>
public sealed class MigrationSourceException : Exception
{
    public MigrationSourceException(string message)
        : base(message)
    {
    }

    public MigrationSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
