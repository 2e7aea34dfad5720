using System.Diagnostics;

namespace Gatekeeper.Webhook;

/// <summary>
/// The webhook's spans: admission → plan → dry-run, joined by Npgsql's and MySqlConnector's own spans for the database calls.
/// Span attributes carry names and hashes, never URLs or credentials.
/// </summary>
public static class WebhookTracing
{
    public const string SourceName = "Gatekeeper.Webhook";

    /// <summary>The ActivitySource MySqlConnector reports its commands and connections on.</summary>
    public const string MySqlConnectorSourceName = "MySqlConnector";

    public static ActivitySource Source { get; } = new(SourceName);
}
