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
        // The development certificates are written before the options are judged: the directory is this test's to remove.
        var directory = Path.Combine(Path.GetTempPath(), "gk-serve-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (exit, error) = await RunAsync("serve", "--request-budget", "45s", "--dev-certificates", "--dev-certificate-dir", directory);

            Assert.Equal(2, exit);
            Assert.Contains("RequestBudget", error, StringComparison.Ordinal);
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
        var missing = Path.Combine(directory, "no-such-kubeconfig");

        var output = new StringWriter();

        var (exit, error) = await RunAsync(output, "serve", "--listen-address", "127.0.0.1", "--port", "0", "--dev-certificates", "--dev-certificate-dir", directory, "--kubeconfig", missing);

        Assert.Equal(2, exit);
        Assert.Contains($"Development certificates written to {directory}", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("caBundle for the MutatingWebhookConfiguration", output.ToString(), StringComparison.Ordinal);
        Assert.StartsWith("gatekeeper serve: cannot reach Kubernetes:", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.True(File.Exists(Path.Combine(directory, "ca.crt")));
        Directory.Delete(directory, recursive: true);
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
