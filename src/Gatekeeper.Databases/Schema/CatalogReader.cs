using Gatekeeper.Core.Schema;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.Schema;

/// <summary>
/// Reads one database's schema from its catalogs into a <see cref="SchemaModel"/>, the same way for the live database
/// and for the dev database the desired state was loaded into, so the two compare like for like. One implementation
/// per engine, chosen by <see cref="For"/>.
/// </summary>
internal abstract class CatalogReader
{
    public static CatalogReader For(DatabaseEngine engine) => engine switch
    {
        DatabaseEngine.Postgres => PostgresCatalogReader.Instance,
        DatabaseEngine.MySql => MySqlCatalogReader.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "no catalog reader for this engine"),
    };

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
