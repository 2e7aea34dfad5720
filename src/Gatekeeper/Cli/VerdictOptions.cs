using System.CommandLine;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases;

namespace Gatekeeper.Cli;

/// <summary>
/// The ways past a blocking finding on the command line (--allow, --approve-plan), as the gatekeeper.dev/allow and
/// gatekeeper.dev/approve-plan annotations are in the webhook, and how <c>plan</c> and <c>migrate</c> gather what the
/// one plan verdict (<see cref="PlanJudge"/>) judges.
/// </summary>
internal sealed class VerdictOptions
{
    private readonly Option<string?> _allow = new("--allow")
    {
        Description = "Lint rule ids or categories to accept, comma separated (as the gatekeeper.dev/allow annotation), e.g. GK101,locking.",
        HelpName = "RULES",
    };

    private readonly Option<string?> _approve = new("--approve-plan")
    {
        Description = "Admit exactly the plan with this hash despite blocking lint findings (as the gatekeeper.dev/approve-plan annotation); " +
                      "any other plan is judged as usual.",
        HelpName = "HASH",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_allow);
        command.Options.Add(_approve);
    }

    public IReadOnlyList<string> Allow(ParseResult parse) => LintAllowList.Parse(parse.GetValue(_allow));

    public string? ApprovedPlanHash(ParseResult parse) => parse.GetValue(_approve)?.Trim() is { Length: > 0 } hash ? hash.ToLowerInvariant() : null;

    /// <summary>What a plan is for, in verdict messages: the database and its server, never a credential.</summary>
    public static string Subject(DatabaseIdentity database) => $"{database.Database} on {database.Endpoint}";

    /// <summary>
    /// Lints the pending migrations against the live schema (table sizes, current column types, server version). A schema
    /// that cannot be read is not a failure: the text is judged alone, which keeps size-dependent findings as errors.
    /// </summary>
    public static async Task<(LintReport Lint, string? SchemaProblem, string? VersionProblem)> LintPendingAsync(
        IMigrationDatabase db, MigrationPlan plan, Core.Sql.SqlDialect dialect, IReadOnlyList<string> allow, CancellationToken cancellationToken)
    {
        LiveSchema? live = null;
        string? problem = null;
        if (plan.Pending.Count > 0)
        {
            try
            {
                live = await db.ReadSchemaAsync(cancellationToken);
            }
            catch (DatabaseException e) when (e.Kind is not (DatabaseErrorKind.Unreachable or DatabaseErrorKind.AuthenticationFailed or DatabaseErrorKind.UnknownDatabase))
            {
                problem = e.Message;
            }
        }

        // A command lints once per process, so the second core cuts and parses while this one judges (the same findings).
        var lint = Linter.Lint(plan.Pending, dialect, LintOptions.Default with
        {
            Allow = allow,
            Schema = live?.Schema,
            Server = live?.Server,
            // The session's sql_mode: the files are read as the server that runs them reads them.
            // (migrate's lock read it on a new session, as the files will run: first; else the catalog read's).
            Modes = db.SessionModes ?? live?.Modes ?? Core.Sql.SqlModes.None,
            PrepareOnSecondThread = true,
        });
        return (lint, problem, live?.VersionProblem);
    }
}
