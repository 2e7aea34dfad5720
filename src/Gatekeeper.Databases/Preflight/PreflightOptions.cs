namespace Gatekeeper.Databases.Preflight;

/// <summary>How far the read-only pre-flight and data pre-checks look, and how long they may take.</summary>
public sealed record PreflightOptions
{
    /// <summary>
    /// A session holding a lock on a plan's table counts as a blocker once its transaction has been open this long:
    /// shorter ones end before the Job's lock timeout; longer ones (a stuck worker, a forgotten psql) make the Job's
    /// ALTER wait and every query on the table wait behind it.
    /// </summary>
    public TimeSpan MinimumTransactionAge { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Each pre-check query runs under this statement timeout; one that takes longer is reported as not checked.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>All data pre-checks of a plan together stop after this long; the ones left are reported as not checked.</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromSeconds(10);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>At most this many data pre-checks run per plan (each is one bounded query); the rest are reported as not checked.</summary>
    public int MaximumChecks { get; init; } = 20;
}
