using System.Text.RegularExpressions;
using Gatekeeper.Kubernetes.Controller;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests.Controller;

public sealed partial class MigrationJobNamesTests
{
    private static readonly string Plan = new('a', 64);

    [Theory]
    [InlineData("shop")]
    [InlineData("a-deployment-name-that-is-much-longer-than-a-job-name-may-be-and-then-some")]
    [InlineData("api.v2.shop")]
    [InlineData("-.-")]
    [InlineData("UPPER")]
    public void Names_are_dns_labels_of_at_most_63_characters(string deployment)
    {
        var name = MigrationJobNames.For(deployment, Plan, retry: null, "fingerprint");

        Assert.True(name.Length <= 63, name);
        Assert.Matches(DnsLabel(), name);
        Assert.StartsWith(MigrationJobNames.Prefix, name, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_attempt_always_gets_the_same_name()
    {
        Assert.Equal(MigrationJobNames.For("shop", Plan, "1", "t"), MigrationJobNames.For("shop", Plan, "1", "t"));
    }

    [Fact]
    public void A_stamp_written_before_hash_version_3_keeps_the_job_name_it_always_had()
    {
        // The name an earlier Gatekeeper gave this attempt: an upgrade finds that Job (running, succeeded or failed) and
        // never starts the attempt again.
        var earlier = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"gatekeeper-migration-job/v1\n{Plan}\n\nt"));

        Assert.Equal("gk-migrate-shop-" + Convert.ToHexStringLower(earlier)[..10], MigrationJobNames.For("shop", Plan, null, "t"));
    }

    [Fact]
    public void A_release_key_is_named_apart_from_what_an_older_replica_would_call_its_attempt()
    {
        var releaseKey = new string('a', 32) + "-" + new string('b', 24);
        var olderReplica = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"gatekeeper-migration-job/v1\n{releaseKey}\n\nt"));

        var name = MigrationJobNames.For("shop", releaseKey, null, "t");

        // An older replica's migrate cannot read a release key and refuses; the newer controller does not inherit that refusal.
        Assert.NotEqual("gk-migrate-shop-" + Convert.ToHexStringLower(olderReplica)[..10], name);
        Assert.Equal(name, MigrationJobNames.For("shop", releaseKey, null, "t"));
        Assert.True(name.Length <= 63, name);
    }

    [Theory]
    [InlineData("shop", "b", null, "t")]
    [InlineData("shop", "a", "1", "t")]
    [InlineData("shop", "a", null, "u")]
    public void A_new_plan_retry_value_or_pod_template_is_a_new_attempt(string deployment, string planCharacter, string? retry, string template)
    {
        var baseline = MigrationJobNames.For("shop", Plan, null, "t");

        Assert.NotEqual(baseline, MigrationJobNames.For(deployment, new string(planCharacter[0], 64), retry, template));
    }

    [Fact]
    public void The_template_fingerprint_ignores_member_order_and_sees_any_change()
    {
        var template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Annotations = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "shop:1" }] },
        };
        var reordered = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Annotations = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "shop:1" }] },
        };
        var changed = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Annotations = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = "shop:2" }] },
        };

        Assert.Equal(MigrationJobNames.TemplateFingerprint(template), MigrationJobNames.TemplateFingerprint(reordered));
        Assert.NotEqual(MigrationJobNames.TemplateFingerprint(template), MigrationJobNames.TemplateFingerprint(changed));
    }

    [Fact]
    public void Long_deployment_names_become_distinct_label_values_that_fit()
    {
        var first = MigrationJobNames.DeploymentLabelValue(new string('x', 80) + "1");
        var second = MigrationJobNames.DeploymentLabelValue(new string('x', 80) + "2");

        Assert.Equal("shop", MigrationJobNames.DeploymentLabelValue("shop"));
        Assert.True(first.Length <= 63);
        Assert.NotEqual(first, second);
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
