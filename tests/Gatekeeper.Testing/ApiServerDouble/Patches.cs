using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>The merge patch flavours the API server accepts besides JSON Patch (<see cref="JsonPatchApplier"/>): one implementation for the API double and the simulated cluster.</summary>
public static class Patches
{
    /// <summary>Fields whose lists strategic merge patch merges by a key instead of replacing (patchMergeKey).</summary>
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["volumeMounts"] = "mountPath",
        ["ports"] = "containerPort",
        ["conditions"] = "type",
        ["imagePullSecrets"] = "name",
        ["schedulingGates"] = "name",
        ["ownerReferences"] = "uid",
        ["hostAliases"] = "ip",
        ["topologySpreadConstraints"] = "topologyKey",
    };

    /// <summary>Fields whose lists of scalars strategic merge patch merges as sets.</summary>
    private static readonly HashSet<string> MergedScalarLists = new(StringComparer.Ordinal) { "finalizers" };

    /// <summary>RFC 7386: objects merge member by member, null removes, anything else replaces.</summary>
    public static JsonObject Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (name, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(name);
            }
            else if (value is JsonObject patchObject && target[name] is JsonObject targetObject)
            {
                Merge(targetObject, patchObject);
            }
            else
            {
                target[name] = value.DeepClone();
            }
        }

        return target;
    }

    /// <summary>
    /// Strategic merge patch as kubectl sends it: like a merge patch, except that lists with a merge key (containers by
    /// name, conditions by type…) merge element by element, <c>$patch: delete</c> removes an element, <c>$patch:
    /// replace</c> replaces the enclosing map or list, and <c>$deleteFromPrimitiveList/…</c> removes scalars.
    /// </summary>
    public static JsonObject Strategic(JsonObject target, JsonObject patch)
    {
        if ((string?)patch["$patch"] == "replace")
        {
            var replaced = patch.DeepClone().AsObject();
            replaced.Remove("$patch");
            return replaced;
        }

        foreach (var (name, value) in patch.ToList())
        {
            if (name.StartsWith("$setElementOrder/", StringComparison.Ordinal) || name == "$retainKeys" || name == "$patch")
            {
                continue;
            }

            if (name.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = name["$deleteFromPrimitiveList/".Length..];
                if (target[field] is JsonArray list)
                {
                    foreach (var remove in value as JsonArray ?? [])
                    {
                        foreach (var item in list.Where(i => JsonNode.DeepEquals(i, remove)).ToList())
                        {
                            list.Remove(item);
                        }
                    }
                }

                continue;
            }

            if (value is null)
            {
                target.Remove(name);
            }
            else if (value is JsonObject patchObject)
            {
                target[name] = target[name] is JsonObject targetObject ? Strategic(targetObject, patchObject) : Strategic(new JsonObject(), patchObject);
            }
            else if (value is JsonArray patchList && MergeKeys.TryGetValue(name, out var key) && target[name] is JsonArray targetList)
            {
                target[name] = MergeList(targetList, patchList, key);
            }
            else if (value is JsonArray scalars && MergedScalarLists.Contains(name) && target[name] is JsonArray existing)
            {
                var merged = existing.DeepClone().AsArray();
                foreach (var scalar in scalars.Where(s => !merged.Any(m => JsonNode.DeepEquals(m, s))))
                {
                    merged.Add(scalar?.DeepClone());
                }

                target[name] = merged;
            }
            else
            {
                target[name] = value.DeepClone();
            }
        }

        return target;
    }

    private static JsonArray MergeList(JsonArray target, JsonArray patch, string key)
    {
        if (patch.Any(p => p is JsonObject o && (string?)o["$patch"] == "replace"))
        {
            return new JsonArray(patch.Where(p => (string?)p?["$patch"] != "replace").Select(p => p?.DeepClone()).ToArray());
        }

        var result = target.DeepClone().AsArray();
        foreach (var element in patch.OfType<JsonObject>())
        {
            var match = result.OfType<JsonObject>().FirstOrDefault(existing => JsonNode.DeepEquals(existing[key], element[key]));
            if ((string?)element["$patch"] == "delete")
            {
                if (match is not null)
                {
                    result.Remove(match);
                }
            }
            else if (match is not null)
            {
                var index = result.IndexOf(match);
                result[index] = Strategic(match.DeepClone().AsObject(), element);
            }
            else
            {
                result.Add(Strategic(new JsonObject(), element));
            }
        }

        return result;
    }
}
