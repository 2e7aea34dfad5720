using Gatekeeper.Kubernetes.Controller;

namespace Gatekeeper.Kubernetes.Tests.Controller;

public sealed class FailureMessagesTests
{
    [Theory]
    [InlineData("dial postgres://app:s3cret@db:5432/shop failed", "dial postgres://app:***@db:5432/shop failed")]
    [InlineData("Host=db;Username=app;Password=s3cret;Database=shop", "Host=db;Username=app;Password=***;Database=shop")]
    [InlineData("line one\nline two\nline three\nV3__orders.sql: ERROR: boom\n\n", "line two line three V3__orders.sql: ERROR: boom")]
    public void A_termination_message_becomes_one_line_without_credentials(string raw, string expected)
    {
        Assert.Equal(expected, FailureMessages.Clean(raw));
    }

    [Fact]
    public void A_long_log_tail_keeps_its_end_where_the_error_is()
    {
        var cleaned = FailureMessages.Clean(new string('x', 2000) + " ERROR: the end");

        Assert.Equal(600, cleaned.Length);
        Assert.EndsWith("ERROR: the end", cleaned, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5.25, "5.3s")]
    [InlineData(42, "42s")]
    [InlineData(90, "1m30s")]
    [InlineData(7200, "2h")]
    public void Durations_read_like_kubectl_prints_them(double seconds, string expected)
    {
        Assert.Equal(expected, FailureMessages.Duration(TimeSpan.FromSeconds(seconds)));
    }
}
