using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Formatting;

/// <summary>
/// Writes a lint report as it is made: <see cref="Begin"/> before the first file is judged, <see cref="Write"/> for
/// each finding as its file is judged (in file order; hand it to <see cref="LintCollector"/>), <see cref="End"/> with
/// the finished report's counts. Each writer lists at most <c>maxPerRule</c> findings of a rule itself too, so a report
/// made without a cap comes out the same.
/// </summary>
public abstract class LintReportWriter(int maxPerRule)
{
    private readonly Dictionary<LintRule, int> listed = [];

    public int MaxPerRule { get; } = maxPerRule >= 0 ? maxPerRule : throw new ArgumentOutOfRangeException(nameof(maxPerRule));

    public virtual void Begin(SqlDialect dialect, bool liveSchema)
    {
    }

    public void Write(LintFinding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var count = listed.GetValueOrDefault(finding.Rule);
        if (MaxPerRule > 0 && count >= MaxPerRule)
        {
            return;
        }

        listed[finding.Rule] = count + 1;
        WriteListed(finding);
    }

    public abstract void End(LintReport report);

    protected abstract void WriteListed(LintFinding finding);

    /// <summary>How many findings of <paramref name="rule"/> this writer listed.</summary>
    protected int ListedOf(LintRule rule) => listed.GetValueOrDefault(rule);
}

/// <summary>Compiler-style text (like rustc or squawk), then counts by rule, then one summary line.</summary>
public sealed class HumanLintWriter(TextWriter writer, bool color, int maxPerRule) : LintReportWriter(maxPerRule)
{
    protected override void WriteListed(LintFinding finding)
    {
        LintReportFormatter.WriteFinding(finding, writer, color);
        writer.WriteLine();
        writer.Flush();
    }

    public override void End(LintReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        LintReportFormatter.WriteByRule(report, writer, ListedOf);
        writer.WriteLine(LintReportFormatter.Summary(report));
        writer.Flush();
    }
}

/// <summary>
/// One JSON object: <c>findings</c> (at most the cap per rule, in file order) streamed first, then <c>blocking</c>,
/// <c>summary</c> (every finding counted; <c>notListed</c> is how many the cap left out) and <c>rules</c> (per rule).
/// </summary>
public sealed class JsonLintWriter(TextWriter writer, bool indented, int maxPerRule) : LintReportWriter(maxPerRule), IDisposable
{
    private readonly ArrayBufferWriter<byte> buffer = new();
    private Utf8JsonWriter? json;

    // Relaxed escaping keeps SQL readable (quotes, <, >, … stay as they are); the output is never embedded in HTML.
    private Utf8JsonWriter Json => json ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public override void Begin(SqlDialect dialect, bool liveSchema)
    {
        Json.WriteStartObject();
        Json.WriteString("dialect", dialect.ToString().ToLowerInvariant());
        Json.WriteBoolean("liveSchema", liveSchema);
        Json.WriteStartArray("findings");
        Flush();
    }

    protected override void WriteListed(LintFinding finding)
    {
        LintReportFormatter.WriteJsonFinding(Json, finding);
        Flush();
    }

    public override void End(LintReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        Json.WriteEndArray();
        Json.WriteBoolean("blocking", report.IsBlocking);
        var notListed = report.RuleCounts.Sum(r => r.Total - ListedOf(r.Rule));
        Json.WriteStartObject("summary");
        Json.WriteNumber("errors", report.ErrorCount);
        Json.WriteNumber("warnings", report.WarningCount);
        Json.WriteNumber("allowed", report.AllowedCount);
        Json.WriteNumber("findings", report.TotalCount);
        Json.WriteNumber("notListed", notListed);
        Json.WriteNumber("maxPerRule", MaxPerRule);
        Json.WriteNumber("migrations", report.MigrationCount);
        Json.WriteNumber("historyFiles", report.HistoryCount);
        Json.WriteNumber("statements", report.StatementCount);
        Json.WriteEndObject();
        Json.WriteStartArray("rules");
        foreach (var count in report.RuleCounts.OrderBy(r => r.Rule.Id, StringComparer.Ordinal))
        {
            Json.WriteStartObject();
            Json.WriteString("rule", count.Rule.Id);
            Json.WriteString("name", count.Rule.Name);
            Json.WriteNumber("errors", count.Errors);
            Json.WriteNumber("warnings", count.Warnings);
            Json.WriteNumber("allowed", count.Allowed);
            Json.WriteNumber("listed", ListedOf(count.Rule));
            Json.WriteNumber("notListed", count.Total - ListedOf(count.Rule));
            Json.WriteEndObject();
        }

        Json.WriteEndArray();
        Json.WriteEndObject();
        Flush();
    }

    private void Flush()
    {
        Json.Flush();
        writer.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        buffer.ResetWrittenCount();
        writer.Flush();
    }

    public void Dispose() => json?.Dispose();
}

/// <summary>GitHub Actions workflow commands, one per listed finding; allowed findings become notices, and one notice per capped rule counts the rest.</summary>
public sealed class GitHubLintWriter(TextWriter writer, string? directory, int maxPerRule) : LintReportWriter(maxPerRule)
{
    private readonly string prefix = string.IsNullOrEmpty(directory) ? string.Empty : directory.TrimEnd('/', '\\') + "/";

    protected override void WriteListed(LintFinding finding)
    {
        writer.Write(LintReportFormatter.GitHubCommand(finding, prefix));
        writer.Write('\n');
        writer.Flush();
    }

    public override void End(LintReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        foreach (var count in report.RuleCounts.Where(r => r.Total > ListedOf(r.Rule)).OrderBy(r => r.Rule.Id, StringComparer.Ordinal))
        {
            writer.Write(LintReportFormatter.GitHubNotListed(count, ListedOf(count.Rule)));
            writer.Write('\n');
        }

        writer.Flush();
    }
}
