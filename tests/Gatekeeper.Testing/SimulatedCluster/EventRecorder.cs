using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>core/v1 Events as the built-in controllers record them (reason, message, involvedObject with uid).</summary>
public sealed class EventRecorder(SimulatedApiServer server, string component)
{
    private readonly UserInfo user = UserInfo.Controller(component);

    public async Task RecordAsync(JsonNode involved, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var now = ObjectDefaults.Time(server.Clock.GetUtcNow());
        var ns = involved.Namespace();
        var record = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = $"{involved.Name()}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant()}",
                ["namespace"] = ns.Length == 0 ? "default" : ns,
            },
            ["involvedObject"] = new JsonObject
            {
                ["apiVersion"] = (string?)involved["apiVersion"],
                ["kind"] = (string?)involved["kind"],
                ["name"] = involved.Name(),
                ["namespace"] = ns.Length == 0 ? null : ns,
                ["uid"] = involved.Uid(),
                ["resourceVersion"] = (string?)involved["metadata"]?["resourceVersion"],
            },
            ["reason"] = reason,
            ["message"] = message,
            ["type"] = type,
            ["source"] = new JsonObject { ["component"] = component },
            ["reportingComponent"] = component,
            ["firstTimestamp"] = now,
            ["lastTimestamp"] = now,
            ["count"] = 1,
        };
        await server.CreateAsync(ApiResources.Events, ns.Length == 0 ? "default" : ns, record, user, cancellationToken: cancellationToken);
    }
}
