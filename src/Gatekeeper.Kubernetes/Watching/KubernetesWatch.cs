using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using k8s;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Watching;

/// <summary>
/// Opens a watch (<c>GET …?watch=true</c>) through <see cref="KubernetesApi"/>'s connection and reads its
/// newline-delimited events with <see cref="KubernetesModelJson"/>. KubernetesClient.Aot has no watch: this is the
/// stream half of <see cref="KubernetesApi"/>'s <c>WatchList…</c> operations.
/// </summary>
public static class KubernetesWatch
{
    /// <summary>A line longer than this is not a watch event of any object the API server stores (its limit is about 3 MiB).</summary>
    private const int MaxLineBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Streams the events of one watch until the server ends it or <paramref name="cancellationToken"/> is cancelled.
    /// <c>ERROR</c> events go to <paramref name="onError"/> as a <see cref="KubernetesException"/> carrying the
    /// server's Status (410 Gone means: list again); everything else is yielded, bookmarks included.
    /// </summary>
    /// <param name="path">The collection's path without the leading slash, e.g. <c>apis/batch/v1/jobs</c>.</param>
    public static async IAsyncEnumerable<(WatchEventType Type, T Object)> StreamAsync<T>(
        KubernetesApi api,
        string path,
        WatchQuery query,
        JsonTypeInfo<T> type,
        Action<Exception>? onError,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(query);
        // No request timeout: a watch stays open until the server ends it (its own timeout) or the caller stops.
        using var response = await api.SendRawAsync(HttpMethod.Get, path + query.ToQueryString(), null, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var _ = stream.ConfigureAwait(false);
        await foreach (var item in ReadEventsAsync(stream, path, type, onError, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    /// <summary>Reads newline-delimited watch events from a response body until it ends.</summary>
    internal static async IAsyncEnumerable<(WatchEventType Type, T Object)> ReadEventsAsync<T>(
        Stream stream,
        string what,
        JsonTypeInfo<T> type,
        Action<Exception>? onError,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (TryReadLine(ref buffer, out var line))
                {
                    if (Parse(line, type, onError) is { } parsed)
                    {
                        yield return parsed;
                    }
                }

                if (buffer.Length > MaxLineBytes)
                {
                    throw new InvalidDataException($"a watch event of {what} is longer than {MaxLineBytes} bytes");
                }

                if (read.IsCompleted)
                {
                    // A last event without its newline still counts.
                    if (!buffer.IsEmpty && Parse(buffer, type, onError) is { } last)
                    {
                        yield return last;
                    }

                    yield break;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        if (buffer.PositionOf((byte)'\n') is not { } end)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, end);
        buffer = buffer.Slice(buffer.GetPosition(1, end));
        return true;
    }

    private static (WatchEventType Type, T Object)? Parse<T>(ReadOnlySequence<byte> line, JsonTypeInfo<T> objectType, Action<Exception>? onError)
        where T : class
    {
        if (IsBlank(line))
        {
            return null;
        }

        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("object", out var objectElement) || objectElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("a watch line is not a {\"type\", \"object\"} event");
        }

        var type = typeElement.GetString() switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "ERROR" => WatchEventType.Error,
            "BOOKMARK" => WatchEventType.Bookmark,
            var other => throw new InvalidDataException($"a watch event has the unknown type \"{other}\""),
        };
        if (type == WatchEventType.Error)
        {
            onError?.Invoke(new KubernetesException(objectElement.Deserialize(KubernetesModelJson.Default.V1Status)));
            return null;
        }

        return (type, objectElement.Deserialize(objectType)
            ?? throw new InvalidDataException($"a watch event of {typeof(T).Name} carries null"));
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}

/// <summary>The query of a watch: where to resume and which objects.</summary>
public sealed record WatchQuery(string? ResourceVersion, string? LabelSelector = null, string? FieldSelector = null, bool AllowBookmarks = true)
{
    public string ToQueryString()
    {
        var query = new StringBuilder("?watch=true");
        if (AllowBookmarks)
        {
            query.Append("&allowWatchBookmarks=true");
        }

        Append(query, "resourceVersion", ResourceVersion);
        Append(query, "labelSelector", LabelSelector);
        Append(query, "fieldSelector", FieldSelector);
        return query.ToString();
    }

    private static void Append(StringBuilder query, string name, string? value)
    {
        if (value is not null)
        {
            query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}
