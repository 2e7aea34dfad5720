namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>
/// The findings of one migration until it is judged to the end: rules report in statement order, but a BEGIN is judged
/// only when its transaction ends, so the migration's findings are sorted by place before they are handed on. With a
/// cap, only the first <c>maxPerRule</c> of each rule by place are kept; the others are only counted, so a file with
/// hundreds of thousands of findings holds a few of each rule.
/// </summary>
internal sealed class MigrationFindings(LintCollector collector, Func<LintFinding, LintFinding> allow)
{
    private readonly Dictionary<LintRule, List<(LintFinding Finding, long Sequence)>> kept = [];
    private long sequence;

    // Without a cap every finding is kept, in one list in file order: rules report nearly in order, so each goes in at or
    // near the end and the list needs no sort (per rule, 55,000 findings of a 10 MB file were gathered and sorted again).
    private readonly List<(LintFinding Finding, long Sequence)> all = [];

    // Sequence numbers of findings placed before every other finding of the migration at the same line and column.
    private long firstSequence = long.MinValue;

    public void Add(LintFinding finding) => Add(finding, sequence++);

    /// <summary>Adds a finding that goes before every finding already added at the same place (as if it had been added first).</summary>
    public void AddBeforeAll(LintFinding finding) => Add(finding, firstSequence++);

    private void Add(LintFinding finding, long order)
    {
        finding = allow(finding);
        List<(LintFinding Finding, long Sequence)>? list;
        if (collector.MaxPerRule == 0)
        {
            list = all;
        }
        else if (!kept.TryGetValue(finding.Rule, out list))
        {
            kept[finding.Rule] = list = [];
        }

        var entry = (finding, order);
        var at = list.Count;
        while (at > 0 && Compare(list[at - 1], entry) > 0)
        {
            at--;
        }

        list.Insert(at, entry);
        if (collector.MaxPerRule > 0 && list.Count > collector.MaxPerRule)
        {
            collector.CountUnlisted(list[^1].Finding);
            list.RemoveAt(list.Count - 1);
        }
    }

    /// <summary>Hands the kept findings on to the collector in file order, and starts empty again.</summary>
    /// <remarks>
    /// Sorted with <see cref="Compare"/>, whose sequence numbers are unique, so the order is the one a stable sort by
    /// line, column and sequence gives. LINQ's ThenBy is a generic virtual call that Native AOT resolves through its
    /// type loader the first time, about 2 % of a small directory's whole lint process.
    /// </remarks>
    public void HandOn()
    {
        foreach (var (finding, _) in all)
        {
            collector.Add(finding);
        }

        all.Clear();
        if (kept.Count > 0)
        {
            var byPlace = new List<(LintFinding Finding, long Sequence)>();
            foreach (var list in kept.Values)
            {
                byPlace.AddRange(list);
            }

            byPlace.Sort(Compare);
            foreach (var (finding, _) in byPlace)
            {
                collector.Add(finding);
            }
        }

        kept.Clear();
        sequence = 0;
        firstSequence = long.MinValue;
    }

    private static int Compare((LintFinding Finding, long Sequence) a, (LintFinding Finding, long Sequence) b)
    {
        var line = a.Finding.Location.Line.CompareTo(b.Finding.Location.Line);
        if (line != 0)
        {
            return line;
        }

        var column = a.Finding.Location.Column.CompareTo(b.Finding.Location.Column);
        return column != 0 ? column : a.Sequence.CompareTo(b.Sequence);
    }
}
