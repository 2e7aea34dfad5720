using System.Diagnostics;

namespace Gatekeeper.Databases.Tests;

/// <summary>What the database drivers (Npgsql, MySqlConnector) sent, as their own tracing spans tell it.</summary>
internal static class DriverCommands
{
    /// <summary>
    /// The text of each command the drivers sent while <paramref name="run"/> ran, in the order they started (spans under
    /// a root of its own, so other tests' commands do not count).
    /// </summary>
    public static async Task<(T Result, List<string> Sent)> RecordAsync<T>(Func<Task<T>> run)
    {
        using var source = new ActivitySource("Gatekeeper.Tests.DriverCommands");
        var sent = new List<(DateTime Started, string Text)>();
        ActivityTraceId trace = default;
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "Npgsql" or "MySqlConnector" || s == source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.Source != source && activity.TraceId == trace && (activity.GetTagItem("db.query.text") ?? activity.GetTagItem("db.statement")) is string text)
                {
                    lock (sent)
                    {
                        sent.Add((activity.StartTimeUtc, text.Trim()));
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        T result;
        using (var root = source.StartActivity("run"))
        {
            Assert.NotNull(root);
            trace = root.TraceId;
            result = await run();
        }

        lock (sent)
        {
            return (result, sent.OrderBy(c => c.Started).Select(c => c.Text).ToList());
        }
    }
}
