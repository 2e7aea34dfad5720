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
        var database = new DatabaseCommandOptions();
        var output = CommonOptions.Output();
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Also apply the pending migrations without keeping them: on a throwaway copy of the live structure (see --dry-run-mode).",
        };
        var lockPreflight = new Option<string>("--lock-preflight")
        {
            Description = "What open transactions on the plan's tables do to the verdict (as the gatekeeper.dev/lock-preflight annotation): " +
                          "deny (exit 1, naming each one), warn (notes), or off (the live database's sessions are not looked at). " +
                          "Rows that would fail a change are looked for either way.",
            DefaultValueFactory = _ => "deny",
            HelpName = "POLICY",
        }.AcceptOnlyFromAmong("deny", "warn", "off");
        var dryRunOptions = new DryRunOptions();
        var verdictOptions = new VerdictOptions();

        var command = new Command("plan", """
            Compare the migration directory with the database's history table and show what would run: pending migrations in
            order, drift (an applied file changed), missing files, out-of-order versions and dirty migrations, the lint
            findings of the pending migrations, and with --dry-run whether they apply. Changes nothing.
            Exit 0 when the plan is clean, 1 when it is blocked, 2 on bad input or an unreachable database.
            """)
        {
            dryRun, output, lockPreflight,
        };

        database.AddTo(command);
        dryRunOptions.AddTo(command);
        verdictOptions.AddTo(command);
        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var dir = database.Directory(parse);
            var (source, target) = await database.ResolveAsync(parse, cancellationToken);
            await using var db = target.Open();

            var history = await db.ReadHistoryAsync(cancellationToken);
            var plan = MigrationPlanner.Plan(source, history, db.Identity);
            // Only pending migrations are judged, so the catalog is read only when there is something to judge; with it,
            // size-dependent findings on small analysed tables become warnings.
            var (lint, schemaProblem, versionProblem) = await VerdictOptions.LintPendingAsync(db, plan, target.Url.Dialect, verdictOptions.Allow(parse), cancellationToken);
            var lockPolicy = parse.GetRequiredValue(lockPreflight);
            var preflight = plan.IsBlocked || plan.IsEmpty
                ? PreflightEvidence.None
                : await PreflightAsync(db, plan, target.Url.Dialect, lookAtSessions: lockPolicy != "off", cancellationToken);
            DryRunReport? dryRunReport = null;
            if (parse.GetValue(dryRun) && !plan.IsBlocked && !plan.IsEmpty)
            {
                // Run even when the lint already rejects: a person asking for it wants to know whether the plan applies.
                dryRunReport = await db.DryRunAsync(source, plan.Pending, dryRunOptions.Settings(parse, target), cancellationToken);
            }

            var verdict = PlanJudge.Judge(new PlanEvidence
            {
                Plan = plan,
                Audience = VerdictAudience.CommandLine,
                Subject = VerdictOptions.Subject(db.Identity),
                Lint = plan.IsEmpty ? null : lint,
                ApprovedPlanHash = verdictOptions.ApprovedPlanHash(parse),
                SchemaProblem = schemaProblem,
                ServerVersionProblem = versionProblem,
                DryRun = dryRunReport is null ? DryRunEvidence.None : DryRunEvidenceFrom(dryRunReport, db.Identity),
                Preflight = preflight,
                LockPolicy = lockPolicy == "deny" ? LockPreflightPolicy.Deny : LockPreflightPolicy.Warn,
            });

            if (parse.GetRequiredValue(output) == OutputFormat.Json)
            {
                var document = JsonNode.Parse(PlanRenderer.Serialize(PlanRenderer.ToDocument(source, plan), CliJson.Default.PlanDocument))!.AsObject();
                document["lint"] = JsonNode.Parse(LintReportFormatter.FormatJson(lint));
                document["verdict"] = JsonNode.Parse(PlanRenderer.Serialize(PlanRenderer.ToDocument(verdict), CliJson.Default.VerdictDocument));
                if (dryRunReport is not null)
                {
                    document["dryRun"] = JsonNode.Parse(PlanRenderer.Serialize(DryRunRenderer.ToDocument(dryRunReport), CliJson.Default.DryRunDocument));
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

                PlanRenderer.WriteVerdict(stdout, verdict);
            }

            return verdict.Allowed ? ExitCodes.Ok : ExitCodes.Rejected;
        });
        return command;
    }

    /// <summary>
    /// The read-only look at the live database the webhook takes too: sessions the plan's locks would queue behind
    /// (unless <paramref name="lookAtSessions"/> is false), INVALID indexes, rows its changes would fail on. A right
    /// the user lacks is a note, not a failure.
    /// </summary>
    internal static Task<PreflightEvidence> PreflightAsync(IMigrationDatabase db, MigrationPlan plan, Core.Sql.SqlDialect dialect, bool lookAtSessions, CancellationToken cancellationToken) =>
        PreflightAsync(db, PlanTargets.Find(plan.Pending, dialect, db.SessionModes ?? Core.Sql.SqlModes.None), lookAtSessions, cancellationToken);

    /// <summary>The pre-flight on targets already found (<see cref="PlanTargets.Find"/>).</summary>
    internal static async Task<PreflightEvidence> PreflightAsync(IMigrationDatabase db, PlanTargets targets, bool lookAtSessions, CancellationToken cancellationToken)
    {
        var options = new Databases.Preflight.PreflightOptions();
        var locks = LockPreflight.Clear;
        if (lookAtSessions)
        {
            try
            {
                locks = await db.InspectLocksAsync(targets.Locks, options, cancellationToken);
            }
            catch (DatabaseException denied) when (denied.Kind == DatabaseErrorKind.PermissionDenied)
            {
                locks = new LockPreflight([], [], [denied.Message]);
            }
        }

        return new PreflightEvidence.Ran(locks, await db.PrecheckDataAsync(targets.DataChecks, options, cancellationToken));
    }

    internal static DryRunEvidence DryRunEvidenceFrom(DryRunReport report, DatabaseIdentity database)
    {
        if (report.Failure is not { } failure)
        {
            return new DryRunEvidence.Succeeded(report.Notes.Select(n => n.ToString()).ToList());
        }

        return new DryRunEvidence.Failed(DryRunRenderer.Place(report, database), failure.Location?.ToString() ?? failure.File, failure.ServerMessage);
    }
}
