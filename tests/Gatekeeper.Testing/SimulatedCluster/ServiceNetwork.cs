using System.Net;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// The cluster network as the API server's webhook client sees it: a Service's port leads to the targetPort (a
/// number, or a container port's name) of a ready pod its selector matches, at that pod's IP. Pods get loopback
/// addresses of their own (127.x.y.z), so every replica listens on its container port as in a pod network.
/// </summary>
public sealed class ServiceNetwork(ObjectStore store)
{
    private int next;

    /// <summary>An endpoint of the Service for <paramref name="port"/>; null when no ready pod backs it.</summary>
    public IPEndPoint? Resolve(string ns, string name, int port)
    {
        var serviceJson = store.Read(ObjectStore.Key(ApiResources.Services.StoreName, ns, name));
        if (serviceJson is null)
        {
            return null;
        }

        var service = JsonNode.Parse(serviceJson)!;
        var servicePort = (service["spec"]?["ports"] as JsonArray ?? []).FirstOrDefault(p => (int?)p!["port"] == port);
        if (servicePort is null || service["spec"]?["selector"] is not JsonObject selectorLabels || selectorLabels.Count == 0)
        {
            return null;
        }

        var selector = LabelSelector.FromObject(new JsonObject { ["matchLabels"] = selectorLabels.DeepClone() });
        var endpoints = new List<IPEndPoint>();
        foreach (var json in store.ReadAll(ObjectStore.Prefix(ApiResources.Pods.StoreName, ns)))
        {
            var pod = JsonNode.Parse(json)!;
            if (!selector.Matches(Selectors.Labels(pod)) || !IsReady(pod) || (string?)pod["status"]?["podIP"] is not { Length: > 0 } ip)
            {
                continue;
            }

            if (TargetPort(servicePort["targetPort"], pod) is { } target)
            {
                endpoints.Add(new IPEndPoint(IPAddress.Parse(ip), target));
            }
        }

        return endpoints.Count == 0 ? null : endpoints[(int)((uint)Interlocked.Increment(ref next) % endpoints.Count)];
    }

    public static bool IsReady(JsonNode pod) =>
        pod["metadata"]?["deletionTimestamp"] is null
        && (pod["status"]?["conditions"] as JsonArray ?? []).Any(c => (string?)c!["type"] == "Ready" && (string?)c["status"] == "True");

    private static int? TargetPort(JsonNode? target, JsonNode pod)
    {
        if (target is null)
        {
            return null;
        }

        if (target.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return target.GetValue<int>();
        }

        var name = target.GetValue<string>();
        return (pod["spec"]?["containers"] as JsonArray ?? [])
            .SelectMany(c => c!["ports"] as JsonArray ?? [])
            .Where(p => (string?)p!["name"] == name)
            .Select(p => (int?)p!["containerPort"])
            .FirstOrDefault();
    }
}
