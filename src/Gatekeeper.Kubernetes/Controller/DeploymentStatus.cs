using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>The kstatus vocabulary users know from Flux and the Atlas Operator.</summary>
public enum RolloutState
{
    /// <summary>The schema the pods need is there: nothing holds them.</summary>
    Ready,
    /// <summary>Gatekeeper is working on it (a migration Job runs).</summary>
    Reconciling,
    /// <summary>It cannot go on without a person: pods stay gated until the cause is fixed.</summary>
    Stalled,
}

/// <summary>The reasons the controller writes into the Deployment's <c>gatekeeper.dev/Migrated</c> condition and its Events.</summary>
public static class StatusReasons
{
    /// <summary>The pod template carries no plan: nothing is pending.</summary>
    public const string UpToDate = "UpToDate";

    /// <summary>The plan's migration Job runs.</summary>
    public const string Migrating = "Migrating";

    /// <summary>The plan's migration Job succeeded (or an earlier one did): pods of the plan are released.</summary>
    public const string Applied = "Applied";

    /// <summary>The plan's migration Job failed: pods stay gated.</summary>
    public const string MigrationFailed = "MigrationFailed";

    /// <summary>The Deployment's gatekeeper.dev annotations cannot be used.</summary>
    public const string AnnotationInvalid = "AnnotationInvalid";

    /// <summary>The migrations ConfigMap(s) named by the annotation are missing.</summary>
    public const string SourceInvalid = "SourceInvalid";

    /// <summary>The database Secret or its key is missing.</summary>
    public const string SecretInvalid = "SecretInvalid";

    /// <summary>A Job with the attempt's name exists that Gatekeeper did not create for this Deployment.</summary>
    public const string JobConflict = "JobConflict";

    /// <summary>The Deployment is paused: the plan's Job starts when it is resumed.</summary>
    public const string Paused = "DeploymentPaused";

    /// <summary>The running Job's pod cannot be created or cannot start (image pull, missing Secret, quota, no node): pods stay gated.</summary>
    public const string JobNotStarting = "MigrationNotStarting";

    /// <summary>Event reason when the controller creates a migration Job.</summary>
    public const string MigrationStarted = "MigrationStarted";

    /// <summary>Event reason when a Job succeeded.</summary>
    public const string MigrationSucceeded = "MigrationSucceeded";
}

/// <summary>
/// What the controller last concluded about a Deployment, kept in the Deployment's status conditions
/// (<see cref="DeploymentRecord"/>). Besides telling people, it is the durable memory of every replica: a Job
/// removed by its TTL (or by hand) after failing is not started again for the same attempt, and a plan recorded as
/// applied stays applied after its Job is gone, across restarts. Earlier versions kept it as one line of JSON in
/// the <c>gatekeeper.dev/status</c> annotation, which <see cref="Parse"/> still reads.
/// </summary>
/// <param name="Plan">The full plan hash the status is about (null when none is pending).</param>
/// <param name="Job">The migration Job of the attempt, when there is one.</param>
/// <param name="Since">When the state and reason last changed.</param>
public sealed record DeploymentStatus(RolloutState State, string Reason, string Message, string? Plan, string? Job, DateTimeOffset Since)
{
    /// <summary>Annotations hold up to 256 KiB in all, and a status is read by people: keep its message short.</summary>
    public const int MaxMessageLength = 1024;

    /// <summary>How many applied plans the status remembers: a Deployment's default revisionHistoryLimit, as far as a rollback can go.</summary>
    public const int MaxAppliedPlans = 10;

    /// <summary>
    /// The plans recently applied for this Deployment, newest first: after their Jobs are gone, a rollback to one
    /// of them starts no new Job and its pods are released at once.
    /// </summary>
    public IReadOnlyList<string> AppliedPlans { get; init; } = [];

    /// <summary>True when only <see cref="Since"/> differs: then nothing is written and no Event is recorded.</summary>
    public bool SameAs(DeploymentStatus? other) =>
        other is not null && other.State == State && other.Reason == Reason && Cut(other.Message) == Cut(Message) && other.Plan == Plan && other.Job == Job
        && other.AppliedPlans.SequenceEqual(AppliedPlans, StringComparer.Ordinal);

    /// <summary>This status with <paramref name="plan"/> first in <see cref="AppliedPlans"/>.</summary>
    public DeploymentStatus Remembering(string plan) => this with
    {
        AppliedPlans = [plan, .. AppliedPlans.Where(p => p != plan).Take(MaxAppliedPlans - 1)],
    };

    /// <summary>True when the state, reason, plan and Job are those of <paramref name="other"/> (the message may differ).</summary>
    public bool SameConclusion(DeploymentStatus? other) =>
        other is not null && other.State == State && other.Reason == Reason && other.Plan == Plan && other.Job == Job;

    public string Format()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("state", State.ToString());
            writer.WriteString("reason", Reason);
            writer.WriteString("message", Cut(Message));
            if (Plan is not null)
            {
                writer.WriteString("plan", Plan);
            }

            if (Job is not null)
            {
                writer.WriteString("job", Job);
            }

            writer.WriteString("since", Since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            if (AppliedPlans.Count > 0)
            {
                writer.WriteStartArray("applied");
                foreach (var plan in AppliedPlans)
                {
                    writer.WriteStringValue(plan);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads an annotation value; null when absent or not a status this controller wrote (a person's edit).</summary>
    public static DeploymentStatus? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || String(root, "state") is not { } stateName
                || !Enum.GetNames<RolloutState>().Contains(stateName, StringComparer.Ordinal)
                || String(root, "reason") is not { Length: > 0 } reason)
            {
                return null;
            }

            var since = DateTimeOffset.TryParse(String(root, "since"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : DateTimeOffset.UnixEpoch;
            var applied = root.TryGetProperty("applied", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).Where(p => p.Length > 0).Take(MaxAppliedPlans).ToList()
                : [];
            return new DeploymentStatus(Enum.Parse<RolloutState>(stateName), reason, String(root, "message") ?? string.Empty, String(root, "plan"), String(root, "job"), since)
            {
                AppliedPlans = applied,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static string Cut(string message) =>
        message.Length > MaxMessageLength ? message[..(MaxMessageLength - 1)] + "…" : message;
}
