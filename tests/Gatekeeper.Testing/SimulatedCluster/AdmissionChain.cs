using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>What admission is told about a write (admission.Attributes).</summary>
public sealed record AdmissionAttributes(
    string Operation,
    ApiResource Resource,
    string? Subresource,
    string? Namespace,
    string? Name,
    UserInfo User,
    bool DryRun,
    string OptionsKind);

/// <summary>One webhook call the chain made, for assertions (which webhooks saw which writes, and how they answered).</summary>
public sealed record WebhookCall(string Webhook, string Operation, string Resource, string? Namespace, string? Name, bool DryRun, string Outcome);

/// <summary>
/// The dynamic admission chain of kube-apiserver, driven by the MutatingWebhookConfigurations and
/// ValidatingWebhookConfigurations in the store (as <c>helm template</c> rendered them, and as Gatekeeper patches them):
/// rules (operations, groups, versions, resources with subresources, scope), namespaceSelector against the namespace's
/// labels, objectSelector against the new or old object's labels, matchConditions in CEL; then an AdmissionReview v1
/// over real HTTPS to the webhook's Service, trusting only the configuration's caBundle, within timeoutSeconds. Mutating
/// webhooks run one after another (in the order of their configuration names, then their list), their JSONPatches
/// applied; validating webhooks run after them, in parallel. failurePolicy decides what a failed call means; a dry-run
/// request reaches only webhooks whose sideEffects allow it.
/// </summary>
public sealed class AdmissionChain(ObjectStore store, ServiceNetwork network)
{
    private readonly ConcurrentQueue<WebhookCall> calls = new();

    public IReadOnlyCollection<WebhookCall> Calls => calls.ToArray();

    /// <summary>Runs the mutating webhooks; returns the patched object and the warnings they gave.</summary>
    public async Task<JsonObject> MutateAsync(AdmissionAttributes attributes, JsonObject obj, JsonObject? old, List<string> warnings, CancellationToken cancellationToken)
    {
        var current = obj;
        foreach (var webhook in Webhooks(ApiResources.MutatingWebhookConfigurations))
        {
            if (!Matches(webhook, attributes, current, old))
            {
                continue;
            }

            var response = await CallAsync(webhook, attributes, current, old, cancellationToken);
            if (response is null)
            {
                continue;
            }

            warnings.AddRange(Warnings(response));
            if (response["allowed"]?.GetValue<bool>() != true)
            {
                throw Denied(webhook, response);
            }

            if ((string?)response["patch"] is { Length: > 0 } patch)
            {
                if ((string?)response["patchType"] != "JSONPatch")
                {
                    throw ApiStatusException.Internal($"admission webhook \"{Name(webhook)}\" returned a patch of unsupported type \"{(string?)response["patchType"]}\"");
                }

                try
                {
                    current = JsonPatchApplier.Apply(current, Convert.FromBase64String(patch)).AsObject();
                }
                catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
                {
                    throw ApiStatusException.Internal($"admission webhook \"{Name(webhook)}\" returned a patch that cannot be applied: {e.Message}");
                }
            }
        }

        return current;
    }

    /// <summary>Runs the validating webhooks (in parallel); a denial or a failed call under failurePolicy Fail throws.</summary>
    public async Task ValidateAsync(AdmissionAttributes attributes, JsonObject obj, JsonObject? old, List<string> warnings, CancellationToken cancellationToken)
    {
        var matching = Webhooks(ApiResources.ValidatingWebhookConfigurations).Where(w => Matches(w, attributes, obj, old)).ToList();
        var responses = await Task.WhenAll(matching.Select(async webhook => (webhook, response: await CallAsync(webhook, attributes, obj, old, cancellationToken))));
        foreach (var (webhook, response) in responses)
        {
            if (response is null)
            {
                continue;
            }

            warnings.AddRange(Warnings(response));
            if (response["allowed"]?.GetValue<bool>() != true)
            {
                throw Denied(webhook, response);
            }
        }
    }

    private IEnumerable<JsonObject> Webhooks(ApiResource configurations) =>
        store.ReadAll(ObjectStore.Prefix(configurations.StoreName, null))
            .Select(json => JsonNode.Parse(json)!.AsObject())
            .OrderBy(c => (string?)c["metadata"]!["name"], StringComparer.Ordinal)
            .SelectMany(c => (c["webhooks"] as JsonArray ?? []).Select(w => w!.AsObject()));

    private static string Name(JsonObject webhook) => (string?)webhook["name"] ?? string.Empty;

    private bool Matches(JsonObject webhook, AdmissionAttributes attributes, JsonObject obj, JsonObject? old)
    {
        // Webhook configurations themselves are never sent to webhooks, so a broken webhook can always be removed.
        if (attributes.Resource.Group == "admissionregistration.k8s.io")
        {
            return false;
        }

        if (!(webhook["rules"] as JsonArray ?? []).Any(rule => RuleMatches(rule!, attributes)))
        {
            return false;
        }

        if (!NamespaceMatches(webhook["namespaceSelector"], attributes, obj))
        {
            return false;
        }

        var objectSelector = LabelSelector.FromObject(webhook["objectSelector"]);
        if (objectSelector.Requirements.Count > 0
            && !objectSelector.Matches(Selectors.Labels(obj)) && !(old is not null && objectSelector.Matches(Selectors.Labels(old))))
        {
            return false;
        }

        return ConditionsMatch(webhook, attributes, obj, old);
    }

    private static bool RuleMatches(JsonNode rule, AdmissionAttributes attributes)
    {
        var operations = Strings(rule["operations"]);
        var groups = Strings(rule["apiGroups"]);
        var versions = Strings(rule["apiVersions"]);
        var resources = Strings(rule["resources"]);
        var scope = (string?)rule["scope"] ?? "*";
        var requested = attributes.Subresource is null ? attributes.Resource.Plural : $"{attributes.Resource.Plural}/{attributes.Subresource}";
        var resourceMatches = resources.Any(r =>
            r == requested
            || (r == "*" && attributes.Subresource is null)
            || r == "*/*"
            || (r.EndsWith("/*", StringComparison.Ordinal) && attributes.Subresource is not null && r[..^2] == attributes.Resource.Plural)
            || (r.StartsWith("*/", StringComparison.Ordinal) && attributes.Subresource is not null && r[2..] == attributes.Subresource));
        var scopeMatches = scope switch
        {
            "Cluster" => !attributes.Resource.Namespaced,
            "Namespaced" => attributes.Resource.Namespaced,
            _ => true,
        };
        return (operations.Contains("*") || operations.Contains(attributes.Operation))
            && (groups.Contains("*") || groups.Contains(attributes.Resource.Group))
            && (versions.Contains("*") || versions.Contains(attributes.Resource.Version))
            && resourceMatches
            && scopeMatches;
    }

    /// <summary>
    /// namespaceSelector: for a namespaced object, the labels of its namespace; for a Namespace, its own labels; other
    /// cluster-scoped objects always match.
    /// </summary>
    private bool NamespaceMatches(JsonNode? selectorNode, AdmissionAttributes attributes, JsonObject obj)
    {
        var selector = LabelSelector.FromObject(selectorNode);
        if (selector.Requirements.Count == 0)
        {
            return true;
        }

        if (attributes.Resource == ApiResources.Namespaces)
        {
            return selector.Matches(Selectors.Labels(obj));
        }

        if (!attributes.Resource.Namespaced)
        {
            return true;
        }

        var ns = store.Read(ObjectStore.Key(ApiResources.Namespaces.StoreName, string.Empty, attributes.Namespace ?? string.Empty));
        return ns is not null && selector.Matches(Selectors.Labels(JsonNode.Parse(ns)!));
    }

    /// <summary>
    /// Every condition must be true. A false one skips the webhook; an error (with none false) is handled by
    /// failurePolicy: Fail refuses the request, Ignore skips the webhook.
    /// </summary>
    private bool ConditionsMatch(JsonObject webhook, AdmissionAttributes attributes, JsonObject obj, JsonObject? old)
    {
        var conditions = webhook["matchConditions"] as JsonArray ?? [];
        if (conditions.Count == 0)
        {
            return true;
        }

        var request = Request(attributes, obj, old, "condition");
        var nsObject = attributes.Namespace is { Length: > 0 } n ? store.Read(ObjectStore.Key(ApiResources.Namespaces.StoreName, string.Empty, n)) : null;
        var namespaceObject = nsObject is null ? null : JsonNode.Parse(nsObject);
        string? error = null;
        foreach (var condition in conditions)
        {
            var expression = (string?)condition!["expression"] ?? "false";
            var (matched, problem) = CelConditions.Evaluate(expression, Visible(attributes, obj), old, request, namespaceObject);
            if (matched == false)
            {
                return false;
            }

            error ??= problem is null ? null : $"matchCondition '{(string?)condition["name"]}': {problem}";
        }

        if (error is null)
        {
            return true;
        }

        if ((string?)webhook["failurePolicy"] == "Ignore")
        {
            calls.Enqueue(new WebhookCall(Name(webhook), attributes.Operation, attributes.Resource.Plural, attributes.Namespace, attributes.Name, attributes.DryRun, "skipped: " + error));
            return false;
        }

        throw ApiStatusException.Internal($"failed calling webhook \"{Name(webhook)}\": {error}");
    }

    /// <summary>A DELETE's object is null for webhooks and conditions.</summary>
    private static JsonObject? Visible(AdmissionAttributes attributes, JsonObject obj) => attributes.Operation == "DELETE" ? null : obj;

    /// <summary>Calls one webhook; null when its failure is ignored (failurePolicy Ignore).</summary>
    private async Task<JsonObject?> CallAsync(JsonObject webhook, AdmissionAttributes attributes, JsonObject obj, JsonObject? old, CancellationToken cancellationToken)
    {
        var name = Name(webhook);
        var sideEffects = (string?)webhook["sideEffects"] ?? "Unknown";
        if (attributes.DryRun && sideEffects is not ("None" or "NoneOnDryRun"))
        {
            throw ApiStatusException.BadRequest($"admission webhook \"{name}\" does not support dry run");
        }

        var uid = Guid.NewGuid().ToString();
        var review = new JsonObject
        {
            ["apiVersion"] = "admission.k8s.io/v1",
            ["kind"] = "AdmissionReview",
            ["request"] = Request(attributes, obj, old, uid),
        };
        var timeout = TimeSpan.FromSeconds((int?)webhook["timeoutSeconds"] ?? 10);
        var service = webhook["clientConfig"]?["service"];
        var url = service is null
            ? (string?)webhook["clientConfig"]?["url"] ?? string.Empty
            : $"https://{(string?)service["name"]}.{(string?)service["namespace"]}.svc:{(int?)service["port"] ?? 443}{(string?)service["path"] ?? "/"}";
        url += (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + $"timeout={(int)timeout.TotalSeconds}s";
        var failOpen = (string?)webhook["failurePolicy"] == "Ignore";
        try
        {
            var endpoint = service is null
                ? null
                : network.Resolve((string?)service["namespace"] ?? string.Empty, (string?)service["name"] ?? string.Empty, (int?)service["port"] ?? 443)
                  ?? throw new WebhookCallException($"no endpoints available for service \"{(string?)service["name"]}\"");
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            using var client = Client(endpoint, (string?)webhook["clientConfig"]?["caBundle"]);
            using var content = new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json");
            using var answer = await Send(client, url, content, timeout, limit.Token);
            var text = await answer.Content.ReadAsStringAsync(limit.Token);
            if (answer.StatusCode != HttpStatusCode.OK)
            {
                throw new WebhookCallException($"an error on the server (\"{Truncate(text)}\") has prevented the request from succeeding");
            }

            var response = JsonNode.Parse(text)?["response"] as JsonObject ?? throw new WebhookCallException("the webhook's answer has no response");
            if ((string?)response["uid"] != uid)
            {
                throw new WebhookCallException($"expected response.uid=\"{uid}\", got \"{(string?)response["uid"]}\"");
            }

            calls.Enqueue(new WebhookCall(name, attributes.Operation, attributes.Resource.Plural, attributes.Namespace, attributes.Name, attributes.DryRun,
                response["allowed"]?.GetValue<bool>() == true ? "allowed" : "denied: " + (string?)response["status"]?["message"]));
            return response;
        }
        catch (Exception e) when (e is WebhookCallException or HttpRequestException or OperationCanceledException or System.Text.Json.JsonException or IOException)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            var reason = e switch
            {
                WebhookCallException => e.Message,
                OperationCanceledException => "context deadline exceeded",
                HttpRequestException { InnerException: System.Security.Authentication.AuthenticationException } =>
                    "tls: failed to verify certificate: x509: certificate signed by unknown authority",
                HttpRequestException { InnerException: SocketException socket } => $"dial tcp: connect: {socket.SocketErrorCode}",
                _ => e.Message,
            };
            var message = $"failed calling webhook \"{name}\": failed to call webhook: Post \"{url}\": {reason}";
            calls.Enqueue(new WebhookCall(name, attributes.Operation, attributes.Resource.Plural, attributes.Namespace, attributes.Name, attributes.DryRun,
                (failOpen ? "ignored: " : "failed: ") + message));
            if (failOpen)
            {
                return null;
            }

            throw ApiStatusException.Internal(message);
        }
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, string url, HttpContent content, TimeSpan timeout, CancellationToken cancellationToken)
    {
        client.Timeout = timeout + TimeSpan.FromSeconds(1);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await client.SendAsync(request, cancellationToken);
    }

    /// <summary>A client that connects to the chosen endpoint but checks the certificate against the Service's DNS name and the caBundle.</summary>
    private static HttpClient Client(IPEndPoint? endpoint, string? caBundle)
    {
        X509Certificate2Collection? trusted = null;
        if (caBundle is { Length: > 0 })
        {
            trusted = [];
            trusted.ImportFromPem(Encoding.UTF8.GetString(Convert.FromBase64String(caBundle)));
        }

        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.Zero,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || trusted is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
                },
            },
        };
        if (endpoint is not null)
        {
            handler.ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(endpoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        return new HttpClient(handler);
    }

    /// <summary>The AdmissionRequest: object and oldObject as stored or about to be, the user, and the options.</summary>
    private static JsonObject Request(AdmissionAttributes attributes, JsonObject obj, JsonObject? old, string uid)
    {
        var resource = attributes.Resource;
        var kind = new JsonObject { ["group"] = resource.Group, ["version"] = resource.Version, ["kind"] = resource.Kind };
        var gvr = new JsonObject { ["group"] = resource.Group, ["version"] = resource.Version, ["resource"] = resource.Plural };
        var request = new JsonObject
        {
            ["uid"] = uid,
            ["kind"] = kind,
            ["resource"] = gvr,
            ["requestKind"] = kind.DeepClone(),
            ["requestResource"] = gvr.DeepClone(),
            ["name"] = attributes.Name ?? string.Empty,
            ["namespace"] = attributes.Namespace ?? string.Empty,
            ["operation"] = attributes.Operation,
            ["userInfo"] = new JsonObject
            {
                ["username"] = attributes.User.Name,
                ["uid"] = attributes.User.Uid,
                ["groups"] = new JsonArray(attributes.User.Groups.Select(g => (JsonNode)JsonValue.Create(g)).ToArray()),
            },
            ["object"] = Visible(attributes, obj)?.DeepClone(),
            ["oldObject"] = old?.DeepClone(),
            ["dryRun"] = attributes.DryRun,
            ["options"] = new JsonObject { ["kind"] = attributes.OptionsKind, ["apiVersion"] = "meta.k8s.io/v1" },
        };
        if (attributes.Subresource is not null)
        {
            request["subResource"] = attributes.Subresource;
            request["requestSubResource"] = attributes.Subresource;
        }

        return request;
    }

    private static IEnumerable<string> Warnings(JsonObject response) =>
        (response["warnings"] as JsonArray ?? []).Select(w => (string?)w ?? string.Empty).Where(w => w.Length > 0);

    /// <summary>webhookerrors.ToStatusErr: the webhook's status, at least 400, its message prefixed with who denied.</summary>
    private static ApiStatusException Denied(JsonObject webhook, JsonObject response)
    {
        var status = response["status"];
        var code = (int?)status?["code"] is { } c and >= 400 ? c : 400;
        var deniedBy = $"admission webhook \"{Name(webhook)}\" denied the request";
        var message = (string?)status?["message"] is { Length: > 0 } m ? $"{deniedBy}: {m}"
            : (string?)status?["reason"] is { Length: > 0 } r ? $"{deniedBy}: {r}"
            : $"{deniedBy} without explanation";
        return new ApiStatusException((HttpStatusCode)code, (string?)status?["reason"] ?? string.Empty, message);
    }

    private static List<string> Strings(JsonNode? node) => (node as JsonArray)?.Select(v => (string?)v ?? string.Empty).ToList() ?? [];

    private static string Truncate(string text) => text.Length > 200 ? text[..200] : text;

    private sealed class WebhookCallException(string message) : Exception(message);
}
