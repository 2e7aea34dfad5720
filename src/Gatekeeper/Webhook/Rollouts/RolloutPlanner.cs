using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Sources;
using k8s.Autorest;
using Polly.Timeout;
using DatabaseTarget = Gatekeeper.Databases.DatabaseTarget;

namespace Gatekeeper.Webhook.Rollouts;

/// <summary>Why a Deployment could not be planned; the names are the status reasons users see.</summary>
public static class PlanFailureReasons
{
    public const string AnnotationInvalid = "AnnotationInvalid";
    public const string SourceInvalid = "SourceInvalid";
    public const string SecretInvalid = "SecretInvalid";
    public const string DatabaseUnreachable = "DatabaseUnreachable";
    public const string DatabasePermissionDenied = Core.Planning.PlanVerdictReasons.DatabasePermissionDenied;
    public const string KubernetesUnreachable = "KubernetesUnreachable";
}

/// <summary>
/// A plan that could not be made: <see cref="Undecidable"/> when an outage (not the user's configuration) is to
/// blame, which is where a namespace that fails open admits anyway.
/// </summary>
public sealed record PlanFailure(string Reason, string Message, bool Undecidable);

/// <summary>A Deployment's plan with everything the validating step needs to judge it; <see cref="DevServer"/> is where dry-runs make their throwaway copy (null: the target's own server).</summary>
public sealed record PlannedRollout(CachedPlan Cached, DatabaseTarget Target, DatabaseTarget? DevServer, LoadedMigrationFiles Files, bool FromCache)
{
    /// <summary>What the admission says besides the verdict: declarative drift.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

public sealed record RolloutPlanOutcome(PlannedRollout? Planned, PlanFailure? Failure)
{
    /// <summary>True when the Deployment was planned, false when <see cref="Failure"/> says why not; an outcome holds exactly one of <see cref="Planned"/> and <see cref="Failure"/>.</summary>
    [MemberNotNullWhen(true, nameof(Planned))]
    [MemberNotNullWhen(false, nameof(Failure))]
    public bool Succeeded => Failure is null;

    public static RolloutPlanOutcome Failed(string reason, string message, bool undecidable = false) => new(null, new PlanFailure(reason, message, undecidable));
}

/// <summary>
/// Turns a Deployment's annotations into a plan: ConfigMaps → files → directory, Secret → database → history →
/// plan. Every outside call runs through <see cref="ResilientCalls"/> and ends by the request's deadline; every
/// failure becomes one sentence naming its cause. The same files and history give the cached plan.
/// </summary>
public sealed class RolloutPlanner(
    ConfigMapMigrationLoader configMaps,
    DatabaseSecretReader secrets,
    IPlanningDatabase database,
    PlanCache cache,
    ResilientCalls calls,
    DeclarativeRolloutPlanner declarative)
{
    // Directories read from files already seen (by content and where they came from, format and ignore patterns): every admission of a
    // Deployment reads the same files, and parsing and checksumming a hundred of them cost more than planning.
    // Bounded by the source bytes kept (the parsed form holds the text and its statements, a few times that): a
    // cluster with many large directories must not grow the webhook past its memory limit (384Mi in the chart).
    private readonly ConcurrentDictionary<(string SourceHash, string Source, MigrationFormat? Format, string Ignore), MigrationDirectory> directories = new();
    private long directoryBytes;
    private const int MaxDirectories = 256;
    private const long MaxDirectoryBytes = 8 * 1024 * 1024;

    public async Task<RolloutPlanOutcome> PlanAsync(string @namespace, MigrationAnnotations annotations, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        using var activity = WebhookTracing.Source.StartActivity("plan");
        activity?.SetTag("k8s.namespace.name", @namespace);

        var sources = await ReadSourcesAsync(@namespace, annotations, deadline, cancellationToken).ConfigureAwait(false);
        if (sources.Stopped)
        {
            return sources.Stop;
        }

        var (files, url, devUrl) = sources.Value;
        if (annotations.Declarative)
        {
            return await declarative.PlanAsync(@namespace, annotations, files, url, devUrl, deadline, cancellationToken).ConfigureAwait(false);
        }

        // The files are judged before the database is asked anything: a broken file is reported even when the database is down.
        var directory = ReadDirectory(files, annotations);
        if (directory.Stopped)
        {
            return directory.Stop;
        }

        var targets = ResolveTargets(@namespace, annotations, url, devUrl);
        if (targets.Stopped)
        {
            return targets.Stop;
        }

        var (target, devTarget) = targets.Value;
        activity?.SetTag("db.system", target.Identity.Engine);
        activity?.SetTag("db.namespace", target.Identity.Database);
        var history = await ReadHistoryAsync(target, annotations, deadline, cancellationToken).ConfigureAwait(false);
        if (history.Stopped)
        {
            return history.Stop;
        }

        var key = new PlanCacheKey(files.ContentHash, annotations.Format, target.Identity, Fingerprint(history.Value), string.Join(',', annotations.Ignore));
        if (cache.TryGet(key, out var cached))
        {
            activity?.SetTag("gatekeeper.plan.cached", true);
            activity?.SetTag("gatekeeper.plan.hash", cached.Plan.Hash);
            activity?.SetTag("gatekeeper.plan.release_key", cached.Plan.ReleaseKey);
            return new RolloutPlanOutcome(new PlannedRollout(cached, target, devTarget, files, FromCache: true), null);
        }

        var plan = Core.Planning.MigrationPlanner.Plan(directory.Value, history.Value, target.Identity);
        var entry = cache.GetOrAdd(key, new CachedPlan(directory.Value, plan));
        activity?.SetTag("gatekeeper.plan.hash", plan.Hash);
        activity?.SetTag("gatekeeper.plan.release_key", plan.ReleaseKey);
        activity?.SetTag("gatekeeper.plan.pending", plan.Pending.Count);
        return new RolloutPlanOutcome(new PlannedRollout(entry, target, devTarget, files, FromCache: false), null);
    }

    /// <summary>The migration files (ConfigMaps) and the database URLs (Secrets) the annotations name.</summary>
    private async Task<Step<RolloutSources>> ReadSourcesAsync(string @namespace, MigrationAnnotations annotations, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        try
        {
            var loaded = await calls.ExecuteAsync("read ConfigMaps", deadline,
                async ct => await configMaps.LoadAsync(@namespace, annotations.Migrations, annotations.SourceAnnotation, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            if (loaded.Problem is not null)
            {
                return RolloutPlanOutcome.Failed(PlanFailureReasons.SourceInvalid, loaded.Problem);
            }

            var files = loaded.Files!;
            var annotation = annotations.PlanSecret is null ? GatekeeperNames.DatabaseSecret : GatekeeperNames.PlanSecret;
            var secret = await calls.ExecuteAsync("read Secret", deadline,
                async ct => await secrets.ReadAsync(@namespace, annotations.PlanningSecret, annotation, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            if (secret.Problem is not null)
            {
                return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, secret.Problem);
            }

            SecretValue? devUrl = null;
            if (annotations.DevDatabaseSecret is { } devReference)
            {
                var dev = await calls.ExecuteAsync("read Secret", deadline,
                    async ct => await secrets.ReadAsync(@namespace, devReference, GatekeeperNames.DevDatabaseSecret, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                if (dev.Problem is not null)
                {
                    return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, dev.Problem);
                }

                devUrl = dev.Url;
            }

            return new RolloutSources(files, secret.Url!, devUrl);
        }
        catch (Exception e) when (IsKubernetesOutage(e))
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.KubernetesUnreachable,
                $"Kubernetes API unreachable while reading the migrations and database Secret of namespace {@namespace} ({Describe(e)})", undecidable: true);
        }
    }

    private Step<MigrationDirectory> ReadDirectory(LoadedMigrationFiles files, MigrationAnnotations annotations)
    {
        var key = (files.ContentHash, files.Description, annotations.Format, string.Join('\n', annotations.Ignore));
        if (directories.TryGetValue(key, out var known))
        {
            return known;
        }

        var read = MigrationDirectoryReader.Read(files.Description, files.Files, annotations.Format, annotations.Ignore);
        if (!read.Succeeded)
        {
            var problems = string.Join("; ", read.Problems.Select(p => p.ToString()));
            return RolloutPlanOutcome.Failed(PlanFailureReasons.SourceInvalid, $"{files.Description} cannot be read as migrations: {problems}");
        }

        long size = 0;
        foreach (var file in files.Files)
        {
            size += file.Content.Length;
        }

        if (size > MaxDirectoryBytes)
        {
            return read.Directory;
        }

        if (directories.Count >= MaxDirectories || Interlocked.Add(ref directoryBytes, size) > MaxDirectoryBytes)
        {
            directories.Clear();
            Interlocked.Exchange(ref directoryBytes, size);
        }

        directories[key] = read.Directory;
        return read.Directory;
    }

    /// <summary>The database the URL names and, with a dev-database Secret, the server dry-runs copy it to (same engine).</summary>
    private Step<RolloutTargets> ResolveTargets(string @namespace, MigrationAnnotations annotations, SecretValue url, SecretValue? devUrl)
    {
        var resolved = database.Resolve(url, @namespace, annotations.HistoryTable, annotations.Format);
        if (!resolved.Resolved)
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, resolved.Problem);
        }

        var target = resolved.Target;
        if (devUrl is null)
        {
            return new RolloutTargets(target, null);
        }

        var dev = ResolveDevServer(database, devUrl, @namespace, annotations.HistoryTable, annotations.Format, target, "a dry-run copy must be made on a server of the same engine");
        if (!dev.Resolved)
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, dev.Problem);
        }

        return new RolloutTargets(target, dev.Target);
    }

    /// <summary>The server a dev-database Secret names, refused unless it runs the target's engine (<paramref name="sameEngineBecause"/> says why).</summary>
    internal static DatabaseTargetResult ResolveDevServer(
        IPlanningDatabase database, SecretValue devUrl, string @namespace, string historyTable, MigrationFormat? format, DatabaseTarget target, string sameEngineBecause)
    {
        var resolved = database.Resolve(devUrl, @namespace, historyTable, format);
        if (!resolved.Resolved)
        {
            return new DatabaseTargetResult(null, $"{GatekeeperNames.DevDatabaseSecret}: {resolved.Problem}");
        }

        return resolved.Target.Engine == target.Engine
            ? resolved
            : new DatabaseTargetResult(null,
                $"{GatekeeperNames.DevDatabaseSecret} points at a {resolved.Target.Engine.DisplayName} server ({resolved.Target.Identity.Endpoint}), " +
                $"but the database is {target.Engine.DisplayName}: {sameEngineBecause}");
    }

    private async Task<Step<HistoryState>> ReadHistoryAsync(DatabaseTarget target, MigrationAnnotations annotations, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        try
        {
            return await calls.ExecuteAsync("read history", deadline,
                async ct => await database.ReadHistoryAsync(target, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException)
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.DatabaseUnreachable,
                $"database unreachable: {target.Url.Endpoint} did not answer in time while reading {annotations.HistoryTable}", undecidable: true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failure = database.Describe(e, target);
            return failure.PermissionDenied
                ? RolloutPlanOutcome.Failed(PlanFailureReasons.DatabasePermissionDenied, failure.Message)
                : RolloutPlanOutcome.Failed(PlanFailureReasons.DatabaseUnreachable, failure.Message, undecidable: true);
        }
    }

    private sealed record RolloutSources(LoadedMigrationFiles Files, SecretValue Url, SecretValue? DevUrl);

    private sealed record RolloutTargets(DatabaseTarget Target, DatabaseTarget? DevTarget);

    /// <summary>What one step of planning found, or the outcome that ends planning there (a failure said in one sentence).</summary>
    private sealed class Step<T>
        where T : class
    {
        private Step(T? value, RolloutPlanOutcome? stop)
        {
            Value = value;
            Stop = stop;
        }

        public T? Value { get; }

        public RolloutPlanOutcome? Stop { get; }

        [MemberNotNullWhen(true, nameof(Stop))]
        [MemberNotNullWhen(false, nameof(Value))]
        public bool Stopped => Stop is not null;

        public static implicit operator Step<T>(T value) => new(value, null);

        public static implicit operator Step<T>(RolloutPlanOutcome stop) => new(null, stop);
    }

    /// <summary>sha256 over what the history says, so any applied, repaired or dirtied row makes a new cache key.</summary>
    public static string Fingerprint(HistoryState history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var text = new StringBuilder();
        text.Append(history.Table).Append('\n').Append(history.Kind).Append('\n').Append(history.Exists).Append('\n').Append(history.AppliedThrough).Append('\n');
        foreach (var row in history.Applied)
        {
            text.Append(row.Id).Append('\0').Append(row.Checksum).Append('\0').Append(row.ChecksumAlgorithm).Append('\0').Append(row.Dirty).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    internal static bool IsKubernetesOutage(Exception e) => e switch
    {
        TimeoutRejectedException => true,
        HttpOperationException http => (int)http.Response.StatusCode >= 500 || http.Response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.Unauthorized,
        HttpRequestException or IOException => true,
        _ => false,
    };

    private static string Describe(Exception e) => e switch
    {
        TimeoutRejectedException => "no answer in time",
        HttpOperationException http => $"HTTP {(int)http.Response.StatusCode}",
        _ => e.GetType().Name,
    };
}
