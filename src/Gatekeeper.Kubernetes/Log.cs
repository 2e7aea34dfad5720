using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes;

/// <summary>Every log line of Gatekeeper.Kubernetes, with stable event ids (4000–4099). Never a secret.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Applied plans known: the records of {DeploymentCount} opted-in Deployments were read")]
    public static partial void AppliedPlansWarm(ILogger logger, int deploymentCount);
}
