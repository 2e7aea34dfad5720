namespace Gatekeeper.Delivery.Tests;

/// <summary>
/// manifests/install.yaml: the chart rendered with its defaults (delivery-checks.sh fails when it is stale), so the
/// tests here judge what a default install creates without needing helm.
/// </summary>
public static class InstallManifest
{
    public const string Path = "manifests/install.yaml";
    public const string Namespace = "gatekeeper-system";

    public static IReadOnlyList<Dictionary<string, object?>> Objects() => YamlDocuments.LoadAll(Path);

    public static IEnumerable<Dictionary<string, object?>> OfKind(string kind) => Objects().Where(o => o.StringAt("kind") == kind);

    public static Dictionary<string, object?> Single(string kind) =>
        OfKind(kind).ToList() switch
        {
            [var one] => one,
            var all => throw new InvalidOperationException($"{Path} has {all.Count} objects of kind {kind}, expected one."),
        };

    public static Dictionary<string, object?> GatekeeperContainer() =>
        Single("Deployment").ListAt("spec", "template", "spec", "containers").OfType<Dictionary<string, object?>>().Single(c => c.StringAt("name") == "gatekeeper");
}
