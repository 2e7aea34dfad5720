using System.Text;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Tests.Migrations;

public sealed class FlywayChecksumTests
{
    [Fact]
    public void Flyway_checksum_of_the_crc32_check_string_is_the_standard_check_value()
    {
        // 0xCBF43926 is the published CRC-32/IEEE check value for "123456789", as a signed Java int.
        Assert.Equal(unchecked((int)0xCBF43926), FlywayChecksum.Compute("123456789"u8));
    }

    [Fact]
    public void Flyway_checksum_ignores_line_endings_and_a_leading_bom()
    {
        var lf = FlywayChecksum.Compute("create table t (id int);\ninsert into t values (1);\n"u8);

        Assert.Equal(lf, FlywayChecksum.Compute("create table t (id int);\r\ninsert into t values (1);\r\n"u8));
        Assert.Equal(lf, FlywayChecksum.Compute("create table t (id int);\rinsert into t values (1);"u8));
        Assert.Equal(lf, FlywayChecksum.Compute([0xEF, 0xBB, 0xBF, .. "create table t (id int);\ninsert into t values (1);\n"u8]));
        Assert.NotEqual(lf, FlywayChecksum.Compute("create table t (id int);\ninsert into t values (2);\n"u8));
    }

    [Fact]
    public void Flyway_checksum_of_a_kestra_migration_matches_zlib_crc32_over_its_lines()
    {
        // Expected value computed independently with Python's zlib.crc32 over the file's bytes without CR/LF.
        var bytes = File.ReadAllBytes(Path.Combine(Corpora.Root, "kestra/postgres/V1_10__multitenant_indices.sql"));

        Assert.Equal(645672637, FlywayChecksum.Compute(bytes));
    }

    [Fact]
    public void Flyway_checksum_hashes_long_non_ascii_lines_whole()
    {
        var line = string.Concat(Enumerable.Repeat("é😀x", 700));
        var expected = unchecked((int)Crc32.Compute(Encoding.UTF8.GetBytes(line + line)));

        Assert.Equal(expected, FlywayChecksum.Compute(Encoding.UTF8.GetBytes(line + "\n" + line + "\n")));
    }
}

public sealed class AtlasSumTests
{
    private static MigrationFile File(string name, string content) => new(name, Encoding.UTF8.GetBytes(content));

    [Fact]
    public void Atlas_sum_names_a_file_added_after_it_was_written()
    {
        var sum = AtlasSum.Compute([File("1_a.sql", "a")]).ToText();

        var problem = Assert.Single(AtlasSum.Verify(Encoding.UTF8.GetBytes(sum), [File("1_a.sql", "a"), File("2_b.sql", "b")]));

        Assert.StartsWith("2_b.sql is not listed", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Atlas_sum_names_a_listed_file_that_is_missing()
    {
        var sum = AtlasSum.Compute([File("1_a.sql", "a"), File("2_b.sql", "b")]).ToText();

        var problem = Assert.Single(AtlasSum.Verify(Encoding.UTF8.GetBytes(sum), [File("1_a.sql", "a")]));

        Assert.StartsWith("lists 2_b.sql, which is missing", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Atlas_sum_leaves_out_files_whose_first_line_says_atlas_sum_ignore()
    {
        var sum = AtlasSum.Compute([File("1_a.sql", "a"), File("2_b.sql", "-- atlas:sum ignore\nselect 1;"), File("3_c.sql", "c")]);

        Assert.Equal(["1_a.sql", "3_c.sql"], sum.Entries.Select(e => e.File));
        Assert.NotEqual(AtlasSum.Compute([File("1_a.sql", "a"), File("3_c.sql", "c")]).Entries[1].Hash, sum.Entries[1].Hash);
    }

    [Fact]
    public void Atlas_sum_without_a_header_is_a_format_problem()
    {
        var problem = Assert.Single(AtlasSum.Verify("1_a.sql h1:abc\n"u8, [File("1_a.sql", "a")]));

        Assert.Equal("atlas.sum", problem.File);
        Assert.Contains("h1: header", problem.Message, StringComparison.Ordinal);
    }
}
