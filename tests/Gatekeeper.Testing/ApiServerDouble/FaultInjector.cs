using System.Collections.Concurrent;
using System.Net;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>
/// What the double is told to get wrong: requests that fail (always, or the next few), writes whose answer is lost
/// after they took effect, and slow answers timed on the injected clock. Matched by method and path prefix.
/// </summary>
public sealed class FaultInjector
{
    private readonly ConcurrentDictionary<string, HttpStatusCode> failures = new(StringComparer.Ordinal);
    private readonly List<InjectedFailure> nextFailures = [];
    private readonly List<InjectedFailure> lostAnswers = [];
    private readonly List<InjectedDelay> delays = [];
    private readonly List<InjectedDelay> lateAnswers = [];
    private readonly List<(string Method, string PathPrefix, Action Change)> changesBefore = [];

    /// <summary>Makes every request whose path starts with <paramref name="pathPrefix"/> answer <paramref name="status"/>.</summary>
    public void Fail(string pathPrefix, HttpStatusCode status) => failures[pathPrefix] = status;

    public void Heal(string pathPrefix) => failures.TryRemove(pathPrefix, out _);

    /// <summary>Makes the next <paramref name="times"/> requests with this method and path prefix answer <paramref name="status"/>.</summary>
    public void FailNext(string method, string pathPrefix, HttpStatusCode status, int times = 1)
    {
        lock (nextFailures)
        {
            nextFailures.Add(new InjectedFailure(method, pathPrefix, status) { Remaining = times });
        }
    }

    /// <summary>Makes the next <paramref name="times"/> matching requests take effect but answer <paramref name="status"/>.</summary>
    public void LoseAnswerNext(string method, string pathPrefix, HttpStatusCode status, int times = 1)
    {
        lock (lostAnswers)
        {
            lostAnswers.Add(new InjectedFailure(method, pathPrefix, status) { Remaining = times });
        }
    }

    /// <summary>Makes the next <paramref name="times"/> matching requests wait <paramref name="delay"/> before they are handled.</summary>
    public void Slow(string method, string pathPrefix, TimeSpan delay, int times = int.MaxValue)
    {
        lock (delays)
        {
            delays.Add(new InjectedDelay(method, pathPrefix, delay) { Remaining = times });
        }
    }

    /// <summary>
    /// Makes the next <paramref name="times"/> matching requests take effect at once but answer only after
    /// <paramref name="delay"/> on the injected clock: the watch events of the change, and of later writes by others,
    /// reach the client before its own answer does, as they can on a real network.
    /// </summary>
    public void AnswerLateNext(string method, string pathPrefix, TimeSpan delay, int times = 1)
    {
        lock (lateAnswers)
        {
            lateAnswers.Add(new InjectedDelay(method, pathPrefix, delay) { Remaining = times });
        }
    }

    /// <summary>
    /// Runs <paramref name="change"/> just before the next matching request is handled: someone else's write that lands
    /// between the client's read and its own write (its watch event goes out before the request is answered).
    /// </summary>
    public void BeforeNext(string method, string pathPrefix, Action change)
    {
        lock (changesBefore)
        {
            changesBefore.Add((method, pathPrefix, change));
        }
    }

    /// <summary>The change to make before handling this request, if one is injected (counts it as used).</summary>
    public Action? ChangeBefore(string method, string path)
    {
        lock (changesBefore)
        {
            var index = changesBefore.FindIndex(c => c.Method == method && path.StartsWith(c.PathPrefix, StringComparison.Ordinal));
            if (index < 0)
            {
                return null;
            }

            var change = changesBefore[index].Change;
            changesBefore.RemoveAt(index);
            return change;
        }
    }

    /// <summary>The delay to wait before handling this request, if one is injected (counts it as used).</summary>
    public TimeSpan? DelayFor(string method, string path) => TakeDelay(delays, method, path);

    /// <summary>How long to hold this request's answer after handling it, if a late answer is injected (counts it as used).</summary>
    public TimeSpan? LateAnswerFor(string method, string path) => TakeDelay(lateAnswers, method, path);

    private static TimeSpan? TakeDelay(List<InjectedDelay> list, string method, string path)
    {
        lock (list)
        {
            var next = list.FirstOrDefault(d => d.Method == method && path.StartsWith(d.PathPrefix, StringComparison.Ordinal));
            if (next is null)
            {
                return null;
            }

            if (--next.Remaining <= 0)
            {
                list.Remove(next);
            }

            return next.Delay;
        }
    }

    /// <summary>The status this request must fail with instead of being handled, if any (counts a one-off as used).</summary>
    public HttpStatusCode? FailureFor(string method, string path)
    {
        if (Take(nextFailures, method, path) is { } next)
        {
            return next;
        }

        foreach (var (prefix, status) in failures)
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return status;
            }
        }

        return null;
    }

    /// <summary>The status to answer after handling this request for real, if its answer is to be lost.</summary>
    public HttpStatusCode? LostAnswerFor(string method, string path) => Take(lostAnswers, method, path);

    private static HttpStatusCode? Take(List<InjectedFailure> list, string method, string path)
    {
        lock (list)
        {
            var next = list.FirstOrDefault(f => f.Method == method && path.StartsWith(f.PathPrefix, StringComparison.Ordinal));
            if (next is null)
            {
                return null;
            }

            if (--next.Remaining <= 0)
            {
                list.Remove(next);
            }

            return next.Status;
        }
    }

    private sealed record InjectedFailure(string Method, string PathPrefix, HttpStatusCode Status)
    {
        public int Remaining { get; set; }
    }

    private sealed record InjectedDelay(string Method, string PathPrefix, TimeSpan Delay)
    {
        public int Remaining { get; set; }
    }
}
