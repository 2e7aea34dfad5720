namespace Gatekeeper.Core.Lint;

/// <summary>What a rule protects; also the names a team may allow as a whole (<c>gatekeeper.dev/allow: destructive</c>).</summary>
public enum LintCategory
{
    /// <summary>GK0xx: the text itself (unterminated quotes, bad directives).</summary>
    Input,
    /// <summary>GK1xx: data is deleted.</summary>
    Destructive,
    /// <summary>GK2xx: the app version still running during the rolling update breaks.</summary>
    BackwardIncompatible,
    /// <summary>GK3xx: heavy locks or table rewrites that stall traffic.</summary>
    Locking,
    /// <summary>GK4xx: may fail depending on the rows already stored.</summary>
    DataDependent,
    /// <summary>GK5xx: transaction and retry hazards.</summary>
    Transaction,
    /// <summary>GK6xx: schema hygiene that avoids future hazards.</summary>
    Hygiene,
}

public static class LintCategoryNames
{
    /// <summary>The kebab-case name used in directives, annotations, JSON and docs.</summary>
    public static string NameOf(LintCategory category) => category switch
    {
        LintCategory.Input => "input",
        LintCategory.Destructive => "destructive",
        LintCategory.BackwardIncompatible => "backward-incompatible",
        LintCategory.Locking => "locking",
        LintCategory.DataDependent => "data-dependent",
        LintCategory.Transaction => "transaction",
        LintCategory.Hygiene => "hygiene",
        _ => throw new ArgumentOutOfRangeException(nameof(category), category, "Unknown lint category."),
    };

    public static bool TryParse(string name, out LintCategory category)
    {
        foreach (var candidate in Enum.GetValues<LintCategory>())
        {
            if (string.Equals(NameOf(candidate), name, StringComparison.OrdinalIgnoreCase))
            {
                category = candidate;
                return true;
            }
        }

        category = default;
        return false;
    }
}
