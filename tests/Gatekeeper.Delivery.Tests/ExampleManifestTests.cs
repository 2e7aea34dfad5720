using System.Text;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Delivery.Tests;

/// <summary>
/// The examples do what the walk-through says: v2 adds only migrations the linter admits, v3 adds one it blocks, and
/// every ConfigMap and Secret an annotation names is there. The linter is the one the webhook judges plans with.
/// </summary>
public sealed partial class ExampleManifestTests
{
    private const string Examples = "manifests/examples";

    [Fact]
    public void The_demo_shop_carries_the_repository_example_migrations_unchanged()
    {
        var files = MigrationFiles("shop-v2.yaml");
        foreach (var path in Directory.EnumerateFiles(RepositoryFiles.PathOf("examples/shop/migrations"), "*.sql"))
        {
            var name = Path.GetFileName(path);
            Assert.True(files.ContainsKey(name), $"{Examples}/shop-v2.yaml lacks {name} of examples/shop/migrations.");
            Assert.Equal(File.ReadAllText(path), files[name]);
        }
    }

    [Fact]
    public void Each_demo_version_keeps_every_migration_of_the_version_before()
    {
        string[] versions = ["shop-v1.yaml", "shop-v2.yaml", "shop-v3-unsafe.yaml"];
        for (var i = 1; i < versions.Length; i++)
        {
            var before = MigrationFiles(versions[i - 1]);
            var after = MigrationFiles(versions[i]);
            Assert.All(before, file => Assert.Equal(file.Value, after.GetValueOrDefault(file.Key)));
            Assert.True(after.Count > before.Count, $"{versions[i]} adds no migration to {versions[i - 1]}.");
        }
    }

    [Fact]
    public void The_first_version_lints_clean()
    {
        var report = LintPending(previous: null, "shop-v1.yaml", SqlDialect.Postgres);
        Assert.False(report.IsBlocking, Findings(report));
        Assert.Equal(2, report.MigrationCount);
    }

    [Fact]
    public void The_second_version_adds_a_migration_the_linter_admits()
    {
        var report = LintPending("shop-v1.yaml", "shop-v2.yaml", SqlDialect.Postgres);
        Assert.Equal(1, report.MigrationCount);
        Assert.False(report.IsBlocking, Findings(report));
    }

    [Fact]
    public void The_third_version_adds_a_column_drop_the_linter_blocks()
    {
        var report = LintPending("shop-v2.yaml", "shop-v3-unsafe.yaml", SqlDialect.Postgres);
        Assert.Equal(1, report.MigrationCount);
        Assert.True(report.IsBlocking, "shop-v3-unsafe.yaml must be rejected, but the linter admits it.");
        Assert.Contains(report.Active, finding => finding.Rule == LintRules.DropColumn);
    }

    [Fact]
    public void The_mysql_example_lints_clean_in_the_mysql_dialect()
    {
        var report = LintPending(previous: null, "inventory-mysql.yaml", SqlDialect.MySql, MigrationFormat.GolangMigrate);
        Assert.Equal(2, report.MigrationCount);
        Assert.False(report.IsBlocking, Findings(report));
    }

    [Fact]
    public void Every_ConfigMap_and_Secret_an_annotation_names_is_in_the_examples()
    {
        var objects = ExampleFiles().SelectMany(file => YamlDocuments.LoadAll($"{Examples}/{file}")).ToList();
        var configMaps = objects.Where(o => o.StringAt("kind") == "ConfigMap").Select(o => o.StringAt("metadata", "name")).ToHashSet();
        var secrets = objects.Where(o => o.StringAt("kind") == "Secret").ToDictionary(o => o.StringAt("metadata", "name")!);
        var deployments = objects.Where(o => o.StringAt("kind") == "Deployment" && o.MapAt("metadata", "annotations").Count > 0).ToList();
        Assert.NotEmpty(deployments);
        foreach (var deployment in deployments)
        {
            var annotations = deployment.MapAt("metadata", "annotations");
            Assert.Contains(annotations.StringAt("gatekeeper.dev/migrations"), configMaps);
            var secret = secrets[annotations.StringAt("gatekeeper.dev/database-secret")!];
            var url = secret.StringAt("stringData", "url");
            Assert.Matches("^(postgres|mysql)://", url);
        }
    }

    [Fact]
    public void The_examples_use_only_annotations_Gatekeeper_reads()
    {
        var names = RepositoryFiles.ReadProductSource("GatekeeperNames.cs", "the annotation names");
        var prefix = PrefixConstant().Match(names).Groups["value"].Value;
        var known = AnnotationConstant().Matches(names).Select(m => prefix + m.Groups["suffix"].Value).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(known);
        var used = ExampleFiles()
            .SelectMany(file => YamlDocuments.LoadAll($"{Examples}/{file}"))
            .SelectMany(o => o.MapAt("metadata", "annotations").Keys)
            .Where(key => key.StartsWith("gatekeeper.dev/", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(used);
        Assert.All(used, annotation => Assert.True(known.Contains(annotation), $"{annotation} is not an annotation GatekeeperNames defines."));
    }

    /// <summary>(apiVersion, kind) of every object Gatekeeper's manifests may hold, and whether it lives in a namespace.</summary>
    private static readonly Dictionary<(string ApiVersion, string Kind), bool> KnownKinds = new()
    {
        [("v1", "Namespace")] = false,
        [("v1", "ServiceAccount")] = true,
        [("v1", "Secret")] = true,
        [("v1", "ConfigMap")] = true,
        [("v1", "Service")] = true,
        [("apps/v1", "Deployment")] = true,
        [("policy/v1", "PodDisruptionBudget")] = true,
        [("rbac.authorization.k8s.io/v1", "ClusterRole")] = false,
        [("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")] = false,
        [("rbac.authorization.k8s.io/v1", "Role")] = true,
        [("rbac.authorization.k8s.io/v1", "RoleBinding")] = true,
        [("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration")] = false,
        [("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration")] = false,
        [("cert-manager.io/v1", "Issuer")] = true,
        [("cert-manager.io/v1", "Certificate")] = true,
        [("monitoring.coreos.com/v1", "ServiceMonitor")] = true,
        [("monitoring.coreos.com/v1", "PrometheusRule")] = true,
    };

    [Fact]
    public void Every_example_object_is_a_known_kind_with_a_valid_name_its_namespace_and_a_matching_selector()
    {
        var problems = new List<string>();
        foreach (var file in ExampleFiles())
        {
            foreach (var o in YamlDocuments.LoadAll($"{Examples}/{file}"))
            {
                var where = $"{Examples}/{file}: {o.StringAt("kind") ?? "?"}/{o.StringAt("metadata", "name") ?? "?"}";
                if (!KnownKinds.TryGetValue((o.StringAt("apiVersion") ?? "", o.StringAt("kind") ?? ""), out var namespaced))
                {
                    problems.Add($"{where}: unknown apiVersion/kind {o.StringAt("apiVersion")}/{o.StringAt("kind")}");
                    continue;
                }

                if (o.StringAt("metadata", "name") is not { } name || !DnsSubdomain().IsMatch(name))
                {
                    problems.Add($"{where}: metadata.name is missing or invalid");
                }

                if (namespaced && string.IsNullOrEmpty(o.StringAt("metadata", "namespace")))
                {
                    problems.Add($"{where}: a namespaced object without metadata.namespace (the examples name theirs)");
                }

                var labels = o.MapAt("spec", "template", "metadata", "labels");
                if (o.StringAt("kind") == "Deployment" &&
                    !o.MapAt("spec", "selector", "matchLabels").All(pair => labels.TryGetValue(pair.Key, out var value) && Equals(value, pair.Value)))
                {
                    problems.Add($"{where}: spec.selector.matchLabels does not match the pod template's labels");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static IEnumerable<string> ExampleFiles() =>
        Directory.EnumerateFiles(RepositoryFiles.PathOf(Examples), "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    /// <summary>The migration files of the one ConfigMap in an example file, by file name.</summary>
    private static Dictionary<string, string> MigrationFiles(string file) =>
        YamlDocuments.LoadAll($"{Examples}/{file}")
            .Single(o => o.StringAt("kind") == "ConfigMap")
            .MapAt("data")
            .ToDictionary(pair => pair.Key, pair => (string)pair.Value!, StringComparer.Ordinal);

    /// <summary>Lints what <paramref name="next"/> adds to <paramref name="previous"/>: the plan the webhook would judge.</summary>
    private static LintReport LintPending(string? previous, string next, SqlDialect dialect, MigrationFormat? format = null)
    {
        var applied = previous is null ? [] : Read(previous, format).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var pending = Read(next, format).Where(m => !applied.Contains(m.Id)).ToList();
        return Linter.Lint(pending, dialect);
    }

    private static IReadOnlyList<Migration> Read(string file, MigrationFormat? format)
    {
        var files = MigrationFiles(file).Select(pair => new MigrationFile(pair.Key, Encoding.UTF8.GetBytes(pair.Value))).ToList();
        var result = MigrationDirectoryReader.Read($"{Examples}/{file}", files, format);
        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        return result.Directory!.Migrations;
    }

    private static string Findings(LintReport report) =>
        string.Join("; ", report.Active.Select(f => $"{f.Rule} {f.Message} at {f.Location}"));

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("const string Prefix\\s*=\\s*\"(?<value>[^\"]+)\"")]
    private static partial Regex PrefixConstant();

    [GeneratedRegex("const string \\w+\\s*=\\s*Prefix\\s*\\+\\s*\"(?<suffix>[^\"]+)\"")]
    private static partial Regex AnnotationConstant();
}
