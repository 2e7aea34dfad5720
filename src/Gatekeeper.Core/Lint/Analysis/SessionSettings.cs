using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>A session setting a migration set, where it set it, and whether it lasts only until its transaction ends (SET LOCAL).</summary>
internal sealed record SessionValue(string Value, SourceLocation Where, bool Local);

/// <summary>
/// Session settings a migration sets before the statements they change: PostgreSQL's TimeZone decides whether
/// timestamp ↔ timestamptz rewrites the table, MySQL's FOREIGN_KEY_CHECKS whether a foreign key is added in place.
/// SET lasts for the session, SET LOCAL until the transaction ends, RESET (or SET … TO DEFAULT) returns to the
/// server's value, which the linter does not know. A migration's session ends with the migration: <c>migrate</c> runs
/// each file on a session of its own (a pooled connection is reset when it is handed out again: Npgsql's DISCARD ALL,
/// MySqlConnector's connection reset), so nothing a file sets reaches the next file.
/// </summary>
internal sealed class SessionSettings
{
    private readonly Dictionary<string, SessionValue> values = new(StringComparer.Ordinal);

    public SessionValue? TimeZone => Get("timezone");

    /// <summary>MySQL's FOREIGN_KEY_CHECKS was turned off in this session: a foreign key is then added in place instead of by table copy.</summary>
    public bool ForeignKeyChecksOff => Get("foreign_key_checks") is { Value: "0" or "off" or "false" };

    /// <summary>Every setting this session changed, by name (lower case).</summary>
    public IReadOnlyDictionary<string, SessionValue> Values => values;

    public SessionValue? Get(string name) => values.GetValueOrDefault(name);

    public void Set(string name, string value, SourceLocation where, bool local)
    {
        if (value is "default" or "local" && name == "timezone" || value == "default")
        {
            values.Remove(name);
            return;
        }

        values[name] = new SessionValue(value, where, local);
    }

    public void Reset(string? name)
    {
        if (name is null or "all")
        {
            values.Clear();
        }
        else
        {
            values.Remove(name);
        }
    }

    /// <summary>The transaction ended: SET LOCAL values are gone.</summary>
    public void EndTransaction()
    {
        foreach (var (name, _) in values.Where(v => v.Value.Local).ToList())
        {
            values.Remove(name);
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
