using System.CommandLine;

namespace Gatekeeper.Cli;

/// <summary>The one place every <c>gatekeeper</c> command is wired, and how parse errors become exit code 2.</summary>
public static class GatekeeperCommandLine
{
    public static RootCommand Build()
    {
        var root = Root();
        root.Subcommands.Add(PlanCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(LintCommand.Create());
        root.Subcommands.Add(RepairCommand.Create());
        root.Subcommands.Add(SchemaCommand.Create());
        root.Subcommands.Add(Webhook.ServeCommand.Create());
        root.Subcommands.Add(ClusterStatusCommand.Create());
        return root;
    }

    private const string Description =
        "Gatekeeper: safe, exactly-once database migrations for Kubernetes rollouts. " +
        "The same engine runs here, in CI, in the admission webhook and in the migration Job.";

    private static RootCommand Root() => new(Description);

    /// <summary>
    /// The command tree a command line needs. <c>gatekeeper lint</c> (every CI run, every pull request) gets a root that
    /// holds only its own command: a token after <c>lint</c> is parsed against lint's options and arguments alone in
    /// either tree, so help, errors and exit codes are the same, and the other seven commands' options are not built.
    /// </summary>
    internal static RootCommand BuildFor(string[] args)
    {
        if (args is ["lint", ..])
        {
            var root = Root();
            root.Subcommands.Add(LintCommand.Create());
            return root;
        }

        return Build();
    }

    /// <summary>
    /// Parses a command line. A <c>gatekeeper lint</c> line that cannot ask for help or the version is first parsed
    /// against a root without the help and version options: <see cref="RootCommand"/>'s constructor builds both, and
    /// their descriptions come from System.CommandLine's resources, whose ResourceManager set-up was 7 % of a small
    /// directory's whole lint process (perf). Neither option could match such a line, so a line that parses without
    /// errors means the same in both trees; one with errors is parsed again in the whole tree, so errors read the same.
    /// </summary>
    internal static ParseResult Parse(string[] args)
    {
        if (args is ["lint", ..] && !MayAskForHelpOrVersion(args))
        {
            var parsed = new Command(RootName, Description) { LintCommand.Create() }.Parse(args);
            if (parsed.Errors.Count == 0)
            {
                return parsed;
            }
        }

        return BuildFor(args).Parse(args);
    }

    private const string RootName = "gatekeeper";

    /// <summary>
    /// True for any token the help or version option could take (-h, -?, /h, /?, --help, --version, a bundle of short
    /// options such as -oh) and for a response file (@file), whose tokens are not known here.
    /// </summary>
    private static bool MayAskForHelpOrVersion(string[] args)
    {
        foreach (var arg in args)
        {
            if (arg.StartsWith('@') || arg is "/h" or "/?" ||
                (arg.StartsWith('-') && (arg.Contains('h', StringComparison.OrdinalIgnoreCase) || arg.Contains('?') || arg.Contains("version", StringComparison.OrdinalIgnoreCase))))
            {
                return true;
            }
        }

        return false;
    }

    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parseResult = Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            await error.WriteLineAsync(UsageError(parseResult));
            return ExitCodes.UsageOrConfiguration;
        }

        var configuration = new InvocationConfiguration { Output = output, Error = error };
        return await parseResult.InvokeAsync(configuration);
    }

    /// <summary>
    /// One line for any parse failure, at any command level: what was not understood comes first (an unknown command
    /// or option also leaves a required option or subcommand missing, which would only mislead), then where help is.
    /// </summary>
    internal static string UsageError(ParseResult parseResult)
    {
        var command = parseResult.CommandResult.Command;
        var names = new List<string>();
        for (var at = parseResult.CommandResult; at is not null; at = at.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, at.Command is RootCommand ? "gatekeeper" : at.Command.Name);
        }

        var path = string.Join(' ', names);
        var unknown = (parseResult.UnmatchedTokens.Count > 0 ? parseResult.UnmatchedTokens[0] : null)
            ?? parseResult.Errors.Select(e => UnrecognizedToken(e.Message)).FirstOrDefault(t => t is not null);
        string what;
        if (unknown is not null)
        {
            what = unknown.StartsWith('-') ? $"unknown option '{unknown}'"
                : command.Subcommands.Count > 0 ? $"unknown command '{unknown}'"
                : $"unexpected argument '{unknown}'";
        }
        else
        {
            // System.CommandLine lists allowed values on lines of their own; one line keeps a CI log's error readable.
            what = string.Join(' ', parseResult.Errors[0].Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.');
        }

        return $"{path}: {what}; see '{path} --help'.";
    }

    private static string? UnrecognizedToken(string message)
    {
        const string Prefix = "Unrecognized command or argument '";
        return message.StartsWith(Prefix, StringComparison.Ordinal) && message.IndexOf('\'', Prefix.Length) is var end and > 0
            ? message[Prefix.Length..end]
            : null;
    }
}
