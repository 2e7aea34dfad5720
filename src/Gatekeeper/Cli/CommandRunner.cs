using System.CommandLine;

namespace Gatekeeper.Cli;

/// <summary>
/// Runs a command body and maps its failures to the documented exit codes: a <see cref="CommandLineError"/>
/// becomes one line on stderr; Ctrl-C becomes exit 130 without a stack trace.
/// </summary>
internal static class CommandRunner
{
    public static void SetAction(Command command, Func<ParseResult, TextWriter, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                return await body(parseResult, output, cancellationToken);
            }
            catch (CommandLineError e)
            {
                await error.WriteLineAsync($"gatekeeper {command.Name}: {e.Message}");
                return e.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await error.WriteLineAsync($"gatekeeper {command.Name}: cancelled.");
                return 130;
            }
        });
}
