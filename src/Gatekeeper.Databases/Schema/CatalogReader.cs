using Gatekeeper.Core.Schema;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.Schema;

/// <summary>
/// Reads one database's schema from its catalogs into a <see cref="SchemaModel"/>, the same way for the live database
/// and for the dev database the desired state was loaded into, so the two compare like for like. One implementation
/// per engine, reached through <see cref="SqlEngine.Catalog"/>.
/// </summary>
internal abstract class CatalogReader
{
    /// <summary>
    /// The live database's schema and the facts a dev database must match, read as one consistent snapshot where the
    /// engine has one (PostgreSQL: a read-only repeatable-read transaction).
    /// </summary>
    public abstract Task<(SchemaModel Model, LiveServerFacts Facts)> ReadLiveAsync(DbSession session, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the schema visible on <paramref name="session"/>. PostgreSQL reads it inside the session's transaction (the
    /// dev database's load is never committed); the caller owns the transaction.
    /// </summary>
    public abstract Task<SchemaModel> ReadAsync(DbSession session, CancellationToken cancellationToken);

    /// <summary>What the server is, in the words that decide whether two servers normalise alike ("PostgreSQL 15", "MariaDB 10.11").</summary>
    public abstract Task<string> ServerFlavorAsync(DbSession session, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> user objects of the connected database, named; empty when it has none.</summary>
    public abstract Task<IReadOnlyList<string>> UserObjectsAsync(DbSession session, int limit, CancellationToken cancellationToken);
}
