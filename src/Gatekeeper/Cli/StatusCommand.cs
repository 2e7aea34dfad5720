using System.CommandLine;
using System.Globalization;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;

namespace Gatekeeper.Cli;

/// <summary><c>gatekeeper status</c>: every migration with its state in this database: applied (when), pending, drift, dirty, missing.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var database = new DatabaseCommandOptions();
        var output = CommonOptions.Output();

        var command = new Command("status", """
            Show every migration of the directory with its state in the database: applied (and when), pending, drift,
            dirty, and history rows whose file is missing. Changes nothing.
            Exit 0 when nothing blocks the next migrate (pending migrations are fine), 1 when something does, 2 on bad input.
            """)
        {
            output,
        };

        database.AddTo(command);
        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var (source, target) = await database.ResolveAsync(parse, cancellationToken);
            await using var db = target.Open();
            var history = await db.ReadHistoryAsync(cancellationToken);
            var plan = MigrationPlanner.Plan(source, history, db.Identity);
            var rows = Rows(source, history, plan);

            if (parse.GetRequiredValue(output) == OutputFormat.Json)
            {
                await stdout.WriteLineAsync(PlanRenderer.Serialize(
                    new StatusDocument(
                        plan.Database,
                        new HistoryTableDocument(history.Table, history.Kind.ToString(), history.Exists, history.AppliedThrough),
                        rows,
                        plan.Pending.Count,
                        plan.Problems.Select(p => p.Message).ToList()),
                    CliJson.Default.StatusDocument));
            }
            else
            {
                await stdout.WriteLineAsync($"database  {target.Url.Redacted}");
                await stdout.WriteLineAsync($"history   {history.Table} ({history.Kind} layout{(history.Exists ? string.Empty : ", not created yet")})");
                await stdout.WriteLineAsync();
                var idWidth = Math.Max(7, rows.Count == 0 ? 0 : rows.Max(r => r.Id.Length));
                await stdout.WriteLineAsync($"  {"STATE",-8}  {"VERSION".PadRight(idWidth)}  {"APPLIED AT",-19}  FILE");
                foreach (var row in rows)
                {
                    await stdout.WriteLineAsync($"  {row.State,-8}  {row.Id.PadRight(idWidth)}  {row.AppliedAt ?? string.Empty,-19}  {row.File ?? "(no file)"}");
                }

                await stdout.WriteLineAsync();
                foreach (var problem in plan.Problems)
                {
                    await stdout.WriteLineAsync($"  ✗ {problem.Message}");
                }

                await stdout.WriteLineAsync($"{plan.Applied.Count} applied, {plan.Pending.Count} pending, {plan.Problems.Count} problem{(plan.Problems.Count == 1 ? string.Empty : "s")}.");
            }

            return plan.IsBlocked ? ExitCodes.Rejected : ExitCodes.Ok;
        });
        return command;
    }

    private static List<StatusRow> Rows(MigrationDirectory source, HistoryState history, MigrationPlan plan)
    {
        var applied = new Dictionary<string, AppliedMigration>(StringComparer.Ordinal);
        foreach (var row in history.Applied)
        {
            applied[row.Id] = row;
        }

        var problems = plan.Problems.ToLookup(p => p.MigrationId, StringComparer.Ordinal);
        var pending = plan.Pending.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var rows = new List<StatusRow>();
        foreach (var migration in source.Migrations)
        {
            applied.TryGetValue(migration.Id, out var row);
            var problem = problems[migration.Id].FirstOrDefault();
            var state = problem is not null ? problem.Kind.ToString().ToLowerInvariant()
                : pending.Contains(migration.Id) ? "pending"
                : "applied";
            rows.Add(new StatusRow(state, migration.Id, migration.FileName, Format(row?.AppliedAt)));
        }

        foreach (var problem in plan.Problems.Where(p => p.Kind == PlanProblemKind.Missing))
        {
            applied.TryGetValue(problem.MigrationId, out var row);
            rows.Add(new StatusRow("missing", problem.MigrationId, null, Format(row?.AppliedAt)));
        }

        return rows;
    }

    private static string? Format(DateTimeOffset? at) => at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    internal sealed record StatusRow(string State, string Id, string? File, string? AppliedAt);

    internal sealed record StatusDocument(DatabaseIdentity Database, HistoryTableDocument HistoryTable, IReadOnlyList<StatusRow> Migrations, int Pending, IReadOnlyList<string> Problems);

    internal sealed record HistoryTableDocument(string Name, string Layout, bool Exists, string? AppliedThrough);
}
