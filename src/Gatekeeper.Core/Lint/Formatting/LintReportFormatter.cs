using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gatekeeper.Core.Lint.Formatting;

/// <summary>
/// Renders a <see cref="LintReport"/> for people (compiler-style, like rustc or squawk), for machines (JSON) and for
/// GitHub Actions (workflow commands that annotate the pull request). Pure: strings in, strings out.
/// </summary>
public static class LintReportFormatter
{
    private const int MaxShownLine = 160;

    /// <param name="color">Wrap severities in ANSI colours (for a terminal).</param>
    /// <param name="maxPerRule">Findings shown per rule, in file order; the rest are counted by rule (0 shows all).</param>
    public static string FormatHuman(LintReport report, bool color = false, int maxPerRule = DefaultMaxPerRule)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        WriteHuman(report, writer, color, maxPerRule);
        return writer.ToString();
    }

    /// <summary>How many findings of one rule every output lists before it only counts them (<c>--max-per-rule</c>).</summary>
    public const int DefaultMaxPerRule = 25;

    /// <summary>
    /// Writes findings in file order, at most <paramref name="maxPerRule"/> per rule, then — when there are many — one
    /// line per rule with its counts, then the summary: a directory with thousands of findings stays readable.
    /// </summary>
    public static void WriteHuman(LintReport report, TextWriter writer, bool color = false, int maxPerRule = DefaultMaxPerRule) =>
        Write(report, new HumanLintWriter(writer, color, maxPerRule));

    /// <summary>Everything a streaming writer is handed, from a finished report.</summary>
    private static void Write(LintReport report, LintReportWriter writer)
    {
        ArgumentNullException.ThrowIfNull(report);
        writer.Begin(report.Dialect, report.LiveSchemaKnown);
        foreach (var finding in report.Findings)
        {
            writer.Write(finding);
        }

        writer.End(report);
    }

    internal static void WriteByRule(LintReport report, TextWriter writer, Func<LintRule, int> shown)
    {
        // Sorted with a comparison rather than LINQ's ThenBy (a generic virtual call Native AOT resolves slowly the first
        // time); rule ids are unique, so the order is total and the same.
        var byRule = report.RuleCounts.ToList();
        byRule.Sort((a, b) => a.Total != b.Total ? b.Total.CompareTo(a.Total) : string.CompareOrdinal(a.Rule.Id, b.Rule.Id));
        var capped = byRule.Any(r => r.Total > shown(r.Rule));
        if (!capped && !(byRule.Count > 1 && report.TotalCount > 10))
        {
            return;
        }

        writer.WriteLine("by rule:");
        foreach (var count in byRule)
        {
            var parts = new List<string>();
            if (count.Errors > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{count.Errors} error{Plural(count.Errors)}"));
            }

            if (count.Warnings > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{count.Warnings} warning{Plural(count.Warnings)}"));
            }

            if (count.Allowed > 0)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{count.Allowed} allowed"));
            }

            var hidden = count.Total - shown(count.Rule);
            var note = hidden > 0 ? string.Create(CultureInfo.InvariantCulture, $" (and {hidden} more not shown; --max-per-rule 0 shows all)") : string.Empty;
            writer.WriteLine($"  {count.Rule.Id} {count.Rule.Name}: {string.Join(", ", parts)}{note}");
        }

        writer.WriteLine();
    }

    /// <summary>One line: counts, and whether the plan is blocked.</summary>
    public static string Summary(LintReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var scope = string.Create(CultureInfo.InvariantCulture,
            $"{report.MigrationCount} migration{Plural(report.MigrationCount)} ({report.StatementCount} statement{Plural(report.StatementCount)})");
        if (report.HistoryCount > 0)
        {
            scope += string.Create(CultureInfo.InvariantCulture, $" after {report.HistoryCount} earlier file{Plural(report.HistoryCount)} replayed as history");
        }

        if (report.Findings.Count == 0)
        {
            return $"no findings in {scope}.";
        }

        var parts = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"{report.ErrorCount} error{Plural(report.ErrorCount)}"),
            string.Create(CultureInfo.InvariantCulture, $"{report.WarningCount} warning{Plural(report.WarningCount)}"),
        };
        if (report.AllowedCount > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{report.AllowedCount} allowed"));
        }

        var verdict = report.IsBlocking ? "the plan is blocked" : "nothing blocks the plan";
        var liveNote = !report.LiveSchemaKnown && report.Findings.Any(f => f.MayChangeWithLiveSchema)
            ? " Findings marked \"might change\" were judged without a database; lint with --url to judge them by the live schema."
            : string.Empty;
        return $"{string.Join(", ", parts)} in {scope}: {verdict}.{liveNote}";
    }

    internal static void WriteFinding(LintFinding finding, TextWriter writer, bool color)
    {
        var (label, ansi) = finding.IsAllowed ? ("allowed", "\u001b[36m") : finding.Severity == LintSeverity.Error ? ("error", "\u001b[31m") : ("warning", "\u001b[33m");
        var heading = $"{label}[{finding.Rule.Id}]";
        writer.WriteLine(color ? $"\u001b[1m{ansi}{heading}\u001b[0m\u001b[1m: {finding.Message}\u001b[0m" : $"{heading}: {finding.Message}");

        var lineNumber = finding.Location.Line.ToString(CultureInfo.InvariantCulture);
        var gutter = new string(' ', lineNumber.Length);
        writer.WriteLine($"{gutter}--> {finding.Location}");
        if (finding.SourceLine.Length > 0)
        {
            var (shown, caretAt) = Window(finding.SourceLine, finding.Location.Column - 1);
            var caretLength = Math.Clamp(finding.Length, 1, Math.Max(1, shown.Length - caretAt));
            writer.WriteLine($"{gutter} |");
            writer.WriteLine($"{lineNumber} | {shown}");
            var carets = new string(' ', caretAt) + new string('^', caretLength);
            writer.WriteLine(color ? $"{gutter} | {ansi}{carets}\u001b[0m" : $"{gutter} | {carets}");
        }

        writer.WriteLine($"{gutter} = help: {finding.Hint}");
        if (finding.MayChangeWithLiveSchema)
        {
            writer.WriteLine($"{gutter} = note: might change with the live schema (table size or current definition unknown without a database)");
        }

        if (finding.AllowedBy is { } allowance)
        {
            var where = allowance.Location is { } at ? $" at {at}" : string.Empty;
            var by = allowance.Source == LintAllowanceSource.Directive ? $"allowed by directive{where}: {allowance.Reason}" : allowance.Reason;
            writer.WriteLine($"{gutter} = note: {by}");
        }
    }

    /// <summary>Shows at most <see cref="MaxShownLine"/> characters around the column, with tabs as single spaces so the caret lines up.</summary>
    private static (string Line, int Caret) Window(string line, int column)
    {
        line = line.Replace('\t', ' ');
        column = Math.Clamp(column, 0, line.Length);
        if (line.Length <= MaxShownLine)
        {
            return (line, column);
        }

        var start = Math.Clamp(column - MaxShownLine / 3, 0, line.Length);
        var prefix = start > 0 ? "…" : string.Empty;
        var length = Math.Min(MaxShownLine, line.Length - start);
        var suffix = start + length < line.Length ? "…" : string.Empty;
        return (string.Concat(prefix, line.AsSpan(start, length), suffix), column - start + prefix.Length);
    }

    /// <param name="maxPerRule">Findings listed per rule, in file order; <c>rules</c> counts every one (0 lists all).</param>
    public static string FormatJson(LintReport report, bool indented = true, int maxPerRule = DefaultMaxPerRule)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        Write(report, new JsonLintWriter(writer, indented, maxPerRule));
        return writer.ToString();
    }

    internal static void WriteJsonFinding(Utf8JsonWriter json, LintFinding finding)
    {
        json.WriteStartObject();
        json.WriteString("rule", finding.Rule.Id);
        json.WriteString("name", finding.Rule.Name);
        json.WriteString("category", finding.Rule.CategoryName);
        json.WriteString("severity", finding.Severity == LintSeverity.Error ? "error" : "warning");
        json.WriteBoolean("blocking", finding.IsBlocking);
        json.WriteString("message", finding.Message);
        json.WriteString("hint", finding.Hint);
        json.WriteString("file", finding.Location.File);
        json.WriteNumber("line", finding.Location.Line);
        json.WriteNumber("column", finding.Location.Column);
        json.WriteNumber("length", finding.Length);
        json.WriteString("migration", finding.MigrationId);
        json.WriteString("statement", finding.Statement);
        json.WriteBoolean("mayChangeWithLiveSchema", finding.MayChangeWithLiveSchema);
        if (finding.AllowedBy is { } allowance)
        {
            json.WriteStartObject("allowed");
            json.WriteString("by", allowance.Source == LintAllowanceSource.Directive ? "directive" : "annotation");
            json.WriteString("reason", allowance.Reason);
            if (allowance.Location is { } at)
            {
                json.WriteString("file", at.File);
                json.WriteNumber("line", at.Line);
            }

            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("allowed");
        }

        json.WriteEndObject();
    }

    /// <summary>
    /// GitHub Actions workflow commands, one per finding: <c>::error file=…,line=…,col=…,title=…::message</c>.
    /// Allowed findings become notices so reviewers still see them.
    /// </summary>
    /// <param name="directory">The migration directory relative to the repository root, prefixed to each file so GitHub can place the annotation.</param>
    /// <param name="maxPerRule">Annotations per rule, in file order; one notice per capped rule counts the rest (0 lists all).</param>
    public static string FormatGitHub(LintReport report, string? directory = null, int maxPerRule = DefaultMaxPerRule)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        Write(report, new GitHubLintWriter(writer, directory, maxPerRule));
        return writer.ToString();
    }

    internal static string GitHubCommand(LintFinding finding, string prefix)
    {
        var level = finding.IsAllowed ? "notice" : finding.Severity == LintSeverity.Error ? "error" : "warning";
        var title = $"{finding.Rule.Id} {finding.Rule.Name}";
        var file = finding.Location.File.StartsWith("annotation ", StringComparison.Ordinal) ? null : prefix + finding.Location.File;
        var properties = file is null
            ? $"title={EscapeProperty(title)}"
            : string.Create(CultureInfo.InvariantCulture,
                $"file={EscapeProperty(file)},line={finding.Location.Line},col={finding.Location.Column},endColumn={finding.Location.Column + finding.Length},title={EscapeProperty(title)}");
        var message = finding.Message + "\n" + finding.Hint;
        if (finding.AllowedBy is { } allowance)
        {
            message += "\nallowed: " + allowance.Reason;
        }

        return $"::{level} {properties}::{EscapeData(message)}";
    }

    internal static string GitHubNotListed(LintRuleCount count, int listed)
    {
        var title = $"{count.Rule.Id} {count.Rule.Name}";
        var hidden = count.Total - listed;
        var message = string.Create(CultureInfo.InvariantCulture,
            $"{hidden} more finding{Plural(hidden)} of {count.Rule.Id} not annotated ({count.Total} in all; --max-per-rule 0 annotates every one)");
        return $"::notice title={EscapeProperty(title)}::{EscapeData(message)}";
    }

    // https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts escapes exactly these characters.
    internal static string EscapeData(string value) =>
        value.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    private static string EscapeProperty(string value) =>
        EscapeData(value).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);

    internal static string Plural(int count) => count == 1 ? string.Empty : "s";
}
