namespace Gatekeeper.Kubernetes;

/// <summary>
/// Every annotation, label and scheduling gate name Gatekeeper reads or writes, in one place so the
/// webhook, the controller and the chart's matchConditions agree.
/// </summary>
public static class GatekeeperNames
{
    public const string Prefix = "gatekeeper.dev/";

    /// <summary>The opt-in switch on a Deployment: the ConfigMap(s) holding the migration files.</summary>
    public const string Migrations = Prefix + "migrations";
    public const string DatabaseSecret = Prefix + "database-secret";
    public const string Format = Prefix + "format";
    public const string HistoryTable = Prefix + "history-table";
    public const string Allow = Prefix + "allow";
    public const string ApprovePlan = Prefix + "approve-plan";
    public const string DryRun = Prefix + "dry-run";
    public const string JobTimeout = Prefix + "job-timeout";
    public const string PlanSecret = Prefix + "plan-secret";
    public const string DevDatabaseSecret = Prefix + "dev-database-secret";

    /// <summary>What open transactions on a plan's tables do to the rollout: <c>deny</c> (the default) or <c>warn</c>.</summary>
    public const string LockPreflight = Prefix + "lock-preflight";

    /// <summary>
    /// What a pending migration that costs serving pods (Recreate, maxUnavailable above 0) or outlasts the progress
    /// deadline does to the admission: <c>warn</c> or <c>deny</c>; unset, the chart's <c>webhook.capacityPolicy</c>.
    /// </summary>
    public const string CapacityPolicy = Prefix + "capacity-policy";

    /// <summary>File name patterns of the migration ConfigMaps to leave out on purpose (listed in the plan).</summary>
    public const string Ignore = Prefix + "ignore";

    /// <summary>
    /// The declarative opt-in, instead of <see cref="Migrations"/>: the ConfigMap(s) holding the desired schema as SQL
    /// <c>CREATE</c> statements, which Gatekeeper diffs against the live database.
    /// </summary>
    public const string Schema = Prefix + "schema";

    /// <summary>Declarative mode: objects another tool owns, left alone (comma list of name or schema.name globs).</summary>
    public const string SchemaExclude = Prefix + "schema-exclude";

    /// <summary>The annotations either of which opts a Deployment in.</summary>
    public static IReadOnlyList<string> OptIns { get; } = [Migrations, Schema];

    /// <summary>Written by Gatekeeper on the pod template (and so on every pod): the plan hash the pods need applied.</summary>
    public const string Plan = Prefix + "plan";

    /// <summary>Written by Gatekeeper on the pod template: the last migration version the new pods need.</summary>
    public const string TargetVersion = Prefix + "target-version";

    /// <summary>
    /// Written by Gatekeeper on the Deployment's metadata (not the pod template, so it never starts a rollout): a random
    /// id the mutating call writes when it plans, under which it keeps what it read for the validating call of the same
    /// apply (<c>Webhook.Rollouts.PlanHandover</c>). Meaningless afterwards; it holds nothing derived from any source.
    /// </summary>
    public const string PlanningId = Prefix + "planning-id";

    /// <summary>
    /// Where earlier versions kept the controller's record, on the Deployment's metadata; still read once after an
    /// upgrade. The record now lives in the Deployment's status (<c>Controller.DeploymentRecord</c>), which the
    /// Deployment controller does not copy onto ReplicaSets and a rollback does not restore.
    /// </summary>
    public const string Status = Prefix + "status";

    /// <summary>Bumped by a person to re-run a failed plan (read by the controller).</summary>
    public const string Retry = Prefix + "retry";

    /// <summary>Label and annotation on migration Jobs naming the Deployment they run for (the label cut to 63 characters).</summary>
    public const string Deployment = Prefix + "deployment";

    /// <summary>The scheduling gate that holds a pod until its plan is applied.</summary>
    public const string MigrationSchedulingGate = Prefix + "migration";

    /// <summary>
    /// Label on migration Jobs; its value is <see cref="PlanLabelValue"/> of the plan hash, and the full hash
    /// is also in the Job's <see cref="Plan"/> annotation.
    /// </summary>
    public const string PlanLabel = Plan;

    /// <summary>Label values hold at most 63 characters; a sha256 hex hash has 64, so labels carry its first 63.</summary>
    public const int MaxLabelValueLength = 63;

    public static string PlanLabelValue(string planHash) =>
        planHash.Length > MaxLabelValueLength ? planHash[..MaxLabelValueLength] : planHash;

    /// <summary>Annotations a person may set on a Deployment (the ones Gatekeeper writes are accepted too).</summary>
    public static IReadOnlyList<string> DeploymentAnnotations { get; } =
    [
        Migrations, DatabaseSecret, Format, HistoryTable, Allow, ApprovePlan, DryRun, JobTimeout, PlanSecret,
        DevDatabaseSecret, Ignore, LockPreflight, CapacityPolicy, Schema, SchemaExclude, Status, Retry, PlanningId,
    ];
}
