using Microsoft.Extensions.Logging;

namespace Gatekeeper.Kubernetes;

/// <summary>
/// Every log line of Gatekeeper.Kubernetes, with stable event ids: applied plans 4000–4099, the controller 4100–4199.
/// Names, hashes and reasons only: never a URL or a Secret's value.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Applied plans known: the records of {DeploymentCount} opted-in Deployments were read")]
    public static partial void AppliedPlansWarm(ILogger logger, int deploymentCount);

    // The controller (4100–4199).
    [LoggerMessage(EventId = 4100, Level = LogLevel.Debug, Message = "Watch of {Resource} reported {ExceptionType}: {Reason}")]
    public static partial void InformerWatchError(ILogger logger, string resource, string exceptionType, string reason);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Listing or watching {Resource} failed ({ExceptionType}: {Reason}); listing again in {BackoffSeconds}s")]
    public static partial void InformerFailed(ILogger logger, string resource, double backoffSeconds, string exceptionType, string reason);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Leading as {Identity} (Lease {Namespace}/{Lease}): creating migration Jobs and releasing pods")]
    public static partial void StartedLeading(ILogger logger, string identity, string @namespace, string lease);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "No longer leading as {Identity}: controller work stopped")]
    public static partial void StoppedLeading(ILogger logger, string identity);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "The controller leader is now {Leader}")]
    public static partial void NewLeader(ILogger logger, string leader);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Debug, Message = "Lease call failed ({ExceptionType}: {Reason})")]
    public static partial void LeaseError(ILogger logger, string exceptionType, string reason);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Error, Message = "The controller stopped with {ExceptionType}: {Reason}; giving up the lease and starting over")]
    public static partial void LeaderWorkFailed(ILogger logger, string exceptionType, string reason);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Information, Message = "Released Lease {Namespace}/{Lease} so another replica takes over at once")]
    public static partial void LeaseReleased(ILogger logger, string @namespace, string lease);

    [LoggerMessage(EventId = 4108, Level = LogLevel.Warning, Message = "Could not release Lease {Namespace}/{Lease} ({ExceptionType}); another replica takes over when it expires")]
    public static partial void LeaseNotReleased(ILogger logger, string @namespace, string lease, string exceptionType);

    [LoggerMessage(EventId = 4109, Level = LogLevel.Information, Message = "Controller caches filled: {Deployments} opted-in Deployments, {Jobs} migration Jobs, {GatedPods} gated pods")]
    public static partial void ControllerSynced(ILogger logger, int deployments, int jobs, int gatedPods);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Information, Message = "Created migration Job {Namespace}/{Job} for Deployment {Deployment}, plan {Plan}")]
    public static partial void JobCreated(ILogger logger, string @namespace, string job, string deployment, string plan);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Information, Message = "Migration Job {Namespace}/{Job} already exists: it is that attempt's run")]
    public static partial void JobAlreadyExists(ILogger logger, string @namespace, string job);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Warning, Message = "No migration Job for {Namespace}/{Deployment} ({Reason}): {Problem}")]
    public static partial void JobBlocked(ILogger logger, string @namespace, string deployment, string reason, string problem);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Information, Message = "Released pod {Namespace}/{Pod} (plan {Plan} applied) after {WaitedSeconds}s")]
    public static partial void PodReleased(ILogger logger, string @namespace, string pod, string plan, double waitedSeconds);

    [LoggerMessage(EventId = 4114, Level = LogLevel.Debug, Message = "Pod {Namespace}/{Pod} was not released: {Outcome}")]
    public static partial void PodNotReleased(ILogger logger, string @namespace, string pod, string outcome);

    [LoggerMessage(EventId = 4115, Level = LogLevel.Information, Message = "Deployment {Namespace}/{Deployment} is {State}: {Reason}")]
    public static partial void StatusWritten(ILogger logger, string @namespace, string deployment, string state, string reason);

    [LoggerMessage(EventId = 4116, Level = LogLevel.Warning, Message = "Reconciling {Kind} {Namespace}/{Name} failed ({ExceptionType}: {Reason}); trying again in {BackoffSeconds}s")]
    public static partial void ReconcileFailed(ILogger logger, string kind, string @namespace, string name, string exceptionType, string reason, double backoffSeconds);

    [LoggerMessage(EventId = 4117, Level = LogLevel.Warning, Message = "Could not record Event {Reason} on {Namespace}/{Name}: {ExceptionType}")]
    public static partial void ControllerEventNotRecorded(ILogger logger, string reason, string @namespace, string name, string exceptionType);

    [LoggerMessage(EventId = 4118, Level = LogLevel.Debug, Message = "Periodic resync: listing Deployments, Jobs and gated pods again")]
    public static partial void Resync(ILogger logger);

    [LoggerMessage(EventId = 4119, Level = LogLevel.Warning, Message = "The API server refused the status of Deployment {Namespace}/{Deployment} (HTTP {Status}); not asking again until it changes")]
    public static partial void StatusRefused(ILogger logger, string @namespace, string deployment, int status);

    [LoggerMessage(EventId = 4120, Level = LogLevel.Information, Message = "The record of Deployment {Namespace}/{Deployment} changed while it was being decided (another leader wrote it); deciding again from what it says now")]
    public static partial void StatusConflict(ILogger logger, string @namespace, string deployment);

    [LoggerMessage(EventId = 4121, Level = LogLevel.Warning, Message = "Job {Namespace}/{Job} holds the name of Deployment {Deployment}'s migration attempt but Gatekeeper did not create it; it proves nothing")]
    public static partial void JobNotGatekeepers(ILogger logger, string @namespace, string job, string deployment);

    [LoggerMessage(EventId = 4122, Level = LogLevel.Information, Message = "Releasing pod {Namespace}/{Pod}: its Deployment {Deployment} no longer opts in to Gatekeeper")]
    public static partial void PodOfOptedOutDeployment(ILogger logger, string @namespace, string pod, string deployment);

    [LoggerMessage(EventId = 4123, Level = LogLevel.Warning, Message = "Migration Job {Namespace}/{Job} cannot start its pod: {Reason}")]
    public static partial void JobCannotStart(ILogger logger, string @namespace, string job, string reason);

    [LoggerMessage(EventId = 4124, Level = LogLevel.Warning, Message = "The decision for Deployment {Namespace}/{Deployment} could not be written ({Why}); deciding again in {BackoffSeconds}s")]
    public static partial void DecisionNotWritten(ILogger logger, string @namespace, string deployment, string why, double backoffSeconds);

    [LoggerMessage(EventId = 4190, Level = LogLevel.Warning, Message = "Lost the controller Lease as {Identity} ({Reason}): stopping work and renewals for this term")]
    public static partial void LeaseLost(ILogger logger, string identity, string reason);
}
