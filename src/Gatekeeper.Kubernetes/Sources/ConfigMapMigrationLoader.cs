using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Kubernetes.Annotations;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Sources;

/// <summary>
/// The migration files of one Deployment, read from its ConfigMap(s) as one flat directory.
/// </summary>
/// <param name="Description">Where they came from, for messages ("ConfigMap shop/app-migrations").</param>
/// <param name="Files">Every key of every ConfigMap (data and binaryData), as raw bytes.</param>
/// <param name="ContentHash">sha256 over the sorted names and contents: equal for equal files wherever they
/// came from, so caches keyed by it survive a ConfigMap re-created with the same content.</param>
public sealed record LoadedMigrationFiles(string Description, IReadOnlyList<MigrationFile> Files, string ContentHash);

/// <summary>Either the files or one sentence saying why they cannot be read (a person's mistake, not an outage).</summary>
public sealed record ConfigMapLoadResult(LoadedMigrationFiles? Files, string? Problem)
{
    public static ConfigMapLoadResult Failed(string problem) => new(null, problem);
}

/// <summary>
/// Reads the ConfigMaps a Deployment's <c>gatekeeper.dev/migrations</c> annotation names. A missing ConfigMap or
/// an empty selection is a value (<see cref="ConfigMapLoadResult.Problem"/>); an API outage is an exception.
/// </summary>
public sealed class ConfigMapMigrationLoader(KubernetesApi kubernetes)
{
    public Task<ConfigMapLoadResult> LoadAsync(string @namespace, ConfigMapSelection selection, CancellationToken cancellationToken) =>
        LoadAsync(@namespace, selection, GatekeeperNames.Migrations, cancellationToken);

    /// <param name="annotation">The annotation that named the ConfigMaps (<c>gatekeeper.dev/migrations</c> or <c>gatekeeper.dev/schema</c>), for messages.</param>
    public async Task<ConfigMapLoadResult> LoadAsync(string @namespace, ConfigMapSelection selection, string annotation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var configMaps = new List<V1ConfigMap>();
        if (selection.LabelSelector is { } selector)
        {
            V1ConfigMapList list;
            try
            {
                list = await kubernetes.ListNamespacedConfigMapAsync(@namespace, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.BadRequest)
            {
                return ConfigMapLoadResult.Failed(e.Response.StatusCode == HttpStatusCode.Forbidden
                    ? $"Gatekeeper may not list ConfigMaps in namespace {@namespace} (forbidden){NamespaceGrants.Hint(@namespace)}"
                    : $"the API server rejected the label selector \"{selector}\" of annotation {annotation}");
            }

            if (list.Items.Count == 0)
            {
                return ConfigMapLoadResult.Failed($"no ConfigMap in namespace {@namespace} matches selector {selector} (annotation {annotation})");
            }

            configMaps.AddRange(list.Items.OrderBy(c => c.Metadata.Name, StringComparer.Ordinal));
        }
        else
        {
            foreach (var name in selection.Names)
            {
                try
                {
                    configMaps.Add(await kubernetes.ReadNamespacedConfigMapAsync(name, @namespace, cancellationToken: cancellationToken).ConfigureAwait(false));
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    return ConfigMapLoadResult.Failed($"ConfigMap {@namespace}/{name} named by annotation {annotation} does not exist");
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Forbidden)
                {
                    return ConfigMapLoadResult.Failed($"Gatekeeper may not read ConfigMap {@namespace}/{name} (forbidden){NamespaceGrants.Hint(@namespace)}");
                }
            }
        }

        return Collect(@namespace, configMaps);
    }

    private static ConfigMapLoadResult Collect(string @namespace, List<V1ConfigMap> configMaps)
    {
        var files = new List<MigrationFile>();
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var configMap in configMaps)
        {
            var name = configMap.Metadata.Name;
            var entries = (configMap.Data ?? new Dictionary<string, string>())
                .Select(pair => (pair.Key, Content: (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(pair.Value ?? string.Empty)))
                .Concat((configMap.BinaryData ?? new Dictionary<string, byte[]>())
                    .Select(pair => (pair.Key, Content: (ReadOnlyMemory<byte>)(pair.Value ?? []))));
            foreach (var (key, content) in entries)
            {
                if (owners.TryGetValue(key, out var first))
                {
                    return ConfigMapLoadResult.Failed(
                        $"file {key} is in both ConfigMap {@namespace}/{first} and {@namespace}/{name}; each migration file must appear once");
                }

                owners[key] = name;
                files.Add(new MigrationFile(key, content));
            }
        }

        var description = configMaps.Count == 1
            ? $"ConfigMap {@namespace}/{configMaps[0].Metadata.Name}"
            : $"ConfigMaps {string.Join(", ", configMaps.Select(c => $"{@namespace}/{c.Metadata.Name}"))}";
        if (files.Count == 0)
        {
            return ConfigMapLoadResult.Failed($"{description} holds no migration files");
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new ConfigMapLoadResult(new LoadedMigrationFiles(description, files, ContentHash(files)), null);
    }

    private static string ContentHash(IReadOnlyList<MigrationFile> sortedFiles)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[8];
        foreach (var file in sortedFiles)
        {
            var name = Encoding.UTF8.GetBytes(file.Name);
            BitConverter.TryWriteBytes(length, (long)name.Length);
            hash.AppendData(length);
            hash.AppendData(name);
            BitConverter.TryWriteBytes(length, (long)file.Content.Length);
            hash.AppendData(length);
            hash.AppendData(file.Content.Span);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
