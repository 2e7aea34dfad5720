namespace Gatekeeper.Core.Planning;

/// <summary>
/// Which database a plan is for, without credentials: it goes into the plan hash, messages and metrics, so it
/// never carries a password. It does carry the user and the schema (PostgreSQL's <c>search_path</c>): two
/// applications sharing one server and database but working in different schemas (or as different users, whose
/// default schema is their own) have different histories, so their plans must never be taken for each other.
/// </summary>
public sealed record DatabaseIdentity(string Engine, string Host, int Port, string Database, string HistoryTable)
{
    /// <summary>The user the URL connects as (null when it names none): PostgreSQL's default search_path starts with it.</summary>
    public string? User { get; init; }

    /// <summary>The schema search path the URL sets (PostgreSQL's <c>search_path</c> option), null for the server's default.</summary>
    public string? Schema { get; init; }

    /// <summary><c>host:port</c>, with brackets around an IPv6 address.</summary>
    public string Endpoint => FormatEndpoint(Host, Port);

    public override string ToString() =>
        $"{Engine}://{(User is null ? string.Empty : User + "@")}{Endpoint}/{Database}{(Schema is null ? string.Empty : " (schema " + Schema + ")")} (history {HistoryTable})";

    /// <summary><c>host:port</c>, with brackets around an IPv6 address; the one spelling of a server in messages.</summary>
    public static string FormatEndpoint(string host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        return (host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host) + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
