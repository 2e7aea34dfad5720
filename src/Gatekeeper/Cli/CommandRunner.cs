using System.CommandLine;
using System.Data.Common;
using Gatekeeper.Databases;

namespace Gatekeeper.Cli;

/// <summary>
/// Runs a command body and maps its failures to the documented exit codes: a <see cref="CommandLineError"/>
/// becomes one line on stderr, and so does a server's refusal no deeper code explained; Ctrl-C becomes exit 130
/// without a stack trace.
/// </summary>
internal static class CommandRunner
{
    public static void SetAction(Command command, Func<ParseResult, TextWriter, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            // "schema plan", not "plan": a subcommand is named with its parent, as the user typed it. The root has no
            // parent (it is not always a RootCommand: see GatekeeperCommandLine.Parse).
            var name = command.Parents.OfType<Command>().FirstOrDefault() is { } parent && parent.Parents.Any() ? $"{parent.Name} {command.Name}" : command.Name;
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                return await body(parseResult, output, cancellationToken);
            }
            catch (CommandLineError e)
            {
                await error.WriteLineAsync($"gatekeeper {name}: {e.Message}");
                return e.ExitCode;
            }
            catch (DatabaseException e)
            {
                await error.WriteLineAsync($"gatekeeper {name}: {e.Message}");
                return ExitCodeOf(e.Kind);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await error.WriteLineAsync($"gatekeeper {name}: cancelled.");
                return 130;
            }
            catch (DbException e) when (DatabaseErrorClassifier.Classify(e) is { } failed)
            {
                // A statement of Gatekeeper's own failed outside the paths that explain their failures (the server refused
                // a history write, the connection dropped): the server's one line, never a stack trace.
                var code = failed.ServerCode is { } c ? $" ({c})" : string.Empty;
                await error.WriteLineAsync($"gatekeeper {name}: database error: {failed.ServerMessage}{code}");
                return ExitCodeOf(failed.Kind);
            }
        });

    /// <summary>Configuration trouble (where, who) is exit 2; trouble while migrating (a held lock) is exit 1.</summary>
    public static int ExitCodeOf(DatabaseErrorKind kind) => kind switch
    {
        DatabaseErrorKind.AuthenticationFailed or DatabaseErrorKind.Unreachable or DatabaseErrorKind.UnknownDatabase
            or DatabaseErrorKind.PermissionDenied or DatabaseErrorKind.HistoryTable or DatabaseErrorKind.ServerLimit => ExitCodes.UsageOrConfiguration,
        _ => ExitCodes.Rejected,
    };
}
