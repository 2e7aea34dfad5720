using Gatekeeper.Tests;
using Gatekeeper.Tests.ApiServerDouble;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gatekeeper.Webhook.Tests;

/// <summary>
/// The webhook's clock for tests of its request budget: it stands still until the test moves it, so a budget runs out
/// when the test says (once the fault is in place), never because a loaded machine was slow, and a budget that is not
/// under test never runs out at all. Retries of transient failures then need no time either (Webhook:RetryDelay 0).
/// </summary>
internal sealed class AdmissionClock
{
    private readonly DateTimeOffset start;
    private readonly DateTimeOffset deadline;

    public AdmissionClock(TimeSpan budget)
    {
        Budget = budget;
        start = Time.GetUtcNow();
        deadline = AdmissionDeadline.From(new WebhookOptions { RequestBudget = budget }, Time);
    }

    public SignallingTimeProvider Time { get; } = new();

    public TimeSpan Budget { get; }

    /// <summary>How far the test has moved the clock.</summary>
    public TimeSpan Elapsed => Time.GetUtcNow() - start;

    /// <summary>The webhook settings for this clock: the budget, and retries without a delay.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["Webhook:RequestBudget"] = Budget.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        ["Webhook:RetryDelay"] = "00:00:00",
    };

    public void Install(IServiceCollection services) => services.Replace(ServiceDescriptor.Singleton<TimeProvider>(Time));

    /// <summary>
    /// Moves the clock to the deadline the handler set itself for a request that arrived while the clock stood still
    /// (the budget less its margin for writing the answer), and not to the endpoint's budget, its safety net; then waits
    /// for <paramref name="pending"/>. A call the handler starts after that moment gets the least timeout (the deadline
    /// has passed): each timer created meanwhile moves the clock on by that millisecond.
    /// </summary>
    public async Task<T> RunOutAsync<T>(Task<T> pending)
    {
        var created = Time.NextTimer();
        Time.SetUtcNow(deadline);
        using var patience = new CancellationTokenSource(Patience.Default);
        while (!pending.IsCompleted)
        {
            await Task.WhenAny(pending, created).WaitAsync(patience.Token);
            if (!pending.IsCompleted)
            {
                created = Time.NextTimer();
                Time.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        Assert.True(Elapsed < Budget, $"the answer needed the clock moved {Elapsed}, to the endpoint's budget of {Budget}: the handler's own deadline did not answer");
        return await pending;
    }
}
