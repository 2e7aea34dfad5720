using System.Globalization;
using System.Text.Json.Nodes;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Lint.Formatting;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Schema;
using Gatekeeper.Databases.Schema;

namespace Gatekeeper.Cli;

/// <summary>Prints declarative plans and applies: for people (changes, the script with line numbers, notes) or as JSON.</summary>
internal static class SchemaPlanRenderer
{
    public static void WriteText(TextWriter output, SchemaInputs inputs, DeclarativePlanResult planned, bool showSql = true)
    {
        var plan = planned.Plan!;
        var desired = inputs.Desired;
        var loaded = desired.Loaded.Count();
        var skipped = desired.Skipped.ToList();
        output.WriteLine($"database  {inputs.Target.Redacted} (applies recorded in {plan.Database.HistoryTable})");
        output.WriteLine($"desired   {desired.Describe(inputs.Source)}: {loaded} statement{Plural(loaded)} loaded" +
                         (skipped.Count > 0 ? $", {skipped.Count} left out ({string.Join(", ", skipped.Select(s => s.Reason).Distinct(StringComparer.Ordinal))})" : string.Empty) +
                         $", sha256 {Hashes.Short(desired.Hash)}");
        output.WriteLine(inputs.DevThrowaway
            ? $"dev       a throwaway database on {inputs.Dev.Endpoint}, dropped afterwards ({planned.Live.ServerFlavor})"
            : $"dev       {inputs.Dev.Redacted} ({planned.Live.ServerFlavor})");
        output.WriteLine($"timing    read database {Durations.Format(planned.Timings.ReadLive)}, load desired state {Durations.Format(planned.Timings.LoadDesired)}, diff {Durations.Format(planned.Timings.Diff)}");
        if (inputs.Exclusions.Patterns.Count > 0)
        {
            output.WriteLine($"excluded  {string.Join(", ", inputs.Exclusions.Patterns)}");
        }

        foreach (var warning in planned.Warnings)
        {
            output.WriteLine($"warning   {warning}");
        }

        output.WriteLine();
        foreach (var change in plan.Changes)
        {
            output.WriteLine($"  {Symbol(change.Kind)} {change.Summary}");
        }

        if (plan.Changes.Count > 0)
        {
            output.WriteLine();
        }

        if (showSql && plan.Changes.Count > 0)
        {
            var lines = plan.Sql.TrimEnd('\n').Split('\n');
            var width = lines.Length.ToString(CultureInfo.InvariantCulture).Length;
            output.WriteLine($"{SchemaPlan.ScriptName}:");
            for (var i = 0; i < lines.Length; i++)
            {
                output.WriteLine($"  {(i + 1).ToString(CultureInfo.InvariantCulture).PadLeft(width)}  {lines[i]}");
            }

            output.WriteLine();
        }

        WriteNotes(output, plan);
    }

    public static void WriteNotes(TextWriter output, SchemaPlan plan)
    {
        foreach (var note in plan.Notes)
        {
            output.WriteLine($"  {(note.Blocking ? "✗" : "!")} {note}");
        }

        if (plan.Notes.Count > 0)
        {
            output.WriteLine();
        }
    }

    public static void WriteVerdict(TextWriter output, SchemaPlan plan, PlanVerdict verdict)
    {
        PlanRenderer.WriteVerdict(output, verdict);
        if (verdict.Reason == PlanVerdictReasons.PlanBlocked && verdict.Message is not null)
        {
            output.WriteLine(verdict.Message);
        }
        else if (plan.IsEmpty)
        {
            output.WriteLine("Nothing to apply: the database matches the desired state.");
        }
        else if (verdict.Allowed)
        {
            var drops = plan.Changes.Count(c => c.IsDrop);
            output.WriteLine($"Plan {Hashes.Short(plan.Hash)}: {plan.Changes.Count} statement{Plural(plan.Changes.Count)}" +
                             (drops > 0 ? $", {drops} drop{Plural(drops)}" : string.Empty) + $" (hash {plan.Hash}).");
        }
    }

    public static string Outcome(DeclarativeApplyResult result) => result.Status switch
    {
        DeclarativeApplyStatus.UpToDate => "Nothing to apply: the database matches the desired state.",
        DeclarativeApplyStatus.Applied => $"Applied {result.Planned!.Plan!.Changes.Count} statement{Plural(result.Planned.Plan.Changes.Count)} of plan {result.Planned.Plan.Hash} in {Durations.Format(result.Elapsed)}; the database matches the desired state.",
        DeclarativeApplyStatus.Failed when result.Failure?.Statement is { } statement => $"error: {result.Message}{Environment.NewLine}  statement: {DryRunRenderer.OneLine(statement)}",
        _ => $"Nothing applied: {result.Message}",
    };

    public static string ToJson(SchemaInputs inputs, DeclarativePlanResult planned, LintReport lint, PlanVerdict verdict)
    {
        var document = PlanDocument(inputs, planned);
        document["lint"] = JsonNode.Parse(LintReportFormatter.FormatJson(lint));
        document["verdict"] = JsonNode.Parse(PlanRenderer.Serialize(PlanRenderer.ToDocument(verdict), CliJson.Default.VerdictDocument));
        return document.ToJsonString(new() { WriteIndented = true });
    }

    public static string ApplyToJson(SchemaInputs inputs, DeclarativeApplyResult result, LintReport? lint, PlanVerdict? verdict)
    {
        var document = result.Planned is { Plan: not null } planned ? PlanDocument(inputs, planned) : new JsonObject();
        if (lint is not null)
        {
            document["lint"] = JsonNode.Parse(LintReportFormatter.FormatJson(lint));
        }

        if (verdict is not null)
        {
            document["verdict"] = JsonNode.Parse(PlanRenderer.Serialize(PlanRenderer.ToDocument(verdict), CliJson.Default.VerdictDocument));
        }

        document["status"] = result.Status.ToString();
        document["succeeded"] = result.Succeeded;
        document["message"] = result.Message;
        document["elapsedMs"] = Math.Round(result.Elapsed.TotalMilliseconds, 1);
        document["failure"] = result.Failure is null ? null : JsonNode.Parse(PlanRenderer.Serialize(FailureDocument.From(result.Failure), CliJson.Default.FailureDocument));
        return document.ToJsonString(new() { WriteIndented = true });
    }

    private static JsonObject PlanDocument(SchemaInputs inputs, DeclarativePlanResult planned)
    {
        var plan = planned.Plan!;
        return new JsonObject
        {
            ["plan"] = plan.Hash,
            ["database"] = JsonNode.Parse(PlanRenderer.Serialize(plan.Database, CliJson.Default.DatabaseIdentity)),
            ["desired"] = new JsonObject
            {
                ["source"] = inputs.Source,
                ["hash"] = inputs.Desired.Hash,
                ["files"] = new JsonArray(inputs.Desired.Files.Select(f => (JsonNode?)JsonValue.Create(f.Name)).ToArray()),
                ["skipped"] = new JsonArray(inputs.Desired.Skipped.Select(s => (JsonNode?)new JsonObject
                {
                    ["location"] = s.Statement.Location.ToString(),
                    ["reason"] = s.Reason,
                }).ToArray()),
            },
            ["empty"] = plan.IsEmpty,
            ["changes"] = new JsonArray(plan.Changes.Select(c => (JsonNode?)new JsonObject
            {
                ["kind"] = c.Kind.ToString().ToLowerInvariant(),
                ["objectKind"] = c.ObjectKind.ToString().ToLowerInvariant(),
                ["object"] = c.Object,
                ["summary"] = c.Summary,
                ["sql"] = c.Sql,
            }).ToArray()),
            ["notes"] = new JsonArray(plan.Notes.Select(n => (JsonNode?)new JsonObject
            {
                ["object"] = n.Object,
                ["message"] = n.Message,
                ["blocking"] = n.Blocking,
            }).ToArray()),
            ["sql"] = plan.Sql,
            ["timings"] = new JsonObject
            {
                ["readDatabaseMs"] = Math.Round(planned.Timings.ReadLive.TotalMilliseconds, 1),
                ["loadDesiredMs"] = Math.Round(planned.Timings.LoadDesired.TotalMilliseconds, 1),
                ["diffMs"] = Math.Round(planned.Timings.Diff.TotalMilliseconds, 1),
            },
            ["warnings"] = new JsonArray(planned.Warnings.Select(w => (JsonNode?)JsonValue.Create(w)).ToArray()),
        };
    }

    private static string Symbol(SchemaChangeKind kind) => kind switch
    {
        SchemaChangeKind.Create => "+",
        SchemaChangeKind.Drop => "-",
        SchemaChangeKind.Rename => ">",
        _ => "~",
    };

    private static string Plural(int count) => count == 1 ? string.Empty : "s";
}
