namespace Gatekeeper.Core.Lint;

/// <summary>How many findings one rule produced, by kind, and how many of them a capped report still lists.</summary>
public sealed record LintRuleCount(LintRule Rule, int Errors, int Warnings, int Allowed, int Listed)
{
    public int Total => Errors + Warnings + Allowed;

    /// <summary>Findings counted but not listed (beyond the per-rule cap).</summary>
    public int NotListed => Total - Listed;

    /// <summary>Counts of a report that lists every finding it found.</summary>
    public static IReadOnlyList<LintRuleCount> Of(IEnumerable<LintFinding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var tallies = new Tallies();
        foreach (var finding in findings)
        {
            tallies.Count(finding, listed: true);
        }

        return tallies.ToCounts();
    }

    /// <summary>Running counts per rule, in the order rules first fired.</summary>
    internal sealed class Tallies
    {
        private readonly Dictionary<LintRule, int> index = [];
        private readonly List<(LintRule Rule, int Errors, int Warnings, int Allowed, int Listed)> rows = [];

        public int ListedOf(LintRule rule) => index.TryGetValue(rule, out var at) ? rows[at].Listed : 0;

        public void Count(LintFinding finding, bool listed)
        {
            if (!index.TryGetValue(finding.Rule, out var at))
            {
                at = rows.Count;
                index[finding.Rule] = at;
                rows.Add((finding.Rule, 0, 0, 0, 0));
            }

            var row = rows[at];
            rows[at] = finding.IsAllowed ? row with { Allowed = row.Allowed + 1 }
                : finding.Severity == LintSeverity.Error ? row with { Errors = row.Errors + 1 }
                : row with { Warnings = row.Warnings + 1 };
            if (listed)
            {
                rows[at] = rows[at] with { Listed = rows[at].Listed + 1 };
            }
        }

        public IReadOnlyList<LintRuleCount> ToCounts() => [.. rows.Select(r => new LintRuleCount(r.Rule, r.Errors, r.Warnings, r.Allowed, r.Listed))];
    }
}

/// <summary>
/// Where the linter puts findings, in file order: it counts every one, keeps at most <c>maxPerRule</c> of each rule
/// (0 keeps all) and hands each kept finding to <c>onListed</c> as soon as its file is judged, so output can stream and
/// a file with hundreds of thousands of findings costs memory for the listed ones only.
/// </summary>
public sealed class LintCollector
{
    private readonly LintRuleCount.Tallies tallies = new();
    private readonly List<LintFinding> listed = [];
    private readonly Action<LintFinding>? onListed;

    public LintCollector(int maxPerRule = 0, Action<LintFinding>? onListed = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxPerRule);
        MaxPerRule = maxPerRule;
        this.onListed = onListed;
    }

    /// <summary>Findings listed per rule; 0 lists all.</summary>
    public int MaxPerRule { get; }

    public IReadOnlyList<LintFinding> Listed => listed;

    public IReadOnlyList<LintRuleCount> Counts => tallies.ToCounts();

    internal void Add(LintFinding finding)
    {
        var list = MaxPerRule == 0 || tallies.ListedOf(finding.Rule) < MaxPerRule;
        tallies.Count(finding, list);
        if (list)
        {
            listed.Add(finding);
            onListed?.Invoke(finding);
        }
    }

    /// <summary>Counts a finding that an earlier stage already left out (it is never listed).</summary>
    internal void CountUnlisted(LintFinding finding) => tallies.Count(finding, listed: false);
}
