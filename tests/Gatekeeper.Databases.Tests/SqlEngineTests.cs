using Gatekeeper.Core.Sql;

namespace Gatekeeper.Databases.Tests;

public sealed class SqlEngineTests
{
    [Fact]
    public void Every_engine_value_has_exactly_one_engine_type_and_an_unknown_value_throws_instead_of_passing_for_another_engine()
    {
        foreach (var kind in Enum.GetValues<DatabaseEngine>())
        {
            Assert.Equal(kind, SqlEngine.For(kind).Kind);
        }

        Assert.Equal(Enum.GetValues<DatabaseEngine>().Length, SqlEngine.All.Select(e => e.Kind).Distinct().Count());
        var unknown = Assert.Throws<ArgumentOutOfRangeException>(() => SqlEngine.For((DatabaseEngine)42));
        Assert.Contains("database engine 42 is not supported", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => SqlEngine.For((SqlDialect)42));
    }

    [Theory]
    [InlineData("postgres", DatabaseEngine.Postgres)]
    [InlineData("postgresql", DatabaseEngine.Postgres)]
    [InlineData("mysql", DatabaseEngine.MySql)]
    [InlineData("mariadb", DatabaseEngine.MySql)]
    [InlineData("MariaDB", DatabaseEngine.MySql)]
    public void A_url_scheme_selects_its_engine(string scheme, DatabaseEngine expected) =>
        Assert.Equal(expected, SqlEngine.ForScheme(scheme)?.Kind);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres+ssl")]
    [InlineData("")]
    public void A_scheme_no_engine_claims_selects_none(string scheme) =>
        Assert.Null(SqlEngine.ForScheme(scheme));

    [Fact]
    public void Each_engine_quotes_identifiers_in_its_own_way_and_doubles_the_quote_inside()
    {
        Assert.Equal("\"my \"\"table\"\"\"", SqlEngine.Postgres.Quote("my \"table\""));
        Assert.Equal("`my ``table```", SqlEngine.MySql.Quote("my `table`"));
    }

    [Fact]
    public void Engines_differ_in_transactional_ddl_and_schemas_inside_databases_which_decide_execution_and_history_placement()
    {
        Assert.True(SqlEngine.Postgres.TransactionalDdl);
        Assert.False(SqlEngine.MySql.TransactionalDdl);
        Assert.True(SqlEngine.Postgres.HasSchemasInsideDatabases);
        Assert.False(SqlEngine.MySql.HasSchemasInsideDatabases);
        Assert.Equal(SqlDialect.Postgres, SqlEngine.For(SqlDialect.Postgres).Dialect);
        Assert.Equal(SqlDialect.MySql, SqlEngine.For(SqlDialect.MySql).Dialect);
    }
}
