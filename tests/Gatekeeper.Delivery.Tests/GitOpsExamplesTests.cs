using System.Text.RegularExpressions;

namespace Gatekeeper.Delivery.Tests;

/// <summary>
/// The GitOps examples of docs/gitops/ are valid YAML objects and name what the code really writes: the pod template
/// stamps Argo CD is told to ignore, the condition its health check reads, and the lua in argocd-cm.yaml is the tested
/// file (scripts/ci/delivery-checks.sh runs it on Deployments in every state).
/// </summary>
public sealed partial class GitOpsExamplesTests
{
    // The GatekeeperNames constants of the two annotations the mutating webhook writes on the pod template.
    private static readonly string[] StampConstants = ["Plan", "TargetVersion"];

    public static TheoryData<string> Examples => new(Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "docs", "gitops"), "*.yaml")
        .Select(path => Path.GetRelativePath(RepositoryFiles.Root, path).Replace('\\', '/')).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_is_a_list_of_named_Kubernetes_objects(string file)
    {
        var documents = YamlDocuments.LoadAll(file);
        Assert.NotEmpty(documents);
        Assert.All(documents, document =>
        {
            Assert.False(string.IsNullOrEmpty(document.StringAt("apiVersion")), $"{file}: an object without apiVersion");
            Assert.False(string.IsNullOrEmpty(document.StringAt("kind")), $"{file}: an object without kind");
            Assert.False(string.IsNullOrEmpty(document.StringAt("metadata", "name")), $"{file}: an object without metadata.name");
        });
    }

    [Fact]
    public void Argo_CD_ignores_exactly_the_stamps_the_mutating_webhook_writes()
    {
        var names = RepositoryFiles.ReadProductSource("GatekeeperNames.cs", "the annotation names");
        var stamps = StampConstants.Select(constant => Constant(names, constant)).ToList();
        var application = YamlDocuments.LoadAll("docs/gitops/argocd-application.yaml").First(d => d.StringAt("metadata", "name") == "shop");
        var pointers = application.ListAt("spec", "ignoreDifferences").SelectMany(rule => rule.ListAt("jsonPointers").Strings()).ToList();
        var expected = stamps.Select(stamp => "/spec/template/metadata/annotations/" + stamp.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal));
        Assert.Equal(expected.Order(StringComparer.Ordinal), pointers.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_health_check_reads_the_condition_the_controller_writes_and_argocd_cm_carries_the_tested_file()
    {
        var record = RepositoryFiles.ReadProductSource("DeploymentRecord.cs", "the Deployment's conditions");
        var condition = "gatekeeper.dev/" + MigratedSuffix().Match(record).Groups["name"].Value;
        var lua = RepositoryFiles.ReadText("docs/gitops/argocd-health.lua");
        Assert.Contains($"\"{condition}\"", lua, StringComparison.Ordinal);
        var configMap = YamlDocuments.Load("docs/gitops/argocd-cm.yaml");
        Assert.Equal(lua, configMap.StringAt("data", "resource.customizations.health.apps_Deployment"));
    }

    private static string Constant(string source, string name)
    {
        var match = Regex.Match(source, $@"const string {name} = Prefix \+ ""(?<value>[^""]+)""");
        Assert.True(match.Success, $"GatekeeperNames.{name} was not found");
        return "gatekeeper.dev/" + match.Groups["value"].Value;
    }

    [GeneratedRegex(@"MigratedCondition = GatekeeperNames\.Prefix \+ ""(?<name>[^""]+)""")]
    private static partial Regex MigratedSuffix();
}
