using System.CommandLine;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases;

namespace Gatekeeper.Cli;

/// <summary>
/// The options of every command that reads a directory and a database (--dir, --url, --url-file, --format,
/// --history-table, --ignore), and the one way they become a parsed directory and a database target.
/// </summary>
internal sealed class DatabaseCommandOptions
{
    private readonly Option<DirectoryInfo> _directory = CommonOptions.Directory();
    private readonly Option<string?> _url = CommonOptions.Url();
    private readonly Option<FileInfo?> _urlFile = CommonOptions.UrlFile();
    private readonly Option<string> _format = CommonOptions.Format();
    private readonly Option<string?> _historyTable = CommonOptions.HistoryTable();
    private readonly Option<string[]> _ignore = CommonOptions.Ignore();

    public void AddTo(Command command)
    {
        command.Options.Add(_directory);
        command.Options.Add(_url);
        command.Options.Add(_urlFile);
        command.Options.Add(_format);
        command.Options.Add(_historyTable);
        command.Options.Add(_ignore);
    }

    public DirectoryInfo Directory(ParseResult parse) => parse.GetRequiredValue(_directory);

    /// <summary>Reads the directory first (a broken file is reported before any connection is made), then the URL.</summary>
    public async Task<(MigrationDirectory Source, DatabaseTarget Target)> ResolveAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var source = await LoadSourceAsync(parse, cancellationToken);
        return (source, ResolveTarget(parse, source.Format));
    }

    public Task<MigrationDirectory> LoadSourceAsync(ParseResult parse, CancellationToken cancellationToken) =>
        SourceLoading.LoadAsync(parse.GetRequiredValue(_directory), parse.GetRequiredValue(_format), CommonOptions.IgnorePatterns(parse.GetValue(_ignore)), cancellationToken);

    public DatabaseTarget ResolveTarget(ParseResult parse, MigrationFormat? format) =>
        DatabaseTargets.Resolve(parse.GetValue(_url), parse.GetValue(_urlFile), parse.GetValue(_historyTable), format);

    /// <summary>
    /// The database target before the directory is read, when nothing about it depends on the directory: null when the
    /// history table's name is one several formats use (<c>schema_migrations</c>) and --format leaves the choice to the files.
    /// </summary>
    public DatabaseTarget? ResolveTargetBeforeSource(ParseResult parse)
    {
        var format = MigrationFormats.TryParse(parse.GetRequiredValue(_format), out var chosen) ? chosen : null;
        var target = ResolveTarget(parse, format);
        return format is not null || DatabaseTargets.LayoutIgnoresFormat(target.Options.HistoryTable) ? target : null;
    }
}
