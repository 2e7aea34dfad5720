using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Controller;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;

namespace Gatekeeper.Cli;

/// <summary>
/// <c>gatekeeper cluster-status</c>: the opted-in Deployments of a namespace (or all) with their plan, migration Job
/// and gated pods, read from the cluster the way <c>kubectl</c> finds it. The local <c>gatekeeper status</c> reads a
/// database instead. Exit 0, or 1 when a listed Deployment is Stalled (for scripts), 2 when the cluster cannot be read.
/// </summary>
public static class ClusterStatusCommand
{
    public static Command Create()
    {
        var ns = new Option<string?>("--namespace", "-n") { Description = "Namespace to list (default: the kubeconfig context's, else default).", HelpName = "NAMESPACE" };
        var all = new Option<bool>("--all-namespaces", "-A") { Description = "List every namespace." };
        var kubeconfig = new Option<FileInfo?>("--kubeconfig") { Description = "Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the pod's service account).", HelpName = "FILE" };
        var context = new Option<string?>("--context") { Description = "Kubeconfig context to use.", HelpName = "NAME" };
        var output = new Option<OutputFormat>("--output", "-o") { Description = "text (for people) or json.", DefaultValueFactory = _ => OutputFormat.Text, HelpName = "FORMAT" };
        output.AcceptOnlyFromAmong("text", "json");

        var command = new Command("cluster-status", """
            List the Deployments that opted in to Gatekeeper (annotation gatekeeper.dev/migrations) with their status
            (Ready, Reconciling or Stalled and why), pending plan, migration Job and how many pods wait for it.
            Exit 0, 1 when a listed Deployment is Stalled, 2 when the cluster cannot be read.
            """)
        {
            ns, all, kubeconfig, context, output,
        };

        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var configuration = Configuration(parse.GetValue(kubeconfig), parse.GetValue(context));
            var target = parse.GetValue(all) ? null : parse.GetValue(ns) ?? configuration.Namespace ?? "default";
            using var client = new KubernetesApi(configuration);
            IReadOnlyList<RolloutRow> rows;
            try
            {
                rows = await new ClusterStatusReader(client).ReadAsync(target, cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
            {
                throw new CommandLineError($"the Kubernetes API at {configuration.Host} refused to list deployments, jobs and pods {(target is null ? "in all namespaces" : $"in namespace {target}")} (HTTP {(int)e.Response.StatusCode})");
            }
            catch (HttpOperationException e)
            {
                throw new CommandLineError($"the Kubernetes API at {configuration.Host} answered HTTP {(int)e.Response.StatusCode}");
            }
            catch (HttpRequestException e)
            {
                throw new CommandLineError($"cannot reach the Kubernetes API at {configuration.Host}: {e.Message}");
            }

            if (parse.GetRequiredValue(output) == OutputFormat.Json)
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(rows, ClusterStatusJson.Default.IReadOnlyListRolloutRow));
            }
            else
            {
                await WriteTableAsync(stdout, rows, target);
            }

            return rows.Any(r => r.State == RolloutState.Stalled) ? ExitCodes.Rejected : ExitCodes.Ok;
        });
        return command;
    }

    private static KubernetesClientConfiguration Configuration(FileInfo? kubeconfig, string? context)
    {
        try
        {
            if (kubeconfig is not null)
            {
                if (!kubeconfig.Exists)
                {
                    throw new CommandLineError($"--kubeconfig {kubeconfig.FullName} does not exist.");
                }

                return KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig.FullName, context);
            }

            return context is null
                ? KubernetesClientConfiguration.BuildDefaultConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile(currentContext: context);
        }
        catch (KubeConfigException e)
        {
            throw new CommandLineError($"cannot use the kubeconfig: {e.Message}");
        }
    }

    private static async Task WriteTableAsync(TextWriter stdout, IReadOnlyList<RolloutRow> rows, string? target)
    {
        if (rows.Count == 0)
        {
            await stdout.WriteLineAsync(target is null
                ? "No Deployment in any namespace has opted in (annotation gatekeeper.dev/migrations)."
                : $"No Deployment in namespace {target} has opted in (annotation gatekeeper.dev/migrations).");
            return;
        }

        string[] header = ["NAMESPACE", "DEPLOYMENT", "STATUS", "PLAN", "TARGET", "JOB", "GATED", "SINCE"];
        var table = rows.Select(r => new[]
        {
            r.Namespace,
            r.Deployment,
            r.State is { } state ? $"{state}/{r.Reason}" : "Unknown",
            r.Plan is null ? "-" : Hashes.Short(r.Plan),
            r.TargetVersion ?? "-",
            r.Job is null ? "-" : $"{r.Job} ({r.JobState})",
            r.GatedPods.ToString(CultureInfo.InvariantCulture),
            r.Since?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "-",
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, table.Max(row => row[i].Length))).ToArray();
        await stdout.WriteLineAsync(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in table)
        {
            await stdout.WriteLineAsync(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }

        // The reason a person has to act on, in full, under the table.
        foreach (var row in rows.Where(r => r.State == RolloutState.Stalled && r.Message is not null))
        {
            await stdout.WriteLineAsync();
            await stdout.WriteLineAsync($"{row.Namespace}/{row.Deployment}: {row.Message}");
        }
    }
}

/// <summary>The rows as JSON (indented, camelCase, states by name), generated at compile time for the Native AOT binary.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(IReadOnlyList<RolloutRow>))]
internal sealed partial class ClusterStatusJson : JsonSerializerContext;
