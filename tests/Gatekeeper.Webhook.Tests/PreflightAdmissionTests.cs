using System.Text;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The lock pre-flight and data pre-checks at admission, as docs/database-permissions.md sets the webhook up (the
/// documented read-only reader in <c>plan-secret</c>, the dev user for the dry-run): a session holding a plan's table
/// denies the rollout with the blocker named, also when the plan's dry-run was proven moments before; duplicates under
/// a new UNIQUE index deny it before any Job runs.
/// </summary>
public sealed class PreflightAdmissionTests
{
    private static readonly Dictionary<string, string> First = new()
    {
        ["V1__customers.sql"] = "CREATE TABLE customers (\n  id bigint PRIMARY KEY,\n  email varchar(100),\n  note varchar(100)\n);\n",
    };

    private static async Task<(DeploymentScenario Scenario, DocumentedCredentials Users)> StartAsync(string engine)
    {
        // Every open transaction counts, so the test needs no clock to age one.
        var scenario = await DeploymentScenario.StartAsync(engine, new Dictionary<string, string?> { ["Webhook:LockPreflightMinimumAge"] = "00:00:00" });
        var users = await DocumentedCredentials.CreateAsync(scenario.Database!.Database.Engine, scenario.Database.Name);
        scenario.PutSecret(DeploymentScenario.SecretName, new Dictionary<string, string> { ["url"] = users.UrlText("migrator") });
        scenario.PutSecret("shop-reader", new Dictionary<string, string> { ["url"] = users.UrlText("reader") });
        scenario.PutSecret("shop-dev", new Dictionary<string, string> { ["url"] = users.DevServerUrl.Engine == DatabaseEngine.Postgres ? users.UrlText("dev", "postgres") : users.UrlText("dev", "gk_shadow") });
        var read = MigrationDirectoryReader.Read("test files", First.Select(f => new MigrationFile(f.Key, Encoding.UTF8.GetBytes(f.Value))).ToList());
        await using var database = MigrationDatabase.Open(users.Url("migrator"));
        var result = await new MigrationRunner(database).RunAsync(read.Directory!, null, CancellationToken.None);
        Assert.True(result.Succeeded, result.Message);
        return (scenario, users);
    }

    private static Dictionary<string, string> OptIn(params (string Key, string Value)[] extra) => DeploymentScenario.OptIn(
        [("gatekeeper.dev/plan-secret", "shop-reader"), ("gatekeeper.dev/dev-database-secret", "shop-dev"), .. extra]);

    private static Dictionary<string, string> With(string file, string sql) => new(First) { [file] = sql };

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task A_session_holding_a_plans_table_denies_the_rollout_with_the_blocker_named_also_after_a_proven_dry_run(string engine)
    {
        var (scenario, users) = await StartAsync(engine);
        await using var _ = scenario;
        await using var __ = users;
        await scenario.Database!.ScalarAsync("INSERT INTO customers (id, email, note) VALUES (1, 'ada@example.com', 'hunter2-in-a-row')");
        scenario.PutMigrations(With("V2__phone.sql", "ALTER TABLE customers ADD COLUMN phone varchar(20);\n"));
        var deployment = DeploymentScenario.Deployment(OptIn());

        var proven = await scenario.ApplyAsync(deployment);
        Assert.True(proven.Admitted, proven.Denial);

        // A monitoring agent reading INNODB_TRX more often than MariaDB refreshes it: the holder below is never in that
        // list, so only a pre-flight that reads the metadata locks themselves can name it (the CI failure of this test).
        await using var monitor = await TransactionListMonitor.StartAsync(scenario.Database.Database.Engine, scenario.Database.OpenConnectionAsync);
        // A session that read the table in a transaction it keeps open: the Job's ALTER would wait for it, and every
        // query on customers behind the ALTER.
        await using var holder = await scenario.Database.OpenConnectionAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var read = holder.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = "SELECT COUNT(*) FROM customers WHERE note = 'hunter2-in-a-row'";
            await read.ExecuteScalarAsync();
        }

        var held = await scenario.ApplyAsync(deployment);
        var warned = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn(("gatekeeper.dev/lock-preflight", "warn"))));
        // The session ends: its metadata locks go with it.
        await transaction.RollbackAsync();
        await holder.CloseAsync();
        var released = await scenario.ApplyAsync(deployment);

        Assert.False(held.Admitted);
        var denial = held.Denial!;
        Assert.Contains("would wait for its locks behind", denial, StringComparison.Ordinal);
        Assert.Matches(engine == "postgres"
            ? @"pid \d+ \(user postgres\) holds AccessShareLock on public\.customers, idle in transaction, transaction open for \d+s"
            : @"connection \d+ \(user root\) holds SHARED_READ on customers, Sleep, transaction open for \d+s", denial);
        Assert.Contains("gatekeeper.dev/lock-preflight: \"warn\"", denial, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", denial, StringComparison.Ordinal);
        Assert.DoesNotContain("SELECT", denial, StringComparison.Ordinal);
        Assert.True(warned.Admitted, warned.Denial);
        Assert.Contains(warned.Warnings, w => w.Contains("the plan's locks would wait behind an open transaction", StringComparison.Ordinal));
        Assert.True(released.Admitted, released.Denial);
        Assert.DoesNotContain(released.Warnings, w => w.Contains("pre-flight", StringComparison.Ordinal) || w.Contains("would wait", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task Duplicates_under_a_new_unique_index_deny_the_rollout_naming_table_column_and_one_key_only(string engine)
    {
        var (scenario, users) = await StartAsync(engine);
        await using var _ = scenario;
        await using var __ = users;
        await scenario.Database!.ScalarAsync("INSERT INTO customers (id, email) VALUES (1, 'ada@example.com'), (2, 'bob@example.com'), (3, 'ada@example.com')");
        scenario.PutMigrations(With("V2__unique_email.sql", "CREATE UNIQUE INDEX customers_email ON customers (email);\n"));

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(OptIn()));

        Assert.False(result.Admitted);
        var denial = result.Denial!;
        Assert.Contains("would fail on rows already in", denial, StringComparison.Ordinal);
        Assert.Matches(@"V2__unique_email\.sql:1:1: UNIQUE INDEX customers_email \(email\) on customers fails on existing rows: rows share a value of email, e\.g\. the row with id = [13]", denial);
        Assert.DoesNotContain("example.com", denial, StringComparison.Ordinal);
        Assert.Equal(0L, Convert.ToInt64(await scenario.Database.ScalarAsync(engine == "postgres"
            ? "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'customers_email'"
            : "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'customers_email'"), System.Globalization.CultureInfo.InvariantCulture));
    }
}
