using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Gatekeeper.Kubernetes.Watching;

/// <summary>
/// Opens a watch (<c>GET …?watch=true</c>) through KubernetesClient's own <see cref="HttpClient"/> and credentials,
/// and reads its newline-delimited events with KubernetesClient's source-generated JSON. KubernetesClient.Aot has the
/// typed list/read/write operations but no watch: this is the stream half, used by <see cref="KubernetesWatchExtensions"/>.
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
        IKubernetes kubernetes,
        string path,
        WatchQuery query,
        Action<Exception>? onError,
        [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(kubernetes);
        ArgumentNullException.ThrowIfNull(query);
        using var response = await OpenAsync(kubernetes, path + query.ToQueryString(), cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var _ = stream.ConfigureAwait(false);
        await foreach (var item in ReadEventsAsync<T>(stream, path, onError, cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    /// <summary>Reads newline-delimited watch events from a response body until it ends.</summary>
    internal static async IAsyncEnumerable<(WatchEventType Type, T Object)> ReadEventsAsync<T>(
        Stream stream,
        string what,
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
                    if (Parse<T>(line, onError) is { } parsed)
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
                    if (!buffer.IsEmpty && Parse<T>(buffer, onError) is { } last)
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

    /// <summary>
    /// Sends the GET as KubernetesClient does (its handler chain, TLS settings and credentials), and turns a refusal
    /// into the same <see cref="HttpOperationException"/> its typed operations throw.
    /// </summary>
    private static async Task<HttpResponseMessage> OpenAsync(IKubernetes kubernetes, string relativeUri, CancellationToken cancellationToken)
    {
        if (kubernetes is not k8s.Kubernetes client)
        {
            throw new InvalidOperationException($"watching needs KubernetesClient's {nameof(k8s.Kubernetes)} client, not {kubernetes.GetType().Name}");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(client.BaseUri, relativeUri))
        {
            // Like KubernetesClient's own requests: HTTP/2 where TLS negotiates it, so every watch shares one connection.
            Version = HttpVersion.Version20,
        };
        if (client.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var response = await client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new HttpOperationException($"Operation returned an invalid status code '{response.StatusCode}', response body {body}")
            {
                Request = new HttpRequestMessageWrapper(request, string.Empty),
                Response = new HttpResponseMessageWrapper(response, body),
            };
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

    private static (WatchEventType Type, T Object)? Parse<T>(ReadOnlySequence<byte> line, Action<Exception>? onError)
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
            onError?.Invoke(new KubernetesException(KubernetesJson.Deserialize<V1Status>(objectElement)));
            return null;
        }

        return (type, KubernetesJson.Deserialize<T>(objectElement));
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
