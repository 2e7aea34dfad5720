using System.Text;
using Gatekeeper.Core.Migrations;
using static Gatekeeper.Core.Tests.Migrations.MigrationFiles;

namespace Gatekeeper.Core.Tests.Migrations;

public sealed class FormatDetectionTests
{
    [Fact]
    public void A_directory_mixing_formats_is_one_problem_listing_the_files_per_format()
    {
        var result = Read(null, ("V1__init.sql", "a"), ("2_next.up.sql", "b"), ("3_x.sql", "-- migrate:up\nselect 1;\n"));

        var problem = Assert.Single(result.Problems);
        Assert.Null(problem.File);
        Assert.Contains("flyway: V1__init.sql", problem.Message, StringComparison.Ordinal);
        Assert.Contains("golang-migrate: 2_next.up.sql", problem.Message, StringComparison.Ordinal);
        Assert.Contains("dbmate: 3_x.sql", problem.Message, StringComparison.Ordinal);
        Assert.Null(result.Directory);
    }

    [Fact]
    public void A_file_matching_no_format_in_a_detected_directory_is_named_by_that_tools_rules()
    {
        var result = Read(null, ("V1__init.sql", "a"), ("cleanup.sql", "b"));

        var problem = Assert.Single(result.Problems);
        Assert.Equal("cleanup.sql", problem.File);
        Assert.StartsWith("does not follow Flyway's naming", problem.Message, StringComparison.Ordinal);
        Assert.Contains("Flyway would skip it silently", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("V0001.init.up.sql", "V0002.users.up.sql")]
    [InlineData("0001-init.sql", "0002-users.sql")]
    [InlineData("init.sql", "users.sql")]
    [InlineData("V1_init.sql", "V2_users.sql")]
    public void A_directory_matching_no_format_gets_one_problem_saying_what_each_format_expects(string first, string second)
    {
        var result = Read(null, (first, "create table a (id int);"), (second, "create table b (id int);"));

        var problem = Assert.Single(result.Problems);
        Assert.Null(problem.File);
        Assert.StartsWith($"{first}, {second} match none of the 5 migration formats Gatekeeper reads", problem.Message, StringComparison.Ordinal);
        foreach (var format in MigrationFormats.All)
        {
            Assert.Contains($"{format.DisplayName} expects {format.Expects}", problem.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("rename every", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ignored_patterns_leave_files_out_and_the_directory_lists_them()
    {
        var result = Read(null, ("V1__init.sql", "select 1;"), ("cleanup.sql", "delete from t;"), ("notes-2024.sql", "-- x"), ("V2__next.sql", "select 2;"));
        var ignored = MigrationDirectoryReader.Read("test source", [File("V1__init.sql", "select 1;"), File("cleanup.sql", "delete from t;"), File("notes-2024.sql", "-- x")],
            ignore: ["cleanup.sql", "notes-????.sql", "nothing-matches-*.sql"]);

        Assert.Contains(result.Problems, p => p.File == "cleanup.sql" && p.Message.Contains("--ignore", StringComparison.Ordinal));
        Assert.True(ignored.Succeeded, string.Join("; ", ignored.Problems));
        Assert.Equal(["cleanup.sql", "notes-2024.sql"], ignored.Directory!.Ignored);
        Assert.Equal(["1"], ignored.Directory.Migrations.Select(m => m.Id));
    }

    [Fact]
    public void Ignore_patterns_match_whole_names_case_sensitively()
    {
        Assert.True(MigrationDirectoryReader.IsIgnored("README.sql", ["*.sql"]));
        Assert.False(MigrationDirectoryReader.IsIgnored("V1__readme.sql", ["readme*"]));
        Assert.False(MigrationDirectoryReader.IsIgnored("cleanup.sql.bak", ["cleanup.sql"]));
    }

    [Fact]
    public void The_registry_names_every_format_once_and_parses_its_own_names()
    {
        Assert.Equal(Enum.GetValues<MigrationFormat>().Order(), MigrationFormats.All.Select(f => f.Format).Order());
        Assert.Equal(MigrationFormats.All.Count, MigrationFormats.All.Select(f => f.Name).Distinct().Count());
        foreach (var format in MigrationFormats.All)
        {
            Assert.True(MigrationFormats.TryParse(format.Name.ToUpperInvariant(), out var parsed));
            Assert.Equal(format.Format, parsed);
        }

        Assert.Equal(Gatekeeper.Core.History.HistoryTableKind.GolangMigrate, MigrationFormats.HistoryKindFor("schema_migrations", MigrationFormat.GolangMigrate));
        Assert.Equal(Gatekeeper.Core.History.HistoryTableKind.Dbmate, MigrationFormats.HistoryKindFor("schema_migrations", null));
        Assert.Equal(Gatekeeper.Core.History.HistoryTableKind.Flyway, MigrationFormats.HistoryKindFor("flyway_schema_history", MigrationFormat.Atlas));
        Assert.Null(MigrationFormats.HistoryKindFor("gatekeeper_schema_history", MigrationFormat.Flyway));
    }

    [Fact]
    public void Up_and_down_pairs_hashed_by_atlas_are_still_golang_migrate()
    {
        var files = new List<MigrationFile> { File("1_a.up.sql", "select 1;"), File("1_a.down.sql", "select 0;") };
        files.Add(new MigrationFile("atlas.sum", Encoding.UTF8.GetBytes(Gatekeeper.Core.Integrity.AtlasSum.Compute(files.Take(1)).ToText())));

        var result = MigrationDirectoryReader.Read("test", files);

        Assert.Empty(result.Problems);
        Assert.Equal(MigrationFormat.GolangMigrate, result.Directory!.Format);
        Assert.True(result.Directory.AtlasSumVerified);
    }

    [Fact]
    public void Files_other_than_sql_and_hidden_files_are_ignored()
    {
        var directory = ReadValid(null, ("V1__init.sql", "a"), ("README.md", "docs"), (".V2__hidden.sql", "b"), ("flyway.conf", "x=y"));

        Assert.Equal("V1__init.sql", Assert.Single(directory.Migrations).FileName);
    }

    [Fact]
    public void A_source_without_sql_files_cannot_be_detected()
    {
        var result = Read(null, ("README.md", "docs"));

        Assert.Contains("no .sql files", Assert.Single(result.Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_format_reads_an_empty_source_as_no_migrations()
    {
        var directory = ReadValid(MigrationFormat.Flyway);

        Assert.Empty(directory.Migrations);
    }

    [Fact]
    public void An_explicit_format_overrides_what_names_suggest()
    {
        var directory = ReadValid(MigrationFormat.Atlas, ("1_a.up.sql", "select 1;"));

        Assert.Equal("a.up", Assert.Single(directory.Migrations).Description);
    }

    [Theory]
    [InlineData("flyway", MigrationFormat.Flyway)]
    [InlineData("Golang-Migrate", MigrationFormat.GolangMigrate)]
    [InlineData("dbmate", MigrationFormat.Dbmate)]
    [InlineData("sql-migrate", MigrationFormat.SqlMigrate)]
    [InlineData("atlas", MigrationFormat.Atlas)]
    [InlineData("auto", null)]
    public void Format_names_parse_case_insensitively(string text, MigrationFormat? expected)
    {
        Assert.True(MigrationFormats.TryParse(text, out var format));
        Assert.Equal(expected, format);
        if (format is { } known)
        {
            Assert.Equal(text.ToLowerInvariant(), MigrationFormats.Name(known));
        }
    }

    [Fact]
    public void An_unknown_format_name_does_not_parse()
    {
        Assert.False(MigrationFormats.TryParse("liquibase", out _));
    }
}

public sealed class FileTextTests
{
    [Fact]
    public void A_bom_is_left_out_of_the_sql_but_kept_in_the_checksum()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("select 1;\n")).ToArray();
        var result = MigrationDirectoryReader.Read("test", [new MigrationFile("V1__bom.sql", bytes)]);

        var migration = Assert.Single(result.Directory!.Migrations);
        Assert.Equal("select 1;\n", migration.UpSql);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), migration.Checksum);
        Assert.Equal(bytes, migration.Content.ToArray());
    }

    [Fact]
    public void Crlf_files_keep_their_line_endings_and_markers_are_still_found()
    {
        var directory = ReadValid(null, ("1-x.sql", "-- comment\r\n-- +migrate Up notransaction\r\nselect 1;\r\n-- +migrate Down\r\nselect 0;\r\n"));

        var migration = Assert.Single(directory.Migrations);
        Assert.Equal("select 1;\r\n", migration.UpSql);
        Assert.Equal(3, migration.UpStartLine);
        Assert.False(migration.Transactional);
    }

    [Fact]
    public void Invalid_utf8_is_a_problem_naming_the_file_and_byte_offset()
    {
        var bytes = Encoding.UTF8.GetBytes("select 1;\nselect '").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("';\n")).ToArray();
        var result = MigrationDirectoryReader.Read("test", [new MigrationFile("V1__latin1.sql", bytes)]);

        var problem = Assert.Single(result.Problems);
        Assert.Equal("V1__latin1.sql", problem.File);
        Assert.Contains("byte offset 18 (line 2)", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_checksum_is_the_lower_case_sha256_of_the_raw_bytes()
    {
        var directory = ReadValid(null, ("V1__a.sql", "abc"));

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", directory.Migrations[0].Checksum);
    }

    [Fact]
    public void The_same_name_twice_in_a_source_is_a_problem()
    {
        var result = Read(null, ("V1__a.sql", "a"), ("V1__a.sql", "b"));

        Assert.Contains(result.Problems, p => p.File == "V1__a.sql" && p.Message.Contains("2 times", StringComparison.Ordinal));
    }
}
