using System.Diagnostics;

namespace Gatekeeper.Webhook;

/// <summary>
/// The webhook's spans: admission → plan → dry-run, joined by Npgsql's own spans for the database calls.
/// Span attributes carry names and hashes, never URLs or credentials.
/// </summary>
public static class WebhookTracing
{
    public const string SourceName = "Gatekeeper.Webhook";

    public static ActivitySource Source { get; } = new(SourceName);
}
