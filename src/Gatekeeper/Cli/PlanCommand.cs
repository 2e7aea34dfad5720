using System.CommandLine;
using System.Text.Json.Nodes;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Lint.Formatting;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases;

namespace Gatekeeper.Cli;

/// <summary><c>gatekeeper plan</c>: what would run against this database, is it safe, and does it apply.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var url = CommonOptions.Url();
        var urlFile = CommonOptions.UrlFile();
        var format = CommonOptions.Format();
        var historyTable = CommonOptions.HistoryTable();
        var output = CommonOptions.Output();
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Also apply the pending migrations without keeping them: PostgreSQL in one rolled-back transaction, " +
                          "MySQL in a throwaway shadow database replayed from the live schema.",
        };
        var allow = new Option<string?>("--allow")
        {
            Description = "Lint rule ids or categories to accept, comma separated (as the gatekeeper.dev/allow annotation).",
            HelpName = "RULES",
        };

        var command = new Command("plan", """
            Compare the migration directory with the database's history table and show what would run: pending migrations in
            order, drift (an applied file changed), missing files, out-of-order versions and dirty migrations, the lint
            findings of the pending migrations, and with --dry-run whether they apply. Changes nothing.
            Exit 0 when the plan is clean, 1 when it is blocked, 2 on bad input or an unreachable database.
            """)
        {
            directory, url, urlFile, format, historyTable, dryRun, allow, output,
        };

        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var dir = parse.GetRequiredValue(directory);
            var source = await SourceLoading.LoadAsync(dir, parse.GetRequiredValue(format), cancellationToken);
            var target = DatabaseTarget.Resolve(parse.GetValue(url), parse.GetValue(urlFile), parse.GetValue(historyTable), source);
            await using var database = target.Open();

            var history = await database.ReadHistoryAsync(cancellationToken);
            var plan = MigrationPlanner.Plan(source, history, database.Identity);
            var lint = Linter.Lint(plan.Pending, target.Url.Dialect, LintOptions.Default with { Allow = LintAllowList.Parse(parse.GetValue(allow)) });
            DryRunReport? dryRunReport = null;
            if (parse.GetValue(dryRun) && !plan.IsBlocked && !plan.IsEmpty)
            {
                dryRunReport = await database.DryRunAsync(source, plan.Pending, cancellationToken);
            }

            if (parse.GetRequiredValue(output) == OutputFormat.Json)
            {
                var document = JsonNode.Parse(PlanRenderer.Serialize(PlanRenderer.ToDocument(source, plan)))!.AsObject();
                document["lint"] = JsonNode.Parse(LintReportFormatter.FormatJson(lint));
                if (dryRunReport is not null)
                {
                    document["dryRun"] = JsonNode.Parse(PlanRenderer.Serialize(DryRunRenderer.ToDocument(dryRunReport)));
                }

                await stdout.WriteLineAsync(document.ToJsonString(new() { WriteIndented = true }));
            }
            else
            {
                PlanRenderer.WriteText(stdout, source, plan, target.Url.Redacted);
                if (lint.Findings.Count > 0)
                {
                    await stdout.WriteLineAsync();
                    await LintCommand.WriteReportAsync(stdout, lint, OutputFormat.Text, dir.ToString());
                }

                if (dryRunReport is not null)
                {
                    await stdout.WriteLineAsync();
                    DryRunRenderer.WriteText(stdout, dryRunReport);
                }
            }

            var rejected = plan.IsBlocked || lint.IsBlocking || dryRunReport is { Succeeded: false };
            return rejected ? ExitCodes.Rejected : ExitCodes.Ok;
        });
        return command;
    }
}
