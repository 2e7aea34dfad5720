using Gatekeeper.Kubernetes.Deployments;
using Gatekeeper.Webhook.Certificates;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Webhook;

/// <summary>
/// Everything `gatekeeper serve` can be told, bound from the <c>Webhook</c> configuration section (Helm values
/// map 1:1 to these keys) and from the command line, and validated at start.
/// Properties are settable, not init-only: the configuration binding source generator (the binder of the Native AOT
/// binary) skips init-only properties without a word.
/// </summary>
public sealed record WebhookOptions
{
    public const string Section = "Webhook";

    /// <summary>Address Kestrel listens on; "0.0.0.0" in a pod, "127.0.0.1" in tests.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>HTTPS port; 0 picks a free one (tests).</summary>
    public int Port { get; set; } = 8443;

    /// <summary>PEM certificate (chain) file, as cert-manager writes it (tls.crt).</summary>
    public string? TlsCertificateFile { get; set; }

    /// <summary>PEM private key file (tls.key).</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>How often a TLS handshake may look at the certificate files for a rotation.</summary>
    public TimeSpan CertificateCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <c>namespace/name</c> of the Secret in which Gatekeeper keeps its own CA and serving certificate (the chart's
    /// default, without cert-manager): created at the first start, rotated before expiry, served without a restart.
    /// Unset: the certificate files above are served (cert-manager).
    /// </summary>
    public string? ManagedCertificateSecret { get; set; }

    /// <summary>Name of Gatekeeper's MutatingWebhookConfiguration and ValidatingWebhookConfiguration, whose caBundle it patches (managed certificates).</summary>
    public string? ManagedWebhookConfiguration { get; set; }

    /// <summary>DNS names of the managed serving certificate: the webhook Service's, as the API server dials it.</summary>
    public IList<string> ManagedCertificateDnsNames { get; set; } = [];

    /// <summary>Lifetime of the managed CA; a new one is made when a third remains, and both are trusted until the old one expires.</summary>
    public TimeSpan CaValidity { get; set; } = TimeSpan.FromHours(8760);

    /// <summary>Lifetime of the managed serving certificate; a new one is issued when a third remains.</summary>
    public TimeSpan ServingCertificateValidity { get; set; } = TimeSpan.FromHours(2160);

    /// <summary>How long a new CA is in the caBundle before the serving certificate it signs is served.</summary>
    public TimeSpan CertificateRotationOverlap { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often each replica looks at the managed Secret and the webhook configurations' caBundle.</summary>
    public TimeSpan CertificateRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Generate a throwaway CA and serving certificate instead of reading files (never in production).</summary>
    public bool DevelopmentCertificates { get; set; }

    /// <summary>Where development certificates are written (ca.crt, tls.crt, tls.key).</summary>
    public string? DevelopmentCertificateDirectory { get; set; }

    /// <summary>DNS names the development serving certificate is valid for (besides localhost and loopback addresses).</summary>
    public IList<string> DevelopmentDnsNames { get; set; } = [];

    /// <summary>
    /// Largest AdmissionReview body accepted (larger: 413). A Deployment stored in etcd is at most 1.5 MiB and an
    /// UPDATE review carries it twice.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Time within which every admission request is answered; below the webhook's timeoutSeconds (10 s).</summary>
    public TimeSpan RequestBudget { get; set; } = TimeSpan.FromSeconds(8);

    /// <summary>Retries after a transient failure of a Kubernetes API or database call, within the budget.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>First retry delay; doubled for each further retry.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Admit Deployments when Gatekeeper cannot decide (database or API unreachable, budget exceeded): non-production only.</summary>
    public bool FailOpen { get; set; }

    /// <summary>Namespaces that fail open even when <see cref="FailOpen"/> is false.</summary>
    public IList<string> FailOpenNamespaces { get; set; } = [];

    /// <summary>Plans kept for the validating step and for re-applies.</summary>
    public int PlanCacheCapacity { get; set; } = 256;

    /// <summary>How long a cached plan and verdict stay usable.</summary>
    public TimeSpan PlanCacheTimeToLive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The lock pre-flight names a session holding a lock on a plan's table once its transaction has been open this
    /// long: shorter ones end before the Job's lock timeout.
    /// </summary>
    public TimeSpan LockPreflightMinimumAge { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// What a pending migration that stops serving pods (strategy Recreate, maxUnavailable above 0) or may outlast the
    /// Deployment's progressDeadlineSeconds does to its admission, unless the Deployment's
    /// <c>gatekeeper.dev/capacity-policy</c> says otherwise: Warn (admitted with a warning) or Deny.
    /// </summary>
    public CapacityPolicy CapacityPolicy { get; set; } = CapacityPolicy.Warn;

    /// <summary>Watch opted-in Deployments to learn the plans applied for each from its record (off only in tests of other parts).</summary>
    public bool WatchDeployments { get; set; } = true;

    /// <summary>Kubeconfig file for running outside a cluster; in a pod the service account is used.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>True when Gatekeeper keeps its own certificate (<see cref="ManagedCertificateSecret"/> set).</summary>
    public bool ManagesCertificate => !string.IsNullOrEmpty(ManagedCertificateSecret);

    public CertificatePolicy CertificatePolicy() =>
        new([.. ManagedCertificateDnsNames], CaValidity, ServingCertificateValidity, CertificateRotationOverlap);

    /// <summary>"namespace/name" → its two parts (validated at start).</summary>
    public static (string Namespace, string Name) SplitSecret(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var slash = secret.IndexOf('/', StringComparison.Ordinal);
        return (secret[..slash], secret[(slash + 1)..]);
    }

    public bool FailsOpenIn(string? @namespace) =>
        FailOpen || (@namespace is not null && FailOpenNamespaces.Contains(@namespace, StringComparer.Ordinal));
}

/// <summary>Checks the options once at start, so a bad value stops the process with one line instead of a bad answer later.</summary>
/// <param name="flags">For <c>gatekeeper serve</c>: the options its flags set, by property name, as the user wrote them
/// (<c>--request-budget 45s</c>); a failure about one of them speaks in that flag instead of the configuration key.</param>
public sealed class WebhookOptionsValidator(IReadOnlyDictionary<string, string>? flags = null) : IValidateOptions<WebhookOptions>
{
    /// <summary>The flag as given, or the configuration key with its value.</summary>
    private string Setting(string property, object? value) =>
        flags is not null && flags.TryGetValue(property, out var flag) ? flag : $"{WebhookOptions.Section}:{property} {value}";

    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!System.Net.IPAddress.TryParse(options.ListenAddress, out _))
        {
            failures.Add($"{Setting(nameof(options.ListenAddress), $"\"{options.ListenAddress}\"")} is not an IP address.");
        }

        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{Setting(nameof(options.Port), options.Port)} is not a TCP port.");
        }

        if (options.ManagesCertificate)
        {
            ValidateManagedCertificate(options, failures);
        }
        else if (!options.DevelopmentCertificates && (string.IsNullOrEmpty(options.TlsCertificateFile) || string.IsNullOrEmpty(options.TlsKeyFile)))
        {
            failures.Add(flags is null
                ? "Webhook:TlsCertificateFile and Webhook:TlsKeyFile are required (the webhook serves HTTPS only), or Webhook:ManagedCertificateSecret for a certificate Gatekeeper keeps itself; use --dev-certificates for a throwaway CA."
                : "--tls-cert-file and --tls-key-file are required (the webhook serves HTTPS only; configuration keys Webhook:TlsCertificateFile and Webhook:TlsKeyFile), or Webhook:ManagedCertificateSecret for a certificate Gatekeeper keeps itself; use --dev-certificates for a throwaway CA.");
        }

        if (options.RequestBudget <= TimeSpan.Zero || options.RequestBudget >= TimeSpan.FromSeconds(30))
        {
            failures.Add($"{Setting(nameof(options.RequestBudget), options.RequestBudget)} must be above zero and below the API server's 30 s webhook limit.");
        }

        if (options.MaxRequestBodyBytes < 64 * 1024)
        {
            failures.Add($"Webhook:MaxRequestBodyBytes {options.MaxRequestBodyBytes} is below 64 KiB; real Deployments would be refused.");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            failures.Add($"Webhook:MaxRetries {options.MaxRetries} must be between 0 and 10.");
        }

        if (options.PlanCacheCapacity < 1)
        {
            failures.Add($"Webhook:PlanCacheCapacity {options.PlanCacheCapacity} must be at least 1.");
        }

        if (options.LockPreflightMinimumAge < TimeSpan.Zero)
        {
            failures.Add($"Webhook:LockPreflightMinimumAge {options.LockPreflightMinimumAge} must not be negative.");
        }

        if (!Enum.IsDefined(options.CapacityPolicy))
        {
            failures.Add($"Webhook:CapacityPolicy {options.CapacityPolicy} is not Warn or Deny.");
        }

        if (options.CertificateCheckInterval <= TimeSpan.Zero)
        {
            failures.Add("Webhook:CertificateCheckInterval must be above zero.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateManagedCertificate(WebhookOptions options, List<string> failures)
    {
        var secret = options.ManagedCertificateSecret!;
        var slash = secret.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == secret.Length - 1 || secret.IndexOf('/', slash + 1) >= 0)
        {
            failures.Add($"Webhook:ManagedCertificateSecret \"{secret}\" must be namespace/name.");
        }

        if (string.IsNullOrWhiteSpace(options.ManagedWebhookConfiguration))
        {
            failures.Add("Webhook:ManagedWebhookConfiguration is required with Webhook:ManagedCertificateSecret (the webhook configurations whose caBundle Gatekeeper keeps).");
        }

        if (!options.ManagedCertificateDnsNames.Any(n => !string.IsNullOrWhiteSpace(n)))
        {
            failures.Add("Webhook:ManagedCertificateDnsNames is required with Webhook:ManagedCertificateSecret (the webhook Service's DNS name, e.g. gatekeeper.gatekeeper-system.svc).");
        }

        if (options.ServingCertificateValidity < TimeSpan.FromHours(1) || options.ServingCertificateValidity > options.CaValidity)
        {
            failures.Add($"Webhook:ServingCertificateValidity {options.ServingCertificateValidity} must be at least an hour and at most Webhook:CaValidity ({options.CaValidity}).");
        }

        if (options.CertificateRotationOverlap < TimeSpan.Zero || options.CertificateRotationOverlap >= options.CaValidity / 3)
        {
            failures.Add($"Webhook:CertificateRotationOverlap {options.CertificateRotationOverlap} must be between zero and a third of Webhook:CaValidity (when the new CA is made).");
        }

        if (options.CertificateRefreshInterval <= TimeSpan.Zero || options.CertificateRefreshInterval >= options.ServingCertificateValidity / 3)
        {
            failures.Add($"Webhook:CertificateRefreshInterval {options.CertificateRefreshInterval} must be above zero and well below the renewal window (a third of Webhook:ServingCertificateValidity).");
        }
    }
}
