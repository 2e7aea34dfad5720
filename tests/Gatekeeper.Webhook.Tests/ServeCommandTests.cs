using System.CommandLine;
using Gatekeeper.Webhook;

namespace Gatekeeper.Webhook.Tests;

/// <summary>Console is process-wide, so tests that redirect it do not run beside each other.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

[Collection(nameof(ConsoleCollection))]
public sealed class ServeCommandTests
{
    private static async Task<(int Exit, string Error)> RunAsync(params string[] args)
    {
        var root = new RootCommand { ServeCommand.Create() };
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Error = error });
            return (exit, error.ToString());
        }
        finally
        {
            Console.SetError(previous);
        }
    }

    [Fact]
    public async Task Serve_without_a_certificate_stops_with_one_line_and_exit_code_2()
    {
        var (exit, error) = await RunAsync("serve", "--port", "0", "--listen-address", "127.0.0.1");

        Assert.Equal(2, exit);
        Assert.Contains("Webhook:TlsCertificateFile and Webhook:TlsKeyFile are required", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_a_budget_that_is_not_a_duration()
    {
        var (exit, error) = await RunAsync("serve", "--request-budget", "soon");

        Assert.Equal(2, exit);
        Assert.Contains("--request-budget \"soon\" is not a duration", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_a_budget_above_the_api_servers_limit()
    {
        var (exit, error) = await RunAsync("serve", "--request-budget", "45s", "--dev-certificates", "--dev-certificate-dir", Path.Combine(Path.GetTempPath(), "gk-serve-" + Guid.NewGuid().ToString("N")));

        Assert.Equal(2, exit);
        Assert.Contains("RequestBudget", error, StringComparison.Ordinal);
    }
}
