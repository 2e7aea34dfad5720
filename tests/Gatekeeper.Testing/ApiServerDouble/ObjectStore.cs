using System.Globalization;
using System.Text.Json.Nodes;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>
/// The double's etcd: every object as JSON under <c>resource/namespace/name</c>, one resourceVersion counter for all of
/// them, and the history of changes a watch from an older resourceVersion replays. Writers take <see cref="Gate"/> for
/// a read-check-write (409 on a stale resourceVersion is decided under it); <see cref="Changed"/> is raised under the
/// same lock, so watches see changes in resourceVersion order.
/// </summary>
public sealed class ObjectStore
{
    private readonly Dictionary<string, string> objects = new(StringComparer.Ordinal);
    private readonly List<StoredChange> history = [];
    private long resourceVersion = 100;
    private long compactedBelow;

    /// <summary>Raised under <see cref="Gate"/> for every announced write and delete, in resourceVersion order.</summary>
    public event Action<StoredChange>? Changed;

    /// <summary>The lock every read-check-write holds.</summary>
    public Lock Gate { get; } = new();

    /// <summary>The clock that stamps creationTimestamp.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>The resourceVersion of the last change (what a list answers with).</summary>
    public long Version
    {
        get
        {
            lock (Gate)
            {
                return resourceVersion;
            }
        }
    }

    public static string Key(string resource, string? ns, string name) => $"{resource}/{ns}/{name}";

    /// <summary>The key prefix of a collection: every namespace when <paramref name="ns"/> is null.</summary>
    public static string Prefix(string resource, string? ns) => ns is null ? resource + "/" : Key(resource, ns, string.Empty);

    public string? Read(string key)
    {
        lock (Gate)
        {
            return objects.GetValueOrDefault(key);
        }
    }

    /// <summary>Every object under a key prefix, in key order.</summary>
    public IReadOnlyList<string> ReadAll(string prefix)
    {
        lock (Gate)
        {
            return objects.Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal))
                .OrderBy(pair => pair.Key, StringComparer.Ordinal)
                .Select(pair => pair.Value)
                .ToList();
        }
    }

    /// <summary>
    /// Fills in what the API server sets on every write: uid and creationTimestamp kept from the stored version (or
    /// new), generation bumped when the spec changed.
    /// </summary>
    public void Fill(JsonObject node, string? old)
    {
        var metadata = node["metadata"]!.AsObject();
        var previous = old is null ? null : JsonNode.Parse(old)!["metadata"];
        metadata["uid"] = previous?["uid"]?.GetValue<string>() ?? metadata["uid"]?.GetValue<string>() ?? Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = previous?["creationTimestamp"]?.GetValue<string>() ?? metadata["creationTimestamp"]?.GetValue<string>()
            ?? Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var generation = previous?["generation"]?.GetValue<long>() ?? 0;
        var specChanged = old is null || !JsonNode.DeepEquals(JsonNode.Parse(old)!["spec"], node["spec"]);
        metadata["generation"] = specChanged ? generation + 1 : generation;
    }

    /// <summary>Stores the object with a new resourceVersion and announces it (ADDED or MODIFIED).</summary>
    public string Write(string resource, string key, string? old, JsonObject node)
    {
        lock (Gate)
        {
            var version = ++resourceVersion;
            node["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
            var json = node.ToJsonString();
            objects[key] = json;
            Announce(new StoredChange(version, resource, (string?)node["metadata"]!["namespace"], old is null ? "ADDED" : "MODIFIED", json, old));
            return json;
        }
    }

    /// <summary>Stores a change without announcing it, as if its watch event were lost; only a relist sees it.</summary>
    public void WriteUnannounced(string key, JsonObject node)
    {
        lock (Gate)
        {
            node["metadata"]!["resourceVersion"] = (++resourceVersion).ToString(CultureInfo.InvariantCulture);
            objects[key] = node.ToJsonString();
        }
    }

    /// <summary>Deletes the object (DELETED, with a new resourceVersion); null when there was none.</summary>
    public string? Remove(string resource, string key)
    {
        lock (Gate)
        {
            if (!objects.Remove(key, out var old))
            {
                return null;
            }

            var version = ++resourceVersion;
            var node = JsonNode.Parse(old)!;
            node["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
            Announce(new StoredChange(version, resource, (string?)node["metadata"]!["namespace"], "DELETED", node.ToJsonString(), old));
            return old;
        }
    }

    /// <summary>Forgets the history, so a watch from any earlier resourceVersion gets 410 Expired (etcd compaction).</summary>
    public void Compact()
    {
        lock (Gate)
        {
            compactedBelow = resourceVersion + 1;
            history.Clear();
        }
    }

    /// <summary>True when changes after <paramref name="since"/> are no longer all in the history.</summary>
    public bool IsCompacted(long since)
    {
        lock (Gate)
        {
            return since < compactedBelow - 1;
        }
    }

    /// <summary>The changes after <paramref name="since"/>, in order; call under <see cref="Gate"/> to replay without a gap.</summary>
    public IReadOnlyList<StoredChange> Since(long since)
    {
        lock (Gate)
        {
            return history.Where(e => e.Version > since).ToList();
        }
    }

    private void Announce(StoredChange change)
    {
        history.Add(change);
        Changed?.Invoke(change);
    }
}

/// <summary>One change, kept so a watch from an older resourceVersion is replayed without a gap.</summary>
public sealed record StoredChange(long Version, string Resource, string? Namespace, string Type, string Json, string? OldJson);
