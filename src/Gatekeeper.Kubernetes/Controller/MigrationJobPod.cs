using System.Text.Json;
using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// What a cluster's rules ask of every pod, which the migration Job's pod must also carry: annotations and labels (a
/// service mesh's opt-out, a cost label a policy demands), where it may run (node selector, tolerations, affinity), its
/// priority class and ServiceAccount. Read from the controller's <c>Controller:JobPodTemplate</c>, a pod template
/// fragment in JSON that the chart renders from its <c>controller:</c> values.
/// </summary>
public sealed record MigrationJobPod
{
    /// <summary>
    /// Sidecar injection off for the meshes that inject by default: a proxy container that never exits keeps the Job
    /// from ever completing. Istio reads the label (1.20+) or the annotation, Linkerd and Kuma their annotation. A
    /// template can set any of them back (for a database only reachable through the mesh, with native sidecars).
    /// </summary>
    public static IReadOnlyDictionary<string, string> MeshOptOutAnnotations { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sidecar.istio.io/inject"] = "false",
        ["linkerd.io/inject"] = "disabled",
        ["kuma.io/sidecar-injection"] = "disabled",
    };

    /// <inheritdoc cref="MeshOptOutAnnotations"/>
    public static IReadOnlyDictionary<string, string> MeshOptOutLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sidecar.istio.io/inject"] = "false",
    };

    public static MigrationJobPod Default { get; } = new();

    private static readonly string[] MetadataFields = ["annotations", "labels"];
    private static readonly string[] SpecFields = ["nodeSelector", "tolerations", "affinity", "priorityClassName", "serviceAccountName"];

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = MeshOptOutAnnotations;

    public IReadOnlyDictionary<string, string> Labels { get; init; } = MeshOptOutLabels;

    public IReadOnlyDictionary<string, string>? NodeSelector { get; init; }

    public IReadOnlyList<V1Toleration>? Tolerations { get; init; }

    public V1Affinity? Affinity { get; init; }

    public string? PriorityClassName { get; init; }

    /// <summary>The Job pod's ServiceAccount (it must exist in every application namespace); its token is still not mounted.</summary>
    public string? ServiceAccountName { get; init; }

    /// <summary>
    /// Reads a template fragment such as <c>{"metadata":{"annotations":{…}},"spec":{"nodeSelector":{…}}}</c>; the mesh
    /// opt-outs stay unless it sets the same keys. Fields Gatekeeper builds itself (containers, volumes, restart policy)
    /// and names it owns (<c>gatekeeper.dev/*</c>, <c>app.kubernetes.io/managed-by</c> and <c>component</c>) are refused
    /// with one sentence.
    /// </summary>
    public static bool TryParse(string? json, out MigrationJobPod pod, out string? problem)
    {
        pod = Default;
        problem = null;
        if (string.IsNullOrWhiteSpace(json))
        {
            return true;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problem = "must be a JSON object with metadata and spec, as a pod template";
                return false;
            }

            foreach (var field in root.EnumerateObject())
            {
                var allowed = field.Name switch
                {
                    "metadata" => MetadataFields,
                    "spec" => SpecFields,
                    _ => null,
                };
                if (allowed is null || field.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                {
                    problem = $"sets \"{field.Name}\"; only metadata ({string.Join(", ", MetadataFields)}) and spec ({string.Join(", ", SpecFields)}) may be set";
                    return false;
                }

                var extra = field.Value.ValueKind == JsonValueKind.Object
                    ? field.Value.EnumerateObject().Select(f => f.Name).FirstOrDefault(name => !allowed.Contains(name, StringComparer.Ordinal))
                    : null;
                if (extra is not null)
                {
                    problem = $"sets {field.Name}.{extra}, which Gatekeeper builds itself; only {field.Name}.{string.Join($", {field.Name}.", allowed)} may be set";
                    return false;
                }
            }

            var template = JsonSerializer.Deserialize(json, KubernetesModelJson.Default.V1PodTemplateSpec)!;
            var annotations = Merge(MeshOptOutAnnotations, template.Metadata?.Annotations);
            var labels = Merge(MeshOptOutLabels, template.Metadata?.Labels);
            if (annotations.Keys.Concat(labels.Keys).FirstOrDefault(IsGatekeepers) is { } owned)
            {
                problem = $"sets {owned}, which Gatekeeper sets on its Jobs itself";
                return false;
            }

            pod = new MigrationJobPod
            {
                Annotations = annotations,
                Labels = labels,
                NodeSelector = template.Spec?.NodeSelector is { Count: > 0 } selector ? new Dictionary<string, string>(selector, StringComparer.Ordinal) : null,
                Tolerations = template.Spec?.Tolerations is { Count: > 0 } tolerations ? [.. tolerations] : null,
                Affinity = template.Spec?.Affinity is { NodeAffinity: null, PodAffinity: null, PodAntiAffinity: null } ? null : template.Spec?.Affinity,
                PriorityClassName = string.IsNullOrEmpty(template.Spec?.PriorityClassName) ? null : template.Spec.PriorityClassName,
                ServiceAccountName = string.IsNullOrEmpty(template.Spec?.ServiceAccountName) ? null : template.Spec.ServiceAccountName,
            };
            return true;
        }
        catch (JsonException e)
        {
            problem = $"is not a pod template in JSON ({e.Message.Split('.')[0]})";
            return false;
        }
    }

    private static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> defaults, IDictionary<string, string>? given)
    {
        var merged = new Dictionary<string, string>(defaults, StringComparer.Ordinal);
        foreach (var (key, value) in given ?? new Dictionary<string, string>())
        {
            merged[key] = value;
        }

        return merged;
    }

    private static bool IsGatekeepers(string key) =>
        key.StartsWith(GatekeeperNames.Prefix, StringComparison.Ordinal) || key is "app.kubernetes.io/managed-by" or "app.kubernetes.io/component";
}
