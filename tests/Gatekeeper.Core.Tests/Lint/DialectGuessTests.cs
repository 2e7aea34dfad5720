using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Tests.Lint;

public sealed class DialectGuessTests
{
    [Theory]
    [InlineData("CREATE TABLE `orders` (`id` bigint NOT NULL AUTO_INCREMENT, PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n", SqlDialect.MySql)]
    [InlineData("ALTER TABLE orders MODIFY COLUMN note varchar(400) NOT NULL;\n", SqlDialect.MySql)]
    [InlineData("DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\n", SqlDialect.MySql)]
    [InlineData("CREATE TABLE orders (id bigserial PRIMARY KEY, placed_at timestamptz NOT NULL);\n", SqlDialect.Postgres)]
    [InlineData("UPDATE orders SET state = 'new'::order_state;\n", SqlDialect.Postgres)]
    [InlineData("CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql;\n", SqlDialect.Postgres)]
    [InlineData("CREATE INDEX CONCURRENTLY orders_note ON orders (note);\n", SqlDialect.Postgres)]
    public void A_marker_only_one_dialect_writes_decides(string sql, SqlDialect expected)
    {
        var guess = DialectGuess.FromMigrations([LintKit.Migration("V1__x.sql", sql)]);

        Assert.Equal(expected, guess.Dialect);
        Assert.Contains("V1__x.sql", guess.Evidence);
    }

    [Fact]
    public void Plain_sql_both_dialects_read_gives_no_guess()
    {
        var guess = DialectGuess.FromMigrations([LintKit.Migration("V1__x.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(40));\nINSERT INTO orders VALUES (1, 'a');\n")]);

        Assert.Null(guess.Dialect);
        Assert.Equal("nothing in the files is particular to one dialect", guess.Evidence);
    }

    [Fact]
    public void The_dialect_most_files_point_to_wins_and_the_others_are_mentioned()
    {
        var guess = DialectGuess.FromMigrations(
        [
            LintKit.Migration("V1__a.sql", "CREATE TABLE `a` (`id` int);\n"),
            LintKit.Migration("V2__b.sql", "CREATE TABLE `b` (`id` int);\n"),
            LintKit.Migration("V3__c.sql", "SELECT 'x'::text;\n"),
        ]);

        Assert.Equal(SqlDialect.MySql, guess.Dialect);
        Assert.Contains("1 file looks like the other dialect", guess.Evidence);
    }
}
