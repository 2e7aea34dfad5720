using System.CommandLine;
using System.Diagnostics;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases;

namespace Gatekeeper.Cli;

/// <summary>
/// <c>gatekeeper migrate</c>: apply the pending migrations exactly once, under the database's migration lock.
/// This is what the migration Job runs; it is also safe to run by hand or from CI.
/// </summary>
internal static class MigrateCommand
{
    /// <summary>Where Kubernetes reads a container's last words from; the controller puts them in Events and status.</summary>
    private const string KubernetesTerminationLog = "/dev/termination-log";

    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var url = CommonOptions.Url();
        var urlFile = CommonOptions.UrlFile();
        var format = CommonOptions.Format();
        var historyTable = CommonOptions.HistoryTable();
        var output = CommonOptions.Output();
        var lockTimeout = DurationParser.Option("--lock-timeout", "How long to wait for another runner's migration lock before giving up.", TimeSpan.FromMinutes(2));
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Check that the pending migrations apply, then roll them back (PostgreSQL) or drop the shadow database (MySQL).",
        };
        var terminationLog = new Option<FileInfo?>("--termination-log")
        {
            Description = $"File that receives a one-line failure reason (default {KubernetesTerminationLog} when it exists).",
            HelpName = "FILE",
        };

        var command = new Command("migrate", """
            Apply pending migrations in order, each in its own transaction where the engine allows (files marked
            no-transaction run statement by statement), recording each in the history table. Takes the database's
            migration lock first, so concurrent runners apply every migration exactly once; a second run is a no-op.
            Refuses to start when the plan shows drift, missing files, out-of-order versions or a dirty migration.
            Exit 0 when everything applied, 1 when the plan is blocked or a migration failed, 2 on bad input.
            """)
        {
            directory, url, urlFile, format, historyTable, lockTimeout, dryRun, terminationLog, output,
        };

        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var reasonFile = parse.GetValue(terminationLog) ?? (File.Exists(KubernetesTerminationLog) ? new FileInfo(KubernetesTerminationLog) : null);
            try
            {
                var source = await SourceLoading.LoadAsync(parse.GetRequiredValue(directory), parse.GetRequiredValue(format), cancellationToken);
                var target = DatabaseTarget.Resolve(parse.GetValue(url), parse.GetValue(urlFile), parse.GetValue(historyTable), source);
                var json = parse.GetRequiredValue(output) == OutputFormat.Json;
                var progress = json ? TextWriter.Null : stdout;
                await using var database = target.Open();

                var run = await RunAsync(database, source, target, parse.GetRequiredValue(lockTimeout), parse.GetValue(dryRun), progress, cancellationToken);
                if (json)
                {
                    await stdout.WriteLineAsync(PlanRenderer.Serialize(run.ToDocument()));
                }

                if (run.FailureReason is not null && reasonFile is not null)
                {
                    await TryWriteAsync(reasonFile, run.FailureReason);
                }

                return run.ExitCode;
            }
            catch (Exception e) when (reasonFile is not null && e is CommandLineError or DatabaseException)
            {
                await TryWriteAsync(reasonFile, e.Message);
                throw;
            }
        });
        return command;
    }

    private static async Task<MigrateRun> RunAsync(
        IMigrationDatabase database,
        MigrationDirectory source,
        DatabaseTarget target,
        TimeSpan lockTimeout,
        bool dryRun,
        TextWriter progress,
        CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        await progress.WriteLineAsync($"database  {target.Url.Redacted} (history table {database.Identity.HistoryTable})");
        await progress.WriteLineAsync($"source    {source.Source}: {MigrationFormatNames.Name(source.Format)}, {source.Migrations.Count} migrations");

        var waited = Stopwatch.StartNew();
        await using var migrationLock = await database.AcquireMigrationLockAsync(lockTimeout, cancellationToken);
        await progress.WriteLineAsync($"lock      acquired in {Durations.Format(waited.Elapsed)}");

        // The plan is computed under the lock: another runner may have applied some of it while we waited.
        var history = await database.ReadHistoryAsync(cancellationToken);
        var plan = MigrationPlanner.Plan(source, history, database.Identity);
        var run = new MigrateRun(plan, dryRun);
        if (plan.IsBlocked)
        {
            foreach (var problem in plan.Problems)
            {
                await progress.WriteLineAsync($"  ✗ {problem.Kind.ToString().ToLowerInvariant()}: {problem.Message}");
            }

            run.FailureReason = $"plan blocked: {plan.Problems[0].Message}";
            await progress.WriteLineAsync($"Nothing applied: the plan is blocked by {plan.Problems.Count} problem{(plan.Problems.Count == 1 ? string.Empty : "s")}.");
            return run;
        }

        if (plan.IsEmpty)
        {
            await progress.WriteLineAsync($"Nothing to apply: the database is up to date{(plan.TargetVersion is null ? "." : $" at version {plan.TargetVersion}.")}");
            return run;
        }

        await progress.WriteLineAsync($"plan      {plan.Pending.Count} pending (plan {plan.Hash[..12]}, target version {plan.TargetVersion})");
        if (dryRun)
        {
            run.DryRun = await database.DryRunAsync(source, plan.Pending, cancellationToken);
            DryRunRenderer.WriteText(progress, run.DryRun);
            run.FailureReason = run.DryRun.Failure?.ToString();
            return run;
        }

        var width = plan.Pending.Max(m => m.Id.Length + m.Description.Length) + 4;
        for (var i = 0; i < plan.Pending.Count; i++)
        {
            var migration = plan.Pending[i];
            var label = $"{migration.Id}  {migration.Description} ";
            await progress.WriteAsync($"  [{i + 1}/{plan.Pending.Count}] {label.PadRight(width, '.')} ");
            await progress.FlushAsync(cancellationToken);

            var result = await database.ApplyAsync(source, migration, cancellationToken);
            run.Results.Add(result);
            if (result.Succeeded)
            {
                var retried = result.Attempts > 1 ? $" (after {result.Attempts - 1} lock-timeout retr{(result.Attempts == 2 ? "y" : "ies")})" : string.Empty;
                await progress.WriteLineAsync($"ok  {Durations.Format(result.Elapsed)}{retried}");
                continue;
            }

            var failure = result.Failure!;
            await progress.WriteLineAsync($"FAILED after {Durations.Format(result.Elapsed)}");
            await progress.WriteLineAsync($"error: {failure}{(failure.ServerCode is null ? string.Empty : $" ({failure.ServerCode})")}");
            if (failure.Statement is { } statement)
            {
                await progress.WriteLineAsync($"  statement: {DryRunRenderer.OneLine(statement)}");
            }

            await progress.WriteLineAsync(failure.LeftDirty
                ? $"  Part of {migration.FileName} was committed before it failed, so it is marked dirty in {database.Identity.HistoryTable} and blocks further runs. " +
                  $"Finish or undo it by hand, then run: gatekeeper repair --dir <dir> --version {migration.Id} --resolution applied|retry"
                : $"  Nothing of {migration.FileName} was kept. Fix it and run migrate again; {i} migration{(i == 1 ? string.Empty : "s")} before it stay applied.");
            run.FailureReason = $"migration {migration.Id} failed: {failure}";
            return run;
        }

        await progress.WriteLineAsync($"Applied {plan.Pending.Count} migration{(plan.Pending.Count == 1 ? string.Empty : "s")} in {Durations.Format(total.Elapsed)}; the database is at version {plan.TargetVersion}.");
        return run;
    }

    private static async Task TryWriteAsync(FileInfo file, string reason)
    {
        try
        {
            await File.WriteAllTextAsync(file.FullName, reason.Length > 3500 ? reason[..3500] : reason);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The reason is also on stderr; a read-only termination log must not hide the real failure.
        }
    }

    private sealed class MigrateRun(MigrationPlan plan, bool dryRun)
    {
        public MigrationPlan Plan { get; } = plan;

        public List<MigrationApplyResult> Results { get; } = [];

        public DryRunReport? DryRun { get; set; }

        public string? FailureReason { get; set; }

        public int ExitCode => FailureReason is null ? ExitCodes.Ok : ExitCodes.Rejected;

        public object ToDocument() => new
        {
            plan = Plan.Hash,
            database = Plan.Database,
            dryRun,
            blocked = Plan.IsBlocked,
            problems = Plan.Problems.Select(p => new { kind = p.Kind.ToString().ToLowerInvariant(), migration = p.MigrationId, message = p.Message }),
            applied = Results.Where(r => r.Succeeded).Select(r => new { id = r.Migration.Id, file = r.Migration.FileName, elapsedMs = Math.Round(r.Elapsed.TotalMilliseconds, 1), attempts = r.Attempts }),
            failure = Results.FirstOrDefault(r => !r.Succeeded)?.Failure is { } f ? FailureDocument.From(f) : null,
            dryRunResult = DryRun is null ? null : DryRunRenderer.ToDocument(DryRun),
            targetVersion = Plan.TargetVersion,
            succeeded = FailureReason is null,
        };
    }
}
