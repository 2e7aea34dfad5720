using System.Globalization;
using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>Reading and writing the parts of Kubernetes objects (as JSON) that the simulated controllers use.</summary>
public static class ObjectAccess
{
    public static string Name(this JsonNode obj) => (string?)obj["metadata"]?["name"] ?? string.Empty;

    public static string Namespace(this JsonNode obj) => (string?)obj["metadata"]?["namespace"] ?? string.Empty;

    public static string Uid(this JsonNode obj) => (string?)obj["metadata"]?["uid"] ?? string.Empty;

    public static bool Terminating(this JsonNode obj) => obj["metadata"]?["deletionTimestamp"] is not null;

    public static string? Annotation(this JsonNode obj, string key) => (string?)obj["metadata"]?["annotations"]?[key];

    public static string? Label(this JsonNode obj, string key) => (string?)obj["metadata"]?["labels"]?[key];

    public static JsonObject Annotations(this JsonObject obj) => ObjectDefaults.Ensure(ObjectDefaults.Ensure(obj, "metadata"), "annotations");

    public static JsonObject Labels(this JsonObject obj) => ObjectDefaults.Ensure(ObjectDefaults.Ensure(obj, "metadata"), "labels");

    /// <summary>The uid of the object's controller (ownerReferences with controller: true), if any.</summary>
    public static string? ControllerUid(this JsonNode obj) =>
        (obj["metadata"]?["ownerReferences"] as JsonArray ?? []).Where(o => (bool?)o!["controller"] == true).Select(o => (string?)o!["uid"]).FirstOrDefault();

    public static JsonObject OwnerReference(JsonNode owner, bool controller = true) => new()
    {
        ["apiVersion"] = (string?)owner["apiVersion"],
        ["kind"] = (string?)owner["kind"],
        ["name"] = owner.Name(),
        ["uid"] = owner.Uid(),
        ["controller"] = controller,
        ["blockOwnerDeletion"] = true,
    };

    public static long Long(this JsonNode? node, long fallback = 0) => node is null ? fallback : node.GetValue<long>();

    public static int Int(this JsonNode? node, int fallback = 0) => node is null ? fallback : node.GetValue<int>();

    public static JsonNode? Condition(this JsonNode obj, string type) =>
        (obj["status"]?["conditions"] as JsonArray ?? []).FirstOrDefault(c => (string?)c!["type"] == type);

    public static bool ConditionIs(this JsonNode obj, string type, string status = "True") => (string?)obj.Condition(type)?["status"] == status;

    /// <summary>
    /// Sets a condition as the controllers' SetCondition helpers do: lastTransitionTime changes only with the status;
    /// with <paramref name="updateTime"/> a lastUpdateTime is kept too (Deployments), renewed on every set.
    /// </summary>
    public static void SetCondition(this JsonObject obj, string type, string status, string reason, string message, DateTimeOffset now, bool updateTime = false, bool probeTime = false)
    {
        var statusNode = ObjectDefaults.Ensure(obj, "status");
        if (statusNode["conditions"] is not JsonArray conditions)
        {
            conditions = [];
            statusNode["conditions"] = conditions;
        }

        var existing = conditions.FirstOrDefault(c => (string?)c!["type"] == type) as JsonObject;
        var transition = existing is not null && (string?)existing["status"] == status
            ? (string?)existing["lastTransitionTime"] ?? ObjectDefaults.Time(now)
            : ObjectDefaults.Time(now);
        if (existing is not null && (string?)existing["status"] == status && (string?)existing["reason"] == reason && (string?)existing["message"] == message && !updateTime)
        {
            return;
        }

        var condition = new JsonObject { ["type"] = type, ["status"] = status };
        if (updateTime)
        {
            condition["lastUpdateTime"] = ObjectDefaults.Time(now);
        }

        if (probeTime)
        {
            condition["lastProbeTime"] = null;
        }

        condition["lastTransitionTime"] = transition;
        condition["reason"] = reason;
        condition["message"] = message;
        if (existing is null)
        {
            conditions.Add(condition);
        }
        else
        {
            conditions[conditions.IndexOf(existing)] = condition;
        }
    }

    public static void RemoveCondition(this JsonObject obj, string type)
    {
        if (obj["status"]?["conditions"] is JsonArray conditions && conditions.FirstOrDefault(c => (string?)c!["type"] == type) is { } found)
        {
            conditions.Remove(found);
        }
    }

    public static DateTimeOffset? Time(this JsonNode? node) =>
        (string?)node is { Length: > 0 } text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal) : null;
}
