using Microsoft.Extensions.Logging;

namespace Gatekeeper.Controller;

/// <summary>The controller host's log lines (event ids 3500–3599).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "Controller disabled (Controller:Enabled=false): this replica serves the webhook only")]
    public static partial void ControllerDisabled(ILogger logger);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Warning, Message = "Controller off: no Controller:Image is set and this process is not a pod that can read its own image (POD_NAME, POD_NAMESPACE); no migration Job will be created")]
    public static partial void NoMigrationImage(ILogger logger);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Information, Message = "Controller starting: migration image {Image}, Lease {Namespace}/{Lease}, identity {Identity}")]
    public static partial void ControllerStarting(ILogger logger, string image, string @namespace, string lease, string identity);

    [LoggerMessage(EventId = 3503, Level = LogLevel.Warning, Message = "Could not read this pod {Namespace}/{Pod} to learn its image (HTTP {Status})")]
    public static partial void OwnPodUnreadable(ILogger logger, string @namespace, string pod, int status);

    [LoggerMessage(EventId = 3504, Level = LogLevel.Warning, Message = "Could not read this pod {Namespace}/{Pod} to learn its image ({ExceptionType}); trying again in {DelaySeconds}s")]
    public static partial void OwnPodNotYetReadable(ILogger logger, string @namespace, string pod, string exceptionType, double delaySeconds);
}
