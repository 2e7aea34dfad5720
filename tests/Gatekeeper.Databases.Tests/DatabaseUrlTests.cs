using Gatekeeper.Databases;

namespace Gatekeeper.Databases.Tests;

public sealed class DatabaseUrlTests
{
    [Theory]
    [InlineData("postgres://app:secret@db.internal:6543/shop", DatabaseEngine.Postgres, "app", "db.internal", 6543, "shop")]
    [InlineData("postgresql://app:secret@db.internal/shop", DatabaseEngine.Postgres, "app", "db.internal", 5432, "shop")]
    [InlineData("mysql://root:pw@127.0.0.1:53306/mysql", DatabaseEngine.MySql, "root", "127.0.0.1", 53306, "mysql")]
    [InlineData("mariadb://root@maria/app", DatabaseEngine.MySql, "root", "maria", 3306, "app")]
    [InlineData("postgres://app:pw@[::1]:5433/shop", DatabaseEngine.Postgres, "app", "::1", 5433, "shop")]
    public void Url_parses_engine_user_host_port_and_database(string text, DatabaseEngine engine, string user, string host, int port, string database)
    {
        Assert.True(DatabaseUrl.TryParse(text, out var url, out var error), error);
        Assert.Equal(engine, url.Engine);
        Assert.Equal(user, url.User);
        Assert.Equal(host, url.Host);
        Assert.Equal(port, url.Port);
        Assert.Equal(database, url.Database);
    }

    [Fact]
    public void Url_percent_decodes_user_and_password_and_keeps_an_unescaped_at_sign_in_the_password()
    {
        var url = DatabaseUrl.Parse("postgres://app%40corp:p%2Fss%3Aw@rd@db:5432/shop");

        Assert.Equal("app@corp", url.User);
        Assert.Equal("p/ss:w@rd", url.ToNpgsqlConnectionStringBuilder().Password);
        Assert.Equal("postgres://app%40corp:***@db:5432/shop", url.Redacted);
        Assert.Equal(url.Redacted, url.ToString());
    }

    [Fact]
    public void Redacted_url_hides_the_password_and_identity_carries_no_credentials()
    {
        var url = DatabaseUrl.Parse("postgres://app:hunter2@db:5432/shop?sslmode=require");

        Assert.Equal("postgres://app:***@db:5432/shop", url.Redacted);
        var identity = url.ToIdentity("flyway_schema_history");
        Assert.Equal(new Core.Planning.DatabaseIdentity("postgres", "db", 5432, "shop", "flyway_schema_history") { User = "app" }, identity);
        Assert.DoesNotContain("hunter2", identity.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Identity_tells_apart_users_and_schemas_sharing_one_database()
    {
        // Two namespaces on one server and database, each in its own schema (or as its own user, whose schema comes
        // first in PostgreSQL's default search_path): their histories differ, so their plans must never be confused.
        var shop = DatabaseUrl.Parse("postgres://shop:hunter2@db:5432/apps?search_path=shop").ToIdentity("gatekeeper_schema_history");
        var billing = DatabaseUrl.Parse("postgres://billing:hunter2@db:5432/apps?search_path=billing").ToIdentity("gatekeeper_schema_history");
        var billingAsShop = DatabaseUrl.Parse("postgres://shop:hunter2@db:5432/apps?search_path=billing").ToIdentity("gatekeeper_schema_history");

        Assert.Equal(("shop", "shop"), (shop.User, shop.Schema));
        Assert.NotEqual(shop, billing);
        Assert.NotEqual(shop, billingAsShop);
        Assert.Equal("postgres://shop@db:5432/apps (schema shop) (history gatekeeper_schema_history)", shop.ToString());
    }

    [Theory]
    [InlineData("", "database URL is empty; expected postgres://user:password@host:port/database or mysql://…")]
    [InlineData("sqlite://file.db/x", "unsupported scheme 'sqlite'; use postgres:// or mysql://")]
    [InlineData("postgres://user:hunter2@/shop", "database URL has no host")]
    [InlineData("postgres://user:hunter2@db:99999/shop", "database URL has port 99999, outside 1-65535")]
    [InlineData("postgres://user:hunter2@db:abc/shop", "database URL has a port that is not a number")]
    [InlineData("postgres://user:hunter2@db:5432", "database URL names no database; add /<database> after db")]
    [InlineData("postgres://user:hun%zzter2@db/shop", "database URL has an invalid percent-escape in its password")]
    [InlineData("postgres://user:hunter2@db/shop?sslmode=maybe", "database URL has sslmode 'maybe'; use one of disable, allow, prefer, require, verify-ca, verify-full")]
    [InlineData("postgres://user:hunter2@db/shop?pool=9", "database URL has an unknown option 'pool'; supported: sslmode, connect_timeout, application_name, search_path, sslrootcert")]
    [InlineData("mysql://user:hunter2@db/shop?search_path=x", "database URL option 'search_path' does not apply to MySQL, whose databases hold no schemas")]
    [InlineData("db.internal:5432/shop", "database URL is not a URL; expected postgres://user:password@host:port/database or mysql://…")]
    public void A_malformed_url_is_one_sentence_that_never_echoes_the_password(string text, string expected)
    {
        Assert.False(DatabaseUrl.TryParse(text, out _, out var error));
        Assert.Equal(expected, error);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
        Assert.Equal(expected, Assert.Throws<FormatException>(() => DatabaseUrl.Parse(text)).Message);
    }

    [Fact]
    public void Connection_string_builders_carry_the_options_and_the_engine_specific_settings()
    {
        var pg = DatabaseUrl.Parse("postgres://app:pw@db:5432/shop?sslmode=verify-full&connect_timeout=7&search_path=app&application_name=jobs").ToNpgsqlConnectionStringBuilder();
        Assert.Equal(Npgsql.SslMode.VerifyFull, pg.SslMode);
        Assert.Equal(7, pg.Timeout);
        Assert.Equal("app", pg.SearchPath);
        Assert.Equal("jobs", pg.ApplicationName);
        Assert.Equal(0, pg.CommandTimeout);
        // The slim data source cannot do GSS encryption: trying it costs a failed connection and a second one per session.
        Assert.Equal(Npgsql.GssEncryptionMode.Disable, pg.GssEncryptionMode);

        var my = DatabaseUrl.Parse("mysql://root:pw@db/app?sslmode=required&parseTime=true").ToMySqlConnectionStringBuilder();
        Assert.Equal(MySqlConnector.MySqlSslMode.Required, my.SslMode);
        Assert.True(my.AllowUserVariables);
        Assert.Equal("app", my.Database);
    }

    [Fact]
    public void A_postgres_url_cannot_build_a_mysql_connection_string()
    {
        var url = DatabaseUrl.Parse("postgres://app:hunter2@db/shop");
        var error = Assert.Throws<InvalidOperationException>(() => url.ToMySqlConnectionStringBuilder());
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }
}
