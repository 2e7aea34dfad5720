using Gatekeeper.Kubernetes.Events;
using Gatekeeper.Kubernetes.Pods;
using Gatekeeper.Kubernetes.Sources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatekeeper.Kubernetes;

public static class KubernetesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Kubernetes-facing pieces. The caller registers <see cref="KubernetesApi"/> (in-cluster,
    /// kubeconfig, or a test double's address) and a <see cref="TimeProvider"/>.
    /// </summary>
    public static IServiceCollection AddGatekeeperKubernetes(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<AppliedPlans>();
        services.TryAddSingleton<AppliedPlanWatcher>();
        services.TryAddSingleton<ConfigMapMigrationLoader>();
        services.TryAddSingleton<DatabaseSecretReader>();
        services.TryAddSingleton<DeploymentEventRecorder>();
        return services;
    }
}
