namespace Gatekeeper.Core.Planning;

/// <summary>
/// Which database a plan is for, without credentials: it goes into the plan hash, messages and metrics,
/// so it must never carry a user name or password.
/// </summary>
public sealed record DatabaseIdentity(string Engine, string Host, int Port, string Database, string HistoryTable)
{
    /// <summary><c>host:port</c>, with brackets around an IPv6 address.</summary>
    public string Endpoint => FormatEndpoint(Host, Port);

    public override string ToString() => $"{Engine}://{Host}:{Port}/{Database} (history {HistoryTable})";

    /// <summary><c>host:port</c>, with brackets around an IPv6 address; the one spelling of a server in messages.</summary>
    public static string FormatEndpoint(string host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        return (host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host) + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
