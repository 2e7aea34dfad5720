using System.Diagnostics.CodeAnalysis;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Kubernetes.Annotations;

/// <summary>How the webhook proves a plan before admitting it.</summary>
public enum DryRunMode
{
    /// <summary>
    /// The default, on both engines: the live structure replayed into a throwaway database (on the
    /// <c>dev-database-secret</c> server, or the target's own), the plan applied there. No DDL reaches the target.
    /// </summary>
    Shadow,
    /// <summary>
    /// PostgreSQL only, asked for explicitly (<c>live</c>, formerly <c>transaction</c>): the plan in a rolled-back
    /// transaction on the target database, which takes the plan's locks there for up to the lock timeout. Never run for
    /// a <c>dryRun</c> AdmissionReview.
    /// </summary>
    Live,
    None,
}

/// <summary>Which ConfigMaps hold the migration files: named ones, or every one a label selector matches.</summary>
public sealed record ConfigMapSelection(IReadOnlyList<string> Names, string? LabelSelector)
{
    public static ConfigMapSelection Named(params string[] names) => new(names, null);

    public static ConfigMapSelection Selected(string labelSelector) => new([], labelSelector);

    public override string ToString() =>
        LabelSelector is null ? string.Join(",", Names) : $"selector:{LabelSelector}";
}

/// <summary>A Secret and, when given, the key that holds the database URL.</summary>
public sealed record SecretKeyReference(string Name, string? Key)
{
    /// <summary>The keys tried when none is given: ours, then the one CloudNativePG's app secrets carry.</summary>
    public static IReadOnlyList<string> DefaultKeys { get; } = ["url", "uri"];

    public override string ToString() => Key is null ? Name : $"{Name}/{Key}";
}

/// <summary>
/// A Deployment's Gatekeeper annotations, validated (the table in DESIGN.md). Defaults are filled in, so
/// consumers never see a raw annotation string.
/// </summary>
public sealed record MigrationAnnotations(
    ConfigMapSelection Migrations,
    SecretKeyReference DatabaseSecret,
    MigrationFormat? Format,
    string HistoryTable,
    IReadOnlyList<string> Allow,
    string? ApprovedPlanHash,
    DryRunMode DryRun,
    TimeSpan JobTimeout,
    SecretKeyReference? PlanSecret,
    SecretKeyReference? DevDatabaseSecret)
{
    public const string DefaultHistoryTable = "gatekeeper_schema_history";

    public static TimeSpan DefaultJobTimeout { get; } = TimeSpan.FromMinutes(30);

    /// <summary>File name patterns (<c>*</c>, <c>?</c>) of migration files to leave out on purpose (<c>gatekeeper.dev/ignore</c>).</summary>
    public IReadOnlyList<string> Ignore { get; init; } = [];

    /// <summary>What open transactions on the plan's tables do to the rollout (<c>gatekeeper.dev/lock-preflight</c>).</summary>
    public Core.Planning.LockPreflightPolicy LockPreflight { get; init; } = Core.Planning.LockPreflightPolicy.Deny;

    /// <summary>
    /// What a pending migration that stops serving pods or outlasts the progress deadline does to the admission
    /// (<c>gatekeeper.dev/capacity-policy</c>); null: the webhook's default (<c>Webhook:CapacityPolicy</c>).
    /// </summary>
    public Deployments.CapacityPolicy? CapacityPolicy { get; init; }

    /// <summary>The credential the webhook uses to plan and dry-run: <see cref="PlanSecret"/> when set.</summary>
    public SecretKeyReference PlanningSecret => PlanSecret ?? DatabaseSecret;

    /// <summary>
    /// Declarative mode (<c>gatekeeper.dev/schema</c>): <see cref="Migrations"/> then names the ConfigMaps holding the
    /// desired schema, and the plan is the difference between it and the live database.
    /// </summary>
    public bool Declarative { get; init; }

    /// <summary>Declarative mode: the <c>gatekeeper.dev/schema-exclude</c> patterns (objects another tool owns).</summary>
    public IReadOnlyList<string> SchemaExclude { get; init; } = [];

    /// <summary>The annotation that names the source ConfigMaps, for messages.</summary>
    public string SourceAnnotation => Declarative ? GatekeeperNames.Schema : GatekeeperNames.Migrations;
}

/// <summary>One annotation that cannot be used, with a sentence naming it and its value.</summary>
public sealed record AnnotationProblem(string Annotation, string Message)
{
    public override string ToString() => Message;
}

/// <summary>
/// Either the validated annotations or the problems that stop them (never both), plus warnings for things
/// that do not block (an unknown <c>gatekeeper.dev/</c> annotation, probably a typo).
/// </summary>
public sealed record MigrationAnnotationsParseResult(
    MigrationAnnotations? Annotations,
    IReadOnlyList<AnnotationProblem> Problems,
    IReadOnlyList<string> Warnings)
{
    [MemberNotNullWhen(true, nameof(Annotations))]
    public bool Succeeded => Annotations is not null;
}
