using Microsoft.Extensions.Time.Testing;

namespace Gatekeeper.Tests.ApiServerDouble;

/// <summary>A fake clock that says when code starts waiting on it, so a test advances it only once a timer exists.</summary>
public sealed class SignallingTimeProvider : FakeTimeProvider
{
    private TaskCompletionSource<TimeSpan> next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SignallingTimeProvider()
        : base(DateTimeOffset.UtcNow)
    {
    }

    /// <summary>Completes with the due time of the next timer created.</summary>
    public Task<TimeSpan> NextTimer() => Volatile.Read(ref next).Task;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        var signalled = Interlocked.Exchange(ref next, new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously));
        signalled.TrySetResult(dueTime);
        return timer;
    }
}
