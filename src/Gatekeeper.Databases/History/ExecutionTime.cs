namespace Gatekeeper.Databases.History;

/// <summary>The unit a history layout stores a migration's execution time in, as its tool does.</summary>
internal enum ElapsedUnit
{
    /// <summary>Whole milliseconds in a 64-bit column (Gatekeeper's own tables).</summary>
    Milliseconds,
    /// <summary>Whole milliseconds in a 32-bit column, capped at its maximum (Flyway's <c>execution_time</c>).</summary>
    Milliseconds32,
    /// <summary>Nanoseconds (Atlas's <c>execution_time</c>, a Go duration).</summary>
    Nanoseconds,
}

/// <summary>
/// How long a migration ran and when it finished, as its history row records them: measured by Gatekeeper once the
/// statements returned, or read from the server's clock by the history write itself. The second lets the write travel in
/// the same batch as the migration's statements (PostgreSQL: with its COMMIT; MySQL: the dirty mark's clearing after the
/// last statement), one round trip per migration instead of two; it counts from the start of the migration's transaction
/// (PostgreSQL) or from <see cref="SqlEngine.ServerClockStart"/> sent before the statements (MySQL).
/// </summary>
internal sealed class ExecutionTime
{
    private readonly TimeSpan _elapsed;
    private readonly DateTime _finishedAtUtc;

    private ExecutionTime(bool byServer, TimeSpan elapsed, DateTime finishedAtUtc)
    {
        ByServer = byServer;
        _elapsed = elapsed;
        _finishedAtUtc = finishedAtUtc;
    }

    public static ExecutionTime Measured(TimeSpan elapsed, DateTime finishedAtUtc) => new(false, elapsed, finishedAtUtc);

    /// <summary>Taken by the server when the history write runs, from the start of the migration (see <see cref="SqlEngine.ServerElapsed"/>).</summary>
    public static ExecutionTime FromServerClock { get; } = new(true, TimeSpan.Zero, default);

    public bool ByServer { get; }

    /// <summary>
    /// The SQL for the execution time in <paramref name="unit"/>: the parameter <c>@<paramref name="name"/></c> (added to
    /// <paramref name="parameters"/>) with the measured value, or the engine's expression over the server's clock.
    /// </summary>
    public string Elapsed(SqlEngine engine, ElapsedUnit unit, string name, List<(string Name, object? Value)> parameters)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(parameters);
        if (ByServer)
        {
            return engine.ServerElapsed(unit);
        }

        parameters.Add((name, unit switch
        {
            ElapsedUnit.Milliseconds => (object)(long)_elapsed.TotalMilliseconds,
            ElapsedUnit.Milliseconds32 => (int)Math.Min(int.MaxValue, _elapsed.TotalMilliseconds),
            ElapsedUnit.Nanoseconds => _elapsed.Ticks * 100,
            _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "unknown unit"),
        }));
        return "@" + name;
    }

    /// <summary>The SQL for the UTC time the migration finished: a parameter with the measured time, or the server's clock.</summary>
    public string FinishedAt(SqlEngine engine, string name, List<(string Name, object? Value)> parameters)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(parameters);
        if (ByServer)
        {
            return engine.ServerNow;
        }

        parameters.Add((name, _finishedAtUtc));
        return "@" + name;
    }
}
