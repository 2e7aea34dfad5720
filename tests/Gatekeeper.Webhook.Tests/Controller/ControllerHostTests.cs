using Gatekeeper.Kubernetes;
using Gatekeeper.Tests.ApiServerDouble;
using k8s.Models;

namespace Gatekeeper.Webhook.Tests.Controller;

/// <summary>Tests that set process-wide environment variables (the downward API's POD_NAME) run alone.</summary>
[CollectionDefinition(nameof(ProcessEnvironment), DisableParallelization = true)]
public sealed class ProcessEnvironment;

/// <summary><c>gatekeeper serve</c>'s host runs the controller next to the webhook.</summary>
[Collection(nameof(ProcessEnvironment))]
public sealed class ControllerHostTests : IAsyncLifetime
{
    private static readonly string Plan = "7a" + new string('7', 62);
    private KubeApiServerDouble api = null!;

    public async Task InitializeAsync() => api = await KubeApiServerDouble.StartAsync();

    public async Task DisposeAsync() => await api.DisposeAsync();

    private void PutWorkload()
    {
        api.Put(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "storefront-migrations", NamespaceProperty = "shop" },
            Data = new Dictionary<string, string> { ["V1__init.sql"] = "CREATE TABLE t (id int);" },
        });
        api.Put(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "storefront-db", NamespaceProperty = "shop" },
            Data = new Dictionary<string, byte[]> { ["uri"] = "postgresql://app:pw@db/shop"u8.ToArray() },
        });
        api.Put(new V1Deployment
        {
            Metadata = new V1ObjectMeta
            {
                Name = "storefront",
                NamespaceProperty = "shop",
                Annotations = new Dictionary<string, string>
                {
                    [GatekeeperNames.Migrations] = "storefront-migrations",
                    [GatekeeperNames.DatabaseSecret] = "storefront-db",
                    [GatekeeperNames.JobTimeout] = "10m",
                },
            },
            Spec = new V1DeploymentSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "storefront" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta
                    {
                        Labels = new Dictionary<string, string> { ["app"] = "storefront" },
                        Annotations = new Dictionary<string, string> { [GatekeeperNames.Plan] = Plan },
                    },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "app:1" }] },
                },
            },
        });
    }

    [Fact]
    public async Task With_an_image_the_served_host_leads_and_creates_the_job_the_options_describe()
    {
        PutWorkload();
        await using var webhook = await TestWebhook.StartAsync(api, new Dictionary<string, string?>
        {
            ["Controller:Image"] = "registry.example/gatekeeper:9.9.9",
            ["Controller:LeaseNamespace"] = "gatekeeper-system",
            ["Controller:BackoffLimit"] = "1",
        });

        await api.WaitUntilAsync(() => api.List<V1Job>("shop").Count > 0, "the controller created a Job");

        var job = Assert.Single(api.List<V1Job>("shop"));
        Assert.Equal("registry.example/gatekeeper:9.9.9", job.Spec.Template.Spec.Containers[0].Image);
        Assert.Equal(1, job.Spec.BackoffLimit);
        Assert.Equal(600, job.Spec.ActiveDeadlineSeconds);
        Assert.Equal("uri", job.Spec.Template.Spec.Volumes.Single(v => v.Secret is not null).Secret.Items[0].Key);
        Assert.NotNull(api.Get<V1Lease>("gatekeeper-system", "gatekeeper-controller"));
        Assert.Contains("gatekeeper_controller_leader 1", webhook.MetricsText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_an_image_the_host_serves_the_webhook_and_never_asks_for_the_lease()
    {
        PutWorkload();
        await using var webhook = await TestWebhook.StartAsync(api);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await webhook.Client.GetAsync("/readyz")).StatusCode != System.Net.HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        // The controller host has returned: it decided not to run the controller and can no longer ask for the lease.
        await webhook.ControllerHostRun.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(api.RequestsTo("GET", "/apis/coordination.k8s.io"));
        Assert.Empty(api.List<V1Job>("shop"));
    }

    [Fact]
    public async Task Without_an_image_option_a_pod_runs_jobs_with_its_own_image_and_leases_in_its_own_namespace()
    {
        PutWorkload();
        const string image = "registry.example/gatekeeper@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        api.Put(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "gatekeeper-7d9f", NamespaceProperty = "gatekeeper-own" },
            Spec = new V1PodSpec { NodeName = "node-1", Containers = [new V1Container { Name = "gatekeeper", Image = image }] },
        });
        Environment.SetEnvironmentVariable("POD_NAME", "gatekeeper-7d9f");
        Environment.SetEnvironmentVariable("POD_NAMESPACE", "gatekeeper-own");
        try
        {
            await using var webhook = await TestWebhook.StartAsync(api);

            await api.WaitUntilAsync(() => api.List<V1Job>("shop").Count > 0, "the controller created a Job");

            Assert.Equal(image, Assert.Single(api.List<V1Job>("shop")).Spec.Template.Spec.Containers[0].Image);
            Assert.StartsWith("gatekeeper-7d9f_", api.Get<V1Lease>("gatekeeper-own", "gatekeeper-controller")!.Spec.HolderIdentity, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("POD_NAME", null);
            Environment.SetEnvironmentVariable("POD_NAMESPACE", null);
        }
    }
}
