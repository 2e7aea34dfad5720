using System.CommandLine;
using System.Globalization;
using Gatekeeper.Cli;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Annotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using k8s;
using k8s.Exceptions;

namespace Gatekeeper.Webhook;

/// <summary>
/// <c>gatekeeper serve</c>: the in-cluster process. Flags override the <c>Webhook:*</c> configuration keys
/// (environment <c>Webhook__Port</c> and so on, which the Helm chart sets); unset flags leave them alone.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var listen = new Option<string?>("--listen-address") { Description = "IP address to listen on (default 0.0.0.0)." };
        var port = new Option<int?>("--port") { Description = "HTTPS port (default 8443)." };
        var certificate = new Option<string?>("--tls-cert-file") { Description = "PEM certificate file (cert-manager's tls.crt); re-read when it changes." };
        var key = new Option<string?>("--tls-key-file") { Description = "PEM private key file (tls.key)." };
        var development = new Option<bool>("--dev-certificates") { Description = "Generate a throwaway CA and serving certificate and print the caBundle (development only)." };
        var developmentDirectory = new Option<string?>("--dev-certificate-dir") { Description = "Where --dev-certificates writes ca.crt, tls.crt and tls.key (default: a new temporary directory)." };
        var developmentNames = new Option<string[]>("--dev-dns-name") { Description = "DNS name for the development certificate, e.g. gatekeeper.gatekeeper-system.svc (repeatable).", AllowMultipleArgumentsPerToken = true };
        var budget = new Option<string?>("--request-budget") { Description = "Answer every admission request within this duration (default 8s)." };
        var failOpen = new Option<bool?>("--fail-open") { Description = "Admit Deployments when Gatekeeper cannot decide (non-production only)." };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Kubeconfig file when running outside a cluster." };

        var command = new Command("serve", "Run the admission webhook (Deployments and pods) until stopped.")
        {
            listen, port, certificate, key, development, developmentDirectory, developmentNames, budget, failOpen, kubeconfig,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
            void Set(string name, string? value)
            {
                if (value is not null)
                {
                    settings[$"{WebhookOptions.Section}:{name}"] = value;
                }
            }

            Set(nameof(WebhookOptions.ListenAddress), parseResult.GetValue(listen));
            Set(nameof(WebhookOptions.Port), parseResult.GetValue(port)?.ToString(CultureInfo.InvariantCulture));
            Set(nameof(WebhookOptions.TlsCertificateFile), parseResult.GetValue(certificate));
            Set(nameof(WebhookOptions.TlsKeyFile), parseResult.GetValue(key));
            Set(nameof(WebhookOptions.FailOpen), parseResult.GetValue(failOpen)?.ToString());
            Set(nameof(WebhookOptions.Kubeconfig), parseResult.GetValue(kubeconfig));
            if (parseResult.GetValue(budget) is { } budgetText)
            {
                if (!GoDuration.TryParse(budgetText, out var parsed))
                {
                    await stderr.WriteLineAsync($"gatekeeper serve: --request-budget \"{budgetText}\" is not a duration (for example 8s).").ConfigureAwait(false);
                    return ExitCodes.UsageOrConfiguration;
                }

                Set(nameof(WebhookOptions.RequestBudget), parsed.ToString("c", CultureInfo.InvariantCulture));
            }

            if (parseResult.GetValue(development))
            {
                var directory = parseResult.GetValue(developmentDirectory) ?? Directory.CreateTempSubdirectory("gatekeeper-dev-certs-").FullName;
                var generated = DevelopmentCertificateAuthority.Create(parseResult.GetValue(developmentNames) ?? [], TimeProvider.System);
                var (certificateFile, keyFile) = generated.WriteTo(directory);
                Set(nameof(WebhookOptions.DevelopmentCertificates), "true");
                Set(nameof(WebhookOptions.TlsCertificateFile), certificateFile);
                Set(nameof(WebhookOptions.TlsKeyFile), keyFile);
                await stdout.WriteLineAsync($"Development certificates written to {directory} (never use them in production).").ConfigureAwait(false);
                await stdout.WriteLineAsync("caBundle for the MutatingWebhookConfiguration and ValidatingWebhookConfiguration:").ConfigureAwait(false);
                await stdout.WriteLineAsync(generated.CaBundle).ConfigureAwait(false);
            }

            try
            {
                await using var app = WebhookHost.Build(settings);
                // Resolve the client before the host starts, so a missing kubeconfig is one line, not a host failure log.
                _ = app.Services.GetRequiredService<KubernetesApi>();
                await Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.RunAsync(app, cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (OptionsValidationException e)
            {
                foreach (var failure in e.Failures)
                {
                    await stderr.WriteLineAsync($"gatekeeper serve: {failure}").ConfigureAwait(false);
                }

                return ExitCodes.UsageOrConfiguration;
            }
            catch (KubeConfigException e)
            {
                await stderr.WriteLineAsync($"gatekeeper serve: cannot reach Kubernetes: {e.Message} (run inside a cluster, or pass --kubeconfig).").ConfigureAwait(false);
                return ExitCodes.UsageOrConfiguration;
            }
            catch (ServingCertificateException e)
            {
                await stderr.WriteLineAsync($"gatekeeper serve: {e.Message}").ConfigureAwait(false);
                return ExitCodes.UsageOrConfiguration;
            }
        });
        return command;
    }
}
