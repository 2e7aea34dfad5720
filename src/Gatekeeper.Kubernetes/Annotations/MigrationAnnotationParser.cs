using System.Text.RegularExpressions;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Kubernetes.Annotations;

/// <summary>
/// Reads a Deployment's <c>gatekeeper.dev/*</c> annotations into <see cref="MigrationAnnotations"/>, collecting
/// every problem at once so a person fixes them in one pass. Pure.
/// </summary>
public static partial class MigrationAnnotationParser
{
    /// <summary>True when the object opted in; anything else is admitted at once.</summary>
    public static bool IsOptedIn(IReadOnlyDictionary<string, string>? annotations) =>
        annotations is not null && (annotations.ContainsKey(GatekeeperNames.Migrations) || annotations.ContainsKey(GatekeeperNames.Schema));

    public static MigrationAnnotationsParseResult Parse(IReadOnlyDictionary<string, string>? annotations)
    {
        annotations ??= new Dictionary<string, string>();
        var problems = new List<AnnotationProblem>();
        var warnings = new List<string>();

        foreach (var key in annotations.Keys)
        {
            if (key.StartsWith(GatekeeperNames.Prefix, StringComparison.Ordinal) && !GatekeeperNames.DeploymentAnnotations.Contains(key))
            {
                var guess = ClosestKnown(key);
                warnings.Add(guess is null
                    ? $"annotation {key} is not one Gatekeeper knows and is ignored"
                    : $"annotation {key} is not one Gatekeeper knows and is ignored; did you mean {guess}?");
            }
        }

        // Exactly one source: migration files (versioned) or a desired schema (declarative).
        var declarative = annotations.ContainsKey(GatekeeperNames.Schema);
        if (declarative && annotations.ContainsKey(GatekeeperNames.Migrations))
        {
            problems.Add(new(GatekeeperNames.Schema,
                $"annotations {GatekeeperNames.Migrations} and {GatekeeperNames.Schema} are both set; a Deployment runs migration files or a desired schema, not both: remove one"));
        }

        var sourceAnnotation = declarative ? GatekeeperNames.Schema : GatekeeperNames.Migrations;
        var migrations = ParseMigrations(sourceAnnotation, Value(annotations, sourceAnnotation), problems);
        var schemaExclude = ParseSchemaExclude(Value(annotations, GatekeeperNames.SchemaExclude), problems);
        if (declarative)
        {
            foreach (var versionedOnly in new[] { GatekeeperNames.Format, GatekeeperNames.HistoryTable, GatekeeperNames.Ignore })
            {
                if (annotations.ContainsKey(versionedOnly))
                {
                    warnings.Add($"annotation {versionedOnly} applies to migration files and is ignored with {GatekeeperNames.Schema} (declarative applies are recorded in gatekeeper_declarative_history)");
                }
            }
        }
        else if (annotations.ContainsKey(GatekeeperNames.SchemaExclude))
        {
            warnings.Add($"annotation {GatekeeperNames.SchemaExclude} applies to {GatekeeperNames.Schema} and is ignored with {GatekeeperNames.Migrations}");
        }
        var databaseSecret = ParseSecret(GatekeeperNames.DatabaseSecret, Value(annotations, GatekeeperNames.DatabaseSecret), required: true, problems);
        var planSecret = ParseSecret(GatekeeperNames.PlanSecret, Value(annotations, GatekeeperNames.PlanSecret), required: false, problems);
        var devSecret = ParseSecret(GatekeeperNames.DevDatabaseSecret, Value(annotations, GatekeeperNames.DevDatabaseSecret), required: false, problems);
        var format = ParseFormat(Value(annotations, GatekeeperNames.Format), problems);
        var historyTable = ParseHistoryTable(Value(annotations, GatekeeperNames.HistoryTable), problems);
        var allow = ParseAllow(Value(annotations, GatekeeperNames.Allow), problems);
        var approved = ParseApprovedPlan(Value(annotations, GatekeeperNames.ApprovePlan), problems);
        var dryRun = ParseDryRun(Value(annotations, GatekeeperNames.DryRun), problems, warnings);
        var jobTimeout = ParseJobTimeout(Value(annotations, GatekeeperNames.JobTimeout), problems);
        var ignore = ParseIgnore(Value(annotations, GatekeeperNames.Ignore), problems);
        var lockPreflight = ParseLockPreflight(Value(annotations, GatekeeperNames.LockPreflight), problems);
        var capacityPolicy = ParseCapacityPolicy(Value(annotations, GatekeeperNames.CapacityPolicy), problems);

        if (problems.Count > 0)
        {
            return new MigrationAnnotationsParseResult(null, problems, warnings);
        }

        var parsed = new MigrationAnnotations(
            migrations!, databaseSecret!, format, historyTable, allow, approved, dryRun, jobTimeout, planSecret, devSecret)
        {
            Ignore = ignore,
            LockPreflight = lockPreflight,
            CapacityPolicy = capacityPolicy,
            Declarative = declarative,
            SchemaExclude = schemaExclude,
        };
        return new MigrationAnnotationsParseResult(parsed, [], warnings);
    }

    private static string? Value(IReadOnlyDictionary<string, string> annotations, string key) =>
        annotations.TryGetValue(key, out var value) ? value : null;

    private static ConfigMapSelection? ParseMigrations(string annotation, string? value, List<AnnotationProblem> problems)
    {
        if (value is null || value.Trim().Length == 0)
        {
            problems.Add(new(annotation, $"annotation {annotation} is empty; set it to a ConfigMap name, a comma list of names, or selector:<label selector>"));
            return null;
        }

        var trimmed = value.Trim();
        if (trimmed.StartsWith("selector:", StringComparison.Ordinal))
        {
            var selector = trimmed["selector:".Length..].Trim();
            if (!LabelSelectorPattern().IsMatch(selector))
            {
                problems.Add(new(annotation, $"annotation {annotation} value \"{value}\" has no valid label selector after \"selector:\" (for example selector:app=shop)"));
                return null;
            }

            return ConfigMapSelection.Selected(selector);
        }

        var names = trimmed.Split(',', StringSplitOptions.TrimEntries);
        foreach (var name in names)
        {
            if (!IsDns1123Subdomain(name))
            {
                problems.Add(new(annotation, $"annotation {annotation} value \"{value}\" names \"{name}\", which is not a valid ConfigMap name (lower-case letters, digits, '-' and '.')"));
                return null;
            }
        }

        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            problems.Add(new(annotation, $"annotation {annotation} value \"{value}\" names the same ConfigMap twice"));
            return null;
        }

        return new ConfigMapSelection(names, null);
    }

    private static string[] ParseSchemaExclude(string? value, List<AnnotationProblem> problems)
    {
        if (value is null)
        {
            return [];
        }

        var patterns = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var pattern in patterns)
        {
            if (!ExcludePattern().IsMatch(pattern))
            {
                problems.Add(new(GatekeeperNames.SchemaExclude,
                    $"annotation {GatekeeperNames.SchemaExclude} value \"{value}\" contains \"{pattern}\", which is not a pattern (name or schema.name; letters, digits, '_', '$', '*' and '?')"));
                return [];
            }
        }

        return patterns;
    }

    private static SecretKeyReference? ParseSecret(string annotation, string? value, bool required, List<AnnotationProblem> problems)
    {
        if (value is null)
        {
            if (required)
            {
                problems.Add(new(annotation, $"annotation {annotation} is missing; set it to the Secret holding the database URL (secret-name or secret-name/key)"));
            }

            return null;
        }

        var trimmed = value.Trim();
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        var name = slash < 0 ? trimmed : trimmed[..slash];
        var key = slash < 0 ? null : trimmed[(slash + 1)..];
        if (!IsDns1123Subdomain(name))
        {
            problems.Add(new(annotation, $"annotation {annotation} value \"{value}\" does not start with a valid Secret name (expected secret-name or secret-name/key)"));
            return null;
        }

        if (key is not null && !SecretKeyPattern().IsMatch(key))
        {
            problems.Add(new(annotation, $"annotation {annotation} value \"{value}\" has an invalid key after '/' (letters, digits, '-', '_' and '.')"));
            return null;
        }

        return new SecretKeyReference(name, key);
    }

    private static MigrationFormat? ParseFormat(string? value, List<AnnotationProblem> problems)
    {
        if (MigrationFormats.TryParse(value ?? MigrationFormats.Auto, out var format))
        {
            return format;
        }

        problems.Add(new(GatekeeperNames.Format, $"annotation {GatekeeperNames.Format} value \"{value}\" is not a known format ({string.Join(", ", MigrationFormats.NamesWithAuto)})"));
        return null;
    }

    private static string ParseHistoryTable(string? value, List<AnnotationProblem> problems)
    {
        if (value is null)
        {
            return MigrationAnnotations.DefaultHistoryTable;
        }

        var trimmed = value.Trim();
        if (!HistoryTablePattern().IsMatch(trimmed))
        {
            problems.Add(new(GatekeeperNames.HistoryTable, $"annotation {GatekeeperNames.HistoryTable} value \"{value}\" is not a table name (letters, digits and '_', at most 63, optionally schema.table)"));
        }

        return trimmed;
    }

    /// <summary>A comma list of file name patterns; a ConfigMap key is a plain file name, so a pattern holds no '/'.</summary>
    private static string[] ParseIgnore(string? value, List<AnnotationProblem> problems)
    {
        if (value is null)
        {
            return [];
        }

        var patterns = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var pattern in patterns)
        {
            if (pattern.Contains('/', StringComparison.Ordinal) || pattern.Any(char.IsControl))
            {
                problems.Add(new(GatekeeperNames.Ignore, $"annotation {GatekeeperNames.Ignore} value \"{value}\" contains \"{pattern}\", which is not a file name pattern (a ConfigMap key, with * and ?, no '/')"));
                return [];
            }
        }

        return patterns;
    }

    private static string[] ParseAllow(string? value, List<AnnotationProblem> problems)
    {
        if (value is null)
        {
            return [];
        }

        var entries = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var entry in entries)
        {
            if (!RuleIdPattern().IsMatch(entry))
            {
                problems.Add(new(GatekeeperNames.Allow, $"annotation {GatekeeperNames.Allow} value \"{value}\" contains \"{entry}\", which is not a lint rule id or category (letters, digits, '-' and '_')"));
                return [];
            }
        }

        return entries;
    }

    private static string? ParseApprovedPlan(string? value, List<AnnotationProblem> problems)
    {
        if (value is null)
        {
            return null;
        }

        var trimmed = value.Trim();
        if (trimmed.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            trimmed = trimmed["sha256:".Length..];
        }

        if (trimmed.Length != 64 || !trimmed.All(char.IsAsciiHexDigit))
        {
            problems.Add(new(GatekeeperNames.ApprovePlan, $"annotation {GatekeeperNames.ApprovePlan} value \"{value}\" is not a plan hash (64 hexadecimal characters, as printed in the denial)"));
            return null;
        }

        return trimmed.ToLowerInvariant();
    }

    private static DryRunMode ParseDryRun(string? value, List<AnnotationProblem> problems, List<string> warnings)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "shadow":
                return DryRunMode.Shadow;
            case "live":
                return DryRunMode.Live;
            case "transaction":
                warnings.Add($"annotation {GatekeeperNames.DryRun} value \"transaction\" is now spelled \"live\": the plan is tried in a rolled-back transaction on the production database, " +
                             "taking its locks there; the default (shadow) tries it on a throwaway copy instead");
                return DryRunMode.Live;
            case "none":
                return DryRunMode.None;
            default:
                problems.Add(new(GatekeeperNames.DryRun, $"annotation {GatekeeperNames.DryRun} value \"{value}\" is not a dry-run mode (shadow, live, none)"));
                return DryRunMode.Shadow;
        }
    }

    private static Core.Planning.LockPreflightPolicy ParseLockPreflight(string? value, List<AnnotationProblem> problems)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "deny":
                return Core.Planning.LockPreflightPolicy.Deny;
            case "warn":
                return Core.Planning.LockPreflightPolicy.Warn;
            default:
                problems.Add(new(GatekeeperNames.LockPreflight,
                    $"annotation {GatekeeperNames.LockPreflight} value \"{value}\" is not a pre-flight policy (deny: open transactions on the plan's tables stop the rollout; warn: they are warnings)"));
                return Core.Planning.LockPreflightPolicy.Deny;
        }
    }

    private static Deployments.CapacityPolicy? ParseCapacityPolicy(string? value, List<AnnotationProblem> problems)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null:
                return null;
            case "warn":
                return Deployments.CapacityPolicy.Warn;
            case "deny":
                return Deployments.CapacityPolicy.Deny;
            default:
                problems.Add(new(GatekeeperNames.CapacityPolicy,
                    $"annotation {GatekeeperNames.CapacityPolicy} value \"{value}\" is not a capacity policy (warn: a migration that stops serving pods or outlasts the progress deadline is a warning; deny: it is refused)"));
                return null;
        }
    }

    private static TimeSpan ParseJobTimeout(string? value, List<AnnotationProblem> problems)
    {
        if (value is null)
        {
            return MigrationAnnotations.DefaultJobTimeout;
        }

        if (!GoDuration.TryParse(value.Trim(), out var timeout) || timeout < TimeSpan.FromSeconds(1) || timeout > TimeSpan.FromDays(7))
        {
            problems.Add(new(GatekeeperNames.JobTimeout, $"annotation {GatekeeperNames.JobTimeout} value \"{value}\" is not a duration between 1s and 168h (for example 30m or 1h30m)"));
            return MigrationAnnotations.DefaultJobTimeout;
        }

        return timeout;
    }

    private static bool IsDns1123Subdomain(string name) => name.Length is > 0 and <= 253 && Dns1123SubdomainPattern().IsMatch(name);

    private static string? ClosestKnown(string key)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var known in GatekeeperNames.DeploymentAnnotations)
        {
            var distance = EditDistance(key, known);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (known, distance);
            }
        }

        return bestDistance <= 3 ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123SubdomainPattern();

    [GeneratedRegex(@"^[-._a-zA-Z0-9]{1,253}$")]
    private static partial Regex SecretKeyPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")]
    private static partial Regex HistoryTablePattern();

    [GeneratedRegex(@"^[A-Za-z0-9][-A-Za-z0-9_]*$")]
    private static partial Regex RuleIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_$*?-]+(\.[A-Za-z0-9_$*?-]+)?$")]
    private static partial Regex ExcludePattern();

    // Equality-based requirements (k=v, k==v, k!=v, k, !k) and set-based ones (k in (a,b), k notin (a)),
    // comma separated: the forms the API server's labelSelector accepts.
    [GeneratedRegex(@"^\s*!?[A-Za-z0-9][-A-Za-z0-9_./]*(\s*(==|=|!=)\s*[-A-Za-z0-9_.]*|\s+(in|notin)\s+\([-A-Za-z0-9_.,\s]*\))?\s*(,\s*!?[A-Za-z0-9][-A-Za-z0-9_./]*(\s*(==|=|!=)\s*[-A-Za-z0-9_.]*|\s+(in|notin)\s+\([-A-Za-z0-9_.,\s]*\))?\s*)*$")]
    private static partial Regex LabelSelectorPattern();
}
