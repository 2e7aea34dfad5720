using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatekeeper.Tests.ApiServerDouble;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>One request the simulated API server answered: who, what, and the status it got.</summary>
public sealed record ApiCall(string User, string Verb, string Resource, string? Namespace, string? Name, int Status, string? Message)
{
    public override string ToString() => $"{User} {Verb} {Resource} {Namespace}/{Name} -> {Status}{(Message is null ? string.Empty : ": " + Message)}";
}

/// <summary>
/// The simulated cluster's kube-apiserver on a loopback port. Every request is authenticated by its bearer token and
/// authorized by RBAC; writes go through defaulting, the mutating webhooks, validation and the validating webhooks
/// before the store; <c>dryRun=All</c> persists nothing. Lists and watches carry resourceVersions (replays without gaps,
/// 410 Expired after compaction, BOOKMARKs for clients that ask). Status subresources keep spec and status apart, as
/// the registry strategies do. The simulated controllers write through <see cref="CreateAsync"/> and friends with
/// their own identities, so their pods meet the same admission chain as anyone's.
/// </summary>
public sealed class SimulatedApiServer : IAsyncDisposable
{
    private const string GeneratedNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    private static readonly HashSet<string> FieldsEverywhere = ["metadata.name", "metadata.namespace"];
    private static readonly Dictionary<ApiResource, string[]> FieldSelectors = new()
    {
        [ApiResources.Pods] = ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
        [ApiResources.Events] = ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"],
        [ApiResources.Secrets] = ["type"],
        [ApiResources.Namespaces] = ["status.phase"],
        [ApiResources.Nodes] = ["spec.unschedulable"],
        [ApiResources.ReplicaSets] = ["status.replicas"],
        [ApiResources.Jobs] = ["status.successful"],
    };

    private readonly WebApplication app;
    private readonly ConcurrentQueue<ApiCall> calls = new();

    private SimulatedApiServer(WebApplication app, TimeProvider clock)
    {
        this.app = app;
        Clock = clock;
        Store.Clock = clock;
        Watches = new WatchHub(Store);
        Rbac = new RbacAuthorizer(Store);
        Network = new ServiceNetwork(Store);
        Admission = new AdmissionChain(Store, Network);
    }

    public Uri BaseAddress { get; private set; } = null!;

    public TimeProvider Clock { get; }

    public ObjectStore Store { get; } = new();

    public WatchHub Watches { get; }

    public FaultInjector Faults { get; } = new();

    public TokenAuthenticator Tokens { get; } = new();

    public RbacAuthorizer Rbac { get; }

    public ServiceNetwork Network { get; }

    public AdmissionChain Admission { get; }

    /// <summary>Every request made over HTTP, in order, with its answer's status.</summary>
    public IReadOnlyCollection<ApiCall> Calls => calls.ToArray();

    /// <summary>Raised after every HTTP request has been answered (and after every internal write), for waits without sleeping.</summary>
    public event Action<ApiCall>? Answered;

    public static async Task<SimulatedApiServer> StartAsync(TimeProvider clock)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new SimulatedApiServer(app, clock);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        Watches.EndAll();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    // ---- reads ----

    public JsonObject? Get(ApiResource resource, string? ns, string name) =>
        Store.Read(Key(resource, ns, name)) is { } json ? JsonNode.Parse(json)!.AsObject() : null;

    public List<JsonObject> List(ApiResource resource, string? ns, LabelSelector? labels = null) =>
        Store.ReadAll(ObjectStore.Prefix(resource.StoreName, resource.Namespaced ? ns : null))
            .Select(json => JsonNode.Parse(json)!.AsObject())
            .Where(o => labels is null || labels.Matches(Selectors.Labels(o)))
            .ToList();

    // ---- writes (the internal API the simulated controllers and the HTTP handlers share) ----

    /// <summary>Creates an object through defaulting, admission and validation; returns what was stored (or would be, on a dry run).</summary>
    public async Task<JsonObject> CreateAsync(ApiResource resource, string? ns, JsonObject obj, UserInfo user, bool dryRun = false, List<string>? warnings = null, CancellationToken cancellationToken = default)
    {
        warnings ??= [];
        obj = obj.DeepClone().AsObject();
        obj["apiVersion"] = resource.ApiVersion;
        obj["kind"] = resource.Kind;
        var metadata = ObjectDefaults.Ensure(obj, "metadata");
        if (resource.Namespaced)
        {
            if ((string?)metadata["namespace"] is { Length: > 0 } given && given != ns)
            {
                throw ApiStatusException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            metadata["namespace"] = ns;
            RequireActiveNamespace(ns!);
        }
        else
        {
            metadata.Remove("namespace");
        }

        foreach (var server in new[] { "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink" })
        {
            metadata.Remove(server);
        }

        if (HasStatusSubresource(resource))
        {
            // PrepareForCreate: status is the controllers' to write, never the creator's.
            obj.Remove("status");
        }

        ObjectDefaults.Apply(resource, obj, null);
        if (resource == ApiResources.Pods)
        {
            ServiceAccountAdmission(obj, ns!);
        }

        obj = Normalize(obj);

        var attributes = new AdmissionAttributes("CREATE", resource, null, ns, (string?)metadata["name"], user, dryRun, "CreateOptions");
        obj = await Admission.MutateAsync(attributes, obj, null, warnings, cancellationToken);

        // BeforeCreate: the generated name, uid, creationTimestamp and generation, then validation.
        metadata = obj["metadata"]!.AsObject();
        if (string.IsNullOrEmpty((string?)metadata["name"]) && (string?)metadata["generateName"] is { Length: > 0 } generateName)
        {
            metadata["name"] = (generateName.Length > 58 ? generateName[..58] : generateName) + RandomSuffix();
        }

        metadata["uid"] = Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = ObjectDefaults.Time(Clock.GetUtcNow());
        if (obj["spec"] is not null)
        {
            metadata["generation"] = 1;
        }

        if (resource == ApiResources.Jobs)
        {
            ObjectDefaults.JobSelector(obj);
        }

        obj = Normalize(obj);
        var name = (string?)obj["metadata"]!["name"] ?? string.Empty;
        Validate(resource, obj, null, null);
        await Admission.ValidateAsync(attributes with { Name = name }, obj, null, warnings, cancellationToken);
        if (dryRun)
        {
            return obj;
        }

        lock (Store.Gate)
        {
            var key = Key(resource, ns, name);
            if (Store.Read(key) is not null)
            {
                throw ApiStatusException.AlreadyExists(resource, name);
            }

            var stored = JsonNode.Parse(Store.Write(resource.StoreName, key, null, obj))!.AsObject();
            Internal("create", resource, ns, name, user);
            return stored;
        }
    }

    /// <summary>
    /// Replaces an object (or its status, with <paramref name="subresource"/> "status"): a resourceVersion in the body
    /// must be the stored one (409 otherwise); without one the update is unconditional, as for a PUT without it.
    /// </summary>
    public Task<JsonObject> UpdateAsync(ApiResource resource, string? ns, string name, JsonObject obj, UserInfo user, string? subresource = null, bool dryRun = false, List<string>? warnings = null, CancellationToken cancellationToken = default) =>
        GuaranteedUpdateAsync(resource, ns, name, subresource, user, dryRun, "UpdateOptions", warnings ?? [], (string?)obj["metadata"]?["resourceVersion"], _ => obj.DeepClone().AsObject(), cancellationToken);

    /// <summary>Applies a JSON, merge or strategic merge patch to the current object, through the same write path.</summary>
    public Task<JsonObject> PatchAsync(ApiResource resource, string? ns, string name, string contentType, string patch, UserInfo user, string? subresource = null, bool dryRun = false, List<string>? warnings = null, CancellationToken cancellationToken = default) =>
        GuaranteedUpdateAsync(resource, ns, name, subresource, user, dryRun, "PatchOptions", warnings ?? [], PatchPrecondition(contentType, patch),
            current => ApplyPatch(resource, name, current, contentType, patch), cancellationToken);

    /// <summary>A merge patch may carry metadata.resourceVersion: then it is a precondition, as in an update.</summary>
    private static string? PatchPrecondition(string contentType, string patch)
    {
        if (contentType.StartsWith("application/json-patch+json", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return (string?)JsonNode.Parse(patch)?["metadata"]?["resourceVersion"];
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Changes an object as a controller does: read, change, write, again on a conflict.</summary>
    public Task<JsonObject> ChangeAsync(ApiResource resource, string? ns, string name, UserInfo user, Action<JsonObject> change, string? subresource = null, CancellationToken cancellationToken = default) =>
        GuaranteedUpdateAsync(resource, ns, name, subresource, user, dryRun: false, "UpdateOptions", [], precondition: null, current =>
        {
            var copy = current.DeepClone().AsObject();
            change(copy);
            return copy;
        }, cancellationToken);

    /// <summary>
    /// Deletes an object. Dependents (ownerReferences) are deleted by the garbage collector (Background, the default,
    /// or Foreground) or released (Orphan, the default for Jobs for compatibility). Pods with a running container get a
    /// deletionTimestamp first; the kubelet removes them once stopped.
    /// </summary>
    public async Task<JsonObject?> DeleteAsync(ApiResource resource, string? ns, string name, UserInfo user, string? propagation = null, string? uidPrecondition = null, string? versionPrecondition = null, bool dryRun = false, bool graceful = true, CancellationToken cancellationToken = default)
    {
        var current = Get(resource, ns, name) ?? throw ApiStatusException.NotFound(resource, name);
        var metadata = current["metadata"]!;
        if ((uidPrecondition is not null && uidPrecondition != (string?)metadata["uid"]) || (versionPrecondition is not null && versionPrecondition != (string?)metadata["resourceVersion"]))
        {
            throw ApiStatusException.Conflict(resource, name, $"Precondition failed: UID in precondition: {uidPrecondition}, UID in object meta: {(string?)metadata["uid"]}");
        }

        var warnings = new List<string>();
        await Admission.ValidateAsync(new AdmissionAttributes("DELETE", resource, null, ns, name, user, dryRun, "DeleteOptions"), current, current, warnings, cancellationToken);
        if (dryRun)
        {
            return current;
        }

        if (graceful && resource == ApiResources.Pods && (string?)current["spec"]?["nodeName"] is { Length: > 0 } && metadata["deletionTimestamp"] is null
            && (string?)current["status"]?["phase"] is "Running" or "Pending")
        {
            // Graceful deletion: the registry sets deletionTimestamp itself (no update may), the kubelet finishes it.
            lock (Store.Gate)
            {
                var key = Key(resource, ns, name);
                var latest = Store.Read(key) is { } json ? JsonNode.Parse(json)!.AsObject() : throw ApiStatusException.NotFound(resource, name);
                latest["metadata"]!["deletionTimestamp"] = ObjectDefaults.Time(Clock.GetUtcNow());
                latest["metadata"]!["deletionGracePeriodSeconds"] = latest["spec"]?["terminationGracePeriodSeconds"]?.GetValue<long>() ?? 30;
                var marked = JsonNode.Parse(Store.Write(resource.StoreName, key, Store.Read(key), latest))!.AsObject();
                Internal("delete", resource, ns, name, user);
                return marked;
            }
        }

        var policy = propagation ?? (resource == ApiResources.Jobs ? "Orphan" : "Background");
        Store.Remove(resource.StoreName, Key(resource, ns, name));
        Internal("delete", resource, ns, name, user);
        await CollectDependentsAsync((string)metadata["uid"]!, ns, policy, cancellationToken);
        return current;
    }

    private async Task CollectDependentsAsync(string ownerUid, string? ns, string policy, CancellationToken cancellationToken)
    {
        foreach (var resource in ApiResources.All.Where(r => r.Namespaced))
        {
            foreach (var dependent in List(resource, ns))
            {
                var owners = dependent["metadata"]?["ownerReferences"] as JsonArray ?? [];
                if (!owners.Any(o => (string?)o!["uid"] == ownerUid))
                {
                    continue;
                }

                var name = (string)dependent["metadata"]!["name"]!;
                if (policy == "Orphan")
                {
                    await ChangeAsync(resource, ns, name, UserInfo.Controller("generic-garbage-collector"), o =>
                    {
                        var references = o["metadata"]!["ownerReferences"]!.AsArray();
                        foreach (var reference in references.Where(r => (string?)r!["uid"] == ownerUid).ToList())
                        {
                            references.Remove(reference);
                        }
                    }, cancellationToken: cancellationToken);
                }
                else
                {
                    try
                    {
                        await DeleteAsync(resource, ns, name, UserInfo.Controller("generic-garbage-collector"), "Background", cancellationToken: cancellationToken);
                    }
                    catch (ApiStatusException e) when (e.Code == HttpStatusCode.NotFound)
                    {
                        // Gone already.
                    }
                }
            }
        }
    }

    private async Task<JsonObject> GuaranteedUpdateAsync(
        ApiResource resource, string? ns, string name, string? subresource, UserInfo user, bool dryRun, string optionsKind, List<string> warnings,
        string? precondition, Func<JsonObject, JsonObject> produce, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = Get(resource, ns, name) ?? throw ApiStatusException.NotFound(resource, name);
            var currentVersion = (string?)current["metadata"]!["resourceVersion"];
            var incoming = produce(current);
            if (!string.IsNullOrEmpty(precondition) && precondition != currentVersion)
            {
                throw ApiStatusException.StaleResourceVersion(resource, name);
            }

            var updated = PrepareForUpdate(resource, subresource, incoming, current, name);
            ObjectDefaults.Apply(resource, updated, subresource);
            updated = Normalize(updated);
            var attributes = new AdmissionAttributes("UPDATE", resource, subresource, ns, name, user, dryRun, optionsKind);
            updated = await Admission.MutateAsync(attributes, updated, current, warnings, cancellationToken);
            updated = Normalize(PrepareForUpdate(resource, subresource, updated, current, name));
            Validate(resource, updated, current, subresource);
            await Admission.ValidateAsync(attributes, updated, current, warnings, cancellationToken);
            if (dryRun)
            {
                return updated;
            }

            lock (Store.Gate)
            {
                var key = Key(resource, ns, name);
                var latest = Store.Read(key) is { } json ? JsonNode.Parse(json)!.AsObject() : throw ApiStatusException.NotFound(resource, name);
                if ((string?)latest["metadata"]!["resourceVersion"] == currentVersion)
                {
                    if (JsonNode.DeepEquals(Comparable(updated), Comparable(latest)))
                    {
                        // A no-op write stores nothing and keeps the resourceVersion, as etcd3's GuaranteedUpdate does.
                        return latest;
                    }

                    var stored = JsonNode.Parse(Store.Write(resource.StoreName, key, Store.Read(key), updated))!.AsObject();
                    Internal(subresource is null ? "update" : "update/" + subresource, resource, ns, name, user);
                    return stored;
                }
            }

            // Someone wrote meanwhile: with a resourceVersion the caller asked for that one (409); without, try again.
            if (!string.IsNullOrEmpty(precondition) || attempt >= 10)
            {
                throw ApiStatusException.StaleResourceVersion(resource, name);
            }
        }

        static JsonNode Comparable(JsonObject obj)
        {
            var copy = obj.DeepClone().AsObject();
            copy["metadata"]!.AsObject().Remove("resourceVersion");
            copy["metadata"]!.AsObject().Remove("managedFields");
            return copy;
        }
    }

    /// <summary>
    /// The registry's PrepareForUpdate: the main resource cannot change status; the status subresource cannot change
    /// spec, but it writes metadata as any update does (the status strategies reset only spec, plus a Deployment's labels
    /// and a Pod's ownerReferences): the Deployment controller stores the deployment.kubernetes.io/revision annotation
    /// with UpdateStatus. Identity (uid, creationTimestamp, name, namespace) is kept; generation counts spec changes,
    /// and a Deployment's annotation changes too (they are copied onto its ReplicaSets).
    /// </summary>
    private static JsonObject PrepareForUpdate(ApiResource resource, string? subresource, JsonObject incoming, JsonObject current, string name)
    {
        JsonObject updated;
        if (subresource == "status")
        {
            updated = incoming.DeepClone().AsObject();
            updated["spec"] = current["spec"]?.DeepClone();
            if (updated["spec"] is null)
            {
                updated.Remove("spec");
            }

            var unchangeable = resource == ApiResources.Deployments ? "labels" : resource == ApiResources.Pods ? "ownerReferences" : null;
            if (unchangeable is not null)
            {
                var written = ObjectDefaults.Ensure(updated, "metadata");
                written[unchangeable] = current["metadata"]?[unchangeable]?.DeepClone();
                if (written[unchangeable] is null)
                {
                    written.Remove(unchangeable);
                }
            }
        }
        else
        {
            updated = incoming.DeepClone().AsObject();
            if (HasStatusSubresource(resource))
            {
                updated["status"] = current["status"]?.DeepClone();
            }
        }

        updated["apiVersion"] = resource.ApiVersion;
        updated["kind"] = resource.Kind;
        var metadata = ObjectDefaults.Ensure(updated, "metadata");
        var old = current["metadata"]!;
        if ((string?)metadata["name"] is { Length: > 0 } given && given != name)
        {
            throw ApiStatusException.BadRequest($"the name of the object ({given}) does not match the name on the URL ({name})");
        }

        metadata["name"] = name;
        foreach (var kept in new[] { "uid", "creationTimestamp", "namespace", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName" })
        {
            metadata[kept] = old[kept]?.DeepClone();
            if (metadata[kept] is null)
            {
                metadata.Remove(kept);
            }
        }

        metadata["resourceVersion"] = old["resourceVersion"]?.DeepClone();
        if (old["generation"] is { } generation)
        {
            var changed = subresource != "status" && (!JsonNode.DeepEquals(updated["spec"], current["spec"])
                || (resource == ApiResources.Deployments && !JsonNode.DeepEquals(updated["metadata"]?["annotations"], current["metadata"]?["annotations"])));
            metadata["generation"] = changed ? generation.GetValue<long>() + 1 : generation.GetValue<long>();
        }

        return updated;
    }

    private static JsonObject ApplyPatch(ApiResource resource, string name, JsonObject current, string contentType, string patch)
    {
        try
        {
            var media = contentType.Split(';')[0].Trim();
            return media switch
            {
                "application/json-patch+json" => JsonPatchApplier.Apply(current, Encoding.UTF8.GetBytes(patch)).AsObject(),
                "application/merge-patch+json" => Patches.Merge(current.DeepClone().AsObject(), ParseObject(patch)),
                "application/strategic-merge-patch+json" => Patches.Strategic(current.DeepClone().AsObject(), ParseObject(patch)),
                "application/apply-patch+yaml" or "application/apply-patch+cbor" =>
                    throw new ApiStatusException(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType", "server-side apply is not simulated; use create, update or a patch"),
                _ => throw new ApiStatusException(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json"),
            };
        }
        catch (JsonPatchTestFailedException e)
        {
            throw new ApiStatusException(HttpStatusCode.UnprocessableEntity, "Invalid", $"the server rejected our request due to an error in our request: {e.Message}",
                new JsonObject { ["name"] = name, ["kind"] = resource.Plural });
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or JsonException or FormatException)
        {
            throw new ApiStatusException(HttpStatusCode.UnprocessableEntity, "Invalid", $"the server rejected our request due to an error in our request: {e.Message}",
                new JsonObject { ["name"] = name, ["kind"] = resource.Plural });
        }
    }

    /// <summary>Numbers written by code (int, long) read back as any numeric type, as JSON from the wire does.</summary>
    private static JsonObject Normalize(JsonObject obj) => JsonNode.Parse(obj.ToJsonString())!.AsObject();

    private static JsonObject ParseObject(string json) => JsonNode.Parse(json) as JsonObject ?? throw new JsonException("a patch must be a JSON object");

    private static void Validate(ApiResource resource, JsonObject obj, JsonObject? old, string? subresource)
    {
        var errors = ObjectValidation.Validate(resource, obj, old, subresource);
        if (errors.Count > 0)
        {
            throw ApiStatusException.Invalid(resource, (string?)obj["metadata"]?["name"] ?? (string?)obj["metadata"]?["generateName"], errors);
        }
    }

    /// <summary>
    /// The ServiceAccount admission plugin: the pod's service account must exist, and unless automounting is off the
    /// pod gets the projected token volume (kube-api-access-*) mounted in every container.
    /// </summary>
    private void ServiceAccountAdmission(JsonObject pod, string ns)
    {
        var spec = pod["spec"]!.AsObject();
        var account = (string?)spec["serviceAccountName"] ?? "default";
        var serviceAccount = Get(ApiResources.ServiceAccounts, ns, account);
        if (serviceAccount is null)
        {
            var name = (string?)pod["metadata"]?["name"] ?? (string?)pod["metadata"]?["generateName"];
            throw ApiStatusException.Forbidden(ApiResources.Pods, name, $"error looking up service account {ns}/{account}: serviceaccount \"{account}\" not found");
        }

        var automount = spec["automountServiceAccountToken"]?.GetValue<bool>() ?? serviceAccount["automountServiceAccountToken"]?.GetValue<bool>() ?? true;
        if (!automount)
        {
            return;
        }

        var volume = "kube-api-access-" + RandomSuffix();
        if (spec["volumes"] is not JsonArray volumes)
        {
            volumes = [];
            spec["volumes"] = volumes;
        }

        volumes.Add(new JsonObject
        {
            ["name"] = volume,
            ["projected"] = new JsonObject
            {
                ["defaultMode"] = 420,
                ["sources"] = new JsonArray(
                    new JsonObject { ["serviceAccountToken"] = new JsonObject { ["expirationSeconds"] = 3607, ["path"] = "token" } },
                    new JsonObject { ["downwardAPI"] = new JsonObject { ["items"] = new JsonArray(new JsonObject { ["path"] = "namespace", ["fieldRef"] = new JsonObject { ["apiVersion"] = "v1", ["fieldPath"] = "metadata.namespace" } }) } }),
            },
        });
        foreach (var container in spec["containers"] as JsonArray ?? [])
        {
            if (container!["volumeMounts"] is not JsonArray mounts)
            {
                mounts = [];
                container["volumeMounts"] = mounts;
            }

            mounts.Add(new JsonObject { ["name"] = volume, ["readOnly"] = true, ["mountPath"] = "/var/run/secrets/kubernetes.io/serviceaccount" });
        }
    }

    private void RequireActiveNamespace(string ns)
    {
        var json = Store.Read(Key(ApiResources.Namespaces, null, ns)) ?? throw ApiStatusException.NotFound(ApiResources.Namespaces, ns);
        if ((string?)JsonNode.Parse(json)!["status"]?["phase"] == "Terminating")
        {
            throw new ApiStatusException(HttpStatusCode.Forbidden, "Forbidden", $"unable to create new content in namespace {ns} because it is being terminated");
        }
    }

    private static bool HasStatusSubresource(ApiResource resource) => resource.Subresources.Contains("status");

    private static string Key(ApiResource resource, string? ns, string name) => ObjectStore.Key(resource.StoreName, resource.Namespaced ? ns : string.Empty, name);

    private static string RandomSuffix() => string.Create(5, 0, (span, _) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = GeneratedNameAlphabet[RandomNumberGenerator.GetInt32(GeneratedNameAlphabet.Length)];
        }
    });

    private void Internal(string verb, ApiResource resource, string? ns, string name, UserInfo user) =>
        Answered?.Invoke(new ApiCall(user.Name, verb, resource.ToString(), ns, name, 200, null));

    // ---- HTTP ----

    private async Task HandleAsync(HttpContext context)
    {
        var body = string.Empty;
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var path = context.Request.Path.Value ?? string.Empty;
        var user = Tokens.Authenticate(context.Request.Headers.Authorization.FirstOrDefault());
        var info = RequestInfo.Parse(context.Request);
        var status = 200;
        string? message = null;
        var warnings = new List<string>();
        // What Gatekeeper (a service account) sends is scanned for secrets; the scenario's own writes as a person or the
        // cluster admin (the app's database Secret above all) are its input, not Gatekeeper's output.
        if (user is null || user.Name.StartsWith(UserInfo.ServiceAccountPrefix, StringComparison.Ordinal))
        {
            OutputCapture.Record(OutputCapture.ApiRequests, "simulated api server", $"{context.Request.Method} {path}{context.Request.QueryString} [{user?.Name}]\n{body}");
        }

        try
        {
            if (user is null)
            {
                throw ApiStatusException.Unauthorized();
            }

            if (info is null)
            {
                throw new ApiStatusException(HttpStatusCode.NotFound, "NotFound", "the server could not find the requested resource");
            }

            if (Faults.DelayFor(context.Request.Method, path) is { } delay)
            {
                await Task.Delay(delay, Clock, context.RequestAborted);
            }

            if (Faults.FailureFor(context.Request.Method, path) is { } injected)
            {
                throw new ApiStatusException(injected, injected == HttpStatusCode.InternalServerError ? "InternalError" : injected.ToString(), "injected failure");
            }

            if (!Rbac.Allows(user, info))
            {
                throw ApiStatusException.Forbidden(info.Resource, info.Name, RbacAuthorizer.ForbiddenMessage(user, info));
            }

            (status, var answer) = await DispatchAsync(context, info, user, body, warnings);
            if (answer is null)
            {
                return;
            }

            foreach (var warning in warnings)
            {
                context.Response.Headers.Append("Warning", $"299 - \"{warning.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
            }

            await Write(context, status, answer.ToJsonString(Wire));
        }
        catch (ApiStatusException e)
        {
            status = (int)e.Code;
            message = e.Message;
            await Write(context, status, e.Body().ToJsonString(Wire));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            status = 499;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            status = 400;
            message = e.Message;
            await Write(context, status, ApiStatusException.BadRequest($"the object provided is unrecognized: {e.Message}").Body().ToJsonString(Wire));
        }
        finally
        {
            var call = new ApiCall(user?.Name ?? "(anonymous)", info?.Verb ?? context.Request.Method, info?.ResourceWithSubresource ?? path, info?.Namespace, info?.Name, status, message);
            calls.Enqueue(call);
            Answered?.Invoke(call);
        }
    }

    private async Task<(int Status, JsonNode? Answer)> DispatchAsync(HttpContext context, RequestInfo info, UserInfo user, string body, List<string> warnings)
    {
        var query = context.Request.Query;
        var dryRun = query["dryRun"].ToString() == "All";
        var resource = info.Resource;
        var ns = info.Namespace;
        var cancellation = context.RequestAborted;
        switch (info.Verb)
        {
            case "get":
                var found = Get(resource, ns, info.Name!) ?? throw ApiStatusException.NotFound(resource, info.Name!);
                return (200, info.Subresource == "scale" ? Scale(resource, found) : found);
            case "list":
                return (200, ListBody(context, info));
            case "watch":
                var labels = LabelSelector.Parse(query["labelSelector"].ToString());
                var fields = ParseFieldSelector(resource, query["fieldSelector"].ToString());
                var timeout = int.TryParse(query["timeoutSeconds"], CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
                await Watches.ServeAsync(context, new WatchRequest(resource.StoreName, resource.Kind, resource.ApiVersion, resource.Namespaced ? ns : null, labels, fields,
                    user.Name, query["allowWatchBookmarks"] == "true", timeout, Clock));
                return (200, null);
            case "create" when info.Subresource is null:
                return (201, await CreateAsync(resource, ns, ParseObject(body), user, dryRun, warnings, cancellation));
            case "create" when resource == ApiResources.Pods && info.Subresource == "binding":
                var target = (string?)JsonNode.Parse(body)?["target"]?["name"] ?? throw ApiStatusException.BadRequest("a binding needs a target");
                await ChangeAsync(resource, ns, info.Name!, user, pod => pod["spec"]!["nodeName"] = target, cancellationToken: cancellation);
                return (201, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Success", ["code"] = 201 });
            case "update" when info.Subresource == "scale":
                return (200, Scale(resource, await ChangeAsync(resource, ns, info.Name!, user, o => o["spec"]!["replicas"] = JsonNode.Parse(body)?["spec"]?["replicas"]?.DeepClone(), "scale", cancellation)));
            case "update":
                return (200, await UpdateAsync(resource, ns, info.Name!, ParseObject(body), user, info.Subresource, dryRun, warnings, cancellation));
            case "patch" when info.Subresource == "scale":
                var current = Get(resource, ns, info.Name!) ?? throw ApiStatusException.NotFound(resource, info.Name!);
                var scaled = ApplyPatch(resource, info.Name!, Scale(resource, current), context.Request.ContentType ?? string.Empty, body);
                return (200, Scale(resource, await ChangeAsync(resource, ns, info.Name!, user, o => o["spec"]!["replicas"] = scaled["spec"]?["replicas"]?.DeepClone(), "scale", cancellation)));
            case "patch":
                return (200, await PatchAsync(resource, ns, info.Name!, context.Request.ContentType ?? string.Empty, body, user, info.Subresource, dryRun, warnings, cancellation));
            case "delete":
                var options = body.Length > 0 ? JsonNode.Parse(body) : null;
                var propagation = (string?)options?["propagationPolicy"] ?? query["propagationPolicy"].FirstOrDefault();
                var deleted = await DeleteAsync(resource, ns, info.Name!, user, propagation, (string?)options?["preconditions"]?["uid"], (string?)options?["preconditions"]?["resourceVersion"], dryRun,
                    cancellationToken: cancellation);
                return (200, deleted);
            default:
                throw ApiStatusException.MethodNotSupported(resource, info.Verb);
        }
    }

    private JsonObject ListBody(HttpContext context, RequestInfo info)
    {
        var query = context.Request.Query;
        var resource = info.Resource;
        var labels = LabelSelector.Parse(query["labelSelector"].ToString());
        var fields = ParseFieldSelector(resource, query["fieldSelector"].ToString());
        List<string> items;
        long version;
        lock (Store.Gate)
        {
            items = Store.ReadAll(ObjectStore.Prefix(resource.StoreName, resource.Namespaced ? info.Namespace : null))
                .Where(json => Selectors.Matches(json, labels, fields))
                .ToList();
            version = Store.Version;
        }

        var start = 0;
        if (query["continue"].ToString() is { Length: > 0 } token)
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(token)).Split('/', 2);
            if (Store.IsCompacted(long.Parse(parts[0], CultureInfo.InvariantCulture)))
            {
                throw ApiStatusException.Gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
            }

            start = int.Parse(parts[1], CultureInfo.InvariantCulture);
        }

        var limit = int.TryParse(query["limit"], CultureInfo.InvariantCulture, out var asked) && asked > 0 ? asked : int.MaxValue;
        var page = items.Skip(start).Take(limit).ToList();
        var metadata = new JsonObject { ["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture) };
        if (start + page.Count < items.Count)
        {
            metadata["continue"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{version.ToString(CultureInfo.InvariantCulture)}/{(start + page.Count).ToString(CultureInfo.InvariantCulture)}"));
            metadata["remainingItemCount"] = items.Count - start - page.Count;
        }

        return new JsonObject
        {
            ["apiVersion"] = resource.ApiVersion,
            ["kind"] = resource.Kind + "List",
            ["metadata"] = metadata,
            ["items"] = new JsonArray(page.Select(json => JsonNode.Parse(json)).ToArray()),
        };
    }

    /// <summary>Only the field selectors the API server supports for the resource; others are a 400.</summary>
    private static FieldSelector ParseFieldSelector(ApiResource resource, string text)
    {
        var selector = FieldSelector.Parse(text);
        foreach (var (path, _, _) in selector.Requirements)
        {
            var field = string.Join('.', path);
            if (!FieldsEverywhere.Contains(field) && !(FieldSelectors.TryGetValue(resource, out var supported) && supported.Contains(field)))
            {
                throw ApiStatusException.BadRequest($"field label not supported: {field}");
            }
        }

        return selector;
    }

    private static JsonObject Scale(ApiResource resource, JsonObject obj) => new()
    {
        ["kind"] = "Scale",
        ["apiVersion"] = "autoscaling/v1",
        ["metadata"] = new JsonObject
        {
            ["name"] = obj["metadata"]!["name"]!.DeepClone(),
            ["namespace"] = obj["metadata"]!["namespace"]?.DeepClone(),
            ["uid"] = obj["metadata"]!["uid"]!.DeepClone(),
            ["resourceVersion"] = obj["metadata"]!["resourceVersion"]!.DeepClone(),
            ["creationTimestamp"] = obj["metadata"]!["creationTimestamp"]?.DeepClone(),
        },
        ["spec"] = new JsonObject { ["replicas"] = obj["spec"]?["replicas"]?.DeepClone() },
        ["status"] = new JsonObject
        {
            ["replicas"] = obj["status"]?["replicas"]?.DeepClone() ?? 0,
            ["selector"] = LabelSelector.FromObject(obj["spec"]?["selector"]).ToString(),
        },
    };

    /// <summary>Go's encoding/json escapes only what it must (and &lt;, &gt;, &amp;): quotes in messages read as \", not \u0022.</summary>
    private static readonly JsonSerializerOptions Wire = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static Task Write(HttpContext context, int status, string json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json);
    }
}
