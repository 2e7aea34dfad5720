using System.Text.RegularExpressions;
using Gatekeeper.Core.Lint;

namespace Gatekeeper.Core.Tests.Lint;

/// <summary>The rule catalogue stays well-formed, and docs/lint-rules.md maps every squawk rule and Atlas check to it.</summary>
public sealed partial class CatalogueTests
{
    // squawk 2.66.0 (npm squawk-cli), read from its binary and https://squawkhq.com/docs/rules.
    private static readonly string[] SquawkRules =
    [
        "adding-field-with-default", "adding-foreign-key-constraint", "adding-not-nullable-field", "adding-required-field",
        "adding-serial-primary-key-field", "ban-alter-domain-with-add-constraint", "ban-char-field", "ban-concurrent-index-creation-in-transaction",
        "ban-create-domain-with-constraint", "ban-drop-column", "ban-drop-database", "ban-drop-not-null", "ban-drop-table",
        "ban-duplicate-column-assignments", "ban-truncate-cascade", "ban-uncommitted-transaction", "changing-column-type",
        "constraint-missing-not-valid", "disallowed-unique-constraint", "identifier-too-long", "prefer-bigint-over-int",
        "prefer-bigint-over-smallint", "prefer-identity", "prefer-repack", "prefer-robust-stmts", "prefer-text-field", "prefer-timestamptz",
        "renaming-column", "renaming-table", "require-concurrent-index-creation", "require-concurrent-index-deletion",
        "require-concurrent-partition-detach", "require-concurrent-reindex", "require-enum-value-ordering", "require-table-schema",
        "transaction-nesting", "unused-ignore", "syntax-error", "require-timeout-settings", "require-lock-timeout", "require-statement-timeout",
    ];

    // Atlas migration analyzer check codes, https://atlasgo.io/lint/analyzers.
    private static readonly string[] AtlasCodes =
    [
        "BC101", "BC102", "CD101", "CD102", "CD103", "DS101", "DS102", "DS103", "MF101", "MF102", "MF103", "MF104",
        "PG101", "PG102", "PG103", "PG104", "PG105", "PG110", "PG301", "PG302", "PG303", "PG304", "PG305", "PG306", "PG307", "PG308",
        "PG309", "PG310", "PG311", "MY101", "MY102", "MY110", "MY111", "MY112", "MY113", "MY120", "MY121", "MY122", "MY123",
        "MY130", "MY131", "MY132", "MY133", "MY134", "MY135", "MY136", "TX101", "TX201", "LT101", "NM101", "OW101",
    ];

    private static readonly string Docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "lint-rules.md"));

    [Fact]
    public void Rule_ids_are_unique_well_formed_and_numbered_by_category()
    {
        Assert.Equal(LintRules.All.Count, LintRules.All.Select(r => r.Id).Distinct().Count());
        Assert.Equal(LintRules.All.Count, LintRules.All.Select(r => r.Name).Distinct().Count());
        foreach (var rule in LintRules.All)
        {
            Assert.Matches(RuleId(), rule.Id);
            Assert.Equal((int)rule.Category, rule.Id[2] - '0');
            Assert.False(string.IsNullOrWhiteSpace(rule.Title), rule.Id);
            Assert.False(string.IsNullOrWhiteSpace(rule.Hint), rule.Id);
            Assert.Same(rule, LintRules.Find(rule.Id.ToLowerInvariant()));
        }
    }

    [Fact]
    public void The_docs_describe_every_rule()
    {
        var missing = LintRules.All.Where(r => !Docs.Contains($"| {r.Id} | `{r.Name}` |", StringComparison.Ordinal)).Select(r => r.Id).ToList();

        Assert.Empty(missing);
    }

    [Fact]
    public void The_docs_map_every_squawk_rule_and_every_anchor_agrees_with_its_row()
    {
        Assert.All(SquawkRules, name => Assert.True(RowOf($"`{name}`") is not null, $"squawk rule {name} has no row in docs/lint-rules.md"));
        AssertAnchorsAgree("squawk:", name => RowOf($"`{name}`"));
    }

    [Fact]
    public void The_docs_map_every_atlas_check_and_every_anchor_agrees_with_its_row()
    {
        Assert.All(AtlasCodes, code => Assert.True(RowOf(code) is not null, $"Atlas code {code} has no row in docs/lint-rules.md"));
        AssertAnchorsAgree("atlas:", RowOf);
    }

    private static void AssertAnchorsAgree(string prefix, Func<string, string?> rowOf)
    {
        foreach (var rule in LintRules.All)
        {
            foreach (var anchor in (rule.Anchors ?? []).Where(a => a.StartsWith(prefix, StringComparison.Ordinal)))
            {
                var row = rowOf(anchor[prefix.Length..]);
                Assert.True(row is not null && row.Contains(rule.Id, StringComparison.Ordinal), $"{rule.Id} anchors {anchor}, but the docs row says: {row}");
            }
        }
    }

    /// <summary>The first mapping-table row that starts with the given cell.</summary>
    private static string? RowOf(string firstCell) =>
        Docs.Split('\n').FirstOrDefault(line =>
            line.StartsWith($"| {firstCell}", StringComparison.Ordinal) && line.Length > firstCell.Length + 2 && !char.IsLetterOrDigit(line[firstCell.Length + 2]) && line[firstCell.Length + 2] != '-');

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gatekeeper.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Gatekeeper.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("^GK[0-6][0-9]{2}$")]
    private static partial Regex RuleId();
}
