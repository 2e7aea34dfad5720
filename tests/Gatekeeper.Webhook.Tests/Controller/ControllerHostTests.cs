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
            ["Controller:Namespace"] = "gatekeeper-system",
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

    private static async Task<string> ReadinessAsync(TestWebhook webhook) => await (await webhook.Client.GetAsync("/readyz")).Content.ReadAsStringAsync();

    private static async Task<string> WaitForReadinessAsync(TestWebhook webhook, Func<string, bool> until, string what)
    {
        var deadline = DateTime.UtcNow + Gatekeeper.Tests.Patience.Default;
        var text = await ReadinessAsync(webhook);
        while (!until(text))
        {
            Assert.True(DateTime.UtcNow < deadline, $"readiness never came to say that {what}; it says: {text}");
            await Task.Delay(20);
            text = await ReadinessAsync(webhook);
        }

        return text;
    }

    private static Dictionary<string, string?> Configured(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Controller:Image"] = "registry.example/gatekeeper:9.9.9",
            ["Controller:Namespace"] = "gatekeeper-system",
            ["Controller:ServiceAccount"] = "gatekeeper-system/gatekeeper",
            ["Controller:LeaseDuration"] = "00:00:02",
            ["Controller:RenewDeadline"] = "00:00:01",
            ["Controller:RetryPeriod"] = "00:00:00.100",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task Without_an_image_the_replica_is_not_ready_and_the_metric_says_why()
    {
        PutWorkload();
        await using var webhook = await TestWebhook.StartAsync(api);

        // The controller host has returned: it decided it cannot run the controller and never asks for the lease.
        await webhook.ControllerHostRun.WaitAsync(Gatekeeper.Tests.Patience.Default);
        await WaitForReadinessAsync(webhook, text => text.Contains("controller cannot run", StringComparison.Ordinal), "the controller cannot run");
        var readiness = await webhook.Client.GetAsync("/readyz");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
        Assert.Contains("ImageNotConfigured: Controller:Image is not set", await readiness.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("gatekeeper_controller_blocked{reason=\"ImageNotConfigured\"} 1", webhook.MetricsText(), StringComparison.Ordinal);
        Assert.Empty(api.RequestsTo("GET", "/apis/coordination.k8s.io"));
        Assert.Empty(api.List<V1Job>("shop"));
    }

    [Fact]
    public async Task A_replica_switched_to_webhook_only_is_ready_without_a_controller()
    {
        await using var webhook = await TestWebhook.StartAsync(api, new Dictionary<string, string?> { ["Controller:Enabled"] = "false" });

        await webhook.ControllerHostRun.WaitAsync(Gatekeeper.Tests.Patience.Default);
        Assert.Equal("ok\n", await WaitForReadinessAsync(webhook, text => text == "ok\n", "it is ready"));
    }

    [Fact]
    public async Task The_controller_takes_its_image_and_namespace_from_configuration_and_never_reads_its_own_pod()
    {
        PutWorkload();
        Environment.SetEnvironmentVariable("POD_NAME", "gatekeeper-7d9f");
        try
        {
            await using var webhook = await TestWebhook.StartAsync(api, Configured());

            await api.WaitUntilAsync(() => api.List<V1Job>("shop").Count > 0, "the controller created a Job");

            Assert.Equal("registry.example/gatekeeper:9.9.9", Assert.Single(api.List<V1Job>("shop")).Spec.Template.Spec.Containers[0].Image);
            Assert.StartsWith("gatekeeper-7d9f_", api.Get<V1Lease>("gatekeeper-system", "gatekeeper-controller")!.Spec.HolderIdentity, StringComparison.Ordinal);
            Assert.NotNull(api.Get<V1Secret>("gatekeeper-system", "gatekeeper-job-signing"));
            // With watchNamespaces its RBAC on pods covers only the watched namespaces: reading its own pod would fail.
            Assert.Empty(api.RequestsTo("GET", "/api/v1/namespaces/gatekeeper-system/pods"));
            Assert.Equal("ok\n", await WaitForReadinessAsync(webhook, text => text == "ok\n", "it is ready"));
            Assert.Contains("gatekeeper_controller_blocked{reason=\"LeaseForbidden\"} 0", webhook.MetricsText(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("POD_NAME", null);
        }
    }

    [Fact]
    public async Task A_refused_lease_makes_the_replica_unready_with_the_reason_until_rbac_allows_it()
    {
        PutWorkload();
        api.Fail("/apis/coordination.k8s.io/", System.Net.HttpStatusCode.Forbidden);
        await using var webhook = await TestWebhook.StartAsync(api, Configured());

        var refused = await WaitForReadinessAsync(webhook, text => text.Contains("LeaseForbidden", StringComparison.Ordinal), "the Lease is refused");
        Assert.Contains("grant get, create, update and delete on leases in gatekeeper-system", refused, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_controller_blocked{reason=\"LeaseForbidden\"} 1", webhook.MetricsText(), StringComparison.Ordinal);
        Assert.Empty(api.List<V1Job>("shop"));

        api.Heal("/apis/coordination.k8s.io/");
        await api.WaitUntilAsync(() => api.List<V1Job>("shop").Count > 0, "the controller leads and creates the Job");
        Assert.Equal("ok\n", await WaitForReadinessAsync(webhook, text => text == "ok\n", "it is ready again"));
        Assert.Contains("gatekeeper_controller_blocked{reason=\"LeaseForbidden\"} 0", webhook.MetricsText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_signing_key_secret_makes_the_replica_unready_with_the_reason()
    {
        api.Fail("/api/v1/namespaces/gatekeeper-system/secrets", System.Net.HttpStatusCode.Forbidden);
        await using var webhook = await TestWebhook.StartAsync(api, Configured());

        var refused = await WaitForReadinessAsync(webhook, text => text.Contains("SigningKeyUnavailable", StringComparison.Ordinal), "the Secret is refused");
        Assert.Contains("refused gatekeeper-system/gatekeeper the Secret gatekeeper-system/gatekeeper-job-signing (HTTP 403)", refused, StringComparison.Ordinal);
        Assert.Empty(api.RequestsTo("GET", "/apis/coordination.k8s.io"));
    }

    [Fact]
    public async Task A_leader_refused_its_cluster_wide_watch_is_unready_and_says_which()
    {
        PutWorkload();
        api.Fail("/apis/batch/v1/jobs", System.Net.HttpStatusCode.Forbidden);
        await using var webhook = await TestWebhook.StartAsync(api, Configured());

        var refused = await WaitForReadinessAsync(webhook, text => text.Contains("WatchForbidden", StringComparison.Ordinal), "the watch is refused");
        Assert.Contains("refuses to list or watch jobs in all namespaces", refused, StringComparison.Ordinal);
        Assert.Contains("gatekeeper_controller_blocked{reason=\"WatchForbidden\"} 1", webhook.MetricsText(), StringComparison.Ordinal);
    }
}
