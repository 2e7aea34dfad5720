using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// The webhook reads the same history table at every admission and remembers its layout: the next read checks the
/// layout and reads the rows in one round trip. A wrong or stale guess (the table replaced by another tool's, or gone)
/// must give exactly what a read without a guess gives.
/// </summary>
public abstract class KnownHistoryLayoutSuite
{
    protected abstract DatabaseEngine Engine { get; }

    private bool Pg => Engine == DatabaseEngine.Postgres;

    [Fact]
    public async Task A_known_layout_is_read_in_one_query_with_the_same_result_as_an_inspection()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        var directory = TestMigrations.Directory(MigrationFormat.Flyway,
            ("V1__one.sql", "CREATE TABLE one_t (id integer);\n"),
            ("V2__two.sql", "CREATE TABLE two_t (id integer);\n"));
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("flyway_schema_history") });
        Assert.True((await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None)).Succeeded);

        var (inspected, inspectedQueries) = await CountQueriesAsync(() => database.ReadHistoryAsync(CancellationToken.None));
        var (known, knownQueries) = await CountQueriesAsync(() => database.ReadHistoryAsync(HistoryTableKind.Flyway, CancellationToken.None));

        Assert.Equal(2, inspectedQueries);
        Assert.Equal(1, knownQueries);
        Assert.Equal(HistoryTableKind.Flyway, known.Kind);
        Assert.True(known.Exists);
        Assert.Equal(["1", "2"], known.Applied.Select(a => a.Id));
        Assert.Equal(RolloutFingerprint(inspected), RolloutFingerprint(known));
    }

    [Fact]
    public async Task A_table_replaced_by_another_tools_whose_rows_the_old_query_still_reads_is_read_in_its_new_layout()
    {
        // dbmate's query (SELECT version FROM schema_migrations) also runs on golang-migrate's table of the same name.
        await using var db = await TestDatabase.CreateAsync(Engine);
        await db.ExecuteAsync("CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null)");
        await db.ExecuteAsync($"INSERT INTO schema_migrations (version, dirty) VALUES (7, {(Pg ? "true" : "1")})");
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("schema_migrations") });

        var guessed = await database.ReadHistoryAsync(HistoryTableKind.Dbmate, CancellationToken.None);
        var inspected = await database.ReadHistoryAsync(CancellationToken.None);

        Assert.Equal(HistoryTableKind.GolangMigrate, guessed.Kind);
        Assert.Equal("7", guessed.AppliedThrough);
        Assert.Equal(RolloutFingerprint(inspected), RolloutFingerprint(guessed));
    }

    [Fact]
    public async Task A_known_table_that_was_dropped_reads_as_an_empty_history()
    {
        await using var db = await TestDatabase.CreateAsync(Engine);
        var directory = TestMigrations.Directory(MigrationFormat.Flyway, ("V1__one.sql", "CREATE TABLE one_t (id integer);\n"));
        await using var database = db.Open(new MigrationDatabaseOptions { HistoryTable = HistoryTableName.Parse("flyway_schema_history") });
        Assert.True((await new MigrationRunner(database).RunAsync(directory, null, CancellationToken.None)).Succeeded);
        await db.ExecuteAsync("DROP TABLE flyway_schema_history");

        var history = await database.ReadHistoryAsync(HistoryTableKind.Flyway, CancellationToken.None);

        Assert.False(history.Exists);
        Assert.Empty(history.Applied);
    }

    private static string RolloutFingerprint(HistoryState history) =>
        $"{history.Table}|{history.Kind}|{history.Exists}|{history.AppliedThrough}|" +
        string.Join(";", history.Applied.Select(a => $"{a.Id},{a.Checksum},{a.ChecksumAlgorithm},{a.Dirty}"));

    /// <summary>How many commands the database drivers sent while <paramref name="read"/> ran.</summary>
    private static async Task<(T Result, int Queries)> CountQueriesAsync<T>(Func<Task<T>> read)
    {
        var (result, sent) = await DriverCommands.RecordAsync(read);
        return (result, sent.Count);
    }
}

public sealed class PostgresKnownHistoryLayoutTests : KnownHistoryLayoutSuite
{
    protected override DatabaseEngine Engine => DatabaseEngine.Postgres;
}

public sealed class MySqlKnownHistoryLayoutTests : KnownHistoryLayoutSuite
{
    protected override DatabaseEngine Engine => DatabaseEngine.MySql;
}
