using System.Globalization;

namespace Gatekeeper.Delivery.Tests;

/// <summary>The chart's webhook values map 1:1 to WebhookOptions, with the same defaults, and reach the process as Webhook__* variables.</summary>
public sealed class ChartValuesTests
{
    // Options the chart sets itself rather than exposing as values, and why.
    private static readonly Dictionary<string, string> SetByTheChart = new(StringComparer.Ordinal)
    {
        ["TlsCertificateFile"] = "the mounted TLS Secret's tls.crt (cert-manager only)",
        ["TlsKeyFile"] = "the mounted TLS Secret's tls.key (cert-manager only)",
        ["ManagedCertificateSecret"] = "the Secret in the release namespace where Gatekeeper keeps its own certificate",
        ["ManagedWebhookConfiguration"] = "the name of the chart's two webhook configurations",
        ["ManagedCertificateDnsNames"] = "the webhook Service's DNS names",
    };

    // Set by the chart only with tls.certManager.enabled, so absent from install.yaml (the default render).
    private static readonly HashSet<string> SetOnlyWithCertManager = new(StringComparer.Ordinal) { "TlsCertificateFile", "TlsKeyFile" };

    // Options that have no meaning inside a cluster, and why.
    private static readonly Dictionary<string, string> NotForClusters = new(StringComparer.Ordinal)
    {
        ["DevelopmentCertificates"] = "a throwaway CA for local runs; the chart always provides a real certificate",
        ["DevelopmentCertificateDirectory"] = "where development certificates are written",
        ["DevelopmentDnsNames"] = "names of the development certificate",
        ["Kubeconfig"] = "in a pod the service account is used",
    };

    [Fact]
    public void Every_webhook_value_is_a_WebhookOptions_key()
    {
        var options = WebhookOptions().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = WebhookValues().Keys.Where(key => !options.Contains(Key(key))).ToList();
        Assert.True(unknown.Count == 0, $"webhook values without a WebhookOptions property: {string.Join(", ", unknown)}.");
    }

    [Fact]
    public void Every_WebhookOptions_key_is_a_chart_value_or_set_by_the_chart()
    {
        var values = WebhookValues().Keys.Select(Key).ToHashSet(StringComparer.Ordinal);
        var missing = WebhookOptions()
            .Select(p => p.Name)
            .Where(name => !values.Contains(name) && !SetByTheChart.ContainsKey(name) && !NotForClusters.ContainsKey(name))
            .ToList();
        Assert.True(missing.Count == 0,
            $"WebhookOptions properties the chart neither exposes nor sets: {string.Join(", ", missing)}; add them to values.yaml (webhook:) and values.schema.json.");
    }

    [Fact]
    public void The_chart_defaults_are_the_option_defaults()
    {
        var options = WebhookOptions().ToDictionary(p => p.Name, StringComparer.Ordinal);
        var differences = new List<string>();
        foreach (var (key, value) in WebhookValues())
        {
            var option = options[Key(key)];
            var expected = option.DefaultValue();
            if (!SameValue(option.Type, expected, value))
            {
                differences.Add($"webhook.{key} is {Describe(value)} but WebhookOptions.{option.Name} defaults to {Describe(expected)}");
            }
        }

        Assert.True(differences.Count == 0, string.Join("; ", differences));
    }

    [Fact]
    public void The_schema_accepts_exactly_the_webhook_values()
    {
        var schema = System.Text.Json.JsonDocument.Parse(RepositoryFiles.ReadText("charts/gatekeeper/values.schema.json"));
        var webhook = schema.RootElement.GetProperty("properties").GetProperty("webhook");
        Assert.False(webhook.GetProperty("additionalProperties").GetBoolean());
        var described = webhook.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal);
        Assert.Equal(WebhookValues().Keys.Order(StringComparer.Ordinal), described);
    }

    [Fact]
    public void Every_Webhook_variable_in_install_yaml_names_a_WebhookOptions_key()
    {
        var options = WebhookOptions().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var container = InstallManifest.GatekeeperContainer();
        var variables = container.ListAt("env").Select(e => e.StringAt("name")!).Where(n => n.StartsWith("Webhook__", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(variables);
        Assert.All(variables, name =>
        {
            // Webhook__FailOpenNamespaces__0 binds the first element of the list option FailOpenNamespaces.
            var key = name["Webhook__".Length..].Split("__")[0];
            Assert.True(options.Contains(key), $"install.yaml sets {name}, but WebhookOptions has no property {key}.");
        });
        foreach (var chartKey in SetByTheChart.Keys.Where(k => !SetOnlyWithCertManager.Contains(k)))
        {
            Assert.True(variables.Contains($"Webhook__{chartKey}") || variables.Contains($"Webhook__{chartKey}__0"), $"install.yaml does not set Webhook__{chartKey}.");
        }

        foreach (var chartKey in SetOnlyWithCertManager)
        {
            Assert.DoesNotContain($"Webhook__{chartKey}", variables);
        }
    }

    [Fact]
    public void The_container_runs_the_serve_command_the_cli_defines()
    {
        var container = InstallManifest.GatekeeperContainer();
        Assert.Equal(["serve"], container.ListAt("args").Strings());
        var serve = RepositoryFiles.ReadProductSource("ServeCommand.cs", "the `gatekeeper serve` command");
        Assert.Contains("new Command(\"serve\"", serve, StringComparison.Ordinal);
    }

    [Fact]
    public void The_option_reader_understands_the_default_forms()
    {
        const string source = """
            public sealed record SampleOptions
            {
                public int Port { get; init; } = 8443;
                public long Limit { get; init; } = 4 * 1024 * 1024;
                public TimeSpan Budget { get; init; } = TimeSpan.FromMilliseconds(200);
                public bool Enabled { get; init; }
                public IList<string> Names { get; init; } = [];
                public string? File { get; init; }
            }
            """;
        var properties = OptionsSource.Properties(source, "SampleOptions").ToDictionary(p => p.Name);
        Assert.Equal(["Budget", "Enabled", "File", "Limit", "Names", "Port"], properties.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(8443L, Convert.ToInt64(properties["Port"].DefaultValue(), CultureInfo.InvariantCulture));
        Assert.Equal(4L * 1024 * 1024, properties["Limit"].DefaultValue());
        Assert.Equal(TimeSpan.FromMilliseconds(200), properties["Budget"].DefaultValue());
        Assert.Equal(false, properties["Enabled"].DefaultValue());
        Assert.Null(properties["File"].DefaultValue());
    }

    private static IReadOnlyList<OptionProperty> WebhookOptions() =>
        OptionsSource.Properties(RepositoryFiles.ReadProductSource("WebhookOptions.cs", "the options of `gatekeeper serve`"), "WebhookOptions");

    private static Dictionary<string, object?> WebhookValues() => YamlDocuments.Load("charts/gatekeeper/values.yaml").MapAt("webhook");

    /// <summary>values.yaml spells keys in camelCase; .NET configuration keys are case-insensitive, the property is PascalCase.</summary>
    private static string Key(string valueKey) => char.ToUpperInvariant(valueKey[0]) + valueKey[1..];

    private static bool SameValue(string type, object? expected, object? value) => expected switch
    {
        bool b => value is string s && bool.TryParse(s, out var parsed) && parsed == b,
        long or int => value is string s && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n == Convert.ToInt64(expected, CultureInfo.InvariantCulture),
        TimeSpan span => value is string s && TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var parsed) && parsed == span,
        string text => value as string == text,
        EnumMember member => value is string s && string.Equals(s, member.Name, StringComparison.OrdinalIgnoreCase),
        string[] list => list.Length == 0 && value is List<object?> { Count: 0 },
        null => value is null || (type.EndsWith('?') && value is string { Length: 0 }),
        _ => false,
    };

    private static string Describe(object? value) => value switch
    {
        null => "null",
        string[] { Length: 0 } => "[]",
        List<object?> list => $"[{string.Join(", ", list)}]",
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null",
    };
}
