using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes;

/// <summary>
/// The JSON (source-generated) of exactly the Kubernetes objects Gatekeeper reads and writes, with KubernetesClient's
/// own settings: camelCase names (each model names its members anyway), nulls left out when writing (the API server
/// refuses some explicit nulls, e.g. on a create), and KubernetesClient's public converters for date-times (RFC 3339
/// written with microseconds, as metav1.MicroTime wants, read with up to nanoseconds) and durations. IntOrString and
/// ResourceQuantity carry their own converters on the type.
/// </summary>
/// <remarks>
/// Why not <see cref="KubernetesJson"/>: its context covers all ~860 models, and anything that reaches it makes Native
/// AOT compile JSON metadata for every one of them (8.5 MB of type data the binary expands at every start). A type
/// missing here fails at the call with "JsonTypeInfo metadata … was not provided" under the JIT too, so the tests find
/// it. KubernetesJsonParityTests (Gatekeeper.Kubernetes.Tests) hold the output equal to KubernetesJson's.
/// </remarks>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    Converters =
    [
        typeof(KubernetesJson.Iso8601TimeSpanConverter),
        typeof(KubernetesJson.KubernetesDateTimeConverter),
        typeof(KubernetesJson.KubernetesDateTimeOffsetConverter),
    ])]
[JsonSerializable(typeof(V1ConfigMap))]
[JsonSerializable(typeof(V1ConfigMapList))]
[JsonSerializable(typeof(V1Secret))]
[JsonSerializable(typeof(Corev1Event))]
[JsonSerializable(typeof(Corev1EventList))]
[JsonSerializable(typeof(V1Pod))]
[JsonSerializable(typeof(V1PodList))]
[JsonSerializable(typeof(V1PodTemplateSpec))]
[JsonSerializable(typeof(V1Deployment))]
[JsonSerializable(typeof(V1DeploymentList))]
[JsonSerializable(typeof(V1ReplicaSetList))]
[JsonSerializable(typeof(V1Job))]
[JsonSerializable(typeof(V1JobList))]
[JsonSerializable(typeof(V1Lease))]
[JsonSerializable(typeof(V1DeleteOptions))]
[JsonSerializable(typeof(V1Status))]
[JsonSerializable(typeof(V1MutatingWebhookConfiguration))]
[JsonSerializable(typeof(V1ValidatingWebhookConfiguration))]
public sealed partial class KubernetesModelJson : JsonSerializerContext;
