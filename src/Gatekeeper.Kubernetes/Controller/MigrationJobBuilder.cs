using Gatekeeper.Core.Migrations;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>How every migration Job's pod runs, from the controller's options (Helm values).</summary>
public sealed record MigrationJobSettings
{
    /// <summary>Gatekeeper's own image: the Job runs <c>gatekeeper migrate</c>, so no sidecar and no second image.</summary>
    public required string Image { get; init; }

    public string ImagePullPolicy { get; init; } = "IfNotPresent";

    /// <summary>Secrets in the Deployment's namespace for pulling <see cref="Image"/> from a private registry.</summary>
    public IReadOnlyList<string> ImagePullSecrets { get; init; } = [];

    /// <summary>Pod retries before the Job fails; retries are safe because the runner takes an advisory lock and reads the history.</summary>
    public int BackoffLimit { get; init; } = 2;

    /// <summary>How long a finished Job (and its pod's log) stays for people to read.</summary>
    public TimeSpan TimeToLiveAfterFinished { get; init; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The non-root user the runner runs as (and the group that may read the mounted Secret): the .NET images' "app"
    /// user, which Gatekeeper's image runs as.
    /// </summary>
    public long RunAsUser { get; init; } = 1654;

    public string CpuRequest { get; init; } = "50m";

    public string MemoryRequest { get; init; } = "64Mi";

    public string MemoryLimit { get; init; } = "256Mi";

    /// <summary>No CPU limit unless asked for (a ResourceQuota on limits.cpu): throttling only makes the migration slower.</summary>
    public string? CpuLimit { get; init; }

    /// <summary>What the cluster's rules ask of every pod: annotations, labels, placement, priority, ServiceAccount.</summary>
    public MigrationJobPod Pod { get; init; } = MigrationJobPod.Default;

    /// <summary>Where Gatekeeper itself exports spans (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>): the runner exports its own there too.</summary>
    public string? OtlpEndpoint { get; init; }
}

/// <summary>One attempt at one plan, with its sources resolved to concrete ConfigMaps and a Secret key.</summary>
/// <param name="ConfigMaps">The ConfigMaps holding the migration files, mounted together as one directory.</param>
/// <param name="SecretKey">The key of <paramref name="SecretName"/> holding the database URL.</param>
/// <param name="Timeout">The Job's activeDeadlineSeconds (<c>gatekeeper.dev/job-timeout</c>).</param>
/// <param name="Signature">What <see cref="MigrationJobSigner"/> gives this Job: the label that tells it from a look-alike.</param>
public sealed record MigrationJobRequest(
    string Namespace,
    string JobName,
    string Deployment,
    string DeploymentUid,
    string Plan,
    string? TargetVersion,
    string? Retry,
    IReadOnlyList<string> ConfigMaps,
    string SecretName,
    string SecretKey,
    string HistoryTable,
    MigrationFormat? Format,
    TimeSpan Timeout,
    string Signature)
{
    /// <summary>The <c>gatekeeper.dev/ignore</c> patterns: the runner leaves out the files the webhook left out.</summary>
    public IReadOnlyList<string> Ignore { get; init; } = [];

    /// <summary>
    /// Declarative mode (<c>gatekeeper.dev/schema</c>): the ConfigMaps hold the desired schema and the Job runs
    /// <c>gatekeeper schema apply --expect-plan</c>, which plans again under the lock and applies only the admitted plan.
    /// </summary>
    public bool Declarative { get; init; }

    /// <summary>Declarative mode: the <c>gatekeeper.dev/schema-exclude</c> patterns, passed as <c>--exclude</c>.</summary>
    public IReadOnlyList<string> SchemaExclude { get; init; } = [];

    /// <summary>Declarative mode: the Secret (and key) of <c>gatekeeper.dev/dev-database-secret</c>, the server the desired state is loaded on.</summary>
    public string? DevSecretName { get; init; }

    public string? DevSecretKey { get; init; }

    /// <summary>The reconcile span's W3C context, passed to the runner as <c>TRACEPARENT</c>; null when tracing is off.</summary>
    public string? TraceParent { get; init; }
}

/// <summary>
/// Builds the migration Job for one attempt. Pure: the same request and settings give the same Job, which the
/// approved snapshots hold to.
/// </summary>
public static class MigrationJobBuilder
{
    public const string ContainerName = "migrate";
    public const string MigrationsDirectory = "/migrations";
    public const string DatabaseDirectory = "/var/run/gatekeeper/db";
    public const string DatabaseUrlFile = DatabaseDirectory + "/url";
    public const string DevDatabaseDirectory = "/var/run/gatekeeper/dev";
    public const string DevDatabaseUrlFile = DevDatabaseDirectory + "/url";
    public const string ManagedBy = "gatekeeper";

    public static V1Job Build(MigrationJobRequest request, MigrationJobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(settings);
        if (request.ConfigMaps.Count == 0)
        {
            throw new ArgumentException("a migration Job needs at least one ConfigMap", nameof(request));
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["app.kubernetes.io/managed-by"] = ManagedBy,
            ["app.kubernetes.io/component"] = "migration",
            [GatekeeperNames.PlanLabel] = GatekeeperNames.PlanLabelValue(request.Plan),
            [GatekeeperNames.Deployment] = MigrationJobNames.DeploymentLabelValue(request.Deployment),
            [MigrationJobSigner.Label] = request.Signature,
        };
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [GatekeeperNames.Plan] = request.Plan,
            [GatekeeperNames.Deployment] = request.Deployment,
        };
        if (request.TargetVersion is not null)
        {
            annotations[GatekeeperNames.TargetVersion] = request.TargetVersion;
        }

        if (request.Retry is not null)
        {
            annotations[GatekeeperNames.Retry] = request.Retry;
        }

        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = request.JobName,
                NamespaceProperty = request.Namespace,
                Labels = labels,
                Annotations = annotations,
                // Garbage-collected with the Deployment. Not a controller reference (the Deployment controller owns
                // only ReplicaSets) and no blockOwnerDeletion, which would need update on deployments/finalizers.
                OwnerReferences =
                [
                    new V1OwnerReference
                    {
                        ApiVersion = "apps/v1",
                        Kind = "Deployment",
                        Name = request.Deployment,
                        Uid = request.DeploymentUid,
                        Controller = false,
                        BlockOwnerDeletion = false,
                    },
                ],
            },
            Spec = new V1JobSpec
            {
                BackoffLimit = settings.BackoffLimit,
                ActiveDeadlineSeconds = (long)Math.Ceiling(request.Timeout.TotalSeconds),
                TtlSecondsAfterFinished = (int)Math.Ceiling(settings.TimeToLiveAfterFinished.TotalSeconds),
                // A pod evicted by a node drain or preemption did not fail the migration: do not count it as a retry.
                PodFailurePolicy = new V1PodFailurePolicy
                {
                    Rules =
                    [
                        new V1PodFailurePolicyRule
                        {
                            Action = "Ignore",
                            OnPodConditions = [new V1PodFailurePolicyOnPodConditionsPattern { Type = "DisruptionTarget", Status = "True" }],
                        },
                    ],
                },
                Template = new V1PodTemplateSpec
                {
                    // No gatekeeper.dev/plan annotation here: the pod webhook would gate the very pod that applies the plan.
                    Metadata = new V1ObjectMeta
                    {
                        Labels = PodLabels(labels, settings.Pod),
                        Annotations = PodAnnotations(settings.Pod),
                    },
                    Spec = PodSpec(request, settings),
                },
            },
        };
    }

    /// <summary>
    /// The runner's arguments: the mounted directory, the mounted URL file, what the Deployment's annotations pin, and the
    /// plan the webhook admitted (<c>--expect-plan</c>), so the Job applies exactly that plan and refuses any other. It is
    /// handed the stamp, the release key: the runner checks the plan it makes under the lock against the plan hash that
    /// key begins with (or, for a stamp written before hash version 3, against that version's hash).
    /// </summary>
    public static IReadOnlyList<string> Arguments(MigrationJobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Declarative)
        {
            return DeclarativeArguments(request);
        }

        var arguments = new List<string>
        {
            "migrate",
            "--dir", MigrationsDirectory,
            "--url-file", DatabaseUrlFile,
            "--history-table", request.HistoryTable,
            "--expect-plan", request.Plan,
        };
        if (request.Format is { } format)
        {
            arguments.Add("--format");
            arguments.Add(MigrationFormats.Name(format));
        }

        foreach (var pattern in request.Ignore)
        {
            arguments.Add("--ignore");
            arguments.Add(pattern);
        }

        return arguments;
    }

    /// <summary>The cluster's labels first, Gatekeeper's own over them (a template cannot set those; see <see cref="MigrationJobPod"/>).</summary>
    private static Dictionary<string, string> PodLabels(Dictionary<string, string> gatekeepers, MigrationJobPod pod)
    {
        var labels = new Dictionary<string, string>(pod.Labels, StringComparer.Ordinal);
        foreach (var (key, value) in gatekeepers)
        {
            labels[key] = value;
        }

        return labels;
    }

    private static Dictionary<string, string> PodAnnotations(MigrationJobPod pod) =>
        new(pod.Annotations, StringComparer.Ordinal) { ["kubectl.kubernetes.io/default-container"] = ContainerName };

    private static Dictionary<string, ResourceQuantity> Limits(MigrationJobSettings settings)
    {
        var limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new(settings.MemoryLimit) };
        if (settings.CpuLimit is { } cpu)
        {
            limits["cpu"] = new(cpu);
        }

        return limits;
    }

    /// <summary>
    /// <c>schema apply</c> with the plan the webhook admitted: the same desired state, loaded the same way (a throwaway
    /// database on the dev server, or on the database's own server without one), and the same exclusions, so the plan
    /// made under the lock is the admitted one or nothing is applied.
    /// </summary>
    private static List<string> DeclarativeArguments(MigrationJobRequest request)
    {
        var arguments = new List<string>
        {
            "schema", "apply",
            "--to", MigrationsDirectory,
            "--url-file", DatabaseUrlFile,
            "--expect-plan", request.Plan,
            "--dev-throwaway",
        };
        if (request.DevSecretName is not null)
        {
            arguments.Add("--dev-url-file");
            arguments.Add(DevDatabaseUrlFile);
        }

        foreach (var pattern in request.SchemaExclude)
        {
            arguments.Add("--exclude");
            arguments.Add(pattern);
        }

        return arguments;
    }

    private static V1PodSpec PodSpec(MigrationJobRequest request, MigrationJobSettings settings) => new()
    {
        RestartPolicy = "Never",
        ServiceAccountName = settings.Pod.ServiceAccountName,
        NodeSelector = settings.Pod.NodeSelector is { } selector ? new Dictionary<string, string>(selector, StringComparer.Ordinal) : null,
        Tolerations = settings.Pod.Tolerations is { } tolerations ? [.. tolerations] : null,
        Affinity = settings.Pod.Affinity,
        PriorityClassName = settings.Pod.PriorityClassName,
        // The runner talks to the database only; it needs no Kubernetes credentials.
        AutomountServiceAccountToken = false,
        EnableServiceLinks = false,
        ImagePullSecrets = settings.ImagePullSecrets.Count == 0 ? null : settings.ImagePullSecrets.Select(name => new V1LocalObjectReference { Name = name }).ToList(),
        SecurityContext = new V1PodSecurityContext
        {
            RunAsNonRoot = true,
            RunAsUser = settings.RunAsUser,
            RunAsGroup = settings.RunAsUser,
            FsGroup = settings.RunAsUser,
            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
        },
        Containers =
        [
            new V1Container
            {
                Name = ContainerName,
                Image = settings.Image,
                ImagePullPolicy = settings.ImagePullPolicy,
                Args = Arguments(request).ToList(),
                Env = EnvironmentVariables(request, settings),
                // The runner writes a one-line reason to /dev/termination-log; when it could not, the log's tail stands in.
                TerminationMessagePolicy = "FallbackToLogsOnError",
                Resources = new V1ResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity>
                    {
                        ["cpu"] = new(settings.CpuRequest),
                        ["memory"] = new(settings.MemoryRequest),
                    },
                    Limits = Limits(settings),
                },
                SecurityContext = new V1SecurityContext
                {
                    RunAsNonRoot = true,
                    ReadOnlyRootFilesystem = true,
                    AllowPrivilegeEscalation = false,
                    Capabilities = new V1Capabilities { Drop = ["ALL"] },
                    SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                },
                VolumeMounts = VolumeMounts(request),
            },
        ],
        Volumes = Volumes(request),
    };

    /// <summary>
    /// The trace the Job's run joins, and where it exports its spans; nothing when Gatekeeper exports no spans itself (no
    /// endpoint) or records none (no trace context), so a Job without tracing looks as it always did.
    /// </summary>
    private static List<V1EnvVar>? EnvironmentVariables(MigrationJobRequest request, MigrationJobSettings settings) =>
        request.TraceParent is { } traceParent && settings.OtlpEndpoint is { } endpoint
            ? [new V1EnvVar { Name = ControllerTracing.TraceParentVariable, Value = traceParent }, new V1EnvVar { Name = "OTEL_EXPORTER_OTLP_ENDPOINT", Value = endpoint }]
            : null;

    private static List<V1VolumeMount> VolumeMounts(MigrationJobRequest request)
    {
        var mounts = new List<V1VolumeMount>
        {
            new() { Name = "migrations", MountPath = MigrationsDirectory, ReadOnlyProperty = true },
            new() { Name = "database-url", MountPath = DatabaseDirectory, ReadOnlyProperty = true },
            new() { Name = "tmp", MountPath = "/tmp" },
        };
        if (request.Declarative && request.DevSecretName is not null)
        {
            mounts.Add(new V1VolumeMount { Name = "dev-database-url", MountPath = DevDatabaseDirectory, ReadOnlyProperty = true });
        }

        return mounts;
    }

    private static List<V1Volume> Volumes(MigrationJobRequest request)
    {
        var volumes = new List<V1Volume>
        {
            new V1Volume
            {
                Name = "migrations",
                // One directory from every ConfigMap (a large history spans several; their keys are distinct).
                Projected = new V1ProjectedVolumeSource
                {
                    DefaultMode = Octal("0444"),
                    Sources = request.ConfigMaps.Select(name => new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = name } }).ToList(),
                },
            },
            new V1Volume
            {
                Name = "database-url",
                // The Secret is referenced, never copied: only the kubelet reads it, into a file only the runner's group can read.
                Secret = new V1SecretVolumeSource
                {
                    SecretName = request.SecretName,
                    DefaultMode = Octal("0440"),
                    Items = [new V1KeyToPath { Key = request.SecretKey, Path = "url" }],
                },
            },
            new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("64Mi") } },
        };
        if (request.Declarative && request.DevSecretName is { } devSecret)
        {
            volumes.Add(new V1Volume
            {
                Name = "dev-database-url",
                Secret = new V1SecretVolumeSource
                {
                    SecretName = devSecret,
                    DefaultMode = Octal("0440"),
                    Items = [new V1KeyToPath { Key = request.DevSecretKey ?? "url", Path = "url" }],
                },
            });
        }

        return volumes;
    }

    private static int Octal(string mode) => Convert.ToInt32(mode, 8);
}
