using System.CommandLine;
using Gatekeeper.Tests;
using Gatekeeper.Webhook;

namespace Gatekeeper.Webhook.Tests;

/// <summary><c>gatekeeper serve</c> writes to the invocation's output and error writers, never to Console.</summary>
public sealed class ServeCommandTests
{
    private static Task<(int Exit, string Error)> RunAsync(params string[] args) => RunAsync(new StringWriter(), args);

    private static async Task<(int Exit, string Error)> RunAsync(StringWriter output, params string[] args)
    {
        var root = new RootCommand { ServeCommand.Create() };
        var error = new StringWriter();
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        OutputCapture.Record(OutputCapture.CliOutput, "gatekeeper serve", $"exit {exit}\n{output}{error}");
        return (exit, error.ToString());
    }

    [Fact]
    public async Task Serve_without_a_certificate_stops_with_one_line_and_exit_code_2()
    {
        var (exit, error) = await RunAsync("serve", "--port", "0", "--listen-address", "127.0.0.1");

        Assert.Equal(2, exit);
        Assert.StartsWith("gatekeeper serve: --tls-cert-file and --tls-key-file are required", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_a_budget_that_is_not_a_duration()
    {
        var (exit, error) = await RunAsync("serve", "--request-budget", "soon");

        Assert.Equal(2, exit);
        Assert.Contains("--request-budget \"soon\" is not a duration", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--request-budget", "45s", "--request-budget 45s must be above zero and below the API server's 30 s webhook limit.")]
    [InlineData("--request-budget", "0s", "--request-budget 0s must be above zero and below the API server's 30 s webhook limit.")]
    [InlineData("--port", "70000", "--port 70000 is not a TCP port.")]
    [InlineData("--listen-address", "localhost", "--listen-address \"localhost\" is not an IP address.")]
    public async Task Serve_judges_every_flag_before_it_writes_a_certificate_and_names_the_flag(string flag, string value, string expected)
    {
        var directory = Path.Combine(Path.GetTempPath(), "gk-serve-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            var (exit, error) = await RunAsync(output, "serve", flag, value, "--dev-certificates", "--dev-certificate-dir", directory);

            Assert.Equal(2, exit);
            Assert.Equal($"gatekeeper serve: {expected}", error.TrimEnd('\n'));
            Assert.DoesNotContain("Webhook:", error, StringComparison.Ordinal);
            Assert.False(Directory.Exists(directory), "no certificate may be written before the flags are judged");
            Assert.Equal(string.Empty, output.ToString());
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Serve_without_access_to_kubernetes_stops_with_one_line_naming_the_kubeconfig()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gk-serve-" + Guid.NewGuid().ToString("N"));
        var missing = Path.Combine(Path.GetTempPath(), "gk-serve-no-such-kubeconfig-" + Guid.NewGuid().ToString("N"));

        var output = new StringWriter();

        var (exit, error) = await RunAsync(output, "serve", "--listen-address", "127.0.0.1", "--port", "0", "--dev-certificates", "--dev-certificate-dir", directory, "--kubeconfig", missing);

        Assert.Equal(2, exit);
        Assert.StartsWith("gatekeeper serve: cannot reach Kubernetes:", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.False(Directory.Exists(directory), "no certificate may be written before Kubernetes is found");
        Assert.Equal(string.Empty, output.ToString());
    }

    [Fact]
    public async Task Serve_with_an_unreadable_certificate_stops_with_one_line()
    {
        var directory = Directory.CreateTempSubdirectory("gk-serve-").FullName;
        var certificate = Path.Combine(directory, "tls.crt");
        var key = Path.Combine(directory, "tls.key");
        await File.WriteAllTextAsync(certificate, "not a certificate");
        await File.WriteAllTextAsync(key, "not a key");

        var (exit, error) = await RunAsync("serve", "--listen-address", "127.0.0.1", "--port", "0", "--tls-cert-file", certificate, "--tls-key-file", key);

        Assert.Equal(2, exit);
        Assert.StartsWith("gatekeeper serve: cannot load the serving certificate", error, StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }
}
