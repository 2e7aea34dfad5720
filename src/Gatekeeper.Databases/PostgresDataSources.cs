using System.Collections.Concurrent;
using Npgsql;

namespace Gatekeeper.Databases;

/// <summary>
/// Every PostgreSQL connection Gatekeeper opens comes from here: Npgsql's slim data source builder, which leaves the
/// type handlers and features Gatekeeper never uses out of the Native AOT binary. What Gatekeeper reads and writes
/// (history rows, pg_catalog and information_schema, advisory locks) is text, names, integers, booleans, timestamps
/// and arrays of those; migrations themselves run as SQL text whose results are not read.
/// </summary>
internal static class PostgresDataSources
{
    // One per connection string for the life of the process, as Npgsql keeps for a bare NpgsqlConnection: a data
    // source loads the server's types on its first connection, which an unpooled session should pay only once.
    private static readonly ConcurrentDictionary<string, Lazy<NpgsqlDataSource>> UnpooledSources = new(StringComparer.Ordinal);

    /// <summary>The data source of sessions outside the pool (locks, shadow databases): its connections really close.</summary>
    public static NpgsqlDataSource Unpooled(string connectionString) =>
        UnpooledSources.GetOrAdd(connectionString, key => new Lazy<NpgsqlDataSource>(() => Create(key))).Value;

    public static NpgsqlDataSource Create(string connectionString)
    {
        var builder = new NpgsqlSlimDataSourceBuilder(connectionString);
        // Npgsql's first connection of a data source reads every type of the database (pg_type with its arrays, ranges
        // and domains): a heavy catalog query, tens of milliseconds, paid again by the lock's session and by every CLI
        // run and migration Job. Gatekeeper reads only built-in types, which Npgsql knows without asking.
        builder.ConfigureTypeLoading(typeLoading => typeLoading.EnableTypeLoading(false));
        // sslmode=require/verify-* in the database URL: TLS is an opt-in on the slim builder.
        builder.EnableTransportSecurity();
        // pg_catalog answers with arrays (index keys, search_path, enum labels).
        builder.EnableArrays();
        return builder.Build();
    }
}
