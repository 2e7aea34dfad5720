using Gatekeeper.Core.Schema;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Schema;

/// <summary>What a desired state may hold: definitions and the settings dumps write; everything else refused with file:line.</summary>
public sealed class DesiredSchemaReaderTests
{
    private static DesiredSchemaReadResult Read(SqlDialect dialect, params (string Name, string Text)[] files) =>
        DesiredSchemaReader.Read(files.Select(f => new DesiredSchemaFile(f.Name, f.Text)).ToList(), dialect);

    [Fact]
    public void A_pg_dump_header_and_owners_and_privileges_are_accepted_settings_loaded_and_the_rest_left_out_with_why()
    {
        const string dump = """
            --
            -- PostgreSQL database dump
            --

            \restrict 7q0Zyu0ksJg1FXaoAp1phabj

            SET statement_timeout = 0;
            SELECT pg_catalog.set_config('search_path', '', false);
            CREATE TABLE public.t (
                id integer NOT NULL
            );
            ALTER TABLE public.t OWNER TO postgres;
            GRANT SELECT ON TABLE public.t TO reader;
            ALTER TABLE ONLY public.t
                ADD CONSTRAINT t_pkey PRIMARY KEY (id);
            COMMENT ON TABLE public.t IS 'x';

            \unrestrict 7q0Zyu0ksJg1FXaoAp1phabj
            """;

        var result = Read(SqlDialect.Postgres, ("schema.sql", dump));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        var schema = result.Schema!;
        Assert.Equal(
            [DesiredStatementKind.Setting, DesiredStatementKind.Setting, DesiredStatementKind.Definition, DesiredStatementKind.Skipped,
             DesiredStatementKind.Skipped, DesiredStatementKind.Definition, DesiredStatementKind.Definition],
            schema.Statements.Select(s => s.Kind));
        Assert.Equal(["owners are not compared", "privileges are not compared"], schema.Skipped.Select(s => s.Reason!));
        Assert.Equal(new SourceLocation("schema.sql", 9, 1), schema.Statements[2].Statement.Location);
    }

    [Fact]
    public void A_mariadb_dump_with_its_executable_comments_and_drop_if_exists_is_accepted()
    {
        const string dump = """
            /*M!999999\- enable the sandbox mode */
            -- MariaDB dump 10.19
            /*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
            /*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
            DROP TABLE IF EXISTS `t`;
            /*!40101 SET @saved_cs_client     = @@character_set_client */;
            CREATE TABLE `t` (
              `id` int(11) NOT NULL,
              PRIMARY KEY (`id`)
            ) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;
            /*!40101 SET character_set_client = @saved_cs_client */;
            DELIMITER ;;
            CREATE FUNCTION `f`() RETURNS int(11)
            BEGIN
              RETURN 1;
            END ;;
            DELIMITER ;
            """;

        var result = Read(SqlDialect.MySql, ("dump.sql", dump));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        var statements = result.Schema!.Statements;
        // The sandbox marker is a comment to the server (it asks for version 99.99.99); it rides along with the next setting.
        Assert.StartsWith("/*M!999999", statements[0].Statement.Text, StringComparison.Ordinal);
        Assert.Equal(DesiredStatementKind.Setting, statements[0].Kind);
        Assert.Equal(3, statements.Count(s => s.Kind == DesiredStatementKind.Definition));
        Assert.Contains(statements, s => s.Statement.Text.StartsWith("CREATE FUNCTION", StringComparison.Ordinal) && s.Statement.Text.Contains("RETURN 1;", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("INSERT INTO t VALUES (1);", "INSERT is not a definition")]
    [InlineData("UPDATE t SET a = 1;", "UPDATE is not a definition")]
    [InlineData("DO $$ BEGIN PERFORM 1; END $$;", "DO is not a definition")]
    [InlineData("BEGIN;", "BEGIN is not a definition")]
    [InlineData("SELECT 1;", "SELECT is not a definition")]
    [InlineData("COPY t FROM stdin;", "COPY is not a definition")]
    [InlineData("CREATE DATABASE other;", "CREATE DATABASE is not part of a database's schema")]
    [InlineData("CREATE TEMP TABLE scratch (a int);", "CREATE TEMP TABLE is not part")]
    [InlineData("SET ROLE admin;", "SET ROLE is refused")]
    public void A_statement_that_is_not_a_definition_is_refused_with_its_file_and_line(string statement, string message)
    {
        var result = Read(SqlDialect.Postgres, ("a.sql", "CREATE TABLE t (a int);\n\n" + statement + "\n"));

        Assert.False(result.Succeeded);
        var problem = Assert.Single(result.Problems);
        Assert.StartsWith("a.sql:3:1: ", problem, StringComparison.Ordinal);
        Assert.Contains(message, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_of_every_file_is_reported_not_just_the_first()
    {
        var result = Read(SqlDialect.MySql,
            ("a.sql", "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\n"),
            ("b.sql", "USE other;\nCREATE TABLE b (y int);\nDELETE FROM b;\n"));

        Assert.Equal(3, result.Problems.Count);
        Assert.StartsWith("a.sql:2:1:", result.Problems[0], StringComparison.Ordinal);
        Assert.StartsWith("b.sql:1:1: USE switches databases", result.Problems[1], StringComparison.Ordinal);
        Assert.StartsWith("b.sql:3:1:", result.Problems[2], StringComparison.Ordinal);
    }

    [Fact]
    public void A_psql_meta_command_other_than_restrict_is_reported()
    {
        var result = Read(SqlDialect.Postgres, ("a.sql", "CREATE TABLE a (x int);\n\\connect other\n"));

        Assert.Equal(["a.sql:2:1: psql meta-command \\connect is not SQL; a desired state is plain SQL the server runs"], result.Problems);
    }

    [Fact]
    public void A_desired_state_that_defines_nothing_is_refused_because_it_would_drop_everything()
    {
        var result = Read(SqlDialect.Postgres, ("empty.sql", "-- nothing yet\nSET statement_timeout = 0;\n"));

        Assert.Contains("would drop every object", Assert.Single(result.Problems), StringComparison.Ordinal);
        Assert.Contains("no .sql files", Assert.Single(DesiredSchemaReader.Read([], SqlDialect.Postgres).Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void Rename_directives_are_read_with_their_location_and_a_malformed_one_is_reported()
    {
        const string text = """
            -- gatekeeper:rename table customers to clients
            -- gatekeeper:rename column billing.invoices.total to amount
            -- gatekeeper:rename index clients.clients_mail_idx to clients_email_idx
            -- gatekeeper:rename value public.state 'it''s' to 'done'
            CREATE TABLE clients (email text);
            """;

        var result = Read(SqlDialect.Postgres, ("schema.sql", text));
        var malformed = Read(SqlDialect.Postgres, ("schema.sql", "CREATE TABLE a (b int);\n-- gatekeeper:rename table a into b\n"));

        Assert.True(result.Succeeded, string.Join("\n", result.Problems));
        Assert.Equal(
            [
                new DeclaredRename(RenameTarget.Table, new ObjectName("public", "customers"), "customers", "clients", new SourceLocation("schema.sql", 1, 1)),
                new DeclaredRename(RenameTarget.Column, new ObjectName("billing", "invoices"), "total", "amount", new SourceLocation("schema.sql", 2, 1)),
                new DeclaredRename(RenameTarget.Index, new ObjectName("public", "clients"), "clients_mail_idx", "clients_email_idx", new SourceLocation("schema.sql", 3, 1)),
                new DeclaredRename(RenameTarget.EnumValue, new ObjectName("public", "state"), "it's", "done", new SourceLocation("schema.sql", 4, 1)),
            ],
            result.Schema!.Renames);
        Assert.StartsWith("schema.sql:2:1: rename directive is malformed", Assert.Single(malformed.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void The_hash_depends_on_names_and_contents_not_on_the_order_files_are_given_in()
    {
        DesiredSchemaFile[] one = [new("a.sql", "CREATE TABLE a (x int);"), new("b.sql", "CREATE TABLE b (y int);")];
        DesiredSchemaFile[] reordered = [one[1], one[0]];
        DesiredSchemaFile[] edited = [one[0], new("b.sql", "CREATE TABLE b (y bigint);")];
        DesiredSchemaFile[] renamed = [one[0], new("c.sql", "CREATE TABLE b (y int);")];

        Assert.Equal(DesiredSchemaReader.Hash(one), DesiredSchemaReader.Hash(reordered));
        Assert.NotEqual(DesiredSchemaReader.Hash(one), DesiredSchemaReader.Hash(edited));
        Assert.NotEqual(DesiredSchemaReader.Hash(one), DesiredSchemaReader.Hash(renamed));
        Assert.Equal(["a.sql", "b.sql"], DesiredSchemaReader.Read(reordered, SqlDialect.Postgres).Schema!.Files.Select(f => f.Name));
    }
}
