using System.Net;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// Deployments whose configuration is wrong (annotations, ConfigMap, Secret) or that need no plan: answered
/// before any database is involved, so these run without one.
/// </summary>
public sealed class DeploymentConfigurationTests : IAsyncLifetime
{
    private const string Hash = "5f0c6a3e1b2d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6";
    private DeploymentScenario scenario = null!;

    public async Task InitializeAsync()
    {
        scenario = await DeploymentScenario.StartAsync(engine: null);
        scenario.PutSecret(DeploymentScenario.SecretName, new Dictionary<string, string> { ["url"] = "postgres://app:s3cret@127.0.0.1:1/shop" });
        scenario.PutMigrations(new Dictionary<string, string> { ["V1__create_orders.sql"] = "CREATE TABLE orders (id bigint PRIMARY KEY);\n" });
    }

    public async Task DisposeAsync() => await scenario.DisposeAsync();

    [Fact]
    public async Task A_deployment_without_the_opt_in_annotation_is_allowed_at_once_without_a_patch()
    {
        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(new Dictionary<string, string> { ["team"] = "shop" }));

        Assert.True(result.Admitted);
        Assert.Null(result.Mutation.Patch);
        Assert.Empty(result.Warnings);
        Assert.DoesNotContain(scenario.Api.Requests, r => r.Path.Contains("configmaps", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Malformed_annotation_values_are_denied_naming_each_annotation_and_value()
    {
        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(
            ("gatekeeper.dev/format", "liquibase"),
            ("gatekeeper.dev/job-timeout", "forever"))));

        Assert.False(result.Mutation.Allowed);
        Assert.Equal(422, result.Mutation.Code);
        var lines = result.Denial!.Split('\n');
        Assert.Equal("gatekeeper: the annotations of team-a/shop cannot be used", lines[0]);
        Assert.Contains(lines, l => l.Contains("gatekeeper.dev/format value \"liquibase\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("gatekeeper.dev/job-timeout value \"forever\"", StringComparison.Ordinal));
        Assert.StartsWith("To proceed:", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_gatekeeper_annotation_is_surfaced_once_as_a_warning()
    {
        var stamps = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Hash, ["gatekeeper.dev/target-version"] = "1" };
        var stored = AdmissionReviewBodies.Deployment("shop", DeploymentScenario.Namespace, DeploymentScenario.OptIn(), templateAnnotations: stamps);
        var reapplied = AdmissionReviewBodies.Deployment("shop", DeploymentScenario.Namespace, DeploymentScenario.OptIn(("gatekeeper.dev/alow", "GK101")), templateAnnotations: stamps);

        var result = await scenario.ApplyAsync(reapplied, stored);

        Assert.True(result.Admitted);
        var warning = Assert.Single(result.Warnings);
        Assert.Contains("did you mean gatekeeper.dev/allow?", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_annotation_is_denied_even_when_the_template_is_unchanged()
    {
        var stamps = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Hash };
        var stored = AdmissionReviewBodies.Deployment("shop", DeploymentScenario.Namespace, DeploymentScenario.OptIn(), templateAnnotations: stamps);
        var reapplied = AdmissionReviewBodies.Deployment("shop", DeploymentScenario.Namespace, DeploymentScenario.OptIn(("gatekeeper.dev/dry-run", "maybe")), templateAnnotations: stamps);

        var result = await scenario.ApplyAsync(reapplied, stored);

        Assert.False(result.Admitted);
        Assert.Contains("gatekeeper.dev/dry-run value \"maybe\"", result.Denial, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_configmap_is_a_clear_deny()
    {
        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/migrations", "gone"))));

        Assert.False(result.Admitted);
        Assert.Equal(422, result.Mutation.Code);
        Assert.Equal("gatekeeper: cannot plan team-a/shop: ConfigMap team-a/gone named by annotation gatekeeper.dev/migrations does not exist", result.Denial);
    }

    [Fact]
    public async Task A_configmap_with_a_broken_migration_file_is_denied_naming_the_file()
    {
        scenario.PutMigrations(new Dictionary<string, string>
        {
            ["V1__create_orders.sql"] = "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
            ["V1__create_customers.sql"] = "CREATE TABLE customers (id bigint PRIMARY KEY);\n",
        }, "broken");

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/migrations", "broken"))));

        Assert.False(result.Admitted);
        Assert.StartsWith("gatekeeper: cannot plan team-a/shop: ConfigMap team-a/broken cannot be read as migrations:", result.Denial, StringComparison.Ordinal);
        Assert.Contains("V1__create_customers.sql", result.Denial, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_migration_file_that_is_not_utf8_is_denied_not_crashed_on()
    {
        scenario.Api.Put(new k8s.Models.V1ConfigMap
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = "binary", NamespaceProperty = DeploymentScenario.Namespace },
            BinaryData = new Dictionary<string, byte[]> { ["V1__init.sql"] = [0xC3, 0x28, 0xFF, 0xFE] },
        });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/migrations", "binary"))));

        Assert.False(result.Admitted);
        Assert.Contains("V1__init.sql", result.Denial, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_secret_without_the_url_key_is_a_clear_deny_that_shows_no_value()
    {
        scenario.PutSecret("keyless", new Dictionary<string, string> { ["password"] = "s3cret" });

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn(("gatekeeper.dev/database-secret", "keyless"))));

        Assert.False(result.Admitted);
        Assert.Equal(
            "gatekeeper: cannot plan team-a/shop: Secret team-a/keyless has no non-empty key url or uri; name the key with gatekeeper.dev/database-secret: keyless/<key>",
            result.Denial);
        Assert.DoesNotContain("s3cret", result.Denial, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_kubernetes_api_outage_is_a_deny_after_bounded_retries()
    {
        scenario.Api.Fail("/api/v1/namespaces/team-a/configmaps", HttpStatusCode.ServiceUnavailable);

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()));

        Assert.False(result.Admitted);
        Assert.Equal(503, result.Mutation.Code);
        Assert.Contains("Kubernetes API unreachable", result.Denial, StringComparison.Ordinal);
        // One attempt and two retries (Webhook:MaxRetries), no more.
        Assert.Equal(3, scenario.Api.RequestsTo("GET", "/api/v1/namespaces/team-a/configmaps").Count);
    }

    [Fact]
    public async Task Reapplying_an_unchanged_deployment_gives_no_patch_and_needs_no_plan()
    {
        var stamps = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Hash, ["gatekeeper.dev/target-version"] = "1" };
        var stored = AdmissionReviewBodies.Deployment("shop", DeploymentScenario.Namespace, DeploymentScenario.OptIn(), templateAnnotations: stamps);
        // kubectl apply keeps fields it did not set, so the stamps come back in the object; scaling is not a template change.
        var reapplied = (JsonObject)stored.DeepClone();
        reapplied["spec"]!["replicas"] = 4;

        var result = await scenario.ApplyAsync(reapplied, stored);

        Assert.True(result.Admitted);
        Assert.Null(result.Mutation.Patch);
        Assert.DoesNotContain(scenario.Api.Requests, r => r.Path.Contains("configmaps", StringComparison.Ordinal) || r.Path.Contains("secrets", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_replace_that_drops_the_stamps_gets_exactly_the_old_stamps_back()
    {
        var stamps = new Dictionary<string, string> { ["gatekeeper.dev/plan"] = Hash, ["gatekeeper.dev/target-version"] = "1" };
        var stored = AdmissionReviewBodies.Deployment("shop", DeploymentScenario.Namespace, DeploymentScenario.OptIn(), templateAnnotations: stamps);

        var result = await scenario.ApplyAsync(DeploymentScenario.Deployment(DeploymentScenario.OptIn()), stored);

        Assert.True(result.Admitted);
        Assert.Equal(Hash, result.PlanStamp);
        Assert.Equal("1", result.TargetVersionStamp);
        Assert.True(JsonNode.DeepEquals(stored["spec"]!["template"], result.Stored["spec"]!["template"]));
    }

    [Fact]
    public async Task Objects_of_other_kinds_sent_by_mistake_are_allowed()
    {
        var pod = AdmissionReviewBodies.Pod(DeploymentScenario.Namespace, "shop", DeploymentScenario.OptIn());

        var response = await AdmissionReviewResponse.ReadAsync(
            await scenario.Webhook.PostAsync("/validate/deployments", AdmissionReviewBodies.Review("CREATE", pod)));

        Assert.True(response.Allowed);
    }
}
