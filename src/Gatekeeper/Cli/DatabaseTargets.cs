using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Cli;

/// <summary>Turns the command line's --url/--url-file and --history-table into the database a command works on.</summary>
internal static class DatabaseTargets
{
    public static DatabaseTarget Resolve(string? url, FileInfo? urlFile, string? historyTable, MigrationDirectory directory)
    {
        var text = CommonOptions.ResolveUrl(url, urlFile);
        if (!DatabaseUrl.TryParse(text, out var parsed, out var error))
        {
            throw new CommandLineError(error);
        }

        var table = new HistoryTableName(null, HistoryTableName.Default);
        if (!string.IsNullOrWhiteSpace(historyTable))
        {
            table = HistoryTableName.TryParse(historyTable, out var tableError) ?? throw new CommandLineError($"--history-table: {tableError}");
        }

        return new DatabaseTarget(parsed, new MigrationDatabaseOptions { HistoryTable = table, Format = directory.Format });
    }
}
