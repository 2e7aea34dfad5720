using Microsoft.Extensions.Logging;

namespace Gatekeeper.Controller;

/// <summary>The controller host's log lines (event ids 3500–3599).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "Controller disabled (Controller:Enabled=false): this replica serves the webhook only")]
    public static partial void ControllerDisabled(ILogger logger);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Error, Message = "The controller cannot run ({Reason}); this replica is not ready until it can (see /readyz and gatekeeper_controller_blocked)")]
    public static partial void ControllerCannotRun(ILogger logger, string reason);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Information, Message = "Controller starting: migration image {Image}, Lease {Namespace}/{Lease}, identity {Identity}")]
    public static partial void ControllerStarting(ILogger logger, string image, string @namespace, string lease, string identity);

    [LoggerMessage(EventId = 3504, Level = LogLevel.Warning, Message = "Could not read the Job signing key {Namespace}/{Secret} ({ExceptionType}); trying again in {DelaySeconds}s")]
    public static partial void SigningKeyNotYetReadable(ILogger logger, string @namespace, string secret, string exceptionType, double delaySeconds);
}
