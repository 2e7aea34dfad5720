using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// The registry validation kube-apiserver runs on every write (after mutating admission, before validating admission),
/// for the rules Gatekeeper could break: object names (DNS-1123 subdomain or label, 63-character label values), label
/// and annotation syntax, <c>schedulingGates</c> (set at create, only removed later, never with a node), the immutable
/// pod spec and Job template, Deployment selectors and strategies. Messages read as the API server's
/// (<c>field.ErrorList</c>); an object that breaks any rule is refused with 422 and stored nowhere.
/// </summary>
public static partial class ObjectValidation
{
    private const int LabelValueMax = 63;
    private const int SubdomainMax = 253;
    private const int AnnotationsMax = 256 * 1024;
    private const int ConfigMapMax = 1024 * 1024;

    public static IReadOnlyList<FieldError> Validate(ApiResource resource, JsonObject obj, JsonObject? old, string? subresource)
    {
        var errors = new List<FieldError>();
        if (subresource is null or "status")
        {
            Metadata(resource, obj, errors);
        }

        if (subresource is not null)
        {
            return errors;
        }

        if (resource == ApiResources.Pods)
        {
            if (old is null)
            {
                PodSpec(obj["spec"]?.AsObject(), "spec", errors, restartPolicies: ["Always", "OnFailure", "Never"]);
                if (Gates(obj).Count > 0 && (string?)obj["spec"]?["nodeName"] is { Length: > 0 })
                {
                    errors.Add(FieldError.Forbidden("spec.nodeName", "cannot be set until all schedulingGates have been cleared"));
                }
            }
            else
            {
                PodUpdate(obj, old, errors);
            }
        }
        else if (resource == ApiResources.Deployments || resource == ApiResources.ReplicaSets)
        {
            Workload(resource, obj, old, errors);
        }
        else if (resource == ApiResources.Jobs)
        {
            Job(obj, old, errors);
        }
        else if (resource == ApiResources.ConfigMaps || resource == ApiResources.Secrets)
        {
            var size = 0;
            foreach (var section in new[] { "data", "binaryData" })
            {
                foreach (var (key, value) in obj[section] as JsonObject ?? [])
                {
                    if (!ConfigKey().IsMatch(key))
                    {
                        errors.Add(FieldError.Invalid($"{section}[{key}]", key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
                    }

                    size += key.Length + (value?.GetValue<string>().Length ?? 0);
                }
            }

            if (size > ConfigMapMax)
            {
                errors.Add(FieldError.TooLong(resource == ApiResources.Secrets ? "data" : string.Empty, null, ConfigMapMax));
            }
        }
        else if (resource == ApiResources.Events || resource == ApiResources.EventsV1)
        {
            var regarding = obj["involvedObject"] ?? obj["regarding"];
            var ns = (string?)obj["metadata"]?["namespace"];
            if ((string?)regarding?["namespace"] is { Length: > 0 } objectNamespace && objectNamespace != ns)
            {
                errors.Add(FieldError.Invalid(obj["involvedObject"] is null ? "regarding.namespace" : "involvedObject.namespace", objectNamespace, "does not match event.namespace"));
            }
        }

        return errors;
    }

    /// <summary>The pod's scheduling gates by name (empty when none).</summary>
    public static List<string> Gates(JsonNode pod) =>
        (pod["spec"]?["schedulingGates"] as JsonArray)?.Select(g => (string?)g?["name"] ?? string.Empty).ToList() ?? [];

    private static void Metadata(ApiResource resource, JsonObject obj, List<FieldError> errors)
    {
        var metadata = obj["metadata"] as JsonObject;
        var name = (string?)metadata?["name"];
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(FieldError.Required("metadata.name", "name or generateName is required"));
        }
        else
        {
            var label = resource == ApiResources.Namespaces || resource == ApiResources.Services;
            var pathSegment = resource.Group == "rbac.authorization.k8s.io";
            foreach (var problem in pathSegment ? PathSegment(name) : label ? Dns1123Label(name) : Dns1123Subdomain(name))
            {
                errors.Add(FieldError.Invalid("metadata.name", name, problem));
            }
        }

        Labels(metadata?["labels"] as JsonObject, "metadata.labels", errors);
        Annotations(metadata?["annotations"] as JsonObject, "metadata.annotations", errors);
    }

    public static void Labels(JsonObject? labels, string path, List<FieldError> errors)
    {
        foreach (var (key, value) in labels ?? [])
        {
            foreach (var problem in QualifiedName(key))
            {
                errors.Add(FieldError.Invalid(path, key, problem));
            }

            var text = value?.GetValue<string>() ?? string.Empty;
            foreach (var problem in LabelValue(text))
            {
                errors.Add(FieldError.Invalid($"{path}", text, problem));
            }
        }
    }

    private static void Annotations(JsonObject? annotations, string path, List<FieldError> errors)
    {
        var size = 0;
        foreach (var (key, value) in annotations ?? [])
        {
            foreach (var problem in QualifiedName(key.ToLowerInvariant()))
            {
                errors.Add(FieldError.Invalid(path, key, problem));
            }

            size += key.Length + Encoding.UTF8.GetByteCount(value?.GetValue<string>() ?? string.Empty);
        }

        if (size > AnnotationsMax)
        {
            errors.Add(FieldError.TooLong(path, null, AnnotationsMax));
        }
    }

    private static void PodUpdate(JsonObject pod, JsonObject old, List<FieldError> errors)
    {
        var before = Gates(old);
        var after = Gates(pod);
        foreach (var gate in after.Where(g => !before.Contains(g)))
        {
            errors.Add(FieldError.Forbidden("spec.schedulingGates", $"only deletion is allowed, but found new scheduling gate '{gate}'"));
        }

        // Everything but images, activeDeadlineSeconds, added tolerations and removed gates is fixed once a pod exists.
        var newSpec = Comparable(pod["spec"]);
        var oldSpec = Comparable(old["spec"]);
        if (!JsonNode.DeepEquals(newSpec, oldSpec) && errors.Count == 0)
        {
            errors.Add(FieldError.Forbidden("spec",
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
        }

        static JsonNode? Comparable(JsonNode? spec)
        {
            var copy = spec?.DeepClone().AsObject();
            if (copy is null)
            {
                return null;
            }

            copy.Remove("schedulingGates");
            copy.Remove("activeDeadlineSeconds");
            copy.Remove("tolerations");
            copy.Remove("nodeName");
            foreach (var container in (copy["containers"] as JsonArray ?? []).Concat(copy["initContainers"] as JsonArray ?? []))
            {
                container!.AsObject().Remove("image");
            }

            return copy;
        }
    }

    private static void Workload(ApiResource resource, JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        var spec = obj["spec"] as JsonObject;
        if (spec?["selector"] is not JsonObject selector || (selector["matchLabels"] is null && selector["matchExpressions"] is null))
        {
            errors.Add(FieldError.Required("spec.selector", string.Empty));
        }
        else
        {
            var templateLabels = (spec["template"]?["metadata"]?["labels"] as JsonObject)?.ToDictionary(p => p.Key, p => (string?)p.Value ?? string.Empty) ?? [];
            if (!ApiServerDouble.LabelSelector.FromObject(selector).Matches(templateLabels))
            {
                errors.Add(FieldError.Invalid("spec.template.metadata.labels", Render(spec["template"]?["metadata"]?["labels"]), "`selector` does not match template `labels`"));
            }

            if (old is not null && !JsonNode.DeepEquals(selector, old["spec"]?["selector"]))
            {
                errors.Add(FieldError.Invalid("spec.selector", Render(selector), "field is immutable"));
            }
        }

        if ((long?)spec?["replicas"] is < 0)
        {
            errors.Add(FieldError.Invalid("spec.replicas", spec!["replicas"]!.ToJsonString(), "must be greater than or equal to 0"));
        }

        Labels(spec?["template"]?["metadata"]?["labels"] as JsonObject, "spec.template.metadata.labels", errors);
        PodSpec(spec?["template"]?["spec"] as JsonObject, "spec.template.spec", errors, restartPolicies: ["Always"]);
        if (resource != ApiResources.Deployments || spec is null)
        {
            return;
        }

        var strategy = spec["strategy"];
        if ((string?)strategy?["type"] == "Recreate" && strategy["rollingUpdate"] is not null)
        {
            errors.Add(FieldError.Forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"));
        }

        if ((string?)strategy?["type"] == "RollingUpdate" && strategy["rollingUpdate"] is { } rolling)
        {
            if (IntOrPercent.IsZero(rolling["maxSurge"]) && IntOrPercent.IsZero(rolling["maxUnavailable"]))
            {
                errors.Add(FieldError.Invalid("spec.strategy.rollingUpdate.maxUnavailable", "0", "may not be 0 when `maxSurge` is 0"));
            }
        }

        if ((long?)spec["progressDeadlineSeconds"] is { } deadline && deadline <= ((long?)spec["minReadySeconds"] ?? 0))
        {
            errors.Add(FieldError.Invalid("spec.progressDeadlineSeconds", deadline.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be greater than minReadySeconds"));
        }
    }

    private static void Job(JsonObject job, JsonObject? old, List<FieldError> errors)
    {
        var spec = job["spec"] as JsonObject;
        var name = (string?)job["metadata"]?["name"] ?? string.Empty;

        // The name becomes the job-name label of its pods, so it is held to a label value's 63 characters.
        foreach (var problem in LabelValue(name))
        {
            errors.Add(FieldError.Invalid("spec.template.labels", name, problem));
        }

        PodSpec(spec?["template"]?["spec"] as JsonObject, "spec.template.spec", errors, restartPolicies: ["OnFailure", "Never"]);
        if (old is null)
        {
            return;
        }

        if (!JsonNode.DeepEquals(spec?["template"], old["spec"]?["template"]))
        {
            errors.Add(FieldError.Invalid("spec.template", Render(spec?["template"]), "field is immutable"));
        }

        if (!JsonNode.DeepEquals(spec?["selector"], old["spec"]?["selector"]))
        {
            errors.Add(FieldError.Invalid("spec.selector", Render(spec?["selector"]), "field is immutable"));
        }

        if (!JsonNode.DeepEquals(spec?["completions"], old["spec"]?["completions"]))
        {
            errors.Add(FieldError.Invalid("spec.completions", spec?["completions"]?.ToJsonString(), "field is immutable"));
        }
    }

    private static void PodSpec(JsonObject? spec, string path, List<FieldError> errors, IReadOnlyList<string> restartPolicies)
    {
        if (spec is null)
        {
            errors.Add(FieldError.Required(path, string.Empty));
            return;
        }

        var containers = spec["containers"] as JsonArray ?? [];
        if (containers.Count == 0)
        {
            errors.Add(FieldError.Required($"{path}.containers", string.Empty));
        }

        for (var i = 0; i < containers.Count; i++)
        {
            var name = (string?)containers[i]?["name"] ?? string.Empty;
            foreach (var problem in Dns1123Label(name))
            {
                errors.Add(FieldError.Invalid($"{path}.containers[{i}].name", name, problem));
            }

            if (string.IsNullOrEmpty((string?)containers[i]?["image"]))
            {
                errors.Add(FieldError.Required($"{path}.containers[{i}].image", string.Empty));
            }
        }

        var restart = (string?)spec["restartPolicy"] ?? "Always";
        if (!restartPolicies.Contains(restart))
        {
            errors.Add(FieldError.NotSupported($"{path}.restartPolicy", restart, restartPolicies));
        }

        var gates = spec["schedulingGates"] as JsonArray ?? [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < gates.Count; i++)
        {
            var gate = (string?)gates[i]?["name"] ?? string.Empty;
            if (!seen.Add(gate))
            {
                errors.Add(new FieldError($"{path}.schedulingGates[{i}]", "FieldValueDuplicate", string.Empty, gate));
            }

            foreach (var problem in QualifiedName(gate))
            {
                errors.Add(FieldError.Invalid($"{path}.schedulingGates[{i}].name", gate, problem));
            }
        }
    }

    /// <summary>ValidatePathSegmentName (RBAC objects): anything but '.', '..' and names with '/' or '%'.</summary>
    public static IEnumerable<string> PathSegment(string value)
    {
        if (value is "." or "..")
        {
            yield return $"may not be '{value}'";
        }

        foreach (var forbidden in new[] { "/", "%" })
        {
            if (value.Contains(forbidden, StringComparison.Ordinal))
            {
                yield return $"may not contain '{forbidden}'";
            }
        }
    }

    /// <summary>IsDNS1123Subdomain: lower-case alphanumerics, '-' and '.', starting and ending alphanumeric, at most 253.</summary>
    public static IEnumerable<string> Dns1123Subdomain(string value)
    {
        if (value.Length > SubdomainMax)
        {
            yield return $"must be no more than {SubdomainMax} characters";
        }

        if (!Subdomain().IsMatch(value))
        {
            yield return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
        }
    }

    /// <summary>IsDNS1123Label: lower-case alphanumerics and '-', starting and ending alphanumeric, at most 63.</summary>
    public static IEnumerable<string> Dns1123Label(string value)
    {
        if (value.Length > LabelValueMax)
        {
            yield return $"must be no more than {LabelValueMax} characters";
        }

        if (!Label().IsMatch(value))
        {
            yield return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
        }
    }

    /// <summary>IsQualifiedName: an optional DNS subdomain prefix and '/', then a name of at most 63 characters.</summary>
    public static IEnumerable<string> QualifiedName(string value)
    {
        var slash = value.Split('/');
        if (slash.Length > 2 || value.Length == 0)
        {
            yield return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
            yield break;
        }

        var name = slash[^1];
        if (slash.Length == 2)
        {
            if (slash[0].Length == 0)
            {
                yield return "prefix part must be non-empty";
            }

            foreach (var problem in Dns1123Subdomain(slash[0]))
            {
                yield return "prefix part " + problem;
            }
        }

        if (name.Length == 0)
        {
            yield return "name part must be non-empty";
        }
        else if (name.Length > LabelValueMax)
        {
            yield return $"name part must be no more than {LabelValueMax} characters";
        }

        if (name.Length > 0 && !QualifiedNamePart().IsMatch(name))
        {
            yield return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
        }
    }

    /// <summary>IsValidLabelValue: empty, or at most 63 alphanumerics, '-', '_' and '.', starting and ending alphanumeric.</summary>
    public static IEnumerable<string> LabelValue(string value)
    {
        if (value.Length > LabelValueMax)
        {
            yield return $"must be no more than {LabelValueMax} characters";
        }

        if (value.Length > 0 && !QualifiedNamePart().IsMatch(value))
        {
            yield return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
        }
    }

    private static string Render(JsonNode? node) => node?.ToJsonString() ?? "null";

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Subdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Label();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedNamePart();

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex ConfigKey();
}

/// <summary>intstr.IntOrString as Deployments use it: an absolute count or a percentage of the desired replicas.</summary>
public static class IntOrPercent
{
    public static int Resolve(JsonNode? value, int total, bool roundUp)
    {
        if (value is null)
        {
            return 0;
        }

        if (value.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return value.GetValue<int>();
        }

        var text = value.GetValue<string>();
        if (text.EndsWith('%'))
        {
            var percent = int.Parse(text[..^1], System.Globalization.CultureInfo.InvariantCulture);
            var exact = percent * total / 100.0;
            return roundUp ? (int)Math.Ceiling(exact) : (int)Math.Floor(exact);
        }

        return int.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
    }

    public static bool IsZero(JsonNode? value) => value is null || value.ToJsonString() is "0" or "\"0\"" or "\"0%\"";
}
