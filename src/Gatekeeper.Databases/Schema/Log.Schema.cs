using Microsoft.Extensions.Logging;

namespace Gatekeeper.Databases;

// Declarative schema mode: event ids 2080-2099.
internal static partial class Log
{
    [LoggerMessage(EventId = 2080, Level = LogLevel.Information, Message = "Planned {Changes} schema change(s) for {Database} (plan {PlanHash}) in {ElapsedMilliseconds} ms")]
    public static partial void SchemaPlanned(ILogger logger, string database, int changes, string planHash, long elapsedMilliseconds);
}
