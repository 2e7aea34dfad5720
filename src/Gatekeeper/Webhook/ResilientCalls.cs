using System.Data.Common;
using System.Net;
using System.Net.Sockets;
using Gatekeeper.Databases;
using k8s.Autorest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Gatekeeper.Webhook;

/// <summary>
/// Runs a Kubernetes API or database call with a Polly timeout that ends at the request's deadline and a bounded
/// number of retries (exponential backoff) for transient failures only: a refused connection, a 5xx or 429
/// from the API server, a database error the driver marks transient. A person's mistake (404, a wrong password,
/// a syntax error) is never retried.
/// </summary>
public sealed class ResilientCalls
{
    private static readonly ResiliencePropertyKey<DateTimeOffset> DeadlineKey = new("gatekeeper.deadline");
    private readonly ResiliencePipeline pipeline;
    private readonly TimeProvider timeProvider;

    public ResilientCalls(IOptions<WebhookOptions> options, TimeProvider timeProvider, ILogger<ResilientCalls> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.timeProvider = timeProvider;
        var settings = options.Value;
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(Remaining(args.Context)),
            });
        if (settings.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = settings.MaxRetries,
                Delay = settings.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                OnRetry = args =>
                {
                    Log.Retrying(logger, args.Context.OperationKey ?? "call", args.Outcome.Exception?.GetType().Name ?? "failure", args.AttemptNumber + 1);
                    return ValueTask.CompletedTask;
                },
            });
        }

        pipeline = builder.Build();
    }

    /// <summary>How long until <paramref name="deadline"/> (negative once it passed), on the injected clock.</summary>
    public TimeSpan TimeLeft(DateTimeOffset deadline) => deadline - timeProvider.GetUtcNow();

    /// <summary>
    /// Runs <paramref name="call"/> until it succeeds, fails for good, or <paramref name="deadline"/> passes
    /// (<see cref="TimeoutRejectedException"/>).
    /// </summary>
    public async ValueTask<T> ExecuteAsync<T>(string operation, DateTimeOffset deadline, Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
        context.Properties.Set(DeadlineKey, deadline);
        var execution = pipeline.ExecuteAsync(static (ctx, state) => state(ctx.CancellationToken), context, call).AsTask();
        try
        {
            // Polly's timeout only asks the call to stop; a driver stuck in a connection handshake may not listen. The
            // answer must still leave on time, so stop waiting at the deadline and let the call end on its own.
            var result = await execution.WaitAsync(Remaining(deadline), timeProvider, cancellationToken).ConfigureAwait(false);
            ResilienceContextPool.Shared.Return(context);
            return result;
        }
        catch (TimeoutException)
        {
            // The abandoned call still uses the context, so it is not returned to the pool; its failure is observed here.
            _ = execution.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new TimeoutRejectedException($"{operation} did not finish by its deadline");
        }
        catch when (execution.IsCompleted)
        {
            ResilienceContextPool.Shared.Return(context);
            throw;
        }
    }

    /// <summary>Failures worth another attempt: the same call may well succeed a moment later.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        HttpOperationException http => (int)http.Response.StatusCode >= 500 || http.Response.StatusCode == HttpStatusCode.TooManyRequests,
        HttpRequestException or SocketException or TimeoutException => true,
        DbException db => db.IsTransient,
        DatabaseException database => database.Kind is DatabaseErrorKind.Unreachable or DatabaseErrorKind.ConnectionLost,
        IOException => true,
        _ => false,
    };

    private TimeSpan Remaining(ResilienceContext context) => Remaining(context.Properties.GetValue(DeadlineKey, timeProvider.GetUtcNow()));

    private TimeSpan Remaining(DateTimeOffset deadline)
    {
        var remaining = deadline - timeProvider.GetUtcNow();
        // Polly takes a non-positive timeout as "none"; a deadline already past must still time out at once.
        return remaining > TimeSpan.FromMilliseconds(1) ? remaining : TimeSpan.FromMilliseconds(1);
    }
}
