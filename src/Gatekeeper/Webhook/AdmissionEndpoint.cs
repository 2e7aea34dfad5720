using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using System.Text.Json;
using Gatekeeper.Kubernetes.Admission;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Gatekeeper.Webhook;

/// <summary>
/// The HTTP side of every admission webhook: reads the body within the size limit (413 above it), parses the
/// AdmissionReview strictly (400 with one sentence when it is not one), runs the handler within the request
/// budget, writes the response, and records the request's metric. A handler failure becomes a deny with a
/// reason (or an allow where the namespace fails open), never a 500.
/// </summary>
public sealed class AdmissionEndpoint(
    IOptions<WebhookOptions> options,
    AdmissionMetrics metrics,
    TimeProvider timeProvider,
    ILogger<AdmissionEndpoint> logger)
{
    private readonly WebhookOptions settings = options.Value;

    public Task HandleAsync(HttpContext context, IAdmissionHandler handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(handler);
        var started = timeProvider.GetTimestamp();
        var span = StartServerSpan(context.Request, handler);
        var declinedInPlace = false;
        ValueTask<ReadResult>? pendingRead = null;
        if (span is null && handler is IInPlaceAdmissionHandler inPlace)
        {
            // The pod webhook's usual request: its body is in Kestrel's buffers or TLS's by the time the request starts, and
            // the answer needs nothing to wait for, so it is answered here without an async state machine or a task.
            if (TryAnswerBufferedInPlace(context, inPlace, out declinedInPlace, out pendingRead) is { } decision)
            {
                metrics.RecordRequest(handler.Webhook, decision, timeProvider.GetElapsedTime(started));
                return Task.CompletedTask;
            }
        }

        return HandleAsync(context, handler, span, started, declinedInPlace, pendingRead);
    }

    private async Task HandleAsync(HttpContext context, IAdmissionHandler handler, Activity? span, long started, bool declinedInPlace, ValueTask<ReadResult>? pendingRead)
    {
        using (span)
        {
            var decision = await AnswerAsync(context, handler, declinedInPlace, pendingRead).ConfigureAwait(false);
            span?.SetTag("http.response.status_code", context.Response.StatusCode);
            metrics.RecordRequest(handler.Webhook, decision, timeProvider.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// Answers in place when the whole body (with a Content-Length within the limit) can be read without waiting; null when
    /// it cannot (<paramref name="pendingRead"/> is then the read that waits, for the async path to await) or when the
    /// handler declines (<paramref name="declined"/>: the full reader is then asked, without a second try in place).
    /// Nothing of the body is consumed unless it answers.
    /// </summary>
    private string? TryAnswerBufferedInPlace(HttpContext context, IInPlaceAdmissionHandler handler, out bool declined, out ValueTask<ReadResult>? pendingRead)
    {
        declined = false;
        pendingRead = null;
        if (context.Request.ContentLength is not { } length || length > settings.MaxRequestBodyBytes)
        {
            return null;
        }

        var reader = context.Request.BodyReader;
        if (!reader.TryRead(out var read))
        {
            return null;
        }

        while (!read.IsCompleted)
        {
            // A body of a few KB usually arrives in two reads (Kestrel's first one ends with its 4 KB buffer), the second one
            // from data TLS has already decrypted: it completes at once, or it is handed to the async path.
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
#pragma warning disable CA2012 // Consumed once: its result here when it has completed, else awaited by the async path.
            var next = reader.ReadAsync(context.RequestAborted);
#pragma warning restore CA2012
            if (!next.IsCompletedSuccessfully)
            {
                pendingRead = next;
                return null;
            }

            read = next.Result;
        }

        string? decision = null;
        try
        {
            decision = AnswerInPlace(context.Response, handler, read.Buffer);
            declined = decision is null;
        }
        finally
        {
            reader.AdvanceTo(decision is null ? read.Buffer.Start : read.Buffer.End);
        }

        return decision;
    }

    /// <summary>
    /// The request's server span, continuing the caller's trace when it sends a W3C traceparent (the API server does
    /// with its tracing on): for every Deployment request, whose admission, plan and dry-run spans nest under it, and for a
    /// pod request only when the caller's trace is sampled. A span per pod created in the cluster cost the pod webhook
    /// more than its decision, and nothing below it in a pod request would be traced.
    /// </summary>
    private static Activity? StartServerSpan(HttpRequest request, IAdmissionHandler handler)
    {
        if (!WebhookTracing.Source.HasListeners())
        {
            return null;
        }

        var headers = request.Headers;
        var traceParent = headers.TraceParent;
        if (StringValues.IsNullOrEmpty(traceParent)
            || !ActivityContext.TryParse(traceParent.ToString(), headers.TraceState.ToString(), isRemote: true, out var parent))
        {
            parent = default;
        }

        if (!handler.CallsOut && (parent.TraceFlags & ActivityTraceFlags.Recorded) == 0)
        {
            return null;
        }

        var span = WebhookTracing.Source.StartActivity("POST " + request.Path.Value, ActivityKind.Server, parent);
        span?.SetTag("http.request.method", "POST");
        span?.SetTag("url.path", request.Path.Value);
        span?.SetTag("gatekeeper.webhook", handler.Webhook);
        return span;
    }

    private async Task<string> AnswerAsync(HttpContext context, IAdmissionHandler handler, bool declinedInPlace, ValueTask<ReadResult>? pendingRead)
    {
        var limit = settings.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            await DrainAsync(context.Request.BodyReader, context.RequestAborted).ConfigureAwait(false);
            return await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, handler,
                $"the request body has {context.Request.ContentLength} bytes, above the limit of {limit}.").ConfigureAwait(false);
        }

        var reader = context.Request.BodyReader;
        ReadResult read;
        try
        {
            while (true)
            {
                if (pendingRead is { } pending)
                {
                    // The read the in-place attempt started and could not finish without waiting.
                    pendingRead = null;
                    read = await pending.ConfigureAwait(false);
                }
                else
                {
                    read = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                }

                if (read.Buffer.Length > limit)
                {
                    reader.AdvanceTo(read.Buffer.End);
                    await DrainAsync(reader, context.RequestAborted).ConfigureAwait(false);
                    return await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, handler,
                        $"the request body is larger than the limit of {limit} bytes.").ConfigureAwait(false);
                }

                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }

                // Nothing consumed yet: ask for more until the whole body is buffered.
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, handler,
                $"the request body is larger than the limit of {limit} bytes.").ConfigureAwait(false);
        }

        try
        {
            if (!declinedInPlace && handler is IInPlaceAdmissionHandler inPlace && AnswerInPlace(context.Response, inPlace, read.Buffer) is { } answered)
            {
                return answered;
            }

            // The document reads the pipe's buffers in place, so the pipe is advanced only after it is disposed.
            var parsed = AdmissionReviewReader.Read(read.Buffer, out var document);
            using (document)
            {
                if (!parsed.Succeeded)
                {
                    return await RefuseAsync(context, StatusCodes.Status400BadRequest, handler, parsed.Error).ConfigureAwait(false);
                }

                var request = parsed.Request;
                var response = await DecideAsync(request, handler, context.RequestAborted).ConfigureAwait(false);
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = "application/json";
                WriteBody(context.Response, response);
                return !response.Allowed ? "denied" : response.Patch is not null ? "patched" : "allowed";
            }
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.End);
        }
    }

    // One per thread, used only synchronously: the pod webhook answers every pod created in the cluster.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? responseBuffer;

    /// <summary>
    /// The pod webhook's hot path: the handler answers from the body's bytes. Null when it declines (the body needs the full
    /// reader) or fails; the full reader and <see cref="IAdmissionHandler.AdmitAsync"/> then answer, and a failure there is
    /// handled as for any request.
    /// </summary>
    private string? AnswerInPlace(HttpResponse http, IInPlaceAdmissionHandler handler, ReadOnlySequence<byte> body)
    {
        var buffer = responseBuffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        string? decision;
        try
        {
            decision = handler.TryAnswerInPlace(body, buffer);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.InPlaceAnswerFailed(logger, handler.Webhook, e.GetType().Name, e.Message);
            return null;
        }

        if (decision is null)
        {
            return null;
        }

        http.StatusCode = StatusCodes.Status200OK;
        http.ContentType = "application/json";
        http.ContentLength = buffer.WrittenCount;
        http.BodyWriter.Write(buffer.WrittenSpan);
        return decision;
    }

    /// <summary>
    /// Writes the answer with its Content-Length and leaves the flush to the end of the request, so it goes out in
    /// one write: a flushed chunked body costs a second write (and a wake-up of the API server) for its last chunk.
    /// </summary>
    private static void WriteBody(HttpResponse http, AdmissionResponse response)
    {
        var buffer = responseBuffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        AdmissionReviewWriter.Write(buffer, response);
        http.ContentLength = buffer.WrittenCount;
        http.BodyWriter.Write(buffer.WrittenSpan);
        if (buffer.Capacity > 64 * 1024)
        {
            // A rare large answer (a long denial with warnings) is not kept for the thread's lifetime.
            responseBuffer = null;
        }
    }

    /// <summary>
    /// Reads and drops the rest of an oversized body, so the client, which is still sending, gets to read the
    /// 413 instead of a reset connection. Kestrel's own limit (<see cref="WebhookHost.DrainLimit"/>) bounds it.
    /// </summary>
    private static async Task DrainAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (BadHttpRequestException)
        {
            // Above Kestrel's limit too: the connection is closed after the response.
        }
    }

    private async Task<AdmissionResponse> DecideAsync(AdmissionRequest request, IAdmissionHandler handler, CancellationToken aborted)
    {
        if (!handler.CallsOut)
        {
            // The hot path (pods): nothing to wait for, so no budget timer to set up per request.
            try
            {
                return await handler.AdmitAsync(request, aborted).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
            {
                Log.AdmissionFailed(logger, handler.Webhook, request.Namespace ?? string.Empty, request.Name ?? string.Empty, e.GetType().Name, e.Message);
                return Undecided(request, handler, StatusCodes.Status500InternalServerError, $"Gatekeeper failed while deciding ({e.GetType().Name}); see its logs");
            }
        }

        using var budget = new CancellationTokenSource(settings.RequestBudget, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(budget.Token, aborted);
        try
        {
            // The budget is enforced here too, not only asked for through the token: the answer leaves on time even if
            // something below ignores cancellation.
            return await handler.AdmitAsync(request, linked.Token).AsTask().WaitAsync(settings.RequestBudget, timeProvider, aborted).ConfigureAwait(false);
        }
        catch (Exception e) when ((e is TimeoutException || (e is OperationCanceledException && budget.IsCancellationRequested)) && !aborted.IsCancellationRequested)
        {
            Log.AdmissionOverBudget(logger, handler.Webhook, request.Namespace ?? string.Empty, request.Name ?? string.Empty, settings.RequestBudget.TotalSeconds);
            return Undecided(request, handler, StatusCodes.Status503ServiceUnavailable, $"Gatekeeper could not decide within its budget of {settings.RequestBudget.TotalSeconds:0.#}s");
        }
        catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
        {
            Log.AdmissionFailed(logger, handler.Webhook, request.Namespace ?? string.Empty, request.Name ?? string.Empty, e.GetType().Name, e.Message);
            return Undecided(request, handler, StatusCodes.Status500InternalServerError, $"Gatekeeper failed while deciding ({e.GetType().Name}); see its logs");
        }
    }

    // Over budget is 503 (the same code a slow database or API server gets from the handler's own deadline: try
    // again later); only a failure inside Gatekeeper is a 500.
    private AdmissionResponse Undecided(AdmissionRequest request, IAdmissionHandler handler, int status, string reason)
    {
        if (!handler.FailsClosed || settings.FailsOpenIn(request.Namespace))
        {
            return AdmissionResponse.Allow(request.Uid, [$"gatekeeper: admitted without a check because the namespace fails open: {reason}."]);
        }

        return AdmissionResponse.Deny(request.Uid, status,
            $"{reason}; nothing was changed, retry the apply (fail closed: set failOpen only for non-production namespaces).");
    }

    private async Task<string> RefuseAsync(HttpContext context, int status, IAdmissionHandler handler, string sentence)
    {
        Log.AdmissionRefused(logger, handler.Webhook, status, sentence);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(sentence + "\n", context.RequestAborted).ConfigureAwait(false);
        return status == StatusCodes.Status413PayloadTooLarge ? "too_large" : "invalid";
    }
}
