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
        var developmentDirectoryOption = new Option<string?>("--dev-certificate-dir") { Description = "Where --dev-certificates writes ca.crt, tls.crt and tls.key (default: a new temporary directory)." };
        var developmentNames = new Option<string[]>("--dev-dns-name") { Description = "DNS name for the development certificate, e.g. gatekeeper.gatekeeper-system.svc (repeatable).", AllowMultipleArgumentsPerToken = true };
        var budget = new Option<string?>("--request-budget") { Description = "Answer every admission request within this duration (default 8s)." };
        var failOpen = new Option<bool?>("--fail-open") { Description = "Admit Deployments when Gatekeeper cannot decide (non-production only)." };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Kubeconfig file when running outside a cluster." };

        var command = new Command("serve", "Run the admission webhook (Deployments and pods) until stopped.")
        {
            listen, port, certificate, key, development, developmentDirectoryOption, developmentNames, budget, failOpen, kubeconfig,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var stderr = parseResult.InvocationConfiguration.Error;
            var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
            var flags = new Dictionary<string, string>(StringComparer.Ordinal);
            void Set(string name, string? value, string? flag = null)
            {
                if (value is not null)
                {
                    settings[$"{WebhookOptions.Section}:{name}"] = value;
                    if (flag is not null)
                    {
                        flags[name] = flag;
                    }
                }
            }

            Set(nameof(WebhookOptions.ListenAddress), parseResult.GetValue(listen), $"--listen-address \"{parseResult.GetValue(listen)}\"");
            Set(nameof(WebhookOptions.Port), parseResult.GetValue(port)?.ToString(CultureInfo.InvariantCulture), $"--port {parseResult.GetValue(port)}");
            Set(nameof(WebhookOptions.TlsCertificateFile), parseResult.GetValue(certificate), $"--tls-cert-file {parseResult.GetValue(certificate)}");
            Set(nameof(WebhookOptions.TlsKeyFile), parseResult.GetValue(key), $"--tls-key-file {parseResult.GetValue(key)}");
            Set(nameof(WebhookOptions.FailOpen), parseResult.GetValue(failOpen)?.ToString(), "--fail-open");
            Set(nameof(WebhookOptions.Kubeconfig), parseResult.GetValue(kubeconfig), $"--kubeconfig {parseResult.GetValue(kubeconfig)}");
            if (parseResult.GetValue(budget) is { } budgetText)
            {
                if (!GoDuration.TryParse(budgetText, out var parsed))
                {
                    await stderr.WriteLineAsync($"gatekeeper serve: --request-budget \"{budgetText}\" is not a duration (for example 8s).").ConfigureAwait(false);
                    return ExitCodes.UsageOrConfiguration;
                }

                Set(nameof(WebhookOptions.RequestBudget), parsed.ToString("c", CultureInfo.InvariantCulture), $"--request-budget {budgetText}");
            }

            // Development certificates are only named here and written once every option has been judged: a bad flag
            // leaves nothing behind.
            string? developmentDirectory = null;
            if (parseResult.GetValue(development))
            {
                developmentDirectory = parseResult.GetValue(developmentDirectoryOption) ?? Path.Combine(Path.GetTempPath(), $"gatekeeper-dev-certs-{Guid.NewGuid():N}");
                Set(nameof(WebhookOptions.DevelopmentCertificates), "true");
                Set(nameof(WebhookOptions.TlsCertificateFile), Path.Combine(developmentDirectory, DevelopmentCertificates.CertificateFileName));
                Set(nameof(WebhookOptions.TlsKeyFile), Path.Combine(developmentDirectory, DevelopmentCertificates.KeyFileName));
            }

            try
            {
                var app = WebhookHost.Build(settings, flags: flags);
                // Judge every option, and resolve the client, before anything is written or the host starts: a bad
                // value or a missing kubeconfig is one line, not a host failure log or a stray certificate.
                var problems = NotReady(app, certificateToWrite: developmentDirectory is not null);
                if (problems.Count > 0)
                {
                    foreach (var problem in problems)
                    {
                        await stderr.WriteLineAsync($"gatekeeper serve: {problem}").ConfigureAwait(false);
                    }

                    await app.DisposeAsync().ConfigureAwait(false);
                    return ExitCodes.UsageOrConfiguration;
                }

                await using var running = app;
                if (developmentDirectory is not null)
                {
                    var generated = DevelopmentCertificateAuthority.Create(parseResult.GetValue(developmentNames) ?? [], TimeProvider.System);
                    generated.WriteTo(developmentDirectory);
                    await stdout.WriteLineAsync($"Development certificates written to {developmentDirectory} (never use them in production).").ConfigureAwait(false);
                    await stdout.WriteLineAsync("caBundle for the MutatingWebhookConfiguration and ValidatingWebhookConfiguration:").ConfigureAwait(false);
                    await stdout.WriteLineAsync(generated.CaBundle).ConfigureAwait(false);
                }

                _ = app.Services.GetRequiredService<Certificates.IServingCertificate>();
                await Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.RunAsync(app, cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            catch (OptionsValidationException e)
            {
                // WebApplication builds its server (and so reads the options) while it is built.
                foreach (var failure in e.Failures)
                {
                    await stderr.WriteLineAsync($"gatekeeper serve: {failure}").ConfigureAwait(false);
                }

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

    /// <summary>Why the host cannot start, one line each: its options, the serving certificate given, then the Kubernetes client.</summary>
    private static IReadOnlyList<string> NotReady(Microsoft.AspNetCore.Builder.WebApplication app, bool certificateToWrite)
    {
        try
        {
            _ = app.Services.GetRequiredService<IOptions<WebhookOptions>>().Value;
            if (!certificateToWrite)
            {
                _ = app.Services.GetRequiredService<Certificates.IServingCertificate>();
            }

            _ = app.Services.GetRequiredService<KubernetesApi>();
            return [];
        }
        catch (ServingCertificateException e)
        {
            return [e.Message];
        }
        catch (OptionsValidationException e)
        {
            return [.. e.Failures];
        }
        catch (KubeConfigException e)
        {
            return [$"cannot reach Kubernetes: {e.Message} (run inside a cluster, or pass --kubeconfig)."];
        }
    }
}
