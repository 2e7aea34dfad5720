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
    public bool Succeeded
    {
        get
        {
            if (Failure is not null)
            {
                return false;
            }

            return Planned is not null ? true : throw new InvalidOperationException("neither Planned nor Failure is set");
        }
    }

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
    public async Task<RolloutPlanOutcome> PlanAsync(string @namespace, MigrationAnnotations annotations, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        using var activity = WebhookTracing.Source.StartActivity("plan");
        activity?.SetTag("k8s.namespace.name", @namespace);

        LoadedMigrationFiles files;
        SecretValue url;
        SecretValue? devUrl = null;
        try
        {
            var loaded = await calls.ExecuteAsync("read ConfigMaps", deadline,
                async ct => await configMaps.LoadAsync(@namespace, annotations.Migrations, annotations.SourceAnnotation, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            if (loaded.Problem is not null)
            {
                return RolloutPlanOutcome.Failed(PlanFailureReasons.SourceInvalid, loaded.Problem);
            }

            files = loaded.Files!;
            var annotation = annotations.PlanSecret is null ? GatekeeperNames.DatabaseSecret : GatekeeperNames.PlanSecret;
            var secret = await calls.ExecuteAsync("read Secret", deadline,
                async ct => await secrets.ReadAsync(@namespace, annotations.PlanningSecret, annotation, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            if (secret.Problem is not null)
            {
                return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, secret.Problem);
            }

            url = secret.Url!;
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
        }
        catch (Exception e) when (IsKubernetesOutage(e))
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.KubernetesUnreachable,
                $"Kubernetes API unreachable while reading the migrations and database Secret of namespace {@namespace} ({Describe(e)})", undecidable: true);
        }

        if (annotations.Declarative)
        {
            return await declarative.PlanAsync(@namespace, annotations, files, url, devUrl, deadline, cancellationToken).ConfigureAwait(false);
        }

        // The files are judged before the database is asked anything: a broken file is reported even when the database is down.
        var read = MigrationDirectoryReader.Read(files.Description, files.Files, annotations.Format, annotations.Ignore);
        if (!read.Succeeded)
        {
            var problems = string.Join("; ", read.Problems.Select(p => p.ToString()));
            return RolloutPlanOutcome.Failed(PlanFailureReasons.SourceInvalid, $"{files.Description} cannot be read as migrations: {problems}");
        }

        var resolved = database.Resolve(url, @namespace, annotations.HistoryTable, annotations.Format);
        if (!resolved.Resolved)
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, resolved.Problem);
        }

        var target = resolved.Target;

        DatabaseTarget? devTarget = null;
        if (devUrl is not null)
        {
            var resolvedDev = database.Resolve(devUrl, @namespace, annotations.HistoryTable, annotations.Format);
            if (resolvedDev.Target is null)
            {
                return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, $"{GatekeeperNames.DevDatabaseSecret}: {resolvedDev.Problem}");
            }

            if (resolvedDev.Target.Engine != target.Engine)
            {
                return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid,
                    $"{GatekeeperNames.DevDatabaseSecret} points at a {resolvedDev.Target.Engine.DisplayName} server ({resolvedDev.Target.Identity.Endpoint}), " +
                    $"but the database is {target.Engine.DisplayName}: a dry-run copy must be made on a server of the same engine");
            }

            devTarget = resolvedDev.Target;
        }

        activity?.SetTag("db.system", target.Identity.Engine);
        activity?.SetTag("db.namespace", target.Identity.Database);
        HistoryState history;
        try
        {
            history = await calls.ExecuteAsync("read history", deadline,
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

        var key = new PlanCacheKey(files.ContentHash, annotations.Format, target.Identity, Fingerprint(history), string.Join(',', annotations.Ignore));
        if (cache.TryGet(key, out var cached))
        {
            activity?.SetTag("gatekeeper.plan.cached", true);
            activity?.SetTag("gatekeeper.plan.hash", cached.Plan.Hash);
            return new RolloutPlanOutcome(new PlannedRollout(cached, target, devTarget, files, FromCache: true), null);
        }

        var plan = Core.Planning.MigrationPlanner.Plan(read.Directory, history, target.Identity);
        var entry = cache.GetOrAdd(key, new CachedPlan(read.Directory, plan));
        activity?.SetTag("gatekeeper.plan.hash", plan.Hash);
        activity?.SetTag("gatekeeper.plan.pending", plan.Pending.Count);
        return new RolloutPlanOutcome(new PlannedRollout(entry, target, devTarget, files, FromCache: false), null);
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
