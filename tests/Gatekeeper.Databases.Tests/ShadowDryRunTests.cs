using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.DevDatabase;

namespace Gatekeeper.Databases.Tests;

/// <summary>
/// The PostgreSQL dry-run off production: the structure of the live database replayed into a throwaway database, the
/// plan applied there. The live database refuses every DDL statement (an event trigger), so a dry-run that reached it
/// would fail: these tests prove no DDL reaches it, and that the live transaction dry-run does.
/// </summary>
public sealed class PostgresShadowDryRunTests
{
    private const string RefuseDdl = """
        CREATE FUNCTION refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'DDL reached the target database: %', tg_tag; END $$;
        CREATE EVENT TRIGGER refuse_ddl ON ddl_command_start EXECUTE FUNCTION refuse_ddl();
        """;

    // A schema with one of everything the copy has to re-create.
    private const string LiveSchema = """
        CREATE EXTENSION pgcrypto;
        CREATE SCHEMA billing;
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        CREATE TYPE billing.money_range AS RANGE (SUBTYPE = numeric);
        CREATE TYPE address AS (street text, city text);
        CREATE DOMAIN positive_int AS integer DEFAULT 1 NOT NULL CONSTRAINT positive CHECK (VALUE > 0);
        CREATE SEQUENCE billing.invoice_numbers START 1000 INCREMENT 5;
        CREATE FUNCTION billing.next_invoice() RETURNS bigint LANGUAGE sql AS $$ SELECT nextval('billing.invoice_numbers') $$;
        CREATE TABLE customers (
            id serial PRIMARY KEY,
            token uuid NOT NULL DEFAULT gen_random_uuid(),
            name text COLLATE "C" NOT NULL,
            feeling mood,
            home address,
            visits positive_int,
            name_length integer GENERATED ALWAYS AS (length(name)) STORED,
            CONSTRAINT customers_token UNIQUE (token),
            CONSTRAINT name_not_blank CHECK (name <> ''));
        CREATE PROCEDURE touch_customers() LANGUAGE sql AS $$ UPDATE customers SET name = name WHERE false $$;
        CREATE TABLE billing.invoices (
            number bigint NOT NULL DEFAULT billing.next_invoice(),
            customer_id integer NOT NULL REFERENCES customers (id),
            issued date NOT NULL,
            amount numeric(12, 2),
            PRIMARY KEY (number, issued)) PARTITION BY RANGE (issued);
        CREATE TABLE billing.invoices_2026 PARTITION OF billing.invoices FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE INDEX invoices_customer ON billing.invoices (customer_id);
        CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE login_events (who integer) INHERITS (events);
        CREATE UNIQUE INDEX customers_lower_name ON customers (lower(name)) WHERE feeling IS NOT NULL;
        CREATE VIEW happy_customers AS SELECT id, name FROM customers WHERE feeling = 'happy';
        CREATE VIEW happy_names AS SELECT name FROM happy_customers;
        CREATE MATERIALIZED VIEW invoice_totals AS SELECT customer_id, sum(amount) AS total FROM billing.invoices GROUP BY customer_id;
        CREATE UNIQUE INDEX invoice_totals_customer ON invoice_totals (customer_id);
        CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); RETURN NEW; END $$;
        CREATE TRIGGER events_stamp BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION stamp();
        ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own_rows ON customers FOR SELECT USING (name = current_user);
        INSERT INTO customers (name, feeling) VALUES ('ada', 'happy');
        """;

    [Fact]
    public async Task A_plan_that_uses_every_kind_of_object_applies_on_a_copy_and_no_ddl_reaches_the_live_database()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync(LiveSchema);
        await db.ExecuteAsync(RefuseDdl);
        var directory = TestMigrations.Flyway(
            ("V1__types.sql", "ALTER TYPE mood ADD VALUE 'ecstatic';\nALTER DOMAIN positive_int SET DEFAULT 2;\n"),
            ("V2__tables.sql",
                "ALTER TABLE customers ADD COLUMN email text;\n" +
                "ALTER TABLE customers DROP CONSTRAINT name_not_blank;\n" +
                "CREATE TABLE billing.invoices_2027 PARTITION OF billing.invoices FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n" +
                "INSERT INTO billing.invoices (customer_id, issued, amount) SELECT id, '2027-03-01', 10 FROM customers;\n" +
                "ALTER TABLE login_events ADD COLUMN ip inet;\n" +
                "DROP POLICY own_rows ON customers;\n" +
                "CREATE VIEW sad_names AS SELECT name FROM happy_names WHERE false;\n" +
                "REFRESH MATERIALIZED VIEW invoice_totals;\n" +
                "CALL touch_customers();\n" +
                "ALTER SEQUENCE billing.invoice_numbers RESTART WITH 5000;\n" +
                "ALTER TABLE customers ALTER COLUMN id SET DEFAULT nextval('customers_id_seq');\n" +
                "DROP TRIGGER events_stamp ON events;\n"));
        await using var database = db.Open();

        var report = (await new MigrationRunner(database).DryRunAsync(directory, CancellationToken.None)).Report!;

        Assert.True(report.Succeeded, report.Failure?.ToString());
        Assert.Equal(DryRunMode.Shadow, report.Mode);
        Assert.Equal(["1", "2"], report.Checked.Select(m => m.Id));
        Assert.StartsWith(ThrowawayDatabase.NamePrefix, report.ShadowDatabase, StringComparison.Ordinal);
        Assert.Equal(0, await db.CountAsync($"SELECT COUNT(*) FROM pg_database WHERE datname = '{report.ShadowDatabase}'"));
        Assert.Equal(0, await db.CountAsync("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'email'"));

        // The rolled-back transaction on the live database is the one that sends DDL there.
        var live = (await new MigrationRunner(database).DryRunAsync(directory, new DryRunSettings(DryRunMode.Transaction), CancellationToken.None)).Report!;
        Assert.Contains("DDL reached the target database: ALTER TYPE", live.Failure?.ServerMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transactional_migration_fails_on_the_copy_where_it_would_fail_in_the_job()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE TYPE mood AS ENUM ('sad', 'happy'); CREATE TABLE people (id integer PRIMARY KEY, feeling mood)");
        // A new enum value cannot be used in the transaction that adds it (55P04), as the Job would find.
        var directory = TestMigrations.Flyway(
            ("V1__mood.sql", "ALTER TYPE mood ADD VALUE 'calm';\nINSERT INTO people VALUES (1, 'calm');\n"),
            ("V2__never.sql", "ALTER TABLE people ADD note text;\n"));
        await using var database = db.Open();

        var report = (await new MigrationRunner(database).DryRunAsync(directory, CancellationToken.None)).Report!;

        Assert.False(report.Succeeded);
        Assert.Empty(report.Checked);
        Assert.StartsWith("V1__mood.sql:2:", report.Failure!.Location?.ToString(), StringComparison.Ordinal);
        Assert.Contains("unsafe use of new value \"calm\"", report.Failure.ServerMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_leaves_the_runners_transaction_for_a_concurrent_index_dry_runs_as_it_applies()
    {
        // sql-migrate wraps each file in a transaction; "COMMIT; CREATE INDEX CONCURRENTLY …; BEGIN;" steps out of it and
        // back in (issue 17.3). The copy must apply it and the next file, and leave no transaction open on the way.
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE TABLE orders (id integer PRIMARY KEY, total integer)");
        var directory = TestMigrations.Directory(MigrationFormat.SqlMigrate,
            ("1_index.sql", "-- +migrate Up\nCOMMIT;\nCREATE INDEX CONCURRENTLY orders_total ON orders (total);\nBEGIN;\n"),
            ("2_note.sql", "-- +migrate Up\nALTER TABLE orders ADD note text;\nINSERT INTO orders (id, total) VALUES (1, 2);\n"));
        await using var database = db.Open();

        var report = (await new MigrationRunner(database).DryRunAsync(directory, CancellationToken.None)).Report!;

        Assert.True(report.Succeeded, report.Failure?.ToString());
        Assert.Equal(["1_index.sql", "2_note.sql"], report.Checked.Select(m => m.FileName));
        Assert.Equal(0L, Convert.ToInt64(await db.ScalarAsync("SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_total'"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Unqualified_names_resolve_in_the_copy_as_they_do_for_the_live_user()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE SCHEMA app; CREATE TABLE app.orders (id integer); CREATE TABLE public.orders (id integer, legacy text)");
        var directory = TestMigrations.Flyway(("V1__add.sql", "ALTER TABLE orders ADD total integer;\nALTER TABLE orders DROP COLUMN legacy;\n"));
        var server = new UriBuilder(Environment.GetEnvironmentVariable(TestServers.PostgresVariable)!) { Path = "/" + db.Name, Query = "search_path=app" };
        await using var inApp = MigrationDatabase.Open(DatabaseUrl.Parse(server.Uri.ToString()));

        var report = (await new MigrationRunner(inApp).DryRunAsync(directory, CancellationToken.None)).Report!;

        // orders is app.orders for this URL, which has no column legacy to drop.
        Assert.Equal("V1__add.sql:2:1: column \"legacy\" of relation \"orders\" does not exist", report.Failure!.ToString());
    }

    [Fact]
    public async Task Unqualified_names_in_a_later_file_resolve_as_they_do_for_the_live_user_after_the_session_is_reset()
    {
        // Each file gets a reset session (as migrate's pooled sessions are); the live user's search_path is set again after it.
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE SCHEMA app; CREATE TABLE app.orders (id integer); CREATE TABLE public.orders (id integer, legacy text)");
        await db.ExecuteAsync($"ALTER ROLE CURRENT_USER IN DATABASE {db.Name} SET search_path = app");
        var directory = TestMigrations.Flyway(
            ("V1__add.sql", "SET search_path = public;\nALTER TABLE orders ADD total integer;\n"),
            ("V2__drop.sql", "ALTER TABLE orders DROP COLUMN legacy;\n"));
        await using var database = db.Open();

        var report = (await new MigrationRunner(database).DryRunAsync(directory, CancellationToken.None)).Report!;

        // V1's SET does not reach V2, and V2's orders is app.orders as for the live user: it has no column legacy.
        Assert.Equal("V2__drop.sql:1:1: column \"legacy\" of relation \"orders\" does not exist", report.Failure?.ToString());
    }

    [Fact]
    public async Task A_grant_to_a_role_the_copy_server_does_not_have_is_noted_not_failed()
    {
        await using var db = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        await db.ExecuteAsync("CREATE TABLE reports (id integer)");
        var directory = TestMigrations.Flyway(("V1__grant.sql", "GRANT SELECT ON reports TO gk_no_such_role_anywhere;\nALTER TABLE reports ADD title text;\n"));
        await using var database = db.Open();

        var report = (await new MigrationRunner(database).DryRunAsync(directory, CancellationToken.None)).Report!;

        Assert.True(report.Succeeded, report.Failure?.ToString());
        var note = Assert.Single(report.Notes);
        Assert.Equal("V1__grant.sql:1:1", note.Location.ToString());
        Assert.Contains("names users or roles", note.Message, StringComparison.Ordinal);
    }
}
