namespace Gatekeeper.Webhook;

/// <summary>The moment a Deployment admission must have its answer by, leaving time to write the response.</summary>
public static class AdmissionDeadline
{
    public static DateTimeOffset From(WebhookOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var margin = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMilliseconds(500).Ticks, options.RequestBudget.Ticks / 8));
        return timeProvider.GetUtcNow() + options.RequestBudget - margin;
    }
}
