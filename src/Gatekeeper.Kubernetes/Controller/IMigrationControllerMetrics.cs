namespace Gatekeeper.Kubernetes.Controller;

/// <summary>
/// What the controller reports to metrics. The host exports it with prometheus-net; tests record it. Labels are
/// namespaces and Deployment names only, never a URL or a message.
/// </summary>
public interface IMigrationControllerMetrics
{
    /// <summary>A migration Job ended (reported once, when the controller records the outcome).</summary>
    void JobFinished(string @namespace, string deployment, MigrationJobResult result, TimeSpan? duration);

    /// <summary>A running migration Job's pod cannot be created or cannot start (<see cref="JobPodStart.Category"/>), reported once each time it newly says so.</summary>
    void JobCannotStart(string @namespace, string deployment, string category);

    /// <summary>A gated pod was released after waiting <paramref name="waited"/> since its creation.</summary>
    void PodReleased(string @namespace, TimeSpan waited);

    /// <summary>The pods held by Gatekeeper's gate now (the leader's view; empty when it stops leading).</summary>
    void GatedPodsChanged(IReadOnlyCollection<GatedPod> gated);

    void LeadershipChanged(bool leading);
}
