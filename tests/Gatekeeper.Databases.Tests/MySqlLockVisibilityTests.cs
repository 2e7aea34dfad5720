using Gatekeeper.Databases.Preflight;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// Which source the MySQL/MariaDB lock pre-flight reads for a server's configuration, and the warning it gives when
/// nothing shows metadata locks: what it cannot see, and the server option or grant that lets it see. The live servers
/// the tests start run the recommended configuration (scripts/db/start-mariadb.sh), so the other rows are decided here.
/// </summary>
public sealed class MySqlLockVisibilityTests
{
    public static TheoryData<bool, bool, bool, bool, bool, bool, string, string?> Servers => new()
    {
        // MariaDB, metadata_lock_info installed (the recommended configuration, whatever performance_schema says).
        { true, true, false, false, false, false, nameof(MySqlLockSource.MetadataLockInfo), null },
        { true, true, true, true, true, false, nameof(MySqlLockSource.MetadataLockInfo), null },
        // MySQL 8 by default; MariaDB with performance_schema = ON and the MDL instrument.
        { false, false, true, true, true, false, nameof(MySqlLockSource.PerformanceSchema), null },
        { true, false, true, true, true, false, nameof(MySqlLockSource.PerformanceSchema), null },
        // MariaDB's default: nothing shows metadata locks.
        { true, false, false, false, false, false, nameof(MySqlLockSource.TransactionsOnly),
            "(performance_schema is off and the metadata_lock_info plugin is not installed)|INSTALL SONAME 'metadata_lock_info'|plugin_load_add = metadata_lock_info" },
        { true, false, true, false, false, false, nameof(MySqlLockSource.TransactionsOnly),
            "(performance_schema's metadata lock instrument is off and the metadata_lock_info plugin is not installed)|INSTALL SONAME 'metadata_lock_info'" },
        { false, false, false, false, false, false, nameof(MySqlLockSource.TransactionsOnly), "(performance_schema is off)|performance_schema = ON" },
        { false, false, true, false, false, false, nameof(MySqlLockSource.TransactionsOnly),
            "(performance_schema's metadata lock instrument is off)|performance_schema_instrument = 'wait/lock/metadata/sql/mdl=ON'" },
        // On, instrumented, but the reader was not granted the tables.
        { false, false, true, true, false, true, nameof(MySqlLockSource.TransactionsOnly),
            "(user reader may not read performance_schema.metadata_locks)|GRANT SELECT ON performance_schema.metadata_locks TO 'reader'@'%'; GRANT SELECT ON performance_schema.threads TO 'reader'@'%'" },
    };

    [Theory]
    [MemberData(nameof(Servers))]
    public void The_pre_flight_reads_the_best_source_the_server_offers_and_says_what_it_cannot_see_and_how_to_enable_it(
        bool mariaDb, bool plugin, bool performanceSchema, bool instrumented, bool readable, bool denied, string source, string? mustSay)
    {
        var visibility = new MySqlLockVisibility(mariaDb, plugin, performanceSchema, instrumented, readable, denied);

        Assert.Equal(source, visibility.Source.ToString());
        var blindSpot = visibility.BlindSpot("reader");
        if (mustSay is null)
        {
            Assert.Null(blindSpot);
            return;
        }

        Assert.NotNull(blindSpot);
        Assert.StartsWith("the server does not show which sessions hold locks on the plan's tables (", blindSpot, StringComparison.Ordinal);
        Assert.Contains("a transaction that has only read a table can be missed", blindSpot, StringComparison.Ordinal);
        foreach (var part in mustSay.Split('|'))
        {
            Assert.Contains(part, blindSpot, StringComparison.Ordinal);
        }
    }
}
