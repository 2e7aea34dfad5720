namespace Gatekeeper.Databases.History;

/// <summary>
/// A history table as the user names it: <c>table</c> (the connection's current schema or database) or
/// <c>schema.table</c>. Names are taken literally (no quoting, no case folding), as the tools that own them write them.
/// </summary>
public sealed record HistoryTableName(string? Schema, string Name)
{
    public const string Default = "gatekeeper_schema_history";

    /// <summary>Parses <c>table</c> or <c>schema.table</c>; returns null and a sentence when the text is not a table name.</summary>
    public static HistoryTableName? TryParse(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "history table name is empty";
            return null;
        }

        var parts = text.Trim().Split('.');
        if (parts.Length > 2 || parts.Any(p => p.Length == 0 || p.Length > 63 || !p.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '$')))
        {
            error = $"history table '{text}' is not a table name; use letters, digits and underscores, optionally as schema.table";
            return null;
        }

        return parts.Length == 2 ? new HistoryTableName(parts[0], parts[1]) : new HistoryTableName(null, parts[0]);
    }

    public static HistoryTableName Parse(string text) => TryParse(text, out var error) ?? throw new FormatException(error);

    public override string ToString() => Schema is null ? Name : $"{Schema}.{Name}";
}
