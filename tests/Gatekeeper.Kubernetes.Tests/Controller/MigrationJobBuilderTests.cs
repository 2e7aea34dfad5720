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
    public void The_job_joins_the_reconciles_trace_and_exports_where_gatekeeper_does_and_carries_nothing_when_tracing_is_off()
    {
        const string traceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        var traced = MigrationJobBuilder.Build(Request() with { TraceParent = traceParent }, Settings() with { OtlpEndpoint = "http://otel-collector.observability:4318" });
        var untraced = MigrationJobBuilder.Build(Request(), Settings() with { OtlpEndpoint = "http://otel-collector.observability:4318" });
        var notExported = MigrationJobBuilder.Build(Request() with { TraceParent = traceParent }, Settings());

        var env = traced.Spec.Template.Spec.Containers[0].Env.ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal);
        Assert.Equal(traceParent, env["TRACEPARENT"]);
        Assert.Equal("http://otel-collector.observability:4318", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal(2, env.Count);
        Assert.Null(untraced.Spec.Template.Spec.Containers[0].Env);
        Assert.Null(notExported.Spec.Template.Spec.Containers[0].Env);
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

    [Fact]
    public void Sidecar_injection_is_off_by_default_so_a_mesh_proxy_never_keeps_the_job_from_completing()
    {
        var pod = MigrationJobBuilder.Build(Request(), Settings()).Spec.Template;

        Assert.Equal("false", pod.Metadata.Annotations["sidecar.istio.io/inject"]);
        Assert.Equal("false", pod.Metadata.Labels["sidecar.istio.io/inject"]);
        Assert.Equal("disabled", pod.Metadata.Annotations["linkerd.io/inject"]);
        Assert.Equal("disabled", pod.Metadata.Annotations["kuma.io/sidecar-injection"]);
    }

    [Fact]
    public void The_clusters_rules_for_every_pod_reach_the_job_pod_while_gatekeepers_own_labels_stay()
    {
        const string template = """
            {"metadata": {"annotations": {"linkerd.io/inject": "enabled", "cost-center": "db"}, "labels": {"team": "payments"}},
             "spec": {"nodeSelector": {"pool": "batch"}, "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}],
                      "priorityClassName": "migrations", "serviceAccountName": "migrator"}}
            """;
        Assert.True(MigrationJobPod.TryParse(template, out var pod, out var problem), problem);
        var settings = Settings("regcred") with { Pod = pod, CpuLimit = "500m", CpuRequest = "100m" };

        var spec = MigrationJobBuilder.Build(Request(), settings).Spec.Template;

        Assert.Equal("enabled", spec.Metadata.Annotations["linkerd.io/inject"]);
        Assert.Equal("false", spec.Metadata.Annotations["sidecar.istio.io/inject"]);
        Assert.Equal("db", spec.Metadata.Annotations["cost-center"]);
        Assert.Equal("payments", spec.Metadata.Labels["team"]);
        Assert.Equal("migration", spec.Metadata.Labels["app.kubernetes.io/component"]);
        Assert.Equal("batch", spec.Spec.NodeSelector["pool"]);
        Assert.Equal(("dedicated", "NoSchedule"), (Assert.Single(spec.Spec.Tolerations).Key, spec.Spec.Tolerations[0].Effect));
        Assert.Equal(("migrations", "migrator"), (spec.Spec.PriorityClassName, spec.Spec.ServiceAccountName));
        Assert.False(spec.Spec.AutomountServiceAccountToken);
        Assert.Equal("regcred", Assert.Single(spec.Spec.ImagePullSecrets).Name);
        var resources = spec.Spec.Containers[0].Resources;
        Assert.Equal(("100m", "500m", "256Mi"), (resources.Requests["cpu"].ToString(), resources.Limits["cpu"].ToString(), resources.Limits["memory"].ToString()));
    }

    [Theory]
    [InlineData("""{"spec": {"containers": []}}""", "sets spec.containers, which Gatekeeper builds itself")]
    [InlineData("""{"metadata": {"name": "x"}}""", "sets metadata.name, which Gatekeeper builds itself")]
    [InlineData("""{"status": {}}""", "sets \"status\"")]
    [InlineData("""{"metadata": {"annotations": {"gatekeeper.dev/plan": "x"}}}""", "sets gatekeeper.dev/plan, which Gatekeeper sets on its Jobs itself")]
    [InlineData("""{"metadata": {"labels": {"app.kubernetes.io/managed-by": "me"}}}""", "sets app.kubernetes.io/managed-by")]
    [InlineData("""[1]""", "must be a JSON object")]
    [InlineData("""{"spec": """, "is not a pod template in JSON")]
    public void A_template_that_would_change_what_gatekeeper_builds_is_refused_in_one_sentence(string template, string expected)
    {
        Assert.False(MigrationJobPod.TryParse(template, out _, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }
}
