using System.CommandLine;
using System.Net;
using System.Text.Json;
using Gatekeeper.Cli;
using Gatekeeper.Controller;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Controller;
using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;

namespace Gatekeeper.Webhook.Tests.Controller;

public sealed class ClusterStatusCommandTests : IAsyncLifetime
{
    private static readonly string Plan = "5e" + new string('5', 62);
    private KubeApiServerDouble api = null!;
    private string kubeconfig = null!;

    public async Task InitializeAsync()
    {
        api = await KubeApiServerDouble.StartAsync();
        kubeconfig = Path.Combine(Directory.CreateTempSubdirectory("gatekeeper-kubeconfig-").FullName, "config");
        await File.WriteAllTextAsync(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: double
              cluster:
                server: {api.BaseAddress.ToString().TrimEnd('/')}
            contexts:
            - name: double
              context:
                cluster: double
                user: nobody
                namespace: shop
            current-context: double
            users:
            - name: nobody
              user:
                token: not-a-real-token
            """);
    }

    public async Task DisposeAsync()
    {
        await api.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(kubeconfig)!, recursive: true);
    }

    private static async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await ClusterStatusCommand.Create().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        OutputCapture.Record(OutputCapture.CliOutput, "gatekeeper cluster-status", $"exit {exit}\n{output}{error}");
        return (exit, output.ToString(), error.ToString());
    }

    private void PutDeployment(string ns, string name, string? plan, DeploymentStatus? status, bool optedIn = true)
    {
        var annotations = new Dictionary<string, string>();
        if (optedIn)
        {
            annotations[GatekeeperNames.Migrations] = name + "-migrations";
            annotations[GatekeeperNames.DatabaseSecret] = name + "-db";
        }

        V1DeploymentStatus? recorded = null;
        if (status is not null)
        {
            var (migrated, record) = DeploymentRecord.Conditions(status, status.Since);
            recorded = new V1DeploymentStatus { Conditions = [migrated, record] };
        }

        api.Put(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Annotations = annotations },
            Status = recorded,
            Spec = new V1DeploymentSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta
                    {
                        Labels = new Dictionary<string, string> { ["app"] = name },
                        Annotations = plan is null ? null : new Dictionary<string, string> { [GatekeeperNames.Plan] = plan, [GatekeeperNames.TargetVersion] = "7" },
                    },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "app:1" }] },
                },
            },
        });
    }

    private void PutGatedPod(string ns, string name, string plan) => api.Put(new V1Pod
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Annotations = new Dictionary<string, string> { [GatekeeperNames.Plan] = plan } },
        Spec = new V1PodSpec
        {
            Containers = [new V1Container { Name = "app", Image = "app:1" }],
            SchedulingGates = [new V1PodSchedulingGate { Name = GatekeeperNames.MigrationSchedulingGate }],
        },
    });

    private void PutRunningJob(string ns, string name, string plan) => api.Put(new V1Job
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { [GatekeeperNames.PlanLabel] = plan[..63] },
            Annotations = new Dictionary<string, string> { [GatekeeperNames.Plan] = plan },
        },
        Status = new V1JobStatus { Active = 1 },
    });

    [Fact]
    public async Task The_table_lists_opted_in_deployments_of_the_contexts_namespace_with_plan_job_and_gated_pods()
    {
        var since = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
        PutDeployment("shop", "storefront", Plan, new DeploymentStatus(RolloutState.Reconciling, StatusReasons.Migrating, "Job runs", Plan, "gk-migrate-storefront-0123456789", since));
        PutRunningJob("shop", "gk-migrate-storefront-0123456789", Plan);
        PutGatedPod("shop", "storefront-1", Plan);
        PutGatedPod("shop", "storefront-2", Plan);
        PutDeployment("shop", "not-opted-in", null, null, optedIn: false);
        PutDeployment("billing", "invoices", null, null);

        var (exit, output, error) = await Run("--kubeconfig", kubeconfig);

        Assert.Equal(0, exit);
        Assert.Empty(error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^NAMESPACE\s+DEPLOYMENT\s+STATUS\s+PLAN\s+TARGET\s+JOB\s+GATED\s+SINCE$", lines[0]);
        Assert.Matches(@"^shop\s+storefront\s+Reconciling/Migrating\s+5e5555555555\s+7\s+gk-migrate-storefront-0123456789 \(Running\)\s+2\s+2025-06-01 12:00:00Z$", lines[1]);
    }

    [Fact]
    public async Task A_stalled_deployment_prints_its_reason_and_exits_1()
    {
        PutDeployment("shop", "storefront", Plan, new DeploymentStatus(RolloutState.Stalled, StatusReasons.MigrationFailed,
            "Job gk-migrate-storefront-0123456789 failed to apply plan 5e5555555555: V7__x.sql: ERROR: boom", Plan, "gk-migrate-storefront-0123456789", DateTimeOffset.UnixEpoch));

        var (exit, output, _) = await Run("--kubeconfig", kubeconfig, "-n", "shop");

        Assert.Equal(1, exit);
        Assert.Contains("gk-migrate-storefront-0123456789 (Deleted)", output, StringComparison.Ordinal);
        Assert.Contains("shop/storefront: Job gk-migrate-storefront-0123456789 failed to apply plan 5e5555555555: V7__x.sql: ERROR: boom", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_lists_every_namespace_with_all_namespaces()
    {
        PutDeployment("shop", "storefront", Plan, null);
        PutDeployment("billing", "invoices", null, new DeploymentStatus(RolloutState.Ready, StatusReasons.UpToDate, "nothing pending", null, null, DateTimeOffset.UnixEpoch));

        var (exit, output, _) = await Run("--kubeconfig", kubeconfig, "-A", "-o", "json");

        Assert.Equal(0, exit);
        using var document = JsonDocument.Parse(output);
        var rows = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(["billing/invoices", "shop/storefront"], rows.Select(r => $"{r.GetProperty("namespace").GetString()}/{r.GetProperty("deployment").GetString()}"));
        Assert.Equal("Ready", rows[0].GetProperty("state").GetString());
        Assert.Equal(Plan, rows[1].GetProperty("plan").GetString());
        Assert.Equal("None", rows[1].GetProperty("jobState").GetString());
    }

    [Fact]
    public async Task An_empty_namespace_says_so()
    {
        var (exit, output, _) = await Run("--kubeconfig", kubeconfig, "--namespace", "empty");

        Assert.Equal(0, exit);
        Assert.Equal("No Deployment in namespace empty has opted in (annotation gatekeeper.dev/migrations).", output.Trim());
    }

    [Fact]
    public async Task A_refusing_api_server_is_one_line_and_exit_2()
    {
        api.Fail("/apis/apps/v1", HttpStatusCode.Forbidden);

        var (exit, output, error) = await Run("--kubeconfig", kubeconfig);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.Equal($"gatekeeper cluster-status: the Kubernetes API at {api.BaseAddress.ToString().TrimEnd('/')} refused to list deployments, jobs and pods in namespace shop (HTTP 403)", error.Trim());
    }

    [Fact]
    public async Task A_missing_kubeconfig_is_one_line_and_exit_2()
    {
        var (exit, _, error) = await Run("--kubeconfig", kubeconfig + ".missing");

        Assert.Equal(2, exit);
        Assert.StartsWith("gatekeeper cluster-status: --kubeconfig ", error, StringComparison.Ordinal);
        Assert.EndsWith("does not exist.", error.Trim(), StringComparison.Ordinal);
    }
}
