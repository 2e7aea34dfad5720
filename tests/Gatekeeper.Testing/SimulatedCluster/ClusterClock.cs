using System.Diagnostics;

namespace Gatekeeper.Tests.SimulatedCluster;

/// <summary>
/// The simulated cluster's clock: it runs with wall-clock time (as a cluster's does, so Gatekeeper's processes and the
/// cluster agree on "now" and a back-off of a second passes by itself) and a test can move it ahead at once with
/// <see cref="Advance"/> (a day for a Job's TTL, thirty minutes for its deadline) instead of sleeping. Timers fire
/// when either has made them due.
/// </summary>
public sealed class ClusterClock : TimeProvider, IDisposable
{
    private readonly DateTimeOffset start;
    private readonly Stopwatch running = Stopwatch.StartNew();
    private readonly List<ClockTimer> timers = [];
    private readonly Lock gate = new();
    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim changed = new(0);
    private TimeSpan advanced;

    public ClusterClock(DateTimeOffset start)
    {
        this.start = start;
        _ = Task.Run(RunAsync);
    }

    /// <summary>How far tests have moved the clock ahead of wall-clock time.</summary>
    public TimeSpan Advanced
    {
        get
        {
            lock (gate)
            {
                return advanced;
            }
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return start + running.Elapsed + advanced;
        }
    }

    /// <summary>Moves the clock ahead by <paramref name="by"/> and fires every timer that is now due, in due order.</summary>
    public void Advance(TimeSpan by)
    {
        lock (gate)
        {
            advanced += by;
        }

        FireDue();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ClockTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Dispose()
    {
        stop.Cancel();
        changed.Release();
    }

    private void Schedule(ClockTimer timer, DateTimeOffset? due, TimeSpan period)
    {
        lock (gate)
        {
            timer.Due = due;
            timer.Period = period;
            if (due is null)
            {
                timers.Remove(timer);
            }
            else if (!timers.Contains(timer))
            {
                timers.Add(timer);
            }
        }

        changed.Release();
    }

    private void FireDue()
    {
        while (true)
        {
            ClockTimer? next;
            lock (gate)
            {
                var now = start + running.Elapsed + advanced;
                next = timers.Where(t => t.Due <= now).OrderBy(t => t.Due).FirstOrDefault();
                if (next is null)
                {
                    return;
                }

                if (next.Period > TimeSpan.Zero && next.Period != Timeout.InfiniteTimeSpan)
                {
                    next.Due += next.Period;
                }
                else
                {
                    next.Due = null;
                    timers.Remove(next);
                }
            }

            next.Fire();
        }
    }

    /// <summary>Fires timers that wall-clock time has made due.</summary>
    private async Task RunAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            FireDue();
            TimeSpan wait;
            lock (gate)
            {
                var now = start + running.Elapsed + advanced;
                var earliest = timers.Select(t => t.Due).Where(d => d is not null).DefaultIfEmpty(null).Min();
                wait = earliest is { } due ? due - now : TimeSpan.FromSeconds(1);
            }

            try
            {
                await changed.WaitAsync(wait < TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private sealed class ClockTimer(ClusterClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }

        public TimeSpan Period { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            clock.Schedule(this, dueTime == Timeout.InfiniteTimeSpan ? null : clock.GetUtcNow() + dueTime, period);
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose() => clock.Schedule(this, null, Timeout.InfiniteTimeSpan);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
