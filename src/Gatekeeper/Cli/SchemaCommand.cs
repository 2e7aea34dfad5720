using System.CommandLine;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Schema;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Schema;

namespace Gatekeeper.Cli;

/// <summary>
/// <c>gatekeeper schema plan|apply</c>: the declarative mode. The desired state is loaded into a dev database, both
/// catalogs are read into one model, and the difference becomes statements that go through the same linter, verdict
/// (<see cref="SchemaPlanJudge"/>, which is <see cref="PlanJudge"/>'s) and exit codes as a migration directory's plan.
/// </summary>
internal static class SchemaCommand
{
    /// <summary>Where Kubernetes reads a container's last words from; the controller puts them in Events and status.</summary>
    private const string KubernetesTerminationLog = "/dev/termination-log";

    public static Command Create()
    {
        var command = new Command("schema", "Declarative mode: make a database match a desired schema (CREATE statements) instead of running migration files.");
        command.Subcommands.Add(CreatePlan());
        command.Subcommands.Add(CreateApply());
        return command;
    }

    private static Command CreatePlan()
    {
        var inputs = new SchemaCommandOptions();
        var verdictOptions = new VerdictOptions();
        var output = new Option<SchemaOutputFormat>("--output", "-o")
        {
            Description = "text (for people), sql (only the statements; nothing at all when the database matches), or json.",
            DefaultValueFactory = _ => SchemaOutputFormat.Text,
            HelpName = "FORMAT",
        };
        output.AcceptOnlyFromAmong("text", "sql", "json");
        var command = new Command("plan", """
            Show the statements that would make the database match the desired schema, in a safe order, with the lint findings
            of those statements and the plan's hash. A database changed by hand (drift) shows as a difference. Changes nothing.
            Exit 0 when the plan is clean (or empty), 1 when it is blocked (a blocking lint finding, a difference that cannot be
            applied), 2 on bad input: desired SQL that does not load, a missing, busy or non-empty dev database, an unreachable database.
            """)
        {
            output,
        };
        inputs.AddTo(command);
        verdictOptions.AddTo(command);
        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var resolved = await inputs.ResolveAsync(parse, cancellationToken);
            var runner = new DeclarativeSchemaRunner(resolved.Target, resolved.Dev, resolved.Exclusions,
                new DeclarativeRunnerOptions { DevThrowaway = resolved.DevThrowaway });
            var planned = await UsingDevDatabase(() => runner.PlanAsync(resolved.Desired, cancellationToken));
            var plan = planned.Plan ?? throw LoadFailed(resolved, planned.LoadFailure!);
            var (live, schemaProblem) = plan.IsEmpty ? (null, null) : await ReadLiveStatisticsAsync(resolved, cancellationToken);
            var lint = Lint(plan, resolved, verdictOptions.Allow(parse), live);
            var verdict = SchemaPlanJudge.Judge(plan, new PlanEvidence
            {
                Plan = plan.ToMigrationPlan(),
                Audience = VerdictAudience.CommandLine,
                Subject = VerdictOptions.Subject(plan.Database),
                Lint = plan.IsEmpty ? null : lint,
                ApprovedPlanHash = verdictOptions.ApprovedPlanHash(parse),
                SchemaProblem = schemaProblem,
                ServerVersionProblem = live?.VersionProblem,
            });
            var stderr = parse.InvocationConfiguration.Error;
            switch (parse.GetRequiredValue(output))
            {
                case SchemaOutputFormat.Sql:
                    // Only statements on stdout, so the output can be saved and run; what a person should read goes to stderr.
                    await stdout.WriteAsync(plan.Sql);
                    SchemaPlanRenderer.WriteNotes(stderr, plan);
                    if (lint.Findings.Count > 0)
                    {
                        await LintCommand.WriteReportAsync(stderr, lint, OutputFormat.Text, SchemaPlan.ScriptName);
                    }

                    if (!verdict.Allowed)
                    {
                        PlanRenderer.WriteVerdict(stderr, verdict);
                    }

                    break;
                case SchemaOutputFormat.Json:
                    await stdout.WriteLineAsync(SchemaPlanRenderer.ToJson(resolved, planned, lint, verdict));
                    break;
                default:
                    SchemaPlanRenderer.WriteText(stdout, resolved, planned);
                    if (lint.Findings.Count > 0)
                    {
                        await stdout.WriteLineAsync();
                        await LintCommand.WriteReportAsync(stdout, lint, OutputFormat.Text, SchemaPlan.ScriptName);
                    }

                    SchemaPlanRenderer.WriteVerdict(stdout, plan, verdict);
                    break;
            }

            return verdict.Allowed ? ExitCodes.Ok : ExitCodes.Rejected;
        });
        return command;
    }

    private static Command CreateApply()
    {
        var inputs = new SchemaCommandOptions();
        var verdictOptions = new VerdictOptions();
        var output = CommonOptions.Output();
        var lockTimeout = DurationParser.Option("--lock-timeout", "How long to wait for another runner's migration lock before giving up.", TimeSpan.FromMinutes(2));
        var expectPlan = new Option<string?>("--expect-plan")
        {
            Description = "Apply only if the plan made under the lock has exactly this hash (what the webhook admitted, which also " +
                          "approves its findings); otherwise apply nothing. Takes the plan hash or the release key stamped on a pod template.",
            HelpName = "HASH",
        };
        var terminationLog = new Option<FileInfo?>("--termination-log")
        {
            Description = $"File that receives a one-line failure reason (default {KubernetesTerminationLog} when it exists).",
            HelpName = "FILE",
        };
        var command = new Command("apply", """
            Make the database match the desired schema: take the migration lock, plan again under it, judge the statements like
            `gatekeeper migrate` judges pending migrations (blocking lint findings stop it unless allowed or the plan is approved),
            apply them (PostgreSQL: in one transaction), and record the apply (desired-state hash, statements, time) in
            gatekeeper_declarative_history. Exit 0 when the database matches, 1 when the plan is refused, not the expected one,
            or a statement failed, 2 on bad input.
            """)
        {
            expectPlan, lockTimeout, terminationLog, output,
        };
        inputs.AddTo(command);
        verdictOptions.AddTo(command);
        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var reasonFile = parse.GetValue(terminationLog) ?? (File.Exists(KubernetesTerminationLog) ? new FileInfo(KubernetesTerminationLog) : null);
            try
            {
                var resolved = await inputs.ResolveAsync(parse, cancellationToken);
                var json = parse.GetRequiredValue(output) == OutputFormat.Json;
                var progress = json ? TextWriter.Null : stdout;
                var allow = verdictOptions.Allow(parse);
                var approved = verdictOptions.ApprovedPlanHash(parse);
                var expected = parse.GetValue(expectPlan)?.Trim().ToLowerInvariant() is { Length: > 0 } hash ? hash : null;

                // Row estimates and the server version only tune the lint; reading them before the lock keeps the lock short.
                var (live, schemaProblem) = await ReadLiveStatisticsAsync(resolved, cancellationToken);
                var runner = new DeclarativeSchemaRunner(resolved.Target, resolved.Dev, resolved.Exclusions,
                    new DeclarativeRunnerOptions { LockTimeout = parse.GetRequiredValue(lockTimeout), DevThrowaway = resolved.DevThrowaway });
                LintReport? lint = null;
                PlanVerdict? verdict = null;
                var result = await UsingDevDatabase(() => runner.ApplyAsync(resolved.Desired, plan =>
                {
                    lint = Lint(plan, resolved, allow, live);
                    verdict = SchemaPlanJudge.Judge(plan, new PlanEvidence
                    {
                        Plan = plan.ToMigrationPlan(),
                        Audience = VerdictAudience.CommandLine,
                        Subject = VerdictOptions.Subject(plan.Database),
                        Lint = plan.IsEmpty ? null : lint,
                        ApprovedPlanHash = approved,
                        Expected = expected is null ? null : new PlanExpectation(expected, AcceptsRemainder: false),
                        SchemaProblem = schemaProblem,
                        ServerVersionProblem = live?.VersionProblem,
                    });
                    return verdict.Allowed ? null : verdict.Message ?? verdict.Reason;
                }, cancellationToken));

                if (result.Status == DeclarativeApplyStatus.LoadFailed)
                {
                    throw LoadFailed(resolved, result.Planned!.LoadFailure!);
                }

                if (json)
                {
                    await stdout.WriteLineAsync(SchemaPlanRenderer.ApplyToJson(resolved, result, lint, verdict));
                }
                else
                {
                    if (result.Planned is { Plan: not null } planned)
                    {
                        SchemaPlanRenderer.WriteText(progress, resolved, planned, showSql: false);
                    }

                    if (lint is { Findings.Count: > 0 })
                    {
                        await LintCommand.WriteReportAsync(progress, lint, OutputFormat.Text, SchemaPlan.ScriptName);
                        await progress.WriteLineAsync();
                    }

                    await progress.WriteLineAsync(SchemaPlanRenderer.Outcome(result));
                }

                if (!result.Succeeded && reasonFile is not null)
                {
                    await TryWriteAsync(reasonFile, result.Message.Split('\n')[0]);
                }

                return result.Succeeded ? ExitCodes.Ok : ExitCodes.Rejected;
            }
            catch (Exception e) when (reasonFile is not null && e is CommandLineError or DatabaseException)
            {
                await TryWriteAsync(reasonFile, e.Message);
                throw;
            }
        });
        return command;
    }

    /// <summary>A dev database that cannot serve (not empty, another version) is bad input: exit 2, like a wrong URL.</summary>
    private static async Task<T> UsingDevDatabase<T>(Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (DevDatabaseException e)
        {
            throw new CommandLineError(e.Message);
        }
    }

    private static CommandLineError LoadFailed(SchemaInputs resolved, DesiredSchemaLoadFailure failure) =>
        new($"the desired state does not load into {resolved.DevDescription}: {failure}" +
            $"{Environment.NewLine}  statement: {DryRunRenderer.OneLine(failure.Statement)}");

    /// <summary>The generated statements, linted as the migration file they are (size-dependent findings read the live row estimates).</summary>
    private static LintReport Lint(SchemaPlan plan, SchemaInputs resolved, IReadOnlyList<string> allow, LiveSchema? live) =>
        Linter.Lint(plan.IsEmpty ? [] : [plan.ToMigration()], resolved.Target.Dialect, LintOptions.Default with
        {
            Allow = allow,
            Schema = live?.Schema,
            Server = live?.Server,
        });

    /// <summary>Row estimates and the server version for the linter; a schema that cannot be read is judged from the text alone.</summary>
    private static async Task<(LiveSchema? Live, string? Problem)> ReadLiveStatisticsAsync(SchemaInputs resolved, CancellationToken cancellationToken)
    {
        await using var database = MigrationDatabase.Open(resolved.Target);
        try
        {
            return (await database.ReadSchemaAsync(cancellationToken), null);
        }
        catch (DatabaseException e) when (e.Kind is not (DatabaseErrorKind.Unreachable or DatabaseErrorKind.AuthenticationFailed or DatabaseErrorKind.UnknownDatabase))
        {
            return (null, e.Message);
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
            // The reason is also on stdout/stderr; a read-only termination log must not hide the real failure.
        }
    }
}
