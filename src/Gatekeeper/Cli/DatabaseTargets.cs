using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;
using Gatekeeper.Databases.History;

namespace Gatekeeper.Cli;

/// <summary>Turns the command line's --url/--url-file and --history-table into the database a command works on.</summary>
internal static class DatabaseTargets
{
    public static DatabaseTarget Resolve(string? url, FileInfo? urlFile, string? historyTable, MigrationDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return Resolve(url, urlFile, historyTable, directory.Format);
    }

    /// <summary>True when the layout a history table of this name gets when it does not exist yet is the same for every format.</summary>
    public static bool LayoutIgnoresFormat(HistoryTableName table) =>
        MigrationFormats.All.Select(f => MigrationFormats.HistoryKindFor(table.Name, f.Format)).Append(MigrationFormats.HistoryKindFor(table.Name, null)).Distinct().Count() == 1;

    public static DatabaseTarget Resolve(string? url, FileInfo? urlFile, string? historyTable, MigrationFormat? format)
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

        return new DatabaseTarget(parsed, new MigrationDatabaseOptions { HistoryTable = table, Format = format });
    }
}
