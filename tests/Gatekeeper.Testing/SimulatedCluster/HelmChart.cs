using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// The chart as a user installs it: <c>helm template</c> of charts/gatekeeper with a scenario's values, read into
/// Kubernetes objects (YAML 1.2 core schema: plain scalars that look like numbers, booleans or null are those; quoted
/// ones are strings). helm comes from $GATEKEEPER_HELM, PATH, or what scripts/ci/delivery-tools.sh installed.
/// </summary>
public static partial class HelmChart
{
    /// <summary>The repository's root (where Gatekeeper.sln is), found upwards from the test assembly.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static string ChartDirectory => Path.Combine(RepositoryRoot, "charts", "gatekeeper");

    public static async Task<IReadOnlyList<JsonObject>> RenderAsync(string release, string ns, JsonObject values, CancellationToken cancellationToken)
    {
        var valuesFile = Path.Combine(Path.GetTempPath(), $"gatekeeper-sim-values-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(valuesFile, values.ToJsonString(), cancellationToken);
        try
        {
            var start = new ProcessStartInfo(Helm())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "template", release, ChartDirectory, "--namespace", ns, "--values", valuesFile })
            {
                start.ArgumentList.Add(arg);
            }

            using var helm = Process.Start(start) ?? throw new InvalidOperationException("could not start helm");
            var output = helm.StandardOutput.ReadToEndAsync(cancellationToken);
            var error = helm.StandardError.ReadToEndAsync(cancellationToken);
            await helm.WaitForExitAsync(cancellationToken);
            if (helm.ExitCode != 0)
            {
                throw new InvalidOperationException($"helm template failed ({helm.ExitCode}): {await error}");
            }

            return Parse(await output);
        }
        finally
        {
            File.Delete(valuesFile);
        }
    }

    /// <summary>Every non-empty YAML document of a multi-document stream, as JSON objects.</summary>
    public static IReadOnlyList<JsonObject> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Select(d => ToJson(d.RootNode)).OfType<JsonObject>().ToList();
    }

    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(pair => KeyValuePair.Create(((YamlScalarNode)pair.Key).Value ?? string.Empty, ToJson(pair.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => null,
    };

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        if (scalar.Style != ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }

        if (text is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (text is "true" or "True" or "TRUE")
        {
            return JsonValue.Create(true);
        }

        if (text is "false" or "False" or "FALSE")
        {
            return JsonValue.Create(false);
        }

        if (Integer().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
        {
            return JsonValue.Create(whole);
        }

        if (Float().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(text);
    }

    private static string Helm()
    {
        if (Environment.GetEnvironmentVariable("GATEKEEPER_HELM") is { Length: > 0 } configured)
        {
            return configured;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(directory, "helm")))
            {
                return Path.Combine(directory, "helm");
            }
        }

        var installed = Path.Combine(RepositoryRoot, ".tmp", "tools", "kubectl-layer", "helm", "helm");
        return File.Exists(installed)
            ? installed
            : throw new InvalidOperationException(
                "helm is needed to render charts/gatekeeper: put it on PATH, set GATEKEEPER_HELM, or run `source scripts/ci/delivery-tools.sh && delivery_install_helm_kubectl`.");
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gatekeeper.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("Gatekeeper.sln was not found above the test assembly.");
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
