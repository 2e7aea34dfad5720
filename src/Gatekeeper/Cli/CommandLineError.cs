namespace Gatekeeper.Cli;

/// <summary>
/// A user-facing failure that ends a command with one sentence on stderr and a documented exit code;
/// thrown only where unwinding is simpler than returning (deep inside option resolution).
/// </summary>
public sealed class CommandLineError(string message, int exitCode = ExitCodes.UsageOrConfiguration) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
