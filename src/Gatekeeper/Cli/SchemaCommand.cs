using System.CommandLine;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Schema;
using Gatekeeper.Databases;
using Gatekeeper.Databases.Schema;

namespace Gatekeeper.Cli;

/// <summary>
/// <c>gatekeeper schema plan|apply</c>: the declarative mode. The desired state is loaded into a dev database, both
/// catalogs are read into one model, and the difference becomes statements that go through the same linter, approval
/// and exit codes as a migration directory's plan.
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
        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var resolved = await inputs.ResolveAsync(parse, cancellationToken);
            var runner = new DeclarativeSchemaRunner(resolved.Target, resolved.Dev, resolved.Exclusions);
            var planned = await runner.PlanAsync(resolved.Desired, cancellationToken);
            var plan = planned.Plan ?? throw LoadFailed(resolved, planned.LoadFailure!);
            var lint = await LintAsync(plan, resolved, LintAllowList.Parse(inputs.Allow(parse)), cancellationToken);
            var refusal = SchemaPlanJudgement.Refusal(plan, lint, approvedHash: null, expectedHash: null);
            var stderr = parse.InvocationConfiguration.Error;
            switch (parse.GetRequiredValue(output))
            {
                case SchemaOutputFormat.Sql:
                    await stdout.WriteAsync(plan.Sql);
                    if (lint.Findings.Count > 0 || plan.Notes.Count > 0)
                    {
                        SchemaPlanRenderer.WriteNotes(stderr, plan);
                        await LintCommand.WriteReportAsync(stderr, lint, OutputFormat.Text, SchemaPlan.ScriptName);
                    }

                    break;
                case SchemaOutputFormat.Json:
                    await stdout.WriteLineAsync(SchemaPlanRenderer.ToJson(resolved, planned, lint, refusal));
                    break;
                default:
                    SchemaPlanRenderer.WriteText(stdout, resolved, planned);
                    if (lint.Findings.Count > 0)
                    {
                        await stdout.WriteLineAsync();
                        await LintCommand.WriteReportAsync(stdout, lint, OutputFormat.Text, SchemaPlan.ScriptName);
                    }

                    SchemaPlanRenderer.WriteVerdict(stdout, plan, refusal);
                    break;
            }

            return refusal is null ? ExitCodes.Ok : ExitCodes.Rejected;
        });
        return command;
    }

    private static Command CreateApply()
    {
        var inputs = new SchemaCommandOptions();
        var output = CommonOptions.Output();
        var lockTimeout = DurationParser.Option("--lock-timeout", "How long to wait for another runner's migration lock before giving up.", TimeSpan.FromMinutes(2));
        var approvePlan = new Option<string?>("--approve-plan")
        {
            Description = "A plan hash approved explicitly: a plan with blocking lint findings applies only when its hash is this one (as the gatekeeper.dev/approve-plan annotation).",
            HelpName = "HASH",
        };
        var expectPlan = new Option<string?>("--expect-plan")
        {
            Description = "Apply only if the plan made under the lock has exactly this hash (what the webhook admitted); otherwise apply nothing.",
            HelpName = "HASH",
        };
        var terminationLog = new Option<FileInfo?>("--termination-log")
        {
            Description = $"File that receives a one-line failure reason (default {KubernetesTerminationLog} when it exists).",
            HelpName = "FILE",
        };
        var command = new Command("apply", """
            Make the database match the desired schema: take the migration lock, plan again under it, lint the statements
            (blocking findings stop it unless allowed or the plan is approved), apply them (PostgreSQL: in one transaction),
            and record the apply (desired-state hash, statements, time) in gatekeeper_declarative_history.
            Exit 0 when the database matches, 1 when the plan is refused, not the expected one, or a statement failed, 2 on bad input.
            """)
        {
            approvePlan, expectPlan, lockTimeout, terminationLog, output,
        };
        inputs.AddTo(command);
        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var reasonFile = parse.GetValue(terminationLog) ?? (File.Exists(KubernetesTerminationLog) ? new FileInfo(KubernetesTerminationLog) : null);
            try
            {
                var resolved = await inputs.ResolveAsync(parse, cancellationToken);
                var json = parse.GetRequiredValue(output) == OutputFormat.Json;
                var progress = json ? TextWriter.Null : stdout;
                var allow = LintAllowList.Parse(inputs.Allow(parse));
                var live = await ReadLiveStatisticsAsync(resolved, cancellationToken);
                var runner = new DeclarativeSchemaRunner(resolved.Target, resolved.Dev, resolved.Exclusions, new DeclarativeRunnerOptions { LockTimeout = parse.GetRequiredValue(lockTimeout) });
                LintReport? lint = null;
                var result = await runner.ApplyAsync(resolved.Desired, plan =>
                {
                    lint = Lint(plan, resolved, allow, live);
                    return SchemaPlanJudgement.Refusal(plan, lint, parse.GetValue(approvePlan), parse.GetValue(expectPlan));
                }, cancellationToken);

                if (result.Status == DeclarativeApplyStatus.LoadFailed)
                {
                    throw LoadFailed(resolved, result.Planned!.LoadFailure!);
                }

                if (json)
                {
                    await stdout.WriteLineAsync(SchemaPlanRenderer.ApplyToJson(resolved, result, lint));
                }
                else
                {
                    if (result.Planned is { } planned)
                    {
                        SchemaPlanRenderer.WriteText(progress, resolved, planned, showSql: false);
                    }

                    if (lint is { Findings.Count: > 0 })
                    {
                        await progress.WriteLineAsync();
                        await LintCommand.WriteReportAsync(progress, lint, OutputFormat.Text, SchemaPlan.ScriptName);
                    }

                    await progress.WriteLineAsync(SchemaPlanRenderer.Outcome(result));
                }

                if (!result.Succeeded && reasonFile is not null)
                {
                    await TryWriteAsync(reasonFile, result.Message);
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

    private static CommandLineError LoadFailed(SchemaInputs resolved, DesiredSchemaLoadFailure failure) =>
        new($"the desired state does not load into the dev database {resolved.Dev.Database} at {resolved.Dev.Endpoint}: {failure}" +
            $"{Environment.NewLine}  statement: {DryRunRenderer.OneLine(failure.Statement)}");

    private static async Task<LintReport> LintAsync(SchemaPlan plan, SchemaInputs resolved, IReadOnlyList<string> allow, CancellationToken cancellationToken)
    {
        var live = plan.IsEmpty ? null : await ReadLiveStatisticsAsync(resolved, cancellationToken);
        return Lint(plan, resolved, allow, live);
    }

    /// <summary>The generated statements, linted as the migration file they are (size-dependent findings read the live row estimates).</summary>
    private static LintReport Lint(SchemaPlan plan, SchemaInputs resolved, IReadOnlyList<string> allow, LiveSchema? live) =>
        Linter.Lint(plan.IsEmpty ? [] : [plan.ToMigration()], resolved.Target.Dialect, LintOptions.Default with
        {
            Allow = allow,
            Schema = live?.Schema,
            ServerMajorVersion = live?.ServerMajorVersion,
        });

    private static async Task<LiveSchema> ReadLiveStatisticsAsync(SchemaInputs resolved, CancellationToken cancellationToken)
    {
        await using var database = MigrationDatabase.Open(resolved.Target);
        return await database.ReadSchemaAsync(cancellationToken);
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

/// <summary>Whether a declarative plan may run: the same rules as a migration plan's (expected hash, blocked, lint, approval).</summary>
internal static class SchemaPlanJudgement
{
    /// <summary>Null when the plan may run; otherwise the one sentence that says why not and how to get past it.</summary>
    public static string? Refusal(SchemaPlan plan, LintReport lint, string? approvedHash, string? expectedHash)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(lint);
        if (expectedHash is not null && !string.Equals(expectedHash.Trim(), plan.Hash, StringComparison.Ordinal))
        {
            return $"the plan made under the lock is {plan.Hash}, not the expected {expectedHash.Trim()}: the database or the desired state changed since it was planned; nothing was applied";
        }

        if (plan.IsBlocked)
        {
            var blocking = plan.Notes.Where(n => n.Blocking).ToList();
            return $"plan {Short(plan.Hash)} is blocked: {string.Join("; ", blocking.Select(n => n.ToString()))}";
        }

        var findings = lint.Findings.Where(f => f.IsBlocking).ToList();
        if (findings.Count > 0 && !string.Equals(approvedHash?.Trim(), plan.Hash, StringComparison.Ordinal))
        {
            var rules = string.Join(",", findings.Select(f => f.Rule.Id).Distinct(StringComparer.Ordinal));
            return $"plan {Short(plan.Hash)} is unsafe: {findings.Count} blocking finding{(findings.Count == 1 ? string.Empty : "s")} ({rules}); " +
                   $"accept the rules with --allow {rules}, or approve exactly this plan with --approve-plan {plan.Hash}";
        }

        return null;
    }

    internal static string Short(string hash) => hash[..Math.Min(12, hash.Length)];
}
