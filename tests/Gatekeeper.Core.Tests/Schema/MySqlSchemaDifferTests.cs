using Gatekeeper.Core.Schema;
using Gatekeeper.Core.Sql;
using static Gatekeeper.Core.Tests.Schema.SchemaModels;

namespace Gatekeeper.Core.Tests.Schema;

/// <summary>The differ on MySQL models: one ALTER TABLE per table, columns placed, keys after every table, counters only raised.</summary>
public sealed class MySqlSchemaDifferTests
{
    // Column definitions as SHOW CREATE TABLE prints them: what the MySQL catalog reader keeps and compares.
    private static ColumnModel Defined(string name, string definition) => new(name, string.Empty) { Definition = definition };

    private static TableModel InnoDb(TableModel table) => table with
    {
        Options = new Dictionary<string, string> { ["ENGINE"] = "InnoDB", ["DEFAULT CHARSET"] = "utf8mb4", ["COLLATE"] = "utf8mb4_general_ci" },
    };

    [Fact]
    public void A_new_table_is_created_with_columns_keys_indexes_and_options_as_show_create_table_prints_them()
    {
        var table = InnoDb(Table(My("m_client"), Defined("id", "bigint(20) NOT NULL AUTO_INCREMENT"), Defined("name", "varchar(100) DEFAULT NULL")) with
        {
            Constraints = [new ConstraintModel("PRIMARY", ConstraintKind.PrimaryKey, "PRIMARY KEY (`id`) USING BTREE") { Columns = ["id"] }],
            Indexes =
            [
                new IndexModel("name_UNIQUE", true, "(`name`)") { Columns = ["name"] },
                new IndexModel("name_ft", false, "(`name`)") { Kind = "FULLTEXT", Columns = ["name"] },
            ],
            AutoIncrement = 5,
            Comment = "clients",
        });

        var diff = SchemaDiffer.Diff(MySql(), MySql(table));

        Assert.Equal(
            "CREATE TABLE `m_client` (\n" +
            "  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n" +
            "  `name` varchar(100) DEFAULT NULL,\n" +
            "  PRIMARY KEY (`id`) USING BTREE,\n" +
            "  UNIQUE KEY `name_UNIQUE` (`name`),\n" +
            "  FULLTEXT KEY `name_ft` (`name`)\n" +
            ") ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='clients'",
            Assert.Single(diff.Statements()));
    }

    [Fact]
    public void Every_change_to_one_table_is_one_alter_table_with_new_columns_placed_where_the_desired_state_has_them()
    {
        var current = MySql(InnoDb(Table(My("t"), Defined("id", "int(11) NOT NULL"), Defined("old", "int(11) DEFAULT NULL"), Defined("name", "varchar(10) DEFAULT NULL")) with
        {
            Indexes = [new IndexModel("old_idx", false, "(`old`)") { Columns = ["old"] }],
        }));
        var desired = MySql(InnoDb(Table(My("t"), Defined("first", "int(11) DEFAULT NULL"), Defined("id", "int(11) NOT NULL"), Defined("name", "varchar(20) NOT NULL"), Defined("added", "date DEFAULT NULL")) with
        {
            Indexes = [new IndexModel("name_idx", false, "(`name`)") { Columns = ["name"] }],
        }));

        var diff = SchemaDiffer.Diff(current, desired);

        Assert.Equal(
            "ALTER TABLE `t`\n" +
            "  DROP INDEX `old_idx`,\n" +
            "  DROP COLUMN `old`,\n" +
            "  ADD COLUMN `first` int(11) DEFAULT NULL FIRST,\n" +
            "  ADD COLUMN `added` date DEFAULT NULL AFTER `name`,\n" +
            "  MODIFY COLUMN `name` varchar(20) NOT NULL,\n" +
            "  ADD KEY `name_idx` (`name`)",
            Assert.Single(diff.Statements()));
        Assert.Empty(diff.Notes);
    }

    [Fact]
    public void Columns_out_of_order_are_moved_with_the_fewest_modify_after_clauses()
    {
        var current = MySql(Table(My("t"), Defined("a", "int"), Defined("b", "int"), Defined("c", "int"), Defined("d", "int")));
        var desired = MySql(Table(My("t"), Defined("a", "int"), Defined("d", "int"), Defined("b", "int"), Defined("c", "int")));

        var diff = SchemaDiffer.Diff(current, desired);

        Assert.Equal("ALTER TABLE `t`\n  MODIFY COLUMN `d` int AFTER `a`", Assert.Single(diff.Statements()));
        Assert.Equal("move column d on t", diff.Changes[0].Summary);
    }

    [Fact]
    public void Foreign_keys_are_dropped_before_and_added_after_the_tables_each_tables_keys_in_one_statement()
    {
        var parent = InnoDb(Table(My("z_parent"), Defined("id", "int NOT NULL")));
        var child = InnoDb(Table(My("a_child"), Defined("p", "int"), Defined("q", "int")) with
        {
            Constraints =
            [
                new ConstraintModel("fk_p", ConstraintKind.ForeignKey, "FOREIGN KEY (`p`) REFERENCES `z_parent` (`id`)") { Columns = ["p"], References = My("z_parent"), ReferencedColumns = ["id"] },
                new ConstraintModel("fk_q", ConstraintKind.ForeignKey, "FOREIGN KEY (`q`) REFERENCES `z_parent` (`id`) ON DELETE CASCADE") { Columns = ["q"], References = My("z_parent"), ReferencedColumns = ["id"] },
            ],
        });
        var oldChild = child with
        {
            Constraints = [new ConstraintModel("fk_q", ConstraintKind.ForeignKey, "FOREIGN KEY (`q`) REFERENCES `z_parent` (`id`)") { Columns = ["q"], References = My("z_parent"), ReferencedColumns = ["id"] }],
        };

        var fresh = SchemaDiffer.Diff(MySql(), MySql(child, parent));
        var changed = SchemaDiffer.Diff(MySql(oldChild, parent), MySql(child, parent));

        Assert.True(fresh.IndexOf("CREATE TABLE `z_parent`") < fresh.IndexOf("ALTER TABLE `a_child` ADD CONSTRAINT `fk_p`"));
        Assert.Equal(
            [
                "ALTER TABLE `a_child` DROP FOREIGN KEY `fk_q`",
                "ALTER TABLE `a_child` ADD CONSTRAINT `fk_p` FOREIGN KEY (`p`) REFERENCES `z_parent` (`id`)",
                "ALTER TABLE `a_child` ADD CONSTRAINT `fk_q` FOREIGN KEY (`q`) REFERENCES `z_parent` (`id`) ON DELETE CASCADE",
            ],
            changed.Statements());
    }

    [Fact]
    public void The_auto_increment_counter_is_raised_to_the_desired_value_but_never_lowered()
    {
        var table = InnoDb(Table(My("t"), Defined("id", "int NOT NULL AUTO_INCREMENT")));

        var raise = SchemaDiffer.Diff(MySql(table with { AutoIncrement = 3 }), MySql(table with { AutoIncrement = 8 }));
        var lower = SchemaDiffer.Diff(MySql(table with { AutoIncrement = 8 }), MySql(table with { AutoIncrement = 3 }));

        Assert.Equal("ALTER TABLE `t`\n  AUTO_INCREMENT=8", Assert.Single(raise.Statements()));
        Assert.True(lower.IsEmpty);
    }

    [Fact]
    public void Table_options_and_comments_change_in_place()
    {
        var current = MySql(InnoDb(Table(My("t"), Defined("a", "int"))) with { Comment = "old" });
        var desired = MySql(InnoDb(Table(My("t"), Defined("a", "int"))) with
        {
            Options = new Dictionary<string, string> { ["ENGINE"] = "InnoDB", ["DEFAULT CHARSET"] = "latin1", ["COLLATE"] = "latin1_swedish_ci" },
        });

        var diff = SchemaDiffer.Diff(current, desired);

        Assert.Equal("ALTER TABLE `t`\n  DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci COMMENT=''", Assert.Single(diff.Statements()));
    }

    [Fact]
    public void A_changed_view_is_replaced_in_place_and_a_removed_one_dropped_first()
    {
        var table = Table(My("t"), Defined("a", "int"));
        var current = MySql(table) with
        {
            Views = [View(My("v"), "select `t`.`a` AS `a` from `t`", TableKey(My("t"))), View(My("old"), "select 1 AS `1`")],
        };
        var desired = MySql(table) with
        {
            Views = [View(My("v"), "select `t`.`a` + 1 AS `a` from `t`", TableKey(My("t"))) with { Options = new Dictionary<string, string> { ["ALGORITHM"] = "UNDEFINED", ["SQL SECURITY"] = "INVOKER" } }],
        };

        var diff = SchemaDiffer.Diff(current, desired);

        Assert.Equal(["DROP VIEW `old`", "CREATE OR REPLACE ALGORITHM=UNDEFINED SQL SECURITY INVOKER VIEW `v` AS select `t`.`a` + 1 AS `a` from `t`"], diff.Statements());
    }

    [Fact]
    public void Routines_are_dropped_and_created_after_the_tables_and_their_bodies_written_between_delimiters()
    {
        var before = new RoutineModel(My("total"), string.Empty, "CREATE FUNCTION `total`() RETURNS int(11)\nBEGIN\n  RETURN 1;\nEND");
        var after = before with { Definition = "CREATE FUNCTION `total`() RETURNS int(11)\nBEGIN\n  RETURN 2;\nEND" };

        var diff = SchemaDiffer.Diff(MySql() with { Routines = [before] }, MySql(Table(My("t"), Defined("a", "int"))) with { Routines = [after] });

        Assert.Equal(["CREATE TABLE `t` (\n  `a` int\n)", "DROP FUNCTION `total`", after.Definition], diff.Statements());
        Assert.Equal(
            "CREATE TABLE `t` (\n  `a` int\n);\nDROP FUNCTION `total`;\nDELIMITER ;;\n" + after.Definition + ";;\nDELIMITER ;\n",
            SchemaScript.Render(SqlDialect.MySql, diff.Changes));
        var split = SqlSplitter.Split(SchemaScript.Render(SqlDialect.MySql, diff.Changes), SqlDialect.MySql, "plan.sql");
        Assert.Equal(diff.Statements(), split.Statements.Select(s => s.Text));
    }

    [Fact]
    public void Declared_column_and_index_renames_run_alone_before_the_other_changes()
    {
        var current = MySql(Table(My("t"), Defined("mail", "varchar(10)"), Defined("n", "int")) with { Indexes = [new IndexModel("mail_idx", false, "(`mail`)") { Columns = ["mail"] }] });
        var desired = MySql(Table(My("t"), Defined("email", "varchar(10)"), Defined("n", "bigint")) with { Indexes = [new IndexModel("email_idx", false, "(`email`)") { Columns = ["email"] }] });
        var location = new SourceLocation("schema.sql", 1, 1);

        var diff = SchemaDiffer.Diff(current, desired, new SchemaDiffOptions
        {
            Renames =
            [
                new DeclaredRename(RenameTarget.Column, My("t"), "mail", "email", location),
                new DeclaredRename(RenameTarget.Index, My("t"), "mail_idx", "email_idx", location),
            ],
        });

        Assert.Equal(
            [
                "ALTER TABLE `t`\n  RENAME COLUMN `mail` TO `email`,\n  RENAME INDEX `mail_idx` TO `email_idx`",
                "ALTER TABLE `t`\n  MODIFY COLUMN `n` bigint",
            ],
            diff.Statements());
    }
}
