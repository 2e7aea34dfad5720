using System.CommandLine;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Cli;

/// <summary><c>gatekeeper repair</c>: clear a dirty mark after a person finished or undid a half-applied migration.</summary>
internal static class RepairCommand
{
    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var url = CommonOptions.Url();
        var urlFile = CommonOptions.UrlFile();
        var format = CommonOptions.Format();
        var historyTable = CommonOptions.HistoryTable();
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

        var command = new Command("repair", """
            Clear the dirty mark a migration leaves when it failed half-way (MySQL commits DDL statement by statement, and
            no-transaction files cannot roll back). First inspect the schema and finish or undo the migration's partial changes
            by hand; then say which you did with --resolution. Changes only the history table.
            """)
        {
            directory, url, urlFile, format, historyTable, version, resolution,
        };

        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var source = await SourceLoading.LoadAsync(parse.GetRequiredValue(directory), parse.GetRequiredValue(format), cancellationToken);
            var target = DatabaseTarget.Resolve(parse.GetValue(url), parse.GetValue(urlFile), parse.GetValue(historyTable), source);
            await using var database = target.Open();
            var how = parse.GetRequiredValue(resolution) == "applied" ? RepairResolution.MarkApplied : RepairResolution.Retry;
            var result = await database.RepairAsync(source, parse.GetRequiredValue(version), how, cancellationToken);
            await stdout.WriteLineAsync(result.Message);
            return result.Cleared ? ExitCodes.Ok : ExitCodes.Rejected;
        });
        return command;
    }
}
