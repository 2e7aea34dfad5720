using System.Text;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Bench;

/// <summary>
/// Realistic Flyway migrations that pass lint, so the webhook's dry-run really runs them: cycles of CREATE TABLE,
/// ADD COLUMN, CREATE INDEX (CONCURRENTLY outside a transaction on PostgreSQL every other cycle), a child table with
/// a foreign key and its index, and an ADD COLUMN with a default.
/// </summary>
public static class GeneratedMigrations
{
    private static readonly string[] Nouns =
    [
        "customers", "orders", "invoices", "products", "shipments", "payments", "accounts", "subscriptions",
        "carts", "coupons", "warehouses", "suppliers", "reviews", "tickets", "refunds", "addresses",
    ];

    /// <summary>Files V1 … V<paramref name="count"/> (with their Flyway <c>.sql.conf</c> companions where a file opts out of a transaction).</summary>
    public static Dictionary<string, string> Files(int count, SqlDialect dialect)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var version = 1; version <= count; version++)
        {
            var (name, sql, conf) = One(version, dialect);
            files[name] = sql;
            if (conf is not null)
            {
                files[name + ".conf"] = conf;
            }
        }

        return files;
    }

    /// <summary>The file name of version <paramref name="version"/> (so a caller can vary its text).</summary>
    public static string NameOf(int version, SqlDialect dialect) => One(version, dialect).Name;

    private static (string Name, string Sql, string? Conf) One(int version, SqlDialect dialect)
    {
        var cycle = (version - 1) / 5;
        var table = Nouns[cycle % Nouns.Length] + (cycle >= Nouns.Length ? $"_{cycle / Nouns.Length + 1}" : string.Empty);
        var postgres = dialect == SqlDialect.Postgres;
        var sql = new StringBuilder();
        string name;
        string? conf = null;
        switch ((version - 1) % 5)
        {
            case 0:
                name = $"V{version}__create_{table}.sql";
                sql.Append(postgres
                    ? $"""
                      CREATE TABLE {table} (
                        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        name text NOT NULL,
                        email text,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        updated_at timestamptz NOT NULL DEFAULT now()
                      );

                      """
                    : $"""
                      CREATE TABLE {table} (
                        id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
                        name varchar(200) NOT NULL,
                        email varchar(255) NULL,
                        created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
                        updated_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
                      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

                      """);
                break;
            case 1:
                name = $"V{version}__add_{table}_note.sql";
                sql.Append(postgres
                    ? $"ALTER TABLE {table} ADD COLUMN note text;\n"
                    : $"ALTER TABLE {table} ADD COLUMN note varchar(1000) NULL, ALGORITHM=INSTANT;\n");
                break;
            case 2:
                name = $"V{version}__index_{table}_email.sql";
                if (postgres && cycle % 2 == 0)
                {
                    sql.Append($"CREATE INDEX CONCURRENTLY IF NOT EXISTS {table}_email_idx ON {table} (email);\n");
                    conf = "executeInTransaction=false\n";
                }
                else
                {
                    sql.Append(postgres
                        ? $"CREATE INDEX {table}_email_idx ON {table} (email);\n"
                        : $"CREATE INDEX {table}_email_idx ON {table} (email) ALGORITHM=INPLACE LOCK=NONE;\n");
                }

                break;
            case 3:
                name = $"V{version}__create_{table}_events.sql";
                sql.Append(postgres
                    ? $"""
                      CREATE TABLE {table}_events (
                        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        {table}_id bigint NOT NULL REFERENCES {table} (id),
                        kind text NOT NULL,
                        payload jsonb NOT NULL DEFAULT '{"{}"}',
                        created_at timestamptz NOT NULL DEFAULT now()
                      );
                      CREATE INDEX {table}_events_{table}_id_idx ON {table}_events ({table}_id, created_at);

                      """
                    : $"""
                      CREATE TABLE {table}_events (
                        id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
                        {table}_id bigint NOT NULL,
                        kind varchar(64) NOT NULL,
                        payload json NOT NULL,
                        created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
                        KEY {table}_events_{table}_id_idx ({table}_id, created_at),
                        CONSTRAINT {table}_events_{table}_fk FOREIGN KEY ({table}_id) REFERENCES {table} (id)
                      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

                      """);
                break;
            default:
                name = $"V{version}__add_{table}_status.sql";
                sql.Append(postgres
                    ? $"ALTER TABLE {table} ADD COLUMN status text NOT NULL DEFAULT 'active';\nCOMMENT ON COLUMN {table}.status IS 'lifecycle state';\n"
                    : $"ALTER TABLE {table} ADD COLUMN status varchar(32) NOT NULL DEFAULT 'active', ALGORITHM=INSTANT;\n");
                break;
        }

        return (name, sql.ToString(), conf);
    }
}
