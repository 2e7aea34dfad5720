using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.DevDatabase;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// The three credentials of docs/database-permissions.md, created with exactly its statements, doing their jobs: the
/// migrator applies, the reader plans and dry-runs on the dev user's throwaway database, and the reader changes
/// nothing. A missing right is one sentence naming the user and the statement to grant.
/// </summary>
public sealed class DocumentedGrantsTests
{
    private static MigrationDirectory Applied(DatabaseEngine engine) => TestMigrations.Flyway(
        ("V1__customers.sql", "CREATE TABLE customers (id integer PRIMARY KEY, name varchar(50));\nINSERT INTO customers VALUES (1, 'ada');\n"),
        ("V2__report.sql", engine == DatabaseEngine.Postgres
            ? "CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql AS $$ SELECT upper(t) $$;\nCREATE VIEW loud AS SELECT shout(name) AS name FROM customers;\n"
            : "CREATE FUNCTION shout(t varchar(50)) RETURNS varchar(50) DETERMINISTIC RETURN upper(t);\nCREATE VIEW loud AS SELECT shout(name) AS name FROM customers;\n"));

    private static MigrationDirectory Pending(DatabaseEngine engine) => TestMigrations.Flyway(
        [.. Applied(engine).Migrations.Select(m => (m.FileName, System.Text.Encoding.UTF8.GetString(m.Content.Span))),
         ("V3__email.sql", "ALTER TABLE customers ADD email varchar(100);\nCREATE INDEX customers_email ON customers (email);\nCREATE VIEW loud_emails AS SELECT shout(email) AS email FROM customers;\n")]);

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task The_documented_reader_plans_and_dry_runs_on_the_documented_dev_server_what_the_documented_migrator_applies(DatabaseEngine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var users = await DocumentedCredentials.CreateAsync(engine, db.Name);
        await using (var asMigrator = MigrationDatabase.Open(users.Url("migrator")))
        {
            var applied = await new MigrationRunner(asMigrator).RunAsync(Applied(engine), null, CancellationToken.None);
            Assert.True(applied.Succeeded, applied.Message);
        }

        await using var asReader = MigrationDatabase.Open(users.Url("reader"));
        var history = await asReader.ReadHistoryAsync(CancellationToken.None);
        var schema = await asReader.ReadSchemaAsync(CancellationToken.None);
        var dryRun = await new MigrationRunner(asReader).DryRunAsync(Pending(engine), new DryRunSettings(DryRunMode.Shadow, users.DevServerUrl), CancellationToken.None);

        Assert.Equal(["1", "2"], history.Applied.Select(a => a.Id));
        Assert.Contains(schema.Schema.Tables, t => t.Name == "customers");
        Assert.True(dryRun.Succeeded, dryRun.Report?.Failure?.ToString());
        Assert.Equal(["3"], dryRun.Report!.Checked.Select(m => m.Id));
        Assert.Equal(0, await db.CountAsync($"SELECT COUNT(*) FROM information_schema.columns WHERE column_name = 'email' AND table_name = 'customers'"));
        Assert.Equal(0, await db.CountAsync($"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE '{ThrowawayDatabase.NamePrefix}%'")
            + (engine == DatabaseEngine.Postgres ? await db.CountAsync($"SELECT COUNT(*) FROM pg_database WHERE datname = '{dryRun.Report.ShadowDatabase}'") : 0));

        // The reader itself cannot change the schema: the server refuses, and the failure says who may not do what.
        var refused = await new MigrationRunner(asReader).RunAsync(Pending(engine), null, CancellationToken.None);
        Assert.Equal(MigrationRunStatus.Failed, refused.Status);
        Assert.Equal(DatabaseErrorKind.PermissionDenied, refused.Failure!.Kind);
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task A_reader_without_the_grant_on_the_history_table_gets_one_sentence_with_the_statement_to_grant_never_an_empty_history(DatabaseEngine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var users = await DocumentedCredentials.CreateAsync(engine, db.Name);
        await using (var asMigrator = MigrationDatabase.Open(users.Url("migrator")))
        {
            Assert.True((await new MigrationRunner(asMigrator).RunAsync(Applied(engine), null, CancellationToken.None)).Succeeded);
        }

        await db.ExecuteAsync(engine == DatabaseEngine.Postgres
            ? $"REVOKE SELECT ON gatekeeper_schema_history FROM {users.Reader}"
            : $"REVOKE SELECT, SHOW VIEW ON {db.Name}.* FROM '{users.Reader}'@'%'");
        if (engine == DatabaseEngine.MySql)
        {
            // Allowed to connect and read the customers, not the history: MySQL then hides the history table.
            await db.ExecuteAsync($"GRANT SELECT ON {db.Name}.customers TO '{users.Reader}'@'%'");
        }

        await using var asReader = MigrationDatabase.Open(users.Url("reader"));
        var error = await Assert.ThrowsAsync<DatabaseException>(() => asReader.ReadHistoryAsync(CancellationToken.None));

        Assert.Equal(DatabaseErrorKind.PermissionDenied, error.Kind);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain(DocumentedCredentials.Password, error.Message, StringComparison.Ordinal);
        var grant = engine == DatabaseEngine.Postgres
            ? $"grant it with: GRANT SELECT ON gatekeeper_schema_history TO {users.Reader}"
            : $"grant it with: GRANT SELECT, SHOW VIEW ON `{db.Name}`.* TO '{users.Reader}'@'%'";
        Assert.StartsWith($"user {users.Reader} may not read history table gatekeeper_schema_history of {db.Name} on {db.Url.Endpoint}; {grant} (server: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task A_dry_run_without_a_dev_server_needs_the_right_to_create_databases_and_says_so_to_a_reader(DatabaseEngine engine)
    {
        await using var db = await TestDatabase.CreateAsync(engine);
        await using var users = await DocumentedCredentials.CreateAsync(engine, db.Name);
        await using var asReader = MigrationDatabase.Open(users.Url("reader"));

        var error = await Assert.ThrowsAsync<DatabaseException>(() => new MigrationRunner(asReader).DryRunAsync(Applied(engine), CancellationToken.None));

        Assert.Equal(DatabaseErrorKind.PermissionDenied, error.Kind);
        var grant = engine == DatabaseEngine.Postgres
            ? $"ALTER ROLE {users.Reader} CREATEDB"
            : $@"GRANT ALL PRIVILEGES ON `gk\_shadow\_%`.* TO '{users.Reader}'@'%'";
        Assert.StartsWith($"user {users.Reader} may not create databases (the dry-run's throwaway copy of the schema) on {db.Url.Endpoint}; grant it with: {grant} (server: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_document_has_a_block_for_every_credential_on_both_engines()
    {
        var blocks = DocumentedCredentials.Blocks();

        Assert.Equal(
            ["mysql/dev", "mysql/migrator", "mysql/reader", "postgres/dev", "postgres/migrator", "postgres/reader"],
            blocks.Keys.Order(StringComparer.Ordinal));
    }
}
