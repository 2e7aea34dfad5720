using System.Text;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Schema;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Schema;
using Gatekeeper.Kubernetes;
using Gatekeeper.Kubernetes.Annotations;
using Gatekeeper.Kubernetes.Sources;
using Polly.Timeout;
using DatabaseTarget = Gatekeeper.Databases.DatabaseTarget;

namespace Gatekeeper.Webhook.Rollouts;

/// <summary>
/// The declarative half of <see cref="RolloutPlanner"/> (<c>gatekeeper.dev/schema</c>): the ConfigMaps' <c>.sql</c> files
/// are the desired state, loaded into a throwaway database on the dev server (<c>gatekeeper.dev/dev-database-secret</c>,
/// or the database's own server without one), diffed against the live catalog, and turned into one migration so the
/// linter, the dry-run, the verdict, the stamp and the Job treat it as they treat a migration file. A difference from the
/// desired state the database was last made to match is reported as drift.
/// </summary>
public sealed class DeclarativeRolloutPlanner(IPlanningDatabase database, PlanCache cache, ResilientCalls calls)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public async Task<RolloutPlanOutcome> PlanAsync(
        string @namespace, MigrationAnnotations annotations, LoadedMigrationFiles files, SecretValue url, SecretValue? devUrl, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        ArgumentNullException.ThrowIfNull(files);
        using var activity = WebhookTracing.Source.StartActivity("plan schema");
        var resolved = database.Resolve(url, @namespace, annotations.HistoryTable, format: null);
        if (!resolved.Resolved)
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, resolved.Problem);
        }

        var target = resolved.Target;

        var devServer = target;
        if (devUrl is not null)
        {
            var dev = RolloutPlanner.ResolveDevServer(database, devUrl, @namespace, annotations.HistoryTable, format: null, target,
                "the desired schema must be loaded on a server of the same engine and version");
            if (!dev.Resolved)
            {
                return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, dev.Problem);
            }

            devServer = dev.Target;
        }

        // The desired state is judged before the database is asked anything: a broken file is reported even when the database is down.
        if (ReadDesired(files, target.Engine.Dialect) is not { } desired)
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.SourceInvalid, DesiredProblem(files, target.Engine.Dialect));
        }

        if (SchemaExclusions.Parse(annotations.SchemaExclude, target.Engine.Dialect, out var excludeError) is not { } exclusions)
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.AnnotationInvalid, $"annotation {GatekeeperNames.SchemaExclude}: {excludeError}");
        }

        activity?.SetTag("db.system", target.Identity.Engine);
        activity?.SetTag("db.namespace", target.Identity.Database);
        DeclarativePlanning planning;
        try
        {
            planning = await calls.ExecuteAsync("plan schema", deadline,
                async ct => await database.PlanSchemaAsync(target, devServer, desired, exclusions, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException)
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.DatabaseUnreachable,
                $"database unreachable: the declarative plan of {target.Identity.Database} ({target.Identity.Endpoint}, desired schema loaded on {devServer.Identity.Endpoint}) did not finish in time", undecidable: true);
        }
        catch (DevDatabaseException e)
        {
            return RolloutPlanOutcome.Failed(PlanFailureReasons.SecretInvalid, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var failure = database.Describe(e, target);
            return failure.PermissionDenied
                ? RolloutPlanOutcome.Failed(PlanFailureReasons.DatabasePermissionDenied, failure.Message)
                : RolloutPlanOutcome.Failed(PlanFailureReasons.DatabaseUnreachable, failure.Message, undecidable: true);
        }

        if (planning.Planned.Plan is not { } plan)
        {
            var load = planning.Planned.LoadFailure!;
            return RolloutPlanOutcome.Failed(PlanFailureReasons.SourceInvalid,
                $"the desired schema in {files.Description} does not load into a throwaway database on {devServer.Identity.Endpoint}: {load}");
        }

        activity?.SetTag("gatekeeper.plan.hash", plan.Hash);
        activity?.SetTag("gatekeeper.plan.release_key", plan.ToMigrationPlan().ReleaseKey);
        activity?.SetTag("gatekeeper.plan.statements", plan.Changes.Count);
        var warnings = new List<string>();
        if (Drift(plan, planning.LastApplied) is { } drift)
        {
            warnings.Add(drift);
        }

        warnings.AddRange(planning.Planned.Warnings.Select(w => "gatekeeper: " + w));

        // Keyed by the plan itself (its hash covers the database, the desired state and every statement): a dry-run proven
        // for it moments before is reused, and any change to the live schema makes another plan.
        var key = new PlanCacheKey(desired.Hash, null, target.Identity, "schema:" + plan.Hash, string.Join(',', annotations.SchemaExclude));
        var fromCache = cache.TryGet(key, out var entry);
        if (!fromCache)
        {
            var migrations = plan.IsEmpty ? (IReadOnlyList<Migration>)[] : [plan.ToMigration()];
            // The format only names how files are read; a declarative plan is one generated script, never read by a format.
            var directory = new MigrationDirectory(files.Description, MigrationFormat.Flyway, migrations, AtlasSumVerified: false);
            entry = cache.GetOrAdd(key, new CachedPlan(directory, plan.ToMigrationPlan()) { Schema = plan });
        }

        return new RolloutPlanOutcome(new PlannedRollout(entry, target, annotations.DevDatabaseSecret is null ? null : devServer, files, fromCache) { Warnings = warnings }, null);
    }

    /// <summary>
    /// A non-empty plan for the very desired state the last apply made the database match: someone changed the database
    /// since, outside Gatekeeper. The plan puts it back; this says so, so nobody takes the drops for the team's change.
    /// </summary>
    internal static string? Drift(SchemaPlan plan, DeclarativeApply? lastApplied)
    {
        if (plan.IsEmpty || lastApplied is null || lastApplied.DesiredHash != plan.DesiredHash)
        {
            return null;
        }

        var when = lastApplied.AppliedAt is { } at ? $" on {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : string.Empty;
        var shown = plan.Changes.Take(5).Select(c => c.Summary).ToList();
        var more = plan.Changes.Count > shown.Count ? $", and {plan.Changes.Count - shown.Count} more" : string.Empty;
        return $"gatekeeper: drift: {plan.Database.Database} no longer matches the desired schema it was made to match{when} (plan {Hashes.Short(lastApplied.PlanHash)}); " +
               $"it was changed outside Gatekeeper, and this plan puts it back: {string.Join("; ", shown)}{more}";
    }

    /// <summary>The <c>.sql</c> keys of the ConfigMaps, in name order, as the Job's <c>schema apply --to</c> reads the mounted directory.</summary>
    private static List<DesiredSchemaFile>? DesiredFiles(LoadedMigrationFiles files)
    {
        var desired = new List<DesiredSchemaFile>();
        foreach (var file in files.Files.Where(f => f.Name.EndsWith(".sql", StringComparison.Ordinal)).OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            try
            {
                var bytes = file.Content.Span;
                var start = bytes.StartsWith("\uFEFF"u8) ? 3 : 0;
                desired.Add(new DesiredSchemaFile(file.Name, StrictUtf8.GetString(bytes[start..])));
            }
            catch (DecoderFallbackException)
            {
                return null;
            }
        }

        return desired;
    }

    private static DesiredSchema? ReadDesired(LoadedMigrationFiles files, Core.Sql.SqlDialect dialect) =>
        DesiredFiles(files) is { Count: > 0 } desired && DesiredSchemaReader.Read(desired, dialect) is { Succeeded: true } read ? read.Schema : null;

    private static string DesiredProblem(LoadedMigrationFiles files, Core.Sql.SqlDialect dialect)
    {
        var desired = DesiredFiles(files);
        if (desired is null)
        {
            var broken = files.Files.Where(f => f.Name.EndsWith(".sql", StringComparison.Ordinal)).First(f => !IsUtf8(f.Content.Span)).Name;
            return $"{broken} in {files.Description} is not valid UTF-8";
        }

        if (desired.Count == 0)
        {
            return $"{files.Description} holds no .sql file (annotation {GatekeeperNames.Schema} names the ConfigMaps whose .sql keys are the desired schema)";
        }

        var problems = DesiredSchemaReader.Read(desired, dialect).Problems;
        return $"{files.Description} is not a desired schema Gatekeeper can load ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}): " +
               string.Join("; ", problems.Take(5)) + (problems.Count > 5 ? $"; … and {problems.Count - 5} more" : string.Empty);
    }

    private static bool IsUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            StrictUtf8.GetCharCount(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
