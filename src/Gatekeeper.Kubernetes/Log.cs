using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes;

/// <summary>Every log line of Gatekeeper.Kubernetes, with stable event ids (4000–4099). Never a secret.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Applied-plan cache warm: {JobCount} migration Jobs listed, {PlanCount} plans applied")]
    public static partial void AppliedPlansWarm(ILogger logger, int jobCount, int planCount);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Plan {Plan} applied (Job {Namespace}/{Job} succeeded)")]
    public static partial void PlanApplied(ILogger logger, string plan, string @namespace, string job);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Debug, Message = "Migration Job watch ended; listing again")]
    public static partial void JobWatchEnded(ILogger logger);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Migration Job watch failed ({ExceptionType}: {Reason}); listing again in {BackoffSeconds}s")]
    public static partial void JobWatchFailed(ILogger logger, double backoffSeconds, string exceptionType, string reason);
}
