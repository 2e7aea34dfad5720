using Microsoft.Extensions.Logging;

namespace Gatekeeper;

/// <summary>
/// Every log line of the gatekeeper host, with stable event ids: the webhook 3000–3099, the controller host 3500–3599.
/// Never a URL, password or token.
/// </summary>
internal static partial class Log
{
    // The webhook (3000–3099).
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Serving certificate loaded: {Subject} ({Thumbprint}), valid until {NotAfter:u}")]
    public static partial void ServingCertificateLoaded(ILogger logger, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Serving certificate files changed but could not be loaded ({Reason}); keeping the previous certificate")]
    public static partial void ServingCertificateReloadFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "{Webhook}: refused the request with {Status}: {Reason}")]
    public static partial void AdmissionRefused(ILogger logger, string webhook, int status, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "{Webhook}: no decision for {Namespace}/{Name} within the budget of {BudgetSeconds}s")]
    public static partial void AdmissionOverBudget(ILogger logger, string webhook, string @namespace, string name, double budgetSeconds);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "{Webhook}: failed while deciding on {Namespace}/{Name}: {ExceptionType}: {Reason}")]
    public static partial void AdmissionFailed(ILogger logger, string webhook, string @namespace, string name, string exceptionType, string reason);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Error, Message = "{Webhook}: the in-place reader failed ({ExceptionType}: {Reason}); the request was answered through the full reader")]
    public static partial void InPlaceAnswerFailed(ILogger logger, string webhook, string exceptionType, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "{Webhook}: {Decision} {Namespace}/{Name} ({Operation}, dry run {DryRun}, user {User}): {Reason}")]
    public static partial void DeploymentDecision(ILogger logger, string webhook, string decision, string @namespace, string name, string operation, bool dryRun, string user, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Information, Message = "Webhook listening on https://{Address}:{Port}")]
    public static partial void Listening(ILogger logger, string address, int port);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Warning, Message = "Development certificates in use (CA bundle printed on stdout); never use them in production")]
    public static partial void DevelopmentCertificatesInUse(ILogger logger);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Retrying {Operation} after {ExceptionType} (attempt {Attempt})")]
    public static partial void Retrying(ILogger logger, string operation, string exceptionType, int attempt);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "Could not record Event {Reason} on {Namespace}/{Name}: {ExceptionType}")]
    public static partial void EventNotRecorded(ILogger logger, string reason, string @namespace, string name, string exceptionType);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "Could not read the ReplicaSets of {Namespace}/{Name} ({ExceptionType}) to recognise a rollback; planning the update as any other")]
    public static partial void ReplicaSetsUnreadable(ILogger logger, string @namespace, string name, string exceptionType);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "{Namespace}/{Name} returns to the pod template of ReplicaSet {ReplicaSet} (plan {Plan}): admitted without planning")]
    public static partial void RollbackAdmitted(ILogger logger, string @namespace, string name, string replicaSet, string plan);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Information, Message = "Managed certificate Secret {Namespace}/{Name}: {Change}")]
    public static partial void ManagedCertificateChanged(ILogger logger, string @namespace, string name, string change);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "Patched the caBundle of {Count} webhooks in webhook configuration {Configuration}")]
    public static partial void CaBundlePatched(ILogger logger, string configuration, int count);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Error, Message = "{Reason}")]
    public static partial void ManagedCertificateFailed(ILogger logger, string reason);

    // The controller host (3500–3599).
    [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "Controller disabled (Controller:Enabled=false): this replica serves the webhook only")]
    public static partial void ControllerDisabled(ILogger logger);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Error, Message = "The controller cannot run ({Reason}); this replica is not ready until it can (see /readyz and gatekeeper_controller_blocked)")]
    public static partial void ControllerCannotRun(ILogger logger, string reason);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Information, Message = "Controller starting: migration image {Image}, Lease {Namespace}/{Lease}, identity {Identity}")]
    public static partial void ControllerStarting(ILogger logger, string image, string @namespace, string lease, string identity);

    [LoggerMessage(EventId = 3504, Level = LogLevel.Warning, Message = "Could not read the Job signing key {Namespace}/{Secret} ({ExceptionType}); trying again in {DelaySeconds}s")]
    public static partial void SigningKeyNotYetReadable(ILogger logger, string @namespace, string secret, string exceptionType, double delaySeconds);
}
