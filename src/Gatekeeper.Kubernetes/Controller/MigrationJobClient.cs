using System.Net;
using Gatekeeper.Kubernetes.Annotations;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Controller;

public enum LaunchResult
{
    Created,
    /// <summary>A Job of that name exists (<see cref="LaunchOutcome.Job"/>): the attempt is already running or ran.</summary>
    AlreadyExists,
    /// <summary>A source the Job would mount is missing; <see cref="LaunchOutcome.Reason"/> says which kind.</summary>
    Blocked,
}

/// <summary>What became of a launch. <see cref="Problem"/> is one sentence naming the missing object (never a value from it).</summary>
public sealed record LaunchOutcome(LaunchResult Result, V1Job? Job, string? Reason, string? Problem)
{
    public static LaunchOutcome Blocked(string reason, string problem) => new(LaunchResult.Blocked, null, reason, problem);
}

/// <summary>
/// Creates migration Jobs and reads why one failed. Before creating, it checks that what the Job mounts exists
/// (a pod whose ConfigMap or Secret key is missing would wait in ContainerCreating until its deadline) and resolves
/// a label selector to ConfigMap names and a Secret without a key to the key it holds (<c>url</c>, then <c>uri</c>);
/// it never reads the Secret's value.
/// </summary>
public sealed class MigrationJobClient(KubernetesApi kubernetes, MigrationJobSettings settings, MigrationJobSigner signer)
{
    /// <summary>The label the Job controller puts on its pods (Kubernetes 1.27 and later).</summary>
    public const string JobNameLabel = "batch.kubernetes.io/job-name";

    /// <summary>Signs the Jobs this client creates, and tells them from look-alikes.</summary>
    public MigrationJobSigner Signer => signer;

    public async Task<LaunchOutcome> LaunchAsync(DeploymentFacts deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var annotations = deployment.Annotations.Annotations
            ?? throw new ArgumentException("the Deployment's annotations do not parse", nameof(deployment));
        var plan = deployment.Plan ?? throw new ArgumentException("the Deployment has no plan", nameof(deployment));
        var ns = deployment.Namespace;

        var configMaps = await ConfigMapNamesAsync(ns, annotations.Migrations, annotations.SourceAnnotation, cancellationToken).ConfigureAwait(false);
        if (configMaps.Problem is { } sourceProblem)
        {
            return LaunchOutcome.Blocked(StatusReasons.SourceInvalid, sourceProblem);
        }

        var secretKey = await SecretKeyAsync(ns, annotations.DatabaseSecret, GatekeeperNames.DatabaseSecret, cancellationToken).ConfigureAwait(false);
        if (secretKey.Problem is { } secretProblem)
        {
            return LaunchOutcome.Blocked(StatusReasons.SecretInvalid, secretProblem);
        }

        // Declarative mode: the Job plans again under the lock, loading the desired state on the dev server (a throwaway
        // database there, or on the database's own server without one), so it mounts that Secret too.
        string? devKey = null;
        if (annotations.Declarative && annotations.DevDatabaseSecret is { } devSecret)
        {
            var dev = await SecretKeyAsync(ns, devSecret, GatekeeperNames.DevDatabaseSecret, cancellationToken).ConfigureAwait(false);
            if (dev.Problem is { } devProblem)
            {
                return LaunchOutcome.Blocked(StatusReasons.SecretInvalid, devProblem);
            }

            devKey = dev.Key;
        }

        var request = new MigrationJobRequest(
            ns, deployment.JobName!, deployment.Name, deployment.Uid, plan, deployment.TargetVersion, deployment.Retry,
            configMaps.Names, annotations.DatabaseSecret.Name, secretKey.Key!, annotations.HistoryTable, annotations.Format, annotations.JobTimeout,
            signer.Sign(ns, deployment.Uid, plan, deployment.JobName!))
        {
            Ignore = annotations.Ignore,
            Declarative = annotations.Declarative,
            SchemaExclude = annotations.SchemaExclude,
            DevSecretName = devKey is null ? null : annotations.DevDatabaseSecret!.Name,
            DevSecretKey = devKey,
            TraceParent = ControllerTracing.CurrentTraceParent(),
        };
        var job = MigrationJobBuilder.Build(request, settings);
        try
        {
            var created = await kubernetes.CreateNamespacedJobAsync(job, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new LaunchOutcome(LaunchResult.Created, created, null, null);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Read what exists so the next decision sees it now rather than when its watch event comes.
            try
            {
                var existing = await kubernetes.ReadNamespacedJobAsync(job.Metadata.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                return new LaunchOutcome(LaunchResult.AlreadyExists, existing, null, null);
            }
            catch (HttpOperationException read) when (read.Response.StatusCode == HttpStatusCode.NotFound)
            {
                // A 409 with no Job behind it (deleted in between, or a Conflict rather than AlreadyExists). Reporting
                // the attempt as running would name a Job that does not exist, and nothing would look again until the
                // resync; failing the reconcile retries it after a backoff.
                throw new InvalidOperationException($"creating Job {ns}/{job.Metadata.Name} was refused with 409, yet no such Job exists", e);
            }
        }
    }

    /// <summary>
    /// What the failed Job's runner said last: the termination message of its most recent pod that ended with one
    /// (the runner writes a one-line reason; with <c>FallbackToLogsOnError</c> the log's tail otherwise). Null when no
    /// pod is left to ask.
    /// </summary>
    public async Task<string?> ExplainFailureAsync(string @namespace, string job, CancellationToken cancellationToken)
    {
        var pods = await kubernetes.ListNamespacedPodAsync(@namespace, labelSelector: $"{JobNameLabel}={job}", cancellationToken: cancellationToken).ConfigureAwait(false);
        var ended = pods.Items
            .SelectMany(pod => pod.Status?.ContainerStatuses ?? [])
            .Where(status => status.Name == MigrationJobBuilder.ContainerName)
            .Select(status => status.State?.Terminated ?? status.LastState?.Terminated)
            .Where(terminated => terminated is not null && !string.IsNullOrWhiteSpace(terminated.Message))
            .OrderByDescending(terminated => terminated!.FinishedAt ?? DateTime.MinValue)
            .FirstOrDefault();
        return ended is null ? null : FailureMessages.Clean(ended.Message);
    }

    /// <summary>
    /// Why a running Job has no pod: its newest FailedCreate Event (the API server refused the pod: a ResourceQuota, a
    /// LimitRange, an admission webhook or policy). Null when there is none, or when Gatekeeper may not list Events there.
    /// </summary>
    public async Task<JobPodStart?> ExplainMissingPodAsync(string @namespace, MigrationJobFacts job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        Corev1EventList events;
        try
        {
            events = await kubernetes.ListNamespacedEventAsync(@namespace, fieldSelector: $"involvedObject.uid={job.Uid},reason=FailedCreate", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
        {
            return null;
        }

        var newest = events.Items
            .OrderByDescending(e => e.LastTimestamp ?? e.EventTime ?? e.FirstTimestamp ?? e.Metadata?.CreationTimestamp ?? DateTime.MinValue)
            .FirstOrDefault();
        return newest is null ? null : new JobPodStart(job.Name, false, "FailedCreate", newest.Message ?? string.Empty);
    }

    private async Task<(IReadOnlyList<string> Names, string? Problem)> ConfigMapNamesAsync(string ns, ConfigMapSelection selection, string annotation, CancellationToken cancellationToken)
    {
        try
        {
            if (selection.LabelSelector is { } selector)
            {
                var list = await kubernetes.ListNamespacedConfigMapAsync(ns, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
                var names = list.Items.Select(c => c.Metadata.Name).Order(StringComparer.Ordinal).ToList();
                return names.Count == 0
                    ? ([], $"no ConfigMap in namespace {ns} matches selector {selector} (annotation {annotation})")
                    : (names, null);
            }

            foreach (var name in selection.Names)
            {
                try
                {
                    await kubernetes.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    return ([], $"ConfigMap {ns}/{name} named by annotation {annotation} does not exist");
                }
            }

            return (selection.Names, null);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            return ([], $"Gatekeeper may not read ConfigMaps in namespace {ns} (forbidden){Sources.NamespaceGrants.Hint(ns)}");
        }
    }

    private async Task<(string? Key, string? Problem)> SecretKeyAsync(string ns, SecretKeyReference reference, string annotation, CancellationToken cancellationToken)
    {
        V1Secret secret;
        try
        {
            secret = await kubernetes.ReadNamespacedSecretAsync(reference.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return (null, $"Secret {ns}/{reference.Name} named by annotation {annotation} does not exist");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
        {
            return (null, $"Gatekeeper may not read Secret {ns}/{reference.Name} (forbidden){Sources.NamespaceGrants.Hint(ns)}");
        }

        var keys = reference.Key is null ? SecretKeyReference.DefaultKeys : [reference.Key];
        foreach (var key in keys)
        {
            if (secret.Data?.TryGetValue(key, out var value) == true && value is { Length: > 0 })
            {
                return (key, null);
            }

            if (secret.StringData?.TryGetValue(key, out var text) == true && !string.IsNullOrEmpty(text))
            {
                return (key, null);
            }
        }

        return (null, reference.Key is null
            ? $"Secret {ns}/{reference.Name} has no non-empty key url or uri; name the key with {annotation}: {reference.Name}/<key>"
            : $"Secret {ns}/{reference.Name} has no non-empty key {reference.Key} (annotation {annotation})");
    }
}
