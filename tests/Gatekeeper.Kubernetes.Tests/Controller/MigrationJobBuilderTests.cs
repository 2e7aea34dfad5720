using Gatekeeper.Core.Migrations;
using Gatekeeper.Kubernetes.Controller;
using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests.Controller;

public sealed class MigrationJobBuilderTests
{
    private static readonly string Plan = "3f9a" + new string('7', 56) + "c0de";

    private static MigrationJobRequest Request(
        IReadOnlyList<string>? configMaps = null, MigrationFormat? format = null, string? retry = null, string key = "url") => new(
        Namespace: "shop",
        JobName: MigrationJobNames.For("storefront", Plan, retry, "0123456789abcdef"),
        Deployment: "storefront",
        DeploymentUid: "6f1c2b1e-8d4a-4a57-9d53-1f0e2a7b9c11",
        Plan: Plan,
        TargetVersion: "20240611093000",
        Retry: retry,
        ConfigMaps: configMaps ?? ["storefront-migrations"],
        SecretName: "storefront-db",
        SecretKey: key,
        HistoryTable: "gatekeeper_schema_history",
        Format: format,
        Timeout: TimeSpan.FromMinutes(30),
        Signature: ControllerHarness.Signer.Sign("shop", "6f1c2b1e-8d4a-4a57-9d53-1f0e2a7b9c11", Plan, MigrationJobNames.For("storefront", Plan, retry, "0123456789abcdef")));

    private static MigrationJobSettings Settings(params string[] pullSecrets) => new()
    {
        Image = "ghcr.io/gatekeeper-dev/gatekeeper:0.1.0",
        ImagePullSecrets = pullSecrets,
    };

    [Fact]
    public void A_job_for_one_configmap_matches_its_approved_snapshot()
    {
        var job = MigrationJobBuilder.Build(Request(), Settings());

        ApprovedSnapshot.Verify(SnapshotYaml.Serialize(job), "migration-job.one-configmap");
    }

    [Fact]
    public void A_job_for_a_split_history_with_a_pinned_format_and_a_retry_matches_its_approved_snapshot()
    {
        var job = MigrationJobBuilder.Build(
            Request(["storefront-migrations-1", "storefront-migrations-2"], MigrationFormat.Atlas, retry: "2", key: "uri"),
            Settings("registry-credentials"));

        ApprovedSnapshot.Verify(SnapshotYaml.Serialize(job), "migration-job.split-history-atlas-retry");
    }

    [Fact]
    public void The_runner_applies_exactly_the_admitted_plan_and_leaves_out_the_files_the_webhook_left_out()
    {
        var arguments = MigrationJobBuilder.Arguments(Request() with { Ignore = ["README.sql", "notes-*.sql"] });

        Assert.Equal(Plan, arguments[arguments.ToList().IndexOf("--expect-plan") + 1]);
        Assert.Equal(["--ignore", "README.sql", "--ignore", "notes-*.sql"], arguments.TakeLast(4));
    }

    [Fact]
    public void The_pod_runs_restricted_without_sidecars_service_account_token_or_retries_on_its_own()
    {
        var spec = MigrationJobBuilder.Build(Request(), Settings()).Spec.Template.Spec;

        var container = Assert.Single(spec.Containers);
        Assert.Null(spec.InitContainers);
        Assert.Equal("Never", spec.RestartPolicy);
        Assert.False(spec.AutomountServiceAccountToken);
        Assert.True(spec.SecurityContext.RunAsNonRoot);
        Assert.Equal("RuntimeDefault", spec.SecurityContext.SeccompProfile.Type);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
        Assert.Equal("FallbackToLogsOnError", container.TerminationMessagePolicy);
    }

    [Fact]
    public void The_database_url_is_a_reference_to_the_secret_never_a_value()
    {
        var job = MigrationJobBuilder.Build(Request(key: "uri"), Settings());
        var spec = job.Spec.Template.Spec;

        var secret = Assert.Single(spec.Volumes, v => v.Secret is not null).Secret;
        Assert.Equal("storefront-db", secret.SecretName);
        Assert.Equal("uri", Assert.Single(secret.Items).Key);
        Assert.Null(spec.Containers[0].Env);
        Assert.Contains(MigrationJobBuilder.DatabaseUrlFile, spec.Containers[0].Args);
    }

    [Fact]
    public void The_job_pod_carries_no_plan_annotation_so_the_pod_webhook_never_gates_the_runner()
    {
        var job = MigrationJobBuilder.Build(Request(), Settings());

        Assert.False(job.Spec.Template.Metadata.Annotations.ContainsKey(GatekeeperNames.Plan));
        Assert.Equal(Plan, job.Metadata.Annotations[GatekeeperNames.Plan]);
        Assert.Equal(Plan[..63], job.Metadata.Labels[GatekeeperNames.PlanLabel]);
    }

    [Fact]
    public void The_job_deadline_is_the_job_timeout_annotation_rounded_up_to_whole_seconds()
    {
        var job = MigrationJobBuilder.Build(Request() with { Timeout = TimeSpan.FromSeconds(90.2) }, Settings());

        Assert.Equal(91, job.Spec.ActiveDeadlineSeconds);
    }

    [Fact]
    public void The_job_is_owned_by_its_deployment_for_garbage_collection_without_blocking_its_deletion()
    {
        var owner = Assert.Single(MigrationJobBuilder.Build(Request(), Settings()).Metadata.OwnerReferences);

        Assert.Equal(("apps/v1", "Deployment", "storefront", "6f1c2b1e-8d4a-4a57-9d53-1f0e2a7b9c11"), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid));
        Assert.False(owner.BlockOwnerDeletion);
    }

    [Fact]
    public void A_job_needs_at_least_one_configmap()
    {
        Assert.Throws<ArgumentException>(() => MigrationJobBuilder.Build(Request([]), Settings()));
    }
}
