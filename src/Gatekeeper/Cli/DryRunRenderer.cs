using Gatekeeper.Databases;

namespace Gatekeeper.Cli;

/// <summary>Prints a dry-run's verdict: which statement failed, where, and what the server said.</summary>
internal static class DryRunRenderer
{
    public static void WriteText(TextWriter output, DryRunReport report)
    {
        var mode = report.Mode == DryRunMode.Transaction ? "in a rolled-back transaction" : $"on a throwaway copy on {report.ShadowServer}";
        if (report.Succeeded)
        {
            output.WriteLine($"dry-run   ok: {report.Checked.Count} migration{(report.Checked.Count == 1 ? string.Empty : "s")} applied {mode} in {Durations.Format(report.Elapsed)}, nothing kept.");
        }
        else
        {
            var failure = report.Failure;
            output.WriteLine($"dry-run   ✗ {failure.MigrationId} failed {mode}: {failure}");
            if (failure.Statement is { } statement)
            {
                output.WriteLine($"          statement: {OneLine(statement)}");
            }
        }

        foreach (var note in report.Notes)
        {
            output.WriteLine($"          note: {note}");
        }
    }

    public static DryRunDocument ToDocument(DryRunReport report) => new(
        report.Mode == DryRunMode.Transaction ? "transaction" : "shadow",
        report.Succeeded,
        report.Checked.Select(m => m.Id).ToList(),
        report.Failure is null ? null : FailureDocument.From(report.Failure),
        report.Notes.Select(n => n.ToString()).ToList(),
        Math.Round(report.Elapsed.TotalMilliseconds, 1));

    /// <summary>How and where it ran, for verdict messages.</summary>
    public static string Place(DryRunReport report, Core.Planning.DatabaseIdentity database) => report.Mode == DryRunMode.Transaction
        ? $"on {database} (in a transaction that was rolled back)"
        : $"on a throwaway copy of the schema of {database.Database} on {report.ShadowServer}";

    internal static string OneLine(string statement)
    {
        var flat = string.Join(' ', statement.Split(['\r', '\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= 160 ? flat : flat[..159] + "…";
    }

    internal sealed record DryRunDocument(string Mode, bool Succeeded, IReadOnlyList<string> Checked, FailureDocument? Failure, IReadOnlyList<string> Notes, double ElapsedMs);
}

internal sealed record FailureDocument(string Migration, string File, string? Location, string Kind, string Message, string? Code, bool LeftDirty)
{
    public static FailureDocument From(MigrationFailure failure) => new(
        failure.MigrationId, failure.File, failure.Location?.ToString(), failure.Kind.ToString(), failure.ServerMessage, failure.ServerCode, failure.LeftDirty);
}

internal static class Durations
{
    public static string Format(TimeSpan elapsed) => elapsed.TotalSeconds >= 10
        ? $"{elapsed.TotalSeconds:0.0} s"
        : $"{elapsed.TotalMilliseconds:0} ms";
}
