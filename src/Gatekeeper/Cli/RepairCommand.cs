using System.CommandLine;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Cli;

/// <summary><c>gatekeeper repair</c>: clear a dirty mark after a person finished or undid a half-applied migration.</summary>
internal static class RepairCommand
{
    public static Command Create()
    {
        var database = new DatabaseCommandOptions();
        var version = new Option<string>("--version")
        {
            Description = "The dirty migration's version (as 'gatekeeper status' shows it).",
            Required = true,
            HelpName = "VERSION",
        };
        var resolution = new Option<string>("--resolution")
        {
            Description = "retry: you undid its partial changes, so it runs again next time; applied: you completed it by hand, so it is recorded as applied.",
            Required = true,
            HelpName = "retry|applied",
        }.AcceptOnlyFromAmong("retry", "applied");
        var output = CommonOptions.Output();

        var command = new Command("repair", """
            Clear the dirty mark a migration leaves when it failed half-way (MySQL commits DDL statement by statement, and
            no-transaction files cannot roll back). First inspect the schema and finish or undo the migration's partial changes
            by hand; then say which you did with --resolution. Changes only the history table.
            """)
        {
            version, resolution, output,
        };

        database.AddTo(command);
        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var (source, target) = await database.ResolveAsync(parse, cancellationToken);
            await using var db = target.Open();
            var how = parse.GetRequiredValue(resolution) == "applied" ? RepairResolution.MarkApplied : RepairResolution.Retry;
            var result = await db.RepairAsync(source, parse.GetRequiredValue(version), how, cancellationToken);
            if (parse.GetRequiredValue(output) == OutputFormat.Json)
            {
                await stdout.WriteLineAsync(PlanRenderer.Serialize(
                    new RepairDocument(result.MigrationId, parse.GetRequiredValue(resolution), result.Cleared, result.Message, db.Identity),
                    CliJson.Default.RepairDocument));
            }
            else
            {
                await stdout.WriteLineAsync(result.Message);
            }

            return result.Cleared ? ExitCodes.Ok : ExitCodes.Rejected;
        });
        return command;
    }

    /// <summary>What <c>repair --output json</c> prints: which migration, what was done, and whether a dirty mark was cleared.</summary>
    internal sealed record RepairDocument(string Version, string Resolution, bool Cleared, string Message, Gatekeeper.Core.Planning.DatabaseIdentity Database);
}
