using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>
/// An inline <c>-- gatekeeper:allow GK101[,GK102|category] reason</c> comment. It covers the statement whose comments
/// hold it (the comment lines just before the statement, or inside it).
/// </summary>
internal sealed class AllowDirective
{
    public const string Marker = "gatekeeper:";
    private const string AllowVerb = "gatekeeper:allow";

    private AllowDirective(SourceLocation location, IReadOnlyList<LintRule> rules, IReadOnlyList<LintCategory> categories, string reason)
    {
        Location = location;
        Rules = rules;
        Categories = categories;
        Reason = reason;
    }

    public SourceLocation Location { get; }

    public IReadOnlyList<LintRule> Rules { get; }

    public IReadOnlyList<LintCategory> Categories { get; }

    public string Reason { get; }

    public bool Used { get; set; }

    public bool Covers(LintRule rule) => Rules.Contains(rule) || Categories.Contains(rule.Category);

    /// <summary>
    /// Reads a directive from a comment's text. Returns null when the comment is not a directive; otherwise either a
    /// directive or, through <paramref name="problem"/>, why the directive is invalid.
    /// </summary>
    public static AllowDirective? TryRead(ReadOnlySpan<char> comment, SourceLocation location, out string? problem)
    {
        problem = null;
        var body = StripCommentMarkers(comment).Trim();
        if (!body.StartsWith(Marker, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var verbEnd = body.IndexOfAny(' ', '\t');
        var verb = verbEnd < 0 ? body : body[..verbEnd];
        if (!verb.Equals(AllowVerb, StringComparison.OrdinalIgnoreCase))
        {
            problem = $"unknown directive `{verb}`; the only directive is `gatekeeper:allow <rule ids or categories> <reason>`";
            return null;
        }

        var rest = verbEnd < 0 ? string.Empty : body[verbEnd..].Trim().ToString();
        var words = rest.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var listWords = 0;
        while (listWords < words.Length && (listWords == 0 || words[listWords - 1].EndsWith(',')))
        {
            listWords++;
        }

        var rules = new List<LintRule>();
        var categories = new List<LintCategory>();
        foreach (var entry in string.Join(',', words.Take(listWords)).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (LintRules.Find(entry) is { } rule)
            {
                rules.Add(rule);
            }
            else if (LintCategoryNames.TryParse(entry, out var category))
            {
                categories.Add(category);
            }
            else
            {
                problem = LooksLikeRuleId(entry)
                    ? $"`gatekeeper:allow` names unknown rule {entry}"
                    : $"`gatekeeper:allow` must start with rule ids or categories, but `{entry}` is neither";
                return null;
            }
        }

        if (rules.Count == 0 && categories.Count == 0)
        {
            problem = "`gatekeeper:allow` names no rule id or category";
            return null;
        }

        var reason = string.Join(' ', words.Skip(listWords));
        if (reason.Length == 0)
        {
            problem = $"`gatekeeper:allow {string.Join(',', words.Take(listWords)).TrimEnd(',')}` gives no reason; say why the hazard is acceptable here";
            return null;
        }

        return new AllowDirective(location, rules, categories, reason);
    }

    public static bool LooksLikeRuleId(string entry) =>
        entry.Length >= 3 && entry.StartsWith("GK", StringComparison.OrdinalIgnoreCase) && entry.AsSpan(2).IndexOfAnyExceptInRange('0', '9') < 0;

    private static ReadOnlySpan<char> StripCommentMarkers(ReadOnlySpan<char> comment)
    {
        if (comment.StartsWith("--"))
        {
            return comment[2..];
        }

        if (comment.StartsWith("#"))
        {
            return comment[1..];
        }

        if (comment.StartsWith("/*"))
        {
            comment = comment[2..];
            return comment.EndsWith("*/") ? comment[..^2] : comment;
        }

        return comment;
    }
}
