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
        var database = new DatabaseCommandOptions();
        var output = CommonOptions.Output();
        var lockTimeout = DurationParser.Option("--lock-timeout", "How long to wait for another runner's migration lock before giving up.", TimeSpan.FromMinutes(2));
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Check that the pending migrations apply, on a throwaway copy of the live structure (see --dry-run-mode), and apply nothing.",
        };
        var dryRunOptions = new DryRunOptions();
        var terminationLog = new Option<FileInfo?>("--termination-log")
        {
            Description = $"File that receives a one-line failure reason (default {KubernetesTerminationLog} when it exists).",
            HelpName = "FILE",
        };

        var verdictOptions = new VerdictOptions();
        var expectPlan = new Option<string?>("--expect-plan")
        {
            Description = "Apply only the plan with this hash (what the migration Job does with the plan the webhook admitted); any other plan " +
                          "is refused and nothing is applied. The rest of that plan, after an earlier attempt applied its first part, is accepted too. " +
                          "Takes the plan hash 'gatekeeper plan' prints or the release key stamped on a pod template (gatekeeper.dev/plan).",
            HelpName = "HASH",
        };

        var skipDataChecks = new Option<bool>(SkipDataChecksFlag)
        {
            Description = "Apply without first looking for rows the pending changes would fail on (duplicates under a new UNIQUE index, NULLs under " +
                          "SET NOT NULL, rows a CHECK or FOREIGN KEY rejects, values a narrower type cannot hold). Those checks are read-only and " +
                          "bounded; on MySQL, whose DDL is not transactional, a change that fails half-way leaves a dirty migration to repair.",
        };

        var command = new Command("migrate", """
            Apply pending migrations in order, each in its own transaction where the engine allows (files marked
            no-transaction run statement by statement), recording each in the history table. Takes the database's
            migration lock first, so concurrent runners apply every migration exactly once; a second run is a no-op.
            Refuses to start when the plan shows drift, missing files, out-of-order versions or a dirty migration, and when
            the pending migrations have a blocking lint finding that nothing allows (the verdict of 'gatekeeper plan' and
            the webhook: allow it inline, with --allow, or approve the plan with --approve-plan). Before applying anything it
            looks for rows a pending change would fail on, as the webhook does (--skip-data-checks to apply without).
            Exit 0 when everything applied, 1 when the plan is blocked or refused or a migration failed, 2 on bad input.
            """)
        {
            lockTimeout, dryRun, expectPlan, skipDataChecks, terminationLog, output,
        };

        database.AddTo(command);
        dryRunOptions.AddTo(command);
        verdictOptions.AddTo(command);
        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            RunSocketContinuationsInline();
            var reasonFile = parse.GetValue(terminationLog) ?? (File.Exists(KubernetesTerminationLog) ? new FileInfo(KubernetesTerminationLog) : null);
            using var tracing = RunnerTracing.Start("migrate");
            try
            {
                // The directory is read and parsed on another thread while this one connects and takes the lock, which need
                // only the URL and the history table; a directory that cannot be read is still the error reported first.
                var reading = Task.Run(() => database.LoadSourceAsync(parse, cancellationToken), cancellationToken);
                DatabaseTarget? early;
                try
                {
                    early = parse.GetValue(dryRun) ? null : database.ResolveTargetBeforeSource(parse);
                }
                catch (CommandLineError)
                {
                    await reading;
                    throw;
                }

                var target = early ?? database.ResolveTarget(parse, (await reading).Format);
                var json = parse.GetRequiredValue(output) == OutputFormat.Json;
                var progress = json ? TextWriter.Null : stdout;
                await using var db = target.Open();

                var expected = parse.GetValue(expectPlan)?.Trim().ToLowerInvariant();
                var judge = Judge(db, target, verdictOptions.Allow(parse), verdictOptions.ApprovedPlanHash(parse), expected is { Length: > 0 } ? expected : null,
                    checkData: !parse.GetValue(skipDataChecks));
                var run = await RunAsync(db, reading, target, new MigrationRunnerOptions { LockTimeout = parse.GetRequiredValue(lockTimeout), Judge = judge },
                    parse.GetValue(dryRun) ? dryRunOptions.Settings(parse, target) : null, progress, cancellationToken);
                if (json)
                {
                    await stdout.WriteLineAsync(PlanRenderer.Serialize(run.ToDocument(), CliJson.Default.MigrateDocument));
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

    private const string SkipDataChecksFlag = "--skip-data-checks";

    private const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// A run waits on one session at a time, round trip after round trip: by default every reply is read on the runtime's
    /// socket thread and handed to a pool thread to continue, two wake-ups per round trip. Inline, the socket thread
    /// continues itself (goalert's 280 files: 0.13 s of system time down to 0.03, 10-20% of the wall time on a loaded
    /// machine). Read once, when the first socket is made, so it is set before any connection; a value the user set wins.
    /// The webhook keeps the default: its requests must not wait behind one another on that thread.
    /// </summary>
    private static void RunSocketContinuationsInline()
    {
        if (Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
        }
    }

    /// <summary>
    /// The one plan verdict on the plan made under the lock: the same as <c>gatekeeper plan</c> and the webhook reach,
    /// including the data pre-checks (unless <paramref name="checkData"/> is false): rows may have changed since the
    /// webhook looked, and a person running migrate by hand may never have asked.
    /// </summary>
    private static Func<MigrationPlan, CancellationToken, Task<PlanVerdict>> Judge(
        IMigrationDatabase db, DatabaseTarget target, IReadOnlyList<string> allow, string? approvedPlanHash, string? expectedPlan, bool checkData) =>
        async (plan, cancellationToken) =>
        {
            var evidence = new PlanEvidence
            {
                Plan = plan,
                Audience = VerdictAudience.CommandLine,
                Subject = VerdictOptions.Subject(db.Identity),
                ApprovedPlanHash = approvedPlanHash,
                Expected = expectedPlan is null ? null : new PlanExpectation(expectedPlan, AcceptsRemainder: true),
            };
            if (plan.IsEmpty)
            {
                return PlanJudge.Judge(evidence);
            }

            // The data pre-checks' targets are read from the statements on another thread while the schema is read and
            // the lint runs: both only read the pending files.
            var targets = checkData && !plan.IsBlocked ? Task.Run(() => PlanTargets.Find(plan.Pending, target.Url.Dialect, db.SessionModes ?? Core.Sql.SqlModes.None), cancellationToken) : null;
            var (lint, schemaProblem, versionProblem) = await VerdictOptions.LintPendingAsync(db, plan, target.Url.Dialect, allow, cancellationToken);
            var preflight = targets is not null
                ? await PlanCommand.PreflightAsync(db, await targets, lookAtSessions: false, cancellationToken)
                : PreflightEvidence.None;
            var verdict = PlanJudge.Judge(evidence with { Lint = lint, SchemaProblem = schemaProblem, ServerVersionProblem = versionProblem, Preflight = preflight });
            return verdict.Reason == PlanVerdictReasons.ExistingRowsViolate
                ? verdict with { Message = $"{verdict.Message}\nTo apply anyway (the change then fails on those rows, and on MySQL may leave a dirty migration): {SkipDataChecksFlag}." }
                : verdict;
        };

    private static async Task<MigrateRun> RunAsync(
        IMigrationDatabase db,
        Task<MigrationDirectory> reading,
        DatabaseTarget target,
        MigrationRunnerOptions runnerOptions,
        DryRunSettings? dryRun,
        TextWriter progress,
        CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        async Task<MigrationDirectory> ReadAndAnnounceAsync()
        {
            var source = await reading;
            await progress.WriteLineAsync($"database  {target.Url.Redacted} (history table {db.Identity.HistoryTable})");
            await progress.WriteLineAsync($"source    {source.Source}: {MigrationFormats.Name(source.Format)}, {source.Migrations.Count} migrations");
            if (source.Ignored.Count > 0)
            {
                await progress.WriteLineAsync($"ignored   {source.Ignored.Count} file(s) (--ignore): {string.Join(", ", source.Ignored)}");
            }

            return source;
        }

        var runner = new MigrationRunner(db, runnerOptions);

        if (dryRun is not null)
        {
            var source = await ReadAndAnnounceAsync();
            var checkedPlan = await runner.DryRunAsync(source, dryRun, cancellationToken);
            var dryRunOnly = new MigrateRun(checkedPlan.Plan, dryRun: true) { DryRun = checkedPlan.Report };
            await WriteProblemsAsync(progress, checkedPlan.Plan);
            if (checkedPlan.Report is null)
            {
                dryRunOnly.FailureReason = checkedPlan.Plan.IsBlocked ? $"plan blocked: {checkedPlan.Plan.Problems[0].Message}" : "the database has a dirty migration";
            }
            else
            {
                DryRunRenderer.WriteText(progress, checkedPlan.Report);
                dryRunOnly.FailureReason = checkedPlan.Report.Failure?.ToString();
            }

            return dryRunOnly;
        }

        var writer = new ProgressWriter(progress);
        MigrationRunResult result;
        try
        {
            result = await runner.RunAsync(ReadAndAnnounceAsync(), writer, cancellationToken);
        }
        catch
        {
            // The one-line reason goes to stderr: it must not continue the progress line of the file it stopped at.
            writer.EndOpenLine();
            throw;
        }

        var run = new MigrateRun(result.Plan, dryRun: false) { Result = result };
        if (result.Status != MigrationRunStatus.Rejected)
        {
            foreach (var note in result.Verdict?.Warnings ?? [])
            {
                await progress.WriteLineAsync($"note: {note}");
            }
        }

        switch (result.Status)
        {
            case MigrationRunStatus.UpToDate:
                await progress.WriteLineAsync($"Nothing to apply: the database is up to date{(result.Plan?.TargetVersion is { } version ? $" at version {version}." : ".")}");
                break;
            case MigrationRunStatus.Applied:
                await progress.WriteLineAsync($"Applied {result.Applied.Count} migration{(result.Applied.Count == 1 ? string.Empty : "s")} in {Durations.Format(total.Elapsed)}; the database is at version {result.Plan!.TargetVersion}.");
                break;
            case MigrationRunStatus.PlanBlocked:
                await WriteProblemsAsync(progress, result.Plan!);
                run.FailureReason = $"plan blocked: {result.Message}";
                await progress.WriteLineAsync($"Nothing applied: the plan is blocked by {result.Plan!.Problems.Count} problem{(result.Plan.Problems.Count == 1 ? string.Empty : "s")}.");
                break;
            case MigrationRunStatus.Rejected:
                await progress.WriteLineAsync(result.Message);
                await progress.WriteLineAsync($"Nothing applied: the plan was refused ({result.Verdict!.Reason}).");
                run.FailureReason = result.Message;
                break;
            case MigrationRunStatus.Failed:
                var failure = result.Failure!;
                var migration = result.Plan!.Pending[result.Applied.Count];
                var cutOff = MigrationRunner.IsConnectionFailure(failure);
                await progress.WriteLineAsync(cutOff
                    ? $"error: {result.Message}"
                    : $"error: {failure}{(failure.ServerCode is null ? string.Empty : $" ({failure.ServerCode})")}");
                if (failure.Statement is { } statement)
                {
                    await progress.WriteLineAsync($"  statement: {DryRunRenderer.OneLine(statement)}");
                }

                await progress.WriteLineAsync(failure.LeftDirty
                    ? $"  Part of {migration.FileName} was committed before it failed, so it is marked dirty in {db.Identity.HistoryTable} and blocks further runs. " +
                      $"Finish or undo it by hand, then run: gatekeeper repair --dir <dir> --version {migration.Id} --resolution applied|retry"
                    : $"  Nothing of {migration.FileName} was kept. {(cutOff ? "The connection broke, not the file: run migrate again once the server answers" : "Fix it and run migrate again")}; " +
                      $"the {result.Applied.Count} migration{(result.Applied.Count == 1 ? string.Empty : "s")} before it stay applied.");
                run.FailureReason = result.Message;
                break;
            default:
                // Dirty or LockNotAcquired: the runner's message already says what happened and what to do.
                await progress.WriteLineAsync($"Nothing applied: {result.Message}");
                run.FailureReason = result.Message;
                break;
        }

        return run;
    }

    private static async Task WriteProblemsAsync(TextWriter progress, MigrationPlan plan)
    {
        foreach (var problem in plan.Problems)
        {
            await progress.WriteLineAsync($"  ✗ {problem.Kind.ToString().ToLowerInvariant()}: {problem.Message}");
        }
    }

    /// <summary>Writes progress as it happens, on the caller's thread (Progress&lt;T&gt; would post it later, out of order).</summary>
    private sealed class ProgressWriter(TextWriter output) : IProgress<MigrationProgress>
    {
        private int _width;
        private bool _lineOpen;

        /// <summary>Ends the line of a file that was started and never reported finished or failed.</summary>
        public void EndOpenLine()
        {
            if (_lineOpen)
            {
                _lineOpen = false;
                output.WriteLine("stopped");
                output.Flush();
            }
        }

        public void Report(MigrationProgress value)
        {
            var migration = value.Migration;
            switch (value.Kind)
            {
                case MigrationProgressKind.Started:
                    if (value.Index == 0)
                    {
                        output.WriteLine($"plan      {value.Total} pending");
                    }

                    _width = Math.Max(_width, migration.Id.Length + migration.Description.Length + 4);
                    output.Write($"  [{value.Index + 1}/{value.Total}] {$"{migration.Id}  {migration.Description} ".PadRight(_width, '.')} ");
                    output.Flush();
                    _lineOpen = true;
                    break;
                case MigrationProgressKind.Finished:
                    _lineOpen = false;
                    output.WriteLine($"ok  {Durations.Format(value.Elapsed ?? TimeSpan.Zero)}");
                    break;
                case MigrationProgressKind.Failed:
                    _lineOpen = false;
                    output.WriteLine($"FAILED after {Durations.Format(value.Elapsed ?? TimeSpan.Zero)}");
                    break;
            }
        }
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

    private sealed class MigrateRun(MigrationPlan? plan, bool dryRun)
    {
        public MigrationRunResult? Result { get; init; }

        public DryRunReport? DryRun { get; init; }

        public string? FailureReason { get; set; }

        public int ExitCode => FailureReason is null ? ExitCodes.Ok : ExitCodes.Rejected;

        public MigrateDocument ToDocument() => new(
            plan?.Hash,
            plan?.Database,
            dryRun,
            Result?.Status.ToString(),
            Result?.Verdict is { } verdict ? PlanRenderer.ToDocument(verdict) : null,
            plan?.IsBlocked ?? false,
            plan?.Problems.Select(p => new MigrateProblemEntry(p.Kind.ToString().ToLowerInvariant(), p.MigrationId, p.Message)).ToList(),
            Result?.Applied.Select(r => new AppliedEntry(r.Migration.Id, r.Migration.FileName, Math.Round(r.Elapsed.TotalMilliseconds, 1), r.Attempts)).ToList(),
            Result?.Failure is { } f ? FailureDocument.From(f) : null,
            DryRun is null ? null : DryRunRenderer.ToDocument(DryRun),
            plan?.TargetVersion,
            Result?.Message ?? FailureReason,
            FailureReason is null);
    }

    internal sealed record MigrateDocument(
        string? Plan,
        DatabaseIdentity? Database,
        bool DryRun,
        string? Status,
        PlanRenderer.VerdictDocument? Verdict,
        bool Blocked,
        IReadOnlyList<MigrateProblemEntry>? Problems,
        IReadOnlyList<AppliedEntry>? Applied,
        FailureDocument? Failure,
        DryRunRenderer.DryRunDocument? DryRunResult,
        string? TargetVersion,
        string? Message,
        bool Succeeded);

    internal sealed record MigrateProblemEntry(string Kind, string Migration, string Message);

    internal sealed record AppliedEntry(string Id, string File, double ElapsedMs, int Attempts);
}
