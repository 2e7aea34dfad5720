using Gatekeeper.Kubernetes.Controller;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gatekeeper.Controller;

public static class ControllerServiceCollectionExtensions
{
    /// <summary>
    /// Registers the leader-elected controller as a hosted service. It uses the host's <see cref="Gatekeeper.Kubernetes.KubernetesApi"/>,
    /// <see cref="Gatekeeper.Kubernetes.Pods.AppliedPlans"/> (shared with the pod webhook), Prometheus registry and clock.
    /// </summary>
    public static IServiceCollection AddGatekeeperController(this IServiceCollection services)
    {
        services.AddOptions<ControllerOptions>().BindConfiguration(ControllerOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ControllerOptions>, ControllerOptionsValidator>());
        services.TryAddSingleton<ControllerHealth>();
        services.TryAddSingleton<PrometheusControllerMetrics>();
        services.AddHostedService<ControllerHostedService>();
        return services;
    }
}
