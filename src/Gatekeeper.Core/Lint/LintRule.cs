namespace Gatekeeper.Core.Lint;

/// <summary>Which SQL dialects a rule applies to.</summary>
[Flags]
public enum LintDialects
{
    Postgres = 1,
    MySql = 2,
    Both = Postgres | MySql,
}

/// <summary>
/// One linter rule: a stable id that never changes meaning (<c>GK101</c>), what it protects, how bad it is by default,
/// a one-line title, and the safe way to do the same thing.
/// </summary>
/// <param name="Id">Stable id, <c>GK</c> plus three digits; the first digit is the category.</param>
/// <param name="Name">Kebab-case name, for people.</param>
/// <param name="Title">One line that says what the hazard is.</param>
/// <param name="Hint">The safe way to do it.</param>
/// <param name="SizeDependent">When true, a live schema that shows a small table lowers an error to a warning.</param>
/// <param name="EnabledByDefault">False for opt-in rules (enable them with <see cref="LintOptions.Enable"/>).</param>
/// <param name="Anchors">The squawk rules and Atlas analyzer codes this rule covers (<c>squawk:ban-drop-table</c>, <c>atlas:DS102</c>).</param>
public sealed record LintRule(
    string Id,
    string Name,
    LintCategory Category,
    LintSeverity DefaultSeverity,
    LintDialects Dialects,
    string Title,
    string Hint,
    bool SizeDependent = false,
    bool EnabledByDefault = true,
    IReadOnlyList<string>? Anchors = null)
{
    public string CategoryName => LintCategoryNames.NameOf(Category);

    public override string ToString() => $"{Id} {Name}";

    /// <summary>
    /// The id alone: ids are unique, and rules key the dictionaries every finding goes through (per-rule caps and
    /// counts), where the generated hash of all ten members, texts and anchors included, was 2 % of a 10 MB lint.
    /// Equal rules still have equal ids, so equality is unchanged.
    /// </summary>
    public override int GetHashCode() => Id.GetHashCode(StringComparison.Ordinal);
}
