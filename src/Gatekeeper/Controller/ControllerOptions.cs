using System.Text.RegularExpressions;
using Gatekeeper.Kubernetes.Controller;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Controller;

/// <summary>
/// Everything the leader-elected controller inside <c>gatekeeper serve</c> can be told, bound from the
/// <c>Controller</c> configuration section (environment <c>Controller__Image</c> and so on; the Helm values map 1:1)
/// and validated at start.
/// Properties are settable, not init-only: the configuration binding source generator (the binder of the Native AOT
/// binary) skips init-only properties without a word.
/// </summary>
public sealed record ControllerOptions
{
    public const string Section = "Controller";

    public const string PodNameVariable = "POD_NAME";

    public const string PodNamespaceVariable = "POD_NAMESPACE";

    private const string ServiceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

    /// <summary>Run the controller (every replica still serves the webhook; only the Lease holder works).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The image migration Jobs run: Gatekeeper's own, which the chart renders here. Required while the controller is
    /// enabled (reading it from the pod itself would need RBAC on pods in Gatekeeper's namespace).
    /// </summary>
    public string? Image { get; set; }

    /// <summary>Gatekeeper's own namespace (the Lease, the Job signing key); unset, <c>POD_NAMESPACE</c>, else the service account's.</summary>
    public string? Namespace { get; set; }

    /// <summary>This pod's name, from the downward API's <c>POD_NAME</c> (see <see cref="DownwardApiSettings"/>); names the Lease holder.</summary>
    public string? PodName { get; set; }

    /// <summary>
    /// This pod's namespace, from the downward API's <c>POD_NAMESPACE</c>, else the ServiceAccount's namespace file
    /// (see <see cref="DownwardApiSettings"/>); Gatekeeper's own namespace when <see cref="Namespace"/> is unset.
    /// </summary>
    public string? PodNamespace { get; set; }

    /// <summary>Gatekeeper's ServiceAccount as <c>namespace/name</c>, named in the messages that say which permission is missing.</summary>
    public string? ServiceAccount { get; set; }

    public string ImagePullPolicy { get; set; } = "IfNotPresent";

    /// <summary>Pull secrets the Jobs use; they must exist in each application namespace.</summary>
    public IList<string> ImagePullSecrets { get; set; } = [];

    public int BackoffLimit { get; set; } = 2;

    /// <summary>How long a finished Job and its pod's log stay (ttlSecondsAfterFinished).</summary>
    public TimeSpan JobTimeToLive { get; set; } = TimeSpan.FromDays(1);

    public long RunAsUser { get; set; } = 1654;

    public string CpuRequest { get; set; } = "50m";

    public string MemoryRequest { get; set; } = "64Mi";

    public string MemoryLimit { get; set; } = "256Mi";

    /// <summary>Unset: no CPU limit (a ResourceQuota on limits.cpu needs one).</summary>
    public string? CpuLimit { get; set; }

    /// <summary>
    /// The Job pod's annotations, labels, nodeSelector, tolerations, affinity, priorityClassName and serviceAccountName,
    /// as a pod template in JSON (<c>{"metadata":{"annotations":{…}},"spec":{"tolerations":[…]}}</c>); the chart renders
    /// it from its <c>controller:</c> values. Sidecar injection stays off unless it says otherwise.
    /// </summary>
    public string? JobPodTemplate { get; set; }

    /// <summary>How often everything is listed again and every Deployment looked at, whatever the watches said.</summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The Lease's namespace; unset, Gatekeeper's own (<see cref="Namespace"/>).</summary>
    public string? LeaseNamespace { get; set; }

    public string LeaseName { get; set; } = "gatekeeper-controller";

    /// <summary>
    /// The Secret in Gatekeeper's own namespace holding the key that signs migration Jobs (created at the first start):
    /// only a Job carrying its signature counts as proof that a plan was applied.
    /// </summary>
    public string JobSigningSecret { get; set; } = "gatekeeper-job-signing";

    /// <summary>This replica's name in the Lease; unset, the pod name plus a random suffix.</summary>
    public string? Identity { get; set; }

    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan RenewDeadline { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// What the pod knows about itself, read once at start-up and bound as <c>Controller:PodName</c> and
    /// <c>Controller:PodNamespace</c> like every other key: the downward API's variables (the chart sets them),
    /// else, for the namespace, the ServiceAccount's namespace file.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string?>> DownwardApiSettings(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var podNamespace = environment(PodNamespaceVariable) is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : File.Exists(ServiceAccountNamespaceFile) ? File.ReadAllText(ServiceAccountNamespaceFile).Trim() : null;
        return
        [
            new($"{Section}:{nameof(PodName)}", environment(PodNameVariable) is { Length: > 0 } podName ? podName : null),
            new($"{Section}:{nameof(PodNamespace)}", podNamespace),
        ];
    }

    public MigrationJobSettings JobSettings(string image) => new()
    {
        Image = image,
        ImagePullPolicy = ImagePullPolicy,
        ImagePullSecrets = [.. ImagePullSecrets],
        BackoffLimit = BackoffLimit,
        TimeToLiveAfterFinished = JobTimeToLive,
        RunAsUser = RunAsUser,
        CpuRequest = CpuRequest,
        MemoryRequest = MemoryRequest,
        MemoryLimit = MemoryLimit,
        CpuLimit = CpuLimit,
        Pod = MigrationJobPod.TryParse(JobPodTemplate, out var pod, out _) ? pod : MigrationJobPod.Default,
    };
}

/// <summary>Checks the controller's options once at start: one line per bad value instead of a broken Job later.</summary>
public sealed partial class ControllerOptionsValidator : IValidateOptions<ControllerOptions>
{
    public ValidateOptionsResult Validate(string? name, ControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Image is { } image && (image.Length == 0 || image.Any(char.IsWhiteSpace)))
        {
            failures.Add($"Controller:Image \"{image}\" is not an image reference.");
        }

        if (options.ImagePullPolicy is not ("Always" or "IfNotPresent" or "Never"))
        {
            failures.Add($"Controller:ImagePullPolicy \"{options.ImagePullPolicy}\" must be Always, IfNotPresent or Never.");
        }

        if (options.BackoffLimit is < 0 or > 10)
        {
            failures.Add($"Controller:BackoffLimit {options.BackoffLimit} must be between 0 and 10.");
        }

        if (options.JobTimeToLive < TimeSpan.Zero || options.JobTimeToLive > TimeSpan.FromDays(30))
        {
            failures.Add($"Controller:JobTimeToLive {options.JobTimeToLive} must be between 0 and 30 days.");
        }

        if (options.RunAsUser <= 0)
        {
            failures.Add($"Controller:RunAsUser {options.RunAsUser} must be a non-root user id (above 0).");
        }

        foreach (var (key, value) in new[] { ("CpuRequest", options.CpuRequest), ("MemoryRequest", options.MemoryRequest), ("MemoryLimit", options.MemoryLimit), ("CpuLimit", options.CpuLimit) })
        {
            if (value is not null && !Quantity().IsMatch(value))
            {
                failures.Add($"Controller:{key} \"{value}\" is not a Kubernetes quantity (for example 50m, 64Mi, 1Gi).");
            }
        }

        if (!MigrationJobPod.TryParse(options.JobPodTemplate, out _, out var templateProblem))
        {
            failures.Add($"Controller:JobPodTemplate {templateProblem}.");
        }

        foreach (var secret in options.ImagePullSecrets.Where(s => !DnsSubdomain().IsMatch(s)))
        {
            failures.Add($"Controller:ImagePullSecrets \"{secret}\" is not a Secret name.");
        }

        if (options.ResyncInterval < TimeSpan.FromSeconds(10))
        {
            failures.Add($"Controller:ResyncInterval {options.ResyncInterval} must be at least 10 seconds.");
        }

        if (!DnsSubdomain().IsMatch(options.LeaseName))
        {
            failures.Add($"Controller:LeaseName \"{options.LeaseName}\" is not a valid object name.");
        }

        if (!DnsSubdomain().IsMatch(options.JobSigningSecret))
        {
            failures.Add($"Controller:JobSigningSecret \"{options.JobSigningSecret}\" is not a valid object name.");
        }

        if (options.Namespace is { } ownNamespace && !DnsSubdomain().IsMatch(ownNamespace))
        {
            failures.Add($"Controller:Namespace \"{ownNamespace}\" is not a valid namespace name.");
        }

        if (options.LeaseNamespace is { } leaseNamespace && !DnsSubdomain().IsMatch(leaseNamespace))
        {
            failures.Add($"Controller:LeaseNamespace \"{leaseNamespace}\" is not a valid namespace name.");
        }

        if (options.RetryPeriod <= TimeSpan.Zero || options.RenewDeadline <= options.RetryPeriod || options.LeaseDuration <= options.RenewDeadline)
        {
            failures.Add($"Controller:LeaseDuration ({options.LeaseDuration}) must exceed RenewDeadline ({options.RenewDeadline}), which must exceed RetryPeriod ({options.RetryPeriod}) > 0: a leader that cannot renew must stop before another may take over.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")]
    private static partial Regex Quantity();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();
}
