using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Gatekeeper.Kubernetes.Watching;
using k8s;
using k8s.Authentication;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;

namespace Gatekeeper.Kubernetes;

/// <summary>
/// The Kubernetes API operations Gatekeeper makes, named as KubernetesClient names them (so a call reads as before and
/// the RBAC scan in the delivery tests finds it), with JSON from <see cref="KubernetesModelJson"/> only.
/// </summary>
/// <remarks>
/// <para>Why not KubernetesClient's <see cref="k8s.Kubernetes"/>: its constructor reads
/// <see cref="KubernetesClientConfiguration.JsonSerializerOptions"/>, which initialises <see cref="KubernetesJson"/>,
/// whose source-generated context covers all ~860 models; Native AOT then compiles JSON metadata for every one of them
/// (about half the binary's type data, expanded at every process start).</para>
/// <para>The connection is KubernetesClient's in everything but the JSON: the handler is set up as its constructor sets
/// it up (HTTP/2 with keep-alive pings, the kubeconfig's CA or skip-verify, its client certificate), credentials come
/// from <see cref="k8s.Kubernetes.CreateCredentials"/> (so a service-account token file is re-read as it rotates, and exec
/// and OIDC providers refresh), server certificates are checked by <see cref="k8s.Kubernetes.CertificateValidationCallBack"/>,
/// each request is bounded by <see cref="KubernetesClientConfiguration.HttpClientTimeout"/> (watches are not), and a
/// refusal throws <see cref="HttpOperationException"/> with the status code and the response body, as its typed operations do.
/// The exception carries the request's method and address only: never its body (a Secret's data) or its token.</para>
/// </remarks>
public sealed class KubernetesApi : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = MediaTypeHeaderValue.Parse("application/json; charset=utf-8");

    private readonly HttpClient httpClient;
    private readonly ServiceClientCredentials? credentials;
    private readonly X509Certificate2? clientCertificate;
    private readonly string? tlsServerName;
    private readonly Version requestVersion;
    private readonly TimeSpan requestTimeout;

    /// <param name="configuration">In-cluster or kubeconfig settings, as KubernetesClient builds them.</param>
    /// <param name="handlers">Handlers to run before the connection's own, outermost first (tests name their requests).</param>
    /// <exception cref="KubeConfigException">The configuration has no usable host.</exception>
    public KubernetesApi(KubernetesClientConfiguration configuration, params DelegatingHandler[] handlers)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(handlers);
        if (string.IsNullOrWhiteSpace(configuration.Host))
        {
            throw new KubeConfigException("Host url must be set");
        }

        try
        {
            var host = new Uri(configuration.Host).AbsoluteUri;
            BaseUri = new Uri(host.EndsWith('/') ? host : host + "/");
        }
        catch (UriFormatException e)
        {
            throw new KubeConfigException("Bad host url", e);
        }

        credentials = k8s.Kubernetes.CreateCredentials(configuration);
        tlsServerName = configuration.TlsServerName;
        requestVersion = configuration.DisableHttp2 ? HttpVersion.Version11 : HttpVersion.Version20;
        requestTimeout = configuration.HttpClientTimeout;

        var connection = new SocketsHttpHandler
        {
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            KeepAlivePingDelay = TimeSpan.FromMinutes(3),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            EnableMultipleHttp2Connections = true,
        };
        connection.SslOptions.ClientCertificates = [];
        configuration.FirstMessageHandlerSetup?.Invoke(connection);
        if (BaseUri.Scheme == Uri.UriSchemeHttps)
        {
            if (configuration.SkipTlsVerify)
            {
                // The kubeconfig's own insecure-skip-tls-verify: the user asked for it, as kubectl honours it.
#pragma warning disable CA5359
                connection.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
            }
            else if (configuration.SslCaCerts is { } authorities)
            {
                connection.SslOptions.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                    certificate is not null && chain is not null
                    && k8s.Kubernetes.CertificateValidationCallBack(sender, authorities, certificate, chain, errors);
            }
        }

        clientCertificate = ClientCertificate(configuration);
        if (clientCertificate is not null)
        {
            connection.SslOptions.ClientCertificates.Add(clientCertificate);
            // As KubernetesClient does: without it the first certificate chosen stays cached for the connection pool.
            connection.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        HttpMessageHandler first = connection;
        for (var i = handlers.Length - 1; i >= 0; i--)
        {
            var innermost = handlers[i];
            while (innermost.InnerHandler is DelegatingHandler inner)
            {
                innermost = inner;
            }

            innermost.InnerHandler = first;
            first = handlers[i];
        }

        httpClient = new HttpClient(first, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrWhiteSpace(configuration.UserAgent))
        {
            httpClient.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", configuration.UserAgent);
        }
    }

    /// <summary>The API server's address, ending in a slash.</summary>
    public Uri BaseUri { get; }

    private static KubernetesModelJson Models => KubernetesModelJson.Default;

    // core/v1

    public Task<V1ConfigMap> ReadNamespacedConfigMapAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("api/v1", namespaceParameter, "configmaps", name), Models.V1ConfigMap, cancellationToken);

    public Task<V1ConfigMapList> ListNamespacedConfigMapAsync(string namespaceParameter, string? fieldSelector = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("api/v1", namespaceParameter, "configmaps") + Selectors(fieldSelector, labelSelector), Models.V1ConfigMapList, cancellationToken);

    public Task<V1Secret> ReadNamespacedSecretAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("api/v1", namespaceParameter, "secrets", name), Models.V1Secret, cancellationToken);

    public Task<V1Secret> CreateNamespacedSecretAsync(V1Secret body, string namespaceParameter, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, Namespaced("api/v1", namespaceParameter, "secrets"), JsonBody(body, Models.V1Secret), Models.V1Secret, cancellationToken);

    public Task<V1Secret> ReplaceNamespacedSecretAsync(V1Secret body, string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, Namespaced("api/v1", namespaceParameter, "secrets", name), JsonBody(body, Models.V1Secret), Models.V1Secret, cancellationToken);

    public Task<Corev1Event> CreateNamespacedEventAsync(Corev1Event body, string namespaceParameter, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, Namespaced("api/v1", namespaceParameter, "events"), JsonBody(body, Models.Corev1Event), Models.Corev1Event, cancellationToken);

    public Task<Corev1EventList> ListNamespacedEventAsync(string namespaceParameter, string? fieldSelector = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("api/v1", namespaceParameter, "events") + Selectors(fieldSelector, labelSelector), Models.Corev1EventList, cancellationToken);

    public Task<V1Pod> ReadNamespacedPodAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("api/v1", namespaceParameter, "pods", name), Models.V1Pod, cancellationToken);

    public Task<V1Pod> PatchNamespacedPodAsync(V1Patch body, string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, Namespaced("api/v1", namespaceParameter, "pods", name), PatchBody(body), Models.V1Pod, cancellationToken);

    public Task<V1PodList> ListNamespacedPodAsync(string namespaceParameter, string? fieldSelector = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("api/v1", namespaceParameter, "pods") + Selectors(fieldSelector, labelSelector), Models.V1PodList, cancellationToken);

    public Task<V1PodList> ListPodForAllNamespacesAsync(string? fieldSelector = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync("api/v1/pods" + Selectors(fieldSelector, labelSelector), Models.V1PodList, cancellationToken);

    public IAsyncEnumerable<(WatchEventType Type, V1Pod Object)> WatchListPodForAllNamespacesAsync(
        string? resourceVersion, Action<Exception>? onError, CancellationToken cancellationToken, string? fieldSelector = null, string? labelSelector = null) =>
        KubernetesWatch.StreamAsync(this, "api/v1/pods", new WatchQuery(resourceVersion, labelSelector, fieldSelector), Models.V1Pod, onError, cancellationToken);

    // apps/v1

    public Task<V1Deployment> ReadNamespacedDeploymentAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("apis/apps/v1", namespaceParameter, "deployments", name), Models.V1Deployment, cancellationToken);

    public Task<V1Deployment> PatchNamespacedDeploymentStatusAsync(V1Patch body, string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, Namespaced("apis/apps/v1", namespaceParameter, "deployments", name) + "/status", PatchBody(body), Models.V1Deployment, cancellationToken);

    public Task<V1DeploymentList> ListNamespacedDeploymentAsync(string namespaceParameter, string? fieldSelector = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("apis/apps/v1", namespaceParameter, "deployments") + Selectors(fieldSelector, labelSelector), Models.V1DeploymentList, cancellationToken);

    public Task<V1DeploymentList> ListDeploymentForAllNamespacesAsync(string? fieldSelector = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync("apis/apps/v1/deployments" + Selectors(fieldSelector, labelSelector), Models.V1DeploymentList, cancellationToken);

    public IAsyncEnumerable<(WatchEventType Type, V1Deployment Object)> WatchListDeploymentForAllNamespacesAsync(
        string? resourceVersion, Action<Exception>? onError, CancellationToken cancellationToken, string? labelSelector = null) =>
        KubernetesWatch.StreamAsync(this, "apis/apps/v1/deployments", new WatchQuery(resourceVersion, labelSelector), Models.V1Deployment, onError, cancellationToken);

    public Task<V1ReplicaSetList> ListNamespacedReplicaSetAsync(string namespaceParameter, string? fieldSelector = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("apis/apps/v1", namespaceParameter, "replicasets") + Selectors(fieldSelector, labelSelector), Models.V1ReplicaSetList, cancellationToken);

    // batch/v1

    public Task<V1Job> ReadNamespacedJobAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("apis/batch/v1", namespaceParameter, "jobs", name), Models.V1Job, cancellationToken);

    public Task<V1Job> CreateNamespacedJobAsync(V1Job body, string namespaceParameter, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, Namespaced("apis/batch/v1", namespaceParameter, "jobs"), JsonBody(body, Models.V1Job), Models.V1Job, cancellationToken);

    public Task<V1JobList> ListNamespacedJobAsync(string namespaceParameter, string? fieldSelector = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("apis/batch/v1", namespaceParameter, "jobs") + Selectors(fieldSelector, labelSelector), Models.V1JobList, cancellationToken);

    public Task<V1JobList> ListJobForAllNamespacesAsync(string? fieldSelector = null, string? labelSelector = null, CancellationToken cancellationToken = default) =>
        GetAsync("apis/batch/v1/jobs" + Selectors(fieldSelector, labelSelector), Models.V1JobList, cancellationToken);

    public IAsyncEnumerable<(WatchEventType Type, V1Job Object)> WatchListJobForAllNamespacesAsync(
        string? resourceVersion, Action<Exception>? onError, CancellationToken cancellationToken, string? labelSelector = null) =>
        KubernetesWatch.StreamAsync(this, "apis/batch/v1/jobs", new WatchQuery(resourceVersion, labelSelector), Models.V1Job, onError, cancellationToken);

    // coordination.k8s.io/v1

    public Task<V1Lease> ReadNamespacedLeaseAsync(string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        GetAsync(Namespaced("apis/coordination.k8s.io/v1", namespaceParameter, "leases", name), Models.V1Lease, cancellationToken);

    public Task<V1Lease> CreateNamespacedLeaseAsync(V1Lease body, string namespaceParameter, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, Namespaced("apis/coordination.k8s.io/v1", namespaceParameter, "leases"), JsonBody(body, Models.V1Lease), Models.V1Lease, cancellationToken);

    /// <summary>Replaces the Lease; the API server answers 409 when <paramref name="body"/>'s resourceVersion is not the current one.</summary>
    public Task<V1Lease> ReplaceNamespacedLeaseAsync(V1Lease body, string name, string namespaceParameter, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, Namespaced("apis/coordination.k8s.io/v1", namespaceParameter, "leases", name), JsonBody(body, Models.V1Lease), Models.V1Lease, cancellationToken);

    /// <summary>Deletes the Lease (its preconditions in <paramref name="body"/>: 409 when they no longer hold). The answer's body is not read.</summary>
    public async Task DeleteNamespacedLeaseAsync(string name, string namespaceParameter, V1DeleteOptions? body = null, CancellationToken cancellationToken = default)
    {
        using var timeout = Bounded(cancellationToken);
        using var response = await SendRawAsync(
            HttpMethod.Delete, Namespaced("apis/coordination.k8s.io/v1", namespaceParameter, "leases", name),
            body is null ? null : JsonBody(body, Models.V1DeleteOptions), timeout.Token).ConfigureAwait(false);
    }

    // admissionregistration.k8s.io/v1

    public Task<V1MutatingWebhookConfiguration> ReadMutatingWebhookConfigurationAsync(string name, CancellationToken cancellationToken = default) =>
        GetAsync("apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/" + Uri.EscapeDataString(name), Models.V1MutatingWebhookConfiguration, cancellationToken);

    public Task<V1MutatingWebhookConfiguration> PatchMutatingWebhookConfigurationAsync(V1Patch body, string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, "apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/" + Uri.EscapeDataString(name), PatchBody(body), Models.V1MutatingWebhookConfiguration, cancellationToken);

    public Task<V1ValidatingWebhookConfiguration> ReadValidatingWebhookConfigurationAsync(string name, CancellationToken cancellationToken = default) =>
        GetAsync("apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/" + Uri.EscapeDataString(name), Models.V1ValidatingWebhookConfiguration, cancellationToken);

    public Task<V1ValidatingWebhookConfiguration> PatchValidatingWebhookConfigurationAsync(V1Patch body, string name, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, "apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/" + Uri.EscapeDataString(name), PatchBody(body), Models.V1ValidatingWebhookConfiguration, cancellationToken);

    public void Dispose()
    {
        httpClient.Dispose();
        clientCertificate?.Dispose();
    }

    /// <summary>
    /// Sends one request through the connection (credentials, TLS server name) and returns the response once its headers
    /// are in; a status outside 2xx throws <see cref="HttpOperationException"/> with the response body read.
    /// </summary>
    internal async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string relativeUri, HttpContent? content, CancellationToken cancellationToken)
    {
        var address = new Uri(BaseUri, relativeUri);
        using var request = new HttpRequestMessage(method, address) { Version = requestVersion, Content = content };
        if (credentials is not null)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }

        if (!string.IsNullOrWhiteSpace(tlsServerName))
        {
            request.Headers.Host = tlsServerName;
        }

        var response = await httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            // The request as KubernetesClient's exception carries it, less its headers and body (a token, a Secret's data).
            using var described = new HttpRequestMessage(method, address);
            throw new HttpOperationException($"Operation returned an invalid status code '{response.StatusCode}', response body {body}")
            {
                Request = new HttpRequestMessageWrapper(described, string.Empty),
                Response = new HttpResponseMessageWrapper(response, body),
            };
        }
    }

    private Task<T> GetAsync<T>(string relativeUri, JsonTypeInfo<T> answer, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, relativeUri, null, answer, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string relativeUri, HttpContent? content, JsonTypeInfo<T> answer, CancellationToken cancellationToken)
    {
        using var timeout = Bounded(cancellationToken);
        using var response = await SendRawAsync(method, relativeUri, content, timeout.Token).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return await JsonSerializer.DeserializeAsync(stream, answer, timeout.Token).ConfigureAwait(false)
                ?? throw new JsonException($"the API server answered {method} {relativeUri} with null instead of a {typeof(T).Name}");
        }
    }

    /// <summary>A token that also ends after the configured request timeout, as KubernetesClient bounds every call but a watch.</summary>
    private CancellationTokenSource Bounded(CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(requestTimeout);
        return timeout;
    }

    private static ByteArrayContent JsonBody<T>(T body, JsonTypeInfo<T> type)
    {
        ArgumentNullException.ThrowIfNull(body);
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, type));
        content.Headers.ContentType = Json;
        return content;
    }

    /// <summary>A patch as its type's content type says (JSON Patch, merge patch…); its content is the patch document itself.</summary>
    private static StringContent PatchBody(V1Patch patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var document = patch.Content as string
            ?? throw new ArgumentException($"a patch's content must be its JSON text, not a {patch.Content?.GetType().Name}", nameof(patch));
        var mediaType = patch.Type switch
        {
            V1Patch.PatchType.JsonPatch => "application/json-patch+json",
            V1Patch.PatchType.MergePatch => "application/merge-patch+json",
            V1Patch.PatchType.StrategicMergePatch => "application/strategic-merge-patch+json",
            V1Patch.PatchType.ApplyPatch => "application/apply-patch+yaml",
            var other => throw new ArgumentOutOfRangeException(nameof(patch), other, "unknown patch type"),
        };
        return new StringContent(document, Encoding.UTF8, mediaType);
    }

    /// <summary>
    /// The kubeconfig's client certificate and key (inline base64 PEM or files; a file wins over data, as in
    /// KubernetesClient, whose loader for this is internal), or null when it names no certificate or no key.
    /// </summary>
    private static X509Certificate2? ClientCertificate(KubernetesClientConfiguration configuration)
    {
        static string? Pem(string? data, string? file) =>
            !string.IsNullOrWhiteSpace(file) ? File.ReadAllText(file)
            : !string.IsNullOrWhiteSpace(data) ? Encoding.UTF8.GetString(Convert.FromBase64String(data))
            : null;

        var certificate = Pem(configuration.ClientCertificateData, configuration.ClientCertificateFilePath);
        var key = Pem(configuration.ClientCertificateKeyData, configuration.ClientKeyFilePath);
        return certificate is null || key is null ? null : X509Certificate2.CreateFromPem(certificate, key);
    }

    private static string Namespaced(string groupVersion, string namespaceParameter, string resource, string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(namespaceParameter);
        var path = $"{groupVersion}/namespaces/{Uri.EscapeDataString(namespaceParameter)}/{resource}";
        if (name is null)
        {
            return path;
        }

        ArgumentException.ThrowIfNullOrEmpty(name);
        return path + "/" + Uri.EscapeDataString(name);
    }

    private static string Selectors(string? fieldSelector, string? labelSelector)
    {
        var query = new StringBuilder();
        Append(query, "fieldSelector", fieldSelector);
        Append(query, "labelSelector", labelSelector);
        return query.ToString();
    }

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (value is not null)
        {
            query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}
