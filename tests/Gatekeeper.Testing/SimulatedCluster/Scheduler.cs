using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// kube-scheduler for one simulated node: a pod with scheduling gates gets PodScheduled=False/SchedulingGated and
/// stays unbound; an ungated one is bound to the node (the binding subresource's effect) and marked scheduled.
/// </summary>
public sealed class Scheduler(SimulatedApiServer server, string node) : ISimulatedController
{
    private readonly UserInfo user = UserInfo.Person("system:kube-scheduler");

    public string Name => "scheduler";

    public IEnumerable<string> KeysFor(StoredChange change)
    {
        if (change.Resource == ApiResources.Pods.StoreName && change.Type != "DELETED")
        {
            var pod = JsonNode.Parse(change.Json)!;
            if ((string?)pod["spec"]?["nodeName"] is not { Length: > 0 })
            {
                yield return ControllerManager.Key(pod);
            }
        }
    }

    public async Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = ControllerManager.Split(key);
        var pod = server.Get(ApiResources.Pods, ns, name);
        if (pod is null || pod.Terminating() || (string?)pod["spec"]?["nodeName"] is { Length: > 0 })
        {
            return;
        }

        var now = server.Clock.GetUtcNow();
        if (ObjectValidation.Gates(pod).Count > 0)
        {
            if ((string?)pod.Condition("PodScheduled")?["reason"] != "SchedulingGated")
            {
                await server.ChangeAsync(ApiResources.Pods, ns, name, user,
                    p => p.SetCondition("PodScheduled", "False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates", now, probeTime: true),
                    "status", cancellationToken);
            }

            return;
        }

        await server.ChangeAsync(ApiResources.Pods, ns, name, user, p => p["spec"]!["nodeName"] = node, cancellationToken: cancellationToken);
        await server.ChangeAsync(ApiResources.Pods, ns, name, user, p =>
        {
            p.SetCondition("PodScheduled", "True", string.Empty, string.Empty, now, probeTime: true);
            var condition = p.Condition("PodScheduled")!.AsObject();
            condition.Remove("reason");
            condition.Remove("message");
        }, "status", cancellationToken);
    }
}

/// <summary>
/// The service account controller: every namespace gets its <c>default</c> ServiceAccount, which the ServiceAccount
/// admission plugin requires before a pod that uses it can be created.
/// </summary>
public sealed class ServiceAccountController(SimulatedApiServer server) : ISimulatedController
{
    private readonly UserInfo user = UserInfo.Controller("service-account-controller");

    public string Name => "serviceaccount";

    public IEnumerable<string> KeysFor(StoredChange change)
    {
        if (change.Resource == ApiResources.Namespaces.StoreName && change.Type == "ADDED")
        {
            yield return "/" + JsonNode.Parse(change.Json)!.Name();
        }
    }

    public async Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var ns = key[1..];
        if (server.Get(ApiResources.ServiceAccounts, ns, "default") is null)
        {
            try
            {
                await server.CreateAsync(ApiResources.ServiceAccounts, ns, new JsonObject { ["metadata"] = new JsonObject { ["name"] = "default" } }, user,
                    cancellationToken: cancellationToken);
            }
            catch (ApiStatusException e) when (e.Code == System.Net.HttpStatusCode.Conflict)
            {
                // Created meanwhile.
            }
        }
    }
}
