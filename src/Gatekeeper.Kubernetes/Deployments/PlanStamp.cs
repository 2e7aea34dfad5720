using System.Text.Json;
using Gatekeeper.Kubernetes.Admission;

namespace Gatekeeper.Kubernetes.Deployments;

/// <summary>
/// The two annotations Gatekeeper writes on a pod template. <see cref="Plan"/> is null when nothing is pending
/// (pods without a plan are never gated), <see cref="TargetVersion"/> when the source has no versioned migration.
/// </summary>
public sealed record PlanStamp(string? Plan, string? TargetVersion)
{
    public static PlanStamp None { get; } = new(null, null);

    /// <summary>Reads the stamps a Deployment's pod template carries now.</summary>
    public static PlanStamp Read(JsonElement deployment)
    {
        var annotations = DeploymentObject.TemplateAnnotations(deployment);
        return new PlanStamp(
            annotations.GetValueOrDefault(GatekeeperNames.Plan),
            annotations.GetValueOrDefault(GatekeeperNames.TargetVersion));
    }

    /// <summary>
    /// True when the two pod templates are the same apart from the stamps: then keeping the old stamps means the
    /// API server sees no template change and starts no rollout.
    /// </summary>
    public static bool TemplatesEqualIgnoringStamps(JsonElement deployment, JsonElement oldDeployment)
    {
        var template = DeploymentObject.Descend(deployment, "spec", "template");
        var oldTemplate = DeploymentObject.Descend(oldDeployment, "spec", "template");
        if (template is null || oldTemplate is null)
        {
            return template is null && oldTemplate is null;
        }

        return ObjectsEqual(template.Value, oldTemplate.Value, "metadata", member =>
            ObjectsEqual(member.Left, member.Right, "annotations", annotations => AnnotationsEqualIgnoringStamps(annotations.Left, annotations.Right)));
    }

    /// <summary>
    /// A JSON Patch that makes the template's stamps equal <paramref name="wanted"/>, or null when they already
    /// are (so an unchanged Deployment gets no patch at all).
    /// </summary>
    public static ReadOnlyMemory<byte>? BuildPatch(JsonElement deployment, PlanStamp wanted)
    {
        var patch = new JsonPatchBuilder();
        AppendPatch(patch, deployment, wanted);
        return patch.Count == 0 ? default(ReadOnlyMemory<byte>?) : patch.Build();
    }

    /// <summary>Adds to <paramref name="patch"/> the operations that make the template's stamps equal <paramref name="wanted"/> (none when they already are).</summary>
    public static void AppendPatch(JsonPatchBuilder patch, JsonElement deployment, PlanStamp wanted)
    {
        ArgumentNullException.ThrowIfNull(patch);
        ArgumentNullException.ThrowIfNull(wanted);
        var current = Read(deployment);
        if (current == wanted)
        {
            return;
        }

        var annotations = DeploymentObject.Descend(deployment, "spec", "template", "metadata", "annotations");
        if (annotations is not { ValueKind: JsonValueKind.Object })
        {
            var members = new Dictionary<string, string>(StringComparer.Ordinal);
            AddIfSet(members, GatekeeperNames.Plan, wanted.Plan);
            AddIfSet(members, GatekeeperNames.TargetVersion, wanted.TargetVersion);
            if (DeploymentObject.Descend(deployment, "spec", "template", "metadata") is { ValueKind: JsonValueKind.Object })
            {
                patch.AddObject(members, "spec", "template", "metadata", "annotations");
            }
            else
            {
                // No metadata at all on the template: add it with the annotations inside.
                patch.AddValue(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartObject("annotations");
                    foreach (var (key, value) in members)
                    {
                        w.WriteString(key, value);
                    }

                    w.WriteEndObject();
                    w.WriteEndObject();
                }, "spec", "template", "metadata");
            }

            return;
        }

        SetOrRemove(patch, GatekeeperNames.Plan, current.Plan, wanted.Plan);
        SetOrRemove(patch, GatekeeperNames.TargetVersion, current.TargetVersion, wanted.TargetVersion);
    }

    private static void AddIfSet(Dictionary<string, string> members, string key, string? value)
    {
        if (value is not null)
        {
            members[key] = value;
        }
    }

    private static void SetOrRemove(JsonPatchBuilder patch, string key, string? current, string? wanted)
    {
        if (current == wanted)
        {
            return;
        }

        if (wanted is null)
        {
            patch.Remove("spec", "template", "metadata", "annotations", key);
        }
        else
        {
            // "add" on an existing object member replaces it (RFC 6902 4.1).
            patch.Add(wanted, "spec", "template", "metadata", "annotations", key);
        }
    }

    private readonly record struct Pair(JsonElement Left, JsonElement Right);

    /// <summary>Compares two objects member by member, handing one member to <paramref name="special"/>; a missing or null member equals an empty object there.</summary>
    private static bool ObjectsEqual(JsonElement left, JsonElement right, string specialMember, Func<Pair, bool> special)
    {
        if (left.ValueKind != JsonValueKind.Object || right.ValueKind != JsonValueKind.Object)
        {
            return JsonElement.DeepEquals(left, right);
        }

        var leftCount = 0;
        foreach (var property in left.EnumerateObject())
        {
            leftCount++;
            if (property.NameEquals(specialMember))
            {
                continue;
            }

            if (!right.TryGetProperty(property.Name, out var other) || !JsonElement.DeepEquals(property.Value, other))
            {
                return false;
            }
        }

        var rightCount = 0;
        foreach (var property in right.EnumerateObject())
        {
            rightCount++;
        }

        var leftHasSpecial = left.TryGetProperty(specialMember, out var leftSpecial);
        var rightHasSpecial = right.TryGetProperty(specialMember, out var rightSpecial);
        if (leftCount - (leftHasSpecial ? 1 : 0) != rightCount - (rightHasSpecial ? 1 : 0))
        {
            return false;
        }

        return special(new Pair(leftHasSpecial ? leftSpecial : EmptyObject, rightHasSpecial ? rightSpecial : EmptyObject));
    }

    private static bool AnnotationsEqualIgnoringStamps(JsonElement left, JsonElement right)
    {
        var a = Filter(left);
        var b = Filter(right);
        return a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var value) && value == pair.Value);

        static Dictionary<string, string?> Filter(JsonElement annotations)
        {
            var map = new Dictionary<string, string?>(StringComparer.Ordinal);
            if (annotations.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in annotations.EnumerateObject())
                {
                    if (property.Name is not (GatekeeperNames.Plan or GatekeeperNames.TargetVersion))
                    {
                        map[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText();
                    }
                }
            }

            return map;
        }
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;
}
