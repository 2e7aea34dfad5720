using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>A session setting a migration set, where it set it, and whether it lasts only until its transaction ends (SET LOCAL).</summary>
internal sealed record SessionValue(string Value, SourceLocation Where, bool Local);

/// <summary>
/// Session settings a migration sets before the statements they change: PostgreSQL's TimeZone decides whether
/// timestamp ↔ timestamptz rewrites the table. SET lasts for the session, SET LOCAL until the transaction ends,
/// RESET (or SET … TO DEFAULT) returns to the server's value, which the linter does not know.
/// </summary>
internal sealed class SessionSettings
{
    public SessionValue? TimeZone { get; private set; }

    public void Set(string name, string value, SourceLocation where, bool local)
    {
        if (name != "timezone")
        {
            return;
        }

        TimeZone = value is "default" or "local" ? null : new SessionValue(value, where, local);
    }

    public void Reset(string? name)
    {
        if (name is null or "timezone")
        {
            TimeZone = null;
        }
    }

    /// <summary>The transaction ended: SET LOCAL values are gone.</summary>
    public void EndTransaction()
    {
        if (TimeZone is { Local: true })
        {
            TimeZone = null;
        }
    }

    /// <summary>Zone names PostgreSQL resolves to UTC with no daylight saving (offset 0 all year).</summary>
    public static bool IsUtc(string zone) => zone.Trim() switch
    {
        "utc" or "etc/utc" or "gmt" or "etc/gmt" or "zulu" or "etc/zulu" or "universal" or "etc/universal" or "uct" or "etc/uct"
            or "greenwich" or "etc/greenwich" or "gmt0" or "etc/gmt0" or "gmt+0" or "gmt-0" or "etc/gmt+0" or "etc/gmt-0" or "0" or "+0" or "-0"
            or "+00" or "+00:00" or "z" => true,
        _ => false,
    };
}
