using System.Globalization;
using System.Text;
using System.Text.Json;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// Where the controller keeps its conclusions about a Deployment: two conditions in the Deployment's
/// <c>status</c>. The status is the right home: the Deployment controller copies metadata annotations onto every
/// ReplicaSet and <c>kubectl rollout undo</c> copies an old ReplicaSet's annotations back, which would restore a
/// stale record; GitOps tools diff metadata but not status; and an app team that may edit the Deployment seldom may
/// write its status subresource. The Deployment controller keeps conditions it does not own when it writes its own.
/// <list type="bullet">
/// <item><c>gatekeeper.dev/Migrated</c>, for people (<c>kubectl describe</c>): True (Ready), Unknown (Reconciling) or
/// False (Stalled), with the reason and message.</item>
/// <item><c>gatekeeper.dev/Record</c>, for the controller and every webhook replica: one line of JSON with the plan
/// and Job of the current attempt and the plans applied for this Deployment.</item>
/// </list>
/// </summary>
public static class DeploymentRecord
{
    public const string MigratedCondition = GatekeeperNames.Prefix + "Migrated";
    public const string RecordCondition = GatekeeperNames.Prefix + "Record";
    public const string RecordReason = "Recorded";

    /// <summary>
    /// What the controller last concluded about <paramref name="deployment"/>: from its conditions, or, while none has
    /// been written yet (an install upgraded from a version that kept it there), from the old
    /// <c>gatekeeper.dev/status</c> annotation. Null when neither is there or readable.
    /// </summary>
    public static DeploymentStatus? Read(V1Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var conditions = deployment.Status?.Conditions;
        var record = conditions?.FirstOrDefault(c => c.Type == RecordCondition);
        if (record is null)
        {
            return deployment.Metadata?.Annotations is { } annotations && annotations.TryGetValue(GatekeeperNames.Status, out var legacy)
                ? DeploymentStatus.Parse(legacy)
                : null;
        }

        var migrated = conditions!.FirstOrDefault(c => c.Type == MigratedCondition);
        if (migrated is null || State(migrated.Status) is not { } state || string.IsNullOrEmpty(migrated.Reason))
        {
            return null;
        }

        var (plan, job, applied) = ParseRecord(record.Message);
        var since = migrated.LastTransitionTime is { } time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : DateTimeOffset.UnixEpoch;
        return new DeploymentStatus(state, migrated.Reason, migrated.Message ?? string.Empty, plan, job, since) { AppliedPlans = applied };
    }

    /// <summary>The two conditions that say <paramref name="status"/>.</summary>
    public static (V1DeploymentCondition Migrated, V1DeploymentCondition Record) Conditions(DeploymentStatus status, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(status);
        var migrated = new V1DeploymentCondition
        {
            Type = MigratedCondition,
            Status = status.State switch
            {
                RolloutState.Ready => "True",
                RolloutState.Reconciling => "Unknown",
                RolloutState.Stalled => "False",
                _ => throw new ArgumentOutOfRangeException(nameof(status), status.State, "unknown rollout state"),
            },
            Reason = status.Reason,
            Message = DeploymentStatus.Cut(status.Message),
            LastTransitionTime = status.Since.UtcDateTime,
            LastUpdateTime = now.UtcDateTime,
        };
        var record = new V1DeploymentCondition
        {
            Type = RecordCondition,
            Status = "True",
            Reason = RecordReason,
            Message = FormatRecord(status),
            LastTransitionTime = status.Since.UtcDateTime,
            LastUpdateTime = now.UtcDateTime,
        };
        return (migrated, record);
    }

    /// <summary>
    /// A JSON patch for the <c>status</c> subresource that writes <paramref name="status"/> as it was decided from
    /// <paramref name="seen"/>, and fails (422, or 409 on the resourceVersion) when the record changed since: two
    /// leaders for a moment (an old one that has not noticed it lost the Lease) must not overwrite each other's applied
    /// plans. The other conditions (the Deployment controller's own) are left as they are.
    /// </summary>
    public static string BuildPatch(V1Deployment seen, DeploymentStatus status, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(seen);
        var (migrated, record) = Conditions(status, now);
        var conditions = seen.Status?.Conditions ?? [];
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            var recordIndex = IndexOf(conditions, RecordCondition);
            if (recordIndex >= 0)
            {
                // The guard: the record is exactly what this decision was made from.
                Test(writer, $"/status/conditions/{recordIndex}/type", RecordCondition);
                Test(writer, $"/status/conditions/{recordIndex}/message", conditions[recordIndex].Message ?? string.Empty);
            }
            else
            {
                // No record yet: only this version of the object may receive the first one.
                Test(writer, "/metadata/resourceVersion", seen.Metadata?.ResourceVersion ?? string.Empty);
            }

            if (seen.Status is null)
            {
                Operation(writer, "add", "/status", w =>
                {
                    w.WriteStartObject();
                    w.WritePropertyName("conditions");
                    w.WriteStartArray();
                    WriteCondition(w, migrated);
                    WriteCondition(w, record);
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
            }
            else if (seen.Status.Conditions is null)
            {
                Operation(writer, "add", "/status/conditions", w =>
                {
                    w.WriteStartArray();
                    WriteCondition(w, migrated);
                    WriteCondition(w, record);
                    w.WriteEndArray();
                });
            }
            else
            {
                Put(writer, recordIndex, record);
                var migratedIndex = IndexOf(conditions, MigratedCondition);
                if (migratedIndex >= 0)
                {
                    Test(writer, $"/status/conditions/{migratedIndex}/type", MigratedCondition);
                }

                Put(writer, migratedIndex, migrated);
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    internal static string FormatRecord(DeploymentStatus status)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (status.Plan is not null)
            {
                writer.WriteString("plan", status.Plan);
            }

            if (status.Job is not null)
            {
                writer.WriteString("job", status.Job);
            }

            writer.WriteStartArray("applied");
            foreach (var plan in status.AppliedPlans)
            {
                writer.WriteStringValue(plan);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static (string? Plan, string? Job, IReadOnlyList<string> Applied) ParseRecord(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return (null, null, []);
        }

        try
        {
            using var document = JsonDocument.Parse(message);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, []);
            }

            var applied = root.TryGetProperty("applied", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).Where(p => p.Length > 0)
                    .Distinct(StringComparer.Ordinal).Take(DeploymentStatus.MaxAppliedPlans).ToList()
                : [];
            return (String(root, "plan"), String(root, "job"), applied);
        }
        catch (JsonException)
        {
            return (null, null, []);
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static RolloutState? State(string? status) => status switch
    {
        "True" => RolloutState.Ready,
        "Unknown" => RolloutState.Reconciling,
        "False" => RolloutState.Stalled,
        _ => null,
    };

    private static int IndexOf(IList<V1DeploymentCondition> conditions, string type)
    {
        for (var i = 0; i < conditions.Count; i++)
        {
            if (conditions[i]?.Type == type)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Replaces the condition at <paramref name="index"/>, or appends it when there is none of its type.</summary>
    private static void Put(Utf8JsonWriter writer, int index, V1DeploymentCondition condition) =>
        Operation(writer, index >= 0 ? "replace" : "add", index >= 0 ? $"/status/conditions/{index}" : "/status/conditions/-", w => WriteCondition(w, condition));

    private static void Test(Utf8JsonWriter writer, string path, string value) => Operation(writer, "test", path, w => w.WriteStringValue(value));

    private static void Operation(Utf8JsonWriter writer, string op, string path, Action<Utf8JsonWriter> value)
    {
        writer.WriteStartObject();
        writer.WriteString("op", op);
        writer.WriteString("path", path);
        writer.WritePropertyName("value");
        value(writer);
        writer.WriteEndObject();
    }

    private static void WriteCondition(Utf8JsonWriter writer, V1DeploymentCondition condition)
    {
        writer.WriteStartObject();
        writer.WriteString("type", condition.Type);
        writer.WriteString("status", condition.Status);
        writer.WriteString("reason", condition.Reason);
        writer.WriteString("message", condition.Message);
        writer.WriteString("lastTransitionTime", Time(condition.LastTransitionTime));
        writer.WriteString("lastUpdateTime", Time(condition.LastUpdateTime));
        writer.WriteEndObject();
    }

    private static string Time(DateTime? time) =>
        (time ?? DateTime.UnixEpoch).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
