using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;

namespace Gatekeeper.Cli;

/// <summary>Prints a plan for people (aligned table, problems first) or as JSON for scripts.</summary>
internal static class PlanRenderer
{
    public static void WriteText(TextWriter output, MigrationDirectory directory, MigrationPlan plan, string redactedUrl)
    {
        output.WriteLine($"database  {redactedUrl} (history table {plan.Database.HistoryTable})");
        output.WriteLine($"source    {directory.Source}: {MigrationFormats.Name(directory.Format)}, {directory.Migrations.Count} migrations" +
                         (directory.AtlasSumVerified ? ", atlas.sum verified" : string.Empty));
        if (directory.Ignored.Count > 0)
        {
            output.WriteLine($"ignored   {directory.Ignored.Count} file{Plural(directory.Ignored.Count)} (--ignore): {string.Join(", ", directory.Ignored)}");
        }

        output.WriteLine($"applied   {plan.Applied.Count}");
        output.WriteLine($"pending   {plan.Pending.Count}");
        output.WriteLine();

        foreach (var problem in plan.Problems)
        {
            output.WriteLine($"  ✗ {problem.Kind.ToString().ToLowerInvariant()}: {problem.Message}");
        }

        if (plan.Problems.Count > 0)
        {
            output.WriteLine();
        }

        WriteMigrationTable(output, plan.Pending);

        if (plan.IsBlocked)
        {
            output.WriteLine($"Plan {Hashes.Short(plan.Hash)} is blocked by {plan.Problems.Count} problem{Plural(plan.Problems.Count)}.");
        }
        else if (plan.IsEmpty)
        {
            output.WriteLine($"Nothing to apply: the database is up to date{(plan.TargetVersion is null ? "." : $" at version {plan.TargetVersion}.")}");
        }
        else
        {
            output.WriteLine($"Plan {Hashes.Short(plan.Hash)}: {plan.Pending.Count} migration{Plural(plan.Pending.Count)} to apply, target version {plan.TargetVersion}.");
        }
    }

    /// <summary>The verdict's last words under the plan: what else it noted and, when rejected, why and how to get past it.</summary>
    public static void WriteVerdict(TextWriter output, PlanVerdict verdict)
    {
        foreach (var warning in verdict.Warnings)
        {
            output.WriteLine($"note: {warning}");
        }

        if (verdict.Allowed || verdict.Reason == PlanVerdictReasons.PlanBlocked || verdict.Message is null)
        {
            // A blocked plan's problems and summary are already listed above the findings.
            return;
        }

        var lines = verdict.Message.Split('\n');
        output.WriteLine();
        if (verdict.Reason is PlanVerdictReasons.LocksBlocked or PlanVerdictReasons.ExistingRowsViolate)
        {
            // What blocks or fails is listed nowhere else.
            foreach (var line in lines)
            {
                output.WriteLine(line);
            }

            return;
        }

        output.WriteLine(lines[0]);
        if (lines.Length > 1 && lines[^1].StartsWith("To ", StringComparison.Ordinal))
        {
            output.WriteLine(lines[^1]);
        }
    }

    public static VerdictDocument ToDocument(PlanVerdict verdict) => new(
        verdict.Allowed ? "admit" : "reject", verdict.Reason, verdict.Message, verdict.Warnings, verdict.Approved, verdict.Blocking.Count);

    public static void WriteMigrationTable(TextWriter output, IReadOnlyList<Migration> migrations)
    {
        if (migrations.Count == 0)
        {
            return;
        }

        var idWidth = Math.Min(32, migrations.Max(m => m.Id.Length));
        var descriptionWidth = Math.Min(48, migrations.Max(m => m.Description.Length));
        foreach (var migration in migrations)
        {
            var flags = !migration.Transactional ? "  [no transaction]"
                : migration.TransactionalFromPostgres is { } from ? $"  [no transaction before PostgreSQL {from}]"
                : string.Empty;
            output.WriteLine($"  {migration.Id.PadRight(idWidth)}  {Truncate(migration.Description, descriptionWidth).PadRight(descriptionWidth)}  {migration.FileName}{flags}");
        }

        output.WriteLine();
    }

    public static void WriteJson(TextWriter output, MigrationDirectory directory, MigrationPlan plan) =>
        output.WriteLine(Serialize(ToDocument(directory, plan), CliJson.Default.PlanDocument));

    public static PlanDocument ToDocument(MigrationDirectory directory, MigrationPlan plan) => new(
        plan.Hash,
        plan.ReleaseKey,
        plan.Database,
        directory.Source,
        MigrationFormats.Name(directory.Format),
        directory.AtlasSumVerified,
        directory.Ignored,
        plan.IsBlocked,
        plan.TargetVersion,
        plan.Applied.Select(ToEntry).ToList(),
        plan.Pending.Select(ToEntry).ToList(),
        plan.Problems.Select(p => new ProblemEntry(p.Kind.ToString().ToLowerInvariant(), p.MigrationId, p.File, p.Message)).ToList());

    /// <summary>Indented camelCase JSON without nulls, through the source-generated <see cref="CliJson"/>.</summary>
    public static string Serialize<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.Serialize(value, type);

    private static MigrationEntry ToEntry(Migration m) =>
        new(m.Id, m.Description, m.FileName, m.Kind == MigrationKind.Repeatable ? "repeatable" : "versioned", m.Transactional, m.Checksum);


    private static string Plural(int count) => count == 1 ? string.Empty : "s";

    private static string Truncate(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    /// <param name="Hash">The plan hash: what approvals name, the same on every database with this history.</param>
    /// <param name="ReleaseKey">The plan on this very database: what the webhook stamps on the pod template.</param>
    internal sealed record PlanDocument(
        string Hash,
        string ReleaseKey,
        DatabaseIdentity Database,
        string Source,
        string Format,
        bool AtlasSumVerified,
        IReadOnlyList<string> Ignored,
        bool Blocked,
        string? TargetVersion,
        IReadOnlyList<MigrationEntry> Applied,
        IReadOnlyList<MigrationEntry> Pending,
        IReadOnlyList<ProblemEntry> Problems);

    internal sealed record VerdictDocument(string Outcome, string Reason, string? Message, IReadOnlyList<string> Warnings, bool Approved, int Blocking);

    internal sealed record MigrationEntry(string Id, string Description, string File, string Kind, bool Transactional, string Checksum);

    internal sealed record ProblemEntry(string Kind, string Migration, string? File, string Message);
}
