using Gatekeeper.Tests;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Gatekeeper.Kubernetes.Tests.Controller;

/// <summary>Writes log lines to the test's output, which xUnit shows when the test fails.</summary>
internal sealed class TestOutputLogger(ITestOutputHelper output, string name) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        OutputCapture.Record(OutputCapture.Logs, name, $"{logLevel} {eventId.Id}: {formatter(state, exception)}{(exception is null ? string.Empty : "\n" + exception)}");
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {name} {logLevel} {eventId.Id}: {formatter(state, exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; a late line from a stopping controller has nowhere to go.
        }
    }
}
