using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Controller;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Tests;

/// <summary>The declarative opt-in (<c>gatekeeper.dev/schema</c>): how it is read, what it refuses, and the Job it leads to.</summary>
public sealed class DeclarativeAnnotationTests
{
    private static readonly string Plan = "5c1e" + new string('a', 56) + "beef";

    private static Dictionary<string, string> Declarative(params (string Key, string Value)[] extra)
    {
        var annotations = new Dictionary<string, string>
        {
            [GatekeeperNames.Schema] = "shop-schema",
            [GatekeeperNames.DatabaseSecret] = "shop-db",
        };
        foreach (var (key, value) in extra)
        {
            annotations[key] = value;
        }

        return annotations;
    }

    [Fact]
    public void The_schema_annotation_opts_in_and_names_the_configmaps_of_the_desired_state()
    {
        var result = MigrationAnnotationParser.Parse(Declarative((GatekeeperNames.SchemaExclude, "audit_*, reporting.*"), (GatekeeperNames.DevDatabaseSecret, "shop-dev/url")));

        Assert.True(MigrationAnnotationParser.IsOptedIn(Declarative()));
        Assert.True(DeploymentFacts.IsOptedIn(new V1Deployment { Metadata = new V1ObjectMeta { Annotations = Declarative() } }));
        Assert.True(result.Succeeded, string.Join("; ", result.Problems.Select(p => p.Message)));
        var parsed = result.Annotations!;
        Assert.True(parsed.Declarative);
        Assert.Equal(["shop-schema"], parsed.Migrations.Names);
        Assert.Equal(["audit_*", "reporting.*"], parsed.SchemaExclude);
        Assert.Equal(new SecretKeyReference("shop-dev", "url"), parsed.DevDatabaseSecret);
        Assert.Equal(GatekeeperNames.Schema, parsed.SourceAnnotation);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void Both_sources_at_once_are_refused_with_one_sentence_naming_both()
    {
        var result = MigrationAnnotationParser.Parse(Declarative((GatekeeperNames.Migrations, "shop-migrations")));

        var problem = Assert.Single(result.Problems);
        Assert.Equal(GatekeeperNames.Schema, problem.Annotation);
        Assert.Equal("annotations gatekeeper.dev/migrations and gatekeeper.dev/schema are both set; a Deployment runs migration files or a desired schema, not both: remove one", problem.Message);
    }

    [Theory]
    [InlineData("", "annotation gatekeeper.dev/schema is empty; set it to a ConfigMap name, a comma list of names, or selector:<label selector>")]
    [InlineData("Shop_Schema", "annotation gatekeeper.dev/schema value \"Shop_Schema\"")]
    [InlineData("selector:", "annotation gatekeeper.dev/schema value \"selector:\" has no valid label selector")]
    public void A_bad_schema_annotation_names_itself_not_the_migrations_annotation(string value, string expected)
    {
        var result = MigrationAnnotationParser.Parse(Declarative((GatekeeperNames.Schema, value)));

        var problem = Assert.Single(result.Problems);
        Assert.StartsWith(expected, problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_exclude_pattern_is_refused_and_names_the_pattern()
    {
        var result = MigrationAnnotationParser.Parse(Declarative((GatekeeperNames.SchemaExclude, "audit_*, drop table x")));

        var problem = Assert.Single(result.Problems);
        Assert.Equal("annotation gatekeeper.dev/schema-exclude value \"audit_*, drop table x\" contains \"drop table x\", which is not a pattern (name or schema.name; letters, digits, '_', '$', '*' and '?')", problem.Message);
    }

    [Fact]
    public void Annotations_of_the_other_mode_are_warned_about_not_silently_ignored()
    {
        var declarative = MigrationAnnotationParser.Parse(Declarative((GatekeeperNames.Format, "flyway"), (GatekeeperNames.Ignore, "README.sql")));
        var versioned = MigrationAnnotationParser.Parse(new Dictionary<string, string>
        {
            [GatekeeperNames.Migrations] = "shop-migrations",
            [GatekeeperNames.DatabaseSecret] = "shop-db",
            [GatekeeperNames.SchemaExclude] = "audit_*",
        });

        Assert.True(declarative.Succeeded);
        Assert.Contains(declarative.Warnings, w => w.StartsWith("annotation gatekeeper.dev/format applies to migration files and is ignored with gatekeeper.dev/schema", StringComparison.Ordinal));
        Assert.Contains(declarative.Warnings, w => w.StartsWith("annotation gatekeeper.dev/ignore applies to migration files and is ignored with gatekeeper.dev/schema", StringComparison.Ordinal));
        Assert.True(versioned.Succeeded);
        Assert.Equal(["annotation gatekeeper.dev/schema-exclude applies to gatekeeper.dev/schema and is ignored with gatekeeper.dev/migrations"], versioned.Warnings);
        Assert.False(versioned.Annotations!.Declarative);
    }

    private static MigrationJobRequest JobRequest(string? devSecret) => new(
        Namespace: "shop",
        JobName: MigrationJobNames.For("storefront", Plan, null, "0123456789abcdef"),
        Deployment: "storefront",
        DeploymentUid: "6f1c2b1e-8d4a-4a57-9d53-1f0e2a7b9c11",
        Plan: Plan,
        TargetVersion: "schema-0123456789ab",
        Retry: null,
        ConfigMaps: ["storefront-schema"],
        SecretName: "storefront-db",
        SecretKey: "url",
        HistoryTable: "gatekeeper_schema_history",
        Format: null,
        Timeout: TimeSpan.FromMinutes(30),
        Signature: "signature")
    {
        Declarative = true,
        SchemaExclude = ["audit_*"],
        DevSecretName = devSecret,
        DevSecretKey = devSecret is null ? null : "uri",
    };

    [Fact]
    public void The_declarative_job_runs_schema_apply_with_the_admitted_plan_on_a_throwaway_dev_database()
    {
        var withDev = MigrationJobBuilder.Arguments(JobRequest("storefront-dev"));
        var withoutDev = MigrationJobBuilder.Arguments(JobRequest(null));

        Assert.Equal(
            ["schema", "apply", "--to", "/migrations", "--url-file", "/var/run/gatekeeper/db/url", "--expect-plan", Plan, "--dev-throwaway",
             "--dev-url-file", "/var/run/gatekeeper/dev/url", "--exclude", "audit_*"],
            withDev);
        Assert.Equal(
            ["schema", "apply", "--to", "/migrations", "--url-file", "/var/run/gatekeeper/db/url", "--expect-plan", Plan, "--dev-throwaway", "--exclude", "audit_*"],
            withoutDev);
    }

    [Fact]
    public void The_dev_database_secret_is_mounted_by_reference_only_when_named()
    {
        var withDev = MigrationJobBuilder.Build(JobRequest("storefront-dev"), new MigrationJobSettings { Image = "gatekeeper:test" }).Spec.Template.Spec;
        var withoutDev = MigrationJobBuilder.Build(JobRequest(null), new MigrationJobSettings { Image = "gatekeeper:test" }).Spec.Template.Spec;

        var dev = Assert.Single(withDev.Volumes, v => v.Name == "dev-database-url");
        Assert.Equal("storefront-dev", dev.Secret.SecretName);
        Assert.Equal("uri", Assert.Single(dev.Secret.Items).Key);
        Assert.Contains(withDev.Containers[0].VolumeMounts, m => m.Name == "dev-database-url" && m.MountPath == "/var/run/gatekeeper/dev" && m.ReadOnlyProperty == true);
        Assert.DoesNotContain(withoutDev.Volumes, v => v.Name == "dev-database-url");
        Assert.DoesNotContain(withoutDev.Containers[0].VolumeMounts, m => m.Name == "dev-database-url");
        Assert.Null(withDev.Containers[0].Env);
    }
}
