using Microsoft.Extensions.Logging;

namespace Gatekeeper.Tests;

/// <summary>
/// Records what Gatekeeper produced during the tests (its HTTP responses, log lines, the requests it sent to the API
/// server, metric scrapes, CLI output) as text files under <c>$GATEKEEPER_TEST_CAPTURE_DIR/&lt;category&gt;/</c>, so
/// scripts/scan-test-output.py can search all of it for the test databases' passwords after the suite. What the tests
/// send in (URLs on command lines, Secrets they put into the API server double) is not recorded. Does nothing when the
/// variable is unset.
/// </summary>
public static class OutputCapture
{
    public const string DirectoryVariable = "GATEKEEPER_TEST_CAPTURE_DIR";

    public const string Responses = "responses";
    public const string Logs = "logs";
    public const string ApiRequests = "api-requests";
    public const string Metrics = "metrics";
    public const string CliOutput = "cli-output";

    private static readonly string? Root = Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } directory
        ? Path.GetFullPath(directory)
        : null;

    private static readonly Lock Files = new();

    public static bool Enabled => Root is not null;

    /// <summary>Appends <paramref name="text"/> under a header naming its <paramref name="source"/>.</summary>
    public static void Record(string category, string source, string text)
    {
        if (Root is null || text.Length == 0)
        {
            return;
        }

        var directory = Path.Combine(Root, category);
        var file = Path.Combine(directory, $"{AppDomain.CurrentDomain.FriendlyName}-{Environment.ProcessId}.txt");
        lock (Files)
        {
            Directory.CreateDirectory(directory);
            File.AppendAllText(file, $"--- {source}\n{text}\n");
        }
    }

    /// <summary>A logger provider that records every line (with its exception) under <see cref="Logs"/>.</summary>
    public static ILoggerProvider LoggerProvider() => new CapturingLoggerProvider();

    /// <summary>A logger for code a test builds by hand: recording when capture is on, silent otherwise.</summary>
    public static ILogger<T> Logger<T>() => new CapturingLogger<T>();

    /// <summary>An HTTP handler that records every response body (under <see cref="Metrics"/> for /metrics).</summary>
    public static HttpMessageHandler RecordingResponses(HttpMessageHandler inner, string source) => new ResponseRecorder(source) { InnerHandler = inner };

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName);

        public void Dispose()
        {
        }
    }

    private class CapturingLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => Enabled;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Record(Logs, category, $"{logLevel} {eventId.Id}: {formatter(state, exception)}{(exception is null ? string.Empty : "\n" + exception)}");
    }

    private sealed class CapturingLogger<T>() : CapturingLogger(typeof(T).FullName ?? typeof(T).Name), ILogger<T>;

    private sealed class ResponseRecorder(string source) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (Enabled)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                var path = request.RequestUri?.AbsolutePath ?? string.Empty;
                Record(path == "/metrics" ? Metrics : Responses, source, $"{request.Method} {path} -> {(int)response.StatusCode}\n{response.Headers}{response.Content.Headers}\n{body}");
            }

            return response;
        }
    }
}
