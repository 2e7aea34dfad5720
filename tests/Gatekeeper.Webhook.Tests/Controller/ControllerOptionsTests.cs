using Gatekeeper.Controller;

namespace Gatekeeper.Webhook.Tests.Controller;

public sealed class ControllerOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_and_hold_the_lease_like_client_go()
    {
        var options = new ControllerOptions();

        Assert.True(new ControllerOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal((TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)), (options.LeaseDuration, options.RenewDeadline, options.RetryPeriod));
    }

    [Theory]
    [InlineData("Image", "Controller:Image")]
    [InlineData("PullPolicy", "Controller:ImagePullPolicy")]
    [InlineData("Backoff", "Controller:BackoffLimit")]
    [InlineData("Root", "Controller:RunAsUser")]
    [InlineData("Memory", "Controller:MemoryLimit")]
    [InlineData("CpuLimit", "Controller:CpuLimit")]
    [InlineData("JobPodTemplate", "Controller:JobPodTemplate sets spec.volumes")]
    [InlineData("PullSecret", "Controller:ImagePullSecrets")]
    [InlineData("Resync", "Controller:ResyncInterval")]
    [InlineData("Lease", "Controller:LeaseDuration")]
    [InlineData("LeaseName", "Controller:LeaseName")]
    public void A_bad_value_is_refused_with_a_line_naming_its_key(string change, string key)
    {
        var options = change switch
        {
            "Image" => new ControllerOptions { Image = "ghcr.io/x/gatekeeper: 1" },
            "PullPolicy" => new ControllerOptions { ImagePullPolicy = "Sometimes" },
            "Backoff" => new ControllerOptions { BackoffLimit = 50 },
            "Root" => new ControllerOptions { RunAsUser = 0 },
            "Memory" => new ControllerOptions { MemoryLimit = "lots" },
            "CpuLimit" => new ControllerOptions { CpuLimit = "all of it" },
            "JobPodTemplate" => new ControllerOptions { JobPodTemplate = "{\"spec\": {\"volumes\": []}}" },
            "PullSecret" => new ControllerOptions { ImagePullSecrets = ["Reg Cred"] },
            "Resync" => new ControllerOptions { ResyncInterval = TimeSpan.FromSeconds(1) },
            "Lease" => new ControllerOptions { RenewDeadline = TimeSpan.FromSeconds(20) },
            _ => new ControllerOptions { LeaseName = "Gatekeeper Controller" },
        };

        var result = new ControllerOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures);
        Assert.StartsWith(key, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Job_settings_carry_the_options()
    {
        var settings = new ControllerOptions { BackoffLimit = 4, ImagePullSecrets = ["regcred"], JobTimeToLive = TimeSpan.FromHours(2) }.JobSettings("registry.example/gatekeeper:2");

        Assert.Equal(("registry.example/gatekeeper:2", 4, TimeSpan.FromHours(2)), (settings.Image, settings.BackoffLimit, settings.TimeToLiveAfterFinished));
        Assert.Equal(["regcred"], settings.ImagePullSecrets);
    }

    [Fact]
    public void The_downward_apis_pod_name_and_namespace_become_controller_keys_read_once_at_start()
    {
        var environment = new Dictionary<string, string?> { ["POD_NAME"] = "gatekeeper-7d9f", ["POD_NAMESPACE"] = "gatekeeper-system" };

        var settings = ControllerOptions.DownwardApiSettings(name => environment.GetValueOrDefault(name)).ToDictionary();

        Assert.Equal("gatekeeper-7d9f", settings["Controller:PodName"]);
        Assert.Equal("gatekeeper-system", settings["Controller:PodNamespace"]);
    }

    [Fact]
    public void An_empty_pod_name_is_no_pod_name()
    {
        var settings = ControllerOptions.DownwardApiSettings(name => name == "POD_NAME" ? string.Empty : null).ToDictionary();

        Assert.Null(settings["Controller:PodName"]);
    }

    [Fact]
    public void Job_settings_carry_the_pod_template_and_cpu_limit()
    {
        var settings = new ControllerOptions
        {
            CpuLimit = "1",
            JobPodTemplate = """{"spec": {"nodeSelector": {"pool": "batch"}, "serviceAccountName": "migrator"}}""",
        }.JobSettings("registry.example/gatekeeper:2");

        Assert.Equal(("1", "migrator"), (settings.CpuLimit, settings.Pod.ServiceAccountName));
        Assert.Equal("batch", settings.Pod.NodeSelector!["pool"]);
        Assert.Equal("false", settings.Pod.Annotations["sidecar.istio.io/inject"]);
    }
}
