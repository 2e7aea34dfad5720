using System.Diagnostics;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Tests;

namespace Gatekeeper.Cli.Tests;

/// <summary>Bad URLs and credentials: one line naming what and where, exit code 2, no password anywhere, nothing written.</summary>
public sealed class DatabaseInputTests
{
    private static TempMigrationDirectory OneMigration() => new(("V1__create.sql", "create table gk_cli_probe (id int);\n"));

    [Theory]
    [InlineData("sqlite:///tmp/x.db", "sqlite")]
    [InlineData("postgres://", "host")]
    [InlineData("not a url", "URL")]
    [InlineData("postgres://app:pw@db:notaport/shop", "port")]
    public async Task A_malformed_url_is_a_one_line_usage_error(string url, string mentions)
    {
        using var dir = OneMigration();

        var result = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", url);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(mentions, result.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData(DatabaseEngine.Postgres)]
    [InlineData(DatabaseEngine.MySql)]
    public async Task A_wrong_password_names_user_and_server_but_never_the_password(DatabaseEngine engine)
    {
        using var dir = OneMigration();
        await using var database = await TestDatabase.CreateAsync(engine);
        const string wrong = "Wr0ng-S3cret-Passw0rd";
        var url = new UriBuilder(TestUrls.For(database)) { Password = wrong }.Uri.ToString();

        var result = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url", url);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("authentication failed", result.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(wrong, result.Output + result.Error);
        Assert.False(await database.TableExistsAsync("gk_cli_probe"));
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("mysql")]
    public async Task An_unreachable_server_is_a_clear_error_without_a_hang(string scheme)
    {
        using var dir = OneMigration();
        var closedPort = FreeLoopbackPort();
        var clock = Stopwatch.StartNew();

        var result = await CliRun.InvokeAsync("plan", "--dir", dir.Path, "--url", $"{scheme}://app:s3cret-pw@127.0.0.1:{closedPort}/shop");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unreachable", result.Error);
        Assert.Contains($"127.0.0.1:{closedPort}", result.Error);
        Assert.DoesNotContain("s3cret-pw", result.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task The_url_can_come_from_a_file_so_the_password_stays_out_of_the_command_line()
    {
        using var dir = OneMigration();
        await using var database = await TestDatabase.CreateAsync(DatabaseEngine.Postgres);
        var urlFile = Path.Combine(dir.Path, "..", "gk-url-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(urlFile, TestUrls.For(database) + "\n");
        try
        {
            var result = await CliRun.InvokeAsync("migrate", "--dir", dir.Path, "--url-file", urlFile);

            Assert.Equal(0, result.ExitCode);
            Assert.True(await database.TableExistsAsync("gk_cli_probe"));
        }
        finally
        {
            File.Delete(urlFile);
        }
    }

    [Fact]
    public async Task Without_any_url_the_command_says_how_to_give_one()
    {
        using var dir = OneMigration();
        if (Environment.GetEnvironmentVariable("GATEKEEPER_DATABASE_URL") is not null)
        {
            return; // the variable would legitimately supply the URL
        }

        var result = await CliRun.InvokeAsync("plan", "--dir", dir.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--url", result.Error);
        Assert.Contains("GATEKEEPER_DATABASE_URL", result.Error);
    }

    private static int FreeLoopbackPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
