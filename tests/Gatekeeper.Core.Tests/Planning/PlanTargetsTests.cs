using System.Text;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Planning;

public sealed class PlanTargetsTests
{
    private static PlanTargets Find(SqlDialect dialect, params string[] files) =>
        PlanTargets.Find(files.Select((sql, i) => Migration(i + 1, sql)).ToList(), dialect);

    private static Migration Migration(int version, string sql)
    {
        var file = $"V{version}__step.sql";
        return new Migration(version.ToString(System.Globalization.CultureInfo.InvariantCulture), MigrationVersion.Parse(version.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            "step", MigrationKind.Versioned, file, sql, 1, null, true, string.Empty, Encoding.UTF8.GetBytes(sql));
    }

    [Fact]
    public void Statements_that_queue_behind_open_transactions_name_their_live_tables_and_where_they_are()
    {
        var targets = Find(SqlDialect.Postgres,
            "ALTER TABLE customers ADD COLUMN note text;\nCREATE INDEX orders_total ON shop.orders (total);\n",
            "CREATE INDEX CONCURRENTLY invoices_due ON invoices (due);\nTRUNCATE audit_log;\nDROP TABLE legacy;\n");

        Assert.Equal(
            ["customers ALTER TABLE V1__step.sql:1:1 True", "shop.orders CREATE INDEX V1__step.sql:2:1 True", "invoices CREATE INDEX V2__step.sql:1:1 False",
             "audit_log TRUNCATE V2__step.sql:2:1 True", "legacy DROP TABLE V2__step.sql:3:1 True"],
            targets.Locks.Select(l => $"{l.Table} {l.Statement} {l.Location} {l.Queues}"));
        Assert.Empty(targets.DataChecks);
    }

    [Fact]
    public void Tables_the_plan_creates_have_no_rows_and_no_sessions_to_ask_about()
    {
        var targets = Find(SqlDialect.Postgres,
            "CREATE TABLE fresh (id integer, email text);\n",
            "ALTER TABLE fresh ALTER COLUMN email SET NOT NULL;\nCREATE UNIQUE INDEX fresh_email ON fresh (email);\nALTER TABLE fresh ADD CONSTRAINT fresh_id CHECK (id > 0);\n");

        Assert.True(targets.IsEmpty);
    }

    [Fact]
    public void Changes_that_existing_rows_can_fail_become_data_checks_with_what_they_need()
    {
        var targets = Find(SqlDialect.Postgres,
            "CREATE UNIQUE INDEX CONCURRENTLY customers_email ON customers USING btree (lower(email) DESC, tenant_id) WHERE deleted_at IS NULL;\n" +
            "ALTER TABLE customers ALTER COLUMN name SET NOT NULL, ADD CONSTRAINT positive_age CHECK (age >= 0 AND age < 200);\n" +
            "ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id);\n" +
            "ALTER TABLE orders ADD CONSTRAINT later FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\n" +
            "ALTER TABLE orders ALTER COLUMN code TYPE varchar(8), ALTER COLUMN qty TYPE smallint, ALTER COLUMN price TYPE numeric(6, 2), ALTER COLUMN raw TYPE integer USING raw::integer;\n" +
            "ALTER TABLE orders ADD COLUMN region text NOT NULL, ADD COLUMN kind text NOT NULL DEFAULT 'x';\n" +
            "ALTER TABLE orders ADD PRIMARY KEY (id);\n");

        var checks = targets.DataChecks;
        Assert.Equal(
            ["Unique customers [lower(email), \"tenant_id\"] where deleted_at IS NULL", "NotNull customers [name]", "Check customers [age >= 0 AND age < 200]",
             "ForeignKey orders [customer_id] -> customers(id)", "FitsType orders [code] varchar(8)", "FitsType orders [qty] smallint", "FitsType orders [price] numeric(6, 2)",
             "NoRows orders [region]", "Unique orders [\"id\"]", "NotNull orders [id]"],
            checks.Select(c => c.Kind switch
            {
                DataCheckKind.Unique => $"Unique {c.Table} [{string.Join(", ", c.Expressions)}]" + (c.Predicate is null ? string.Empty : $" where {c.Predicate}"),
                DataCheckKind.Check => $"Check {c.Table} [{string.Join(", ", c.Expressions)}]",
                DataCheckKind.ForeignKey => $"ForeignKey {c.Table} [{string.Join(", ", c.Columns)}] -> {c.ReferencedTable}({string.Join(", ", c.ReferencedColumns)})",
                DataCheckKind.FitsType => $"FitsType {c.Table} [{string.Join(", ", c.Columns)}] {c.Limit!.Type}",
                _ => $"{c.Kind} {c.Table} [{string.Join(", ", c.Columns)}]",
            }));
        Assert.Equal(new TypeLimit("varchar(8)", MaxLength: 8), checks[4].Limit);
        Assert.Equal(new TypeLimit("smallint", Min: -32768, Max: 32767), checks[5].Limit);
        Assert.Equal(new TypeLimit("numeric(6, 2)", Precision: 6, Scale: 2), checks[6].Limit);
        Assert.Equal("V1__step.sql:1:1", checks[0].Location.ToString());
        Assert.Equal("UNIQUE INDEX customers_email (lower(email), tenant_id)", checks[0].What);
        Assert.Contains(targets.Locks, l => l.Table.Name == "customers" && l.Statement == "FOREIGN KEY");
    }

    [Fact]
    public void MySql_names_keep_their_case_and_modify_and_prefix_indexes_are_understood()
    {
        var targets = Find(SqlDialect.MySql,
            "ALTER TABLE `Customers` MODIFY email varchar(40) NOT NULL, ADD UNIQUE KEY email_prefix (email(10));\n" +
            "CREATE UNIQUE INDEX code ON Orders (code);\nRENAME TABLE Orders TO orders_old;\n");

        Assert.Equal(["Customers", "Orders", "Orders"], targets.Locks.Select(l => l.Table.Name));
        Assert.Equal(
            ["NotNull Customers email", "FitsType Customers email", "Unique Customers LEFT(`email`, 10)", "Unique Orders `code`"],
            targets.DataChecks.Select(c => $"{c.Kind} {c.Table} {(c.Kind == DataCheckKind.Unique ? string.Join(", ", c.Expressions) : string.Join(", ", c.Columns))}"));
    }
}
