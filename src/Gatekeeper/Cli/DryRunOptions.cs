using System.CommandLine;
using Gatekeeper.Databases;

namespace Gatekeeper.Cli;

/// <summary>
/// Where <c>--dry-run</c> tries the plan: <c>--dry-run-mode shadow</c> (the default, as in the webhook) on a throwaway
/// copy of the structure, on <c>--dev-url</c>'s server or the database's own; <c>live</c> in a rolled-back transaction
/// on the database itself (PostgreSQL).
/// </summary>
internal sealed class DryRunOptions
{
    private readonly Option<string> _mode = new Option<string>("--dry-run-mode")
    {
        Description = "shadow: on a throwaway copy of the structure (no DDL reaches the database); live: in a rolled-back transaction on the database itself " +
                      "(PostgreSQL; it takes the plan's locks there).",
        DefaultValueFactory = _ => "shadow",
        HelpName = "MODE",
    }.AcceptOnlyFromAmong("shadow", "live");

    private readonly Option<string?> _devUrl = new("--dev-url")
    {
        Description = "A dev database server to make the dry-run's throwaway copy on, instead of the database's own server " +
                      "(its user needs only the right to create databases; see docs/database-permissions.md).",
        HelpName = "URL",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_mode);
        command.Options.Add(_devUrl);
    }

    /// <summary>The settings for <paramref name="target"/>; a dev URL that cannot be used is a command line error.</summary>
    public DryRunSettings Settings(ParseResult parse, DatabaseTarget target)
    {
        if (parse.GetRequiredValue(_mode) == "live")
        {
            return new DryRunSettings(DryRunMode.Transaction);
        }

        if (parse.GetValue(_devUrl) is not { } text)
        {
            return DryRunSettings.OffProduction;
        }

        if (!DatabaseUrl.TryParse(text, out var dev, out var error))
        {
            throw new CommandLineError($"--dev-url: {error}");
        }

        if (dev.Engine != target.Url.Engine)
        {
            throw new CommandLineError($"--dev-url points at a {dev.SqlEngine.DisplayName} server, but the database is {target.Engine.DisplayName}");
        }

        return new DryRunSettings(DryRunMode.Shadow, dev);
    }
}
