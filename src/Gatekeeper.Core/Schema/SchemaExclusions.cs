using System.Text.RegularExpressions;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Schema;

/// <summary>
/// Objects the declarative mode leaves alone on both sides — never created, changed or dropped: Gatekeeper's own
/// history tables always, and whatever <c>--exclude</c> names (objects another tool owns: a queue library's tables,
/// Flyway's history). Patterns are globs (<c>*</c>, <c>?</c>) on <c>schema.name</c> or on <c>name</c> in any schema;
/// on PostgreSQL a bare pattern also matches whole schemas. Routines match by name, for every overload.
/// </summary>
public sealed class SchemaExclusions
{
    /// <summary>Gatekeeper's own tables, excluded in every schema.</summary>
    public static readonly IReadOnlyList<string> GatekeeperTables = ["gatekeeper_schema_history", "gatekeeper_dirty_migrations", "gatekeeper_declarative_history"];

    private readonly List<(Regex? Schema, Regex Name)> _patterns = [];
    private readonly List<Regex> _schemas = [];

    private SchemaExclusions(IReadOnlyList<string> patterns)
    {
        Patterns = patterns;
    }

    /// <summary>The patterns as the user gave them (for messages).</summary>
    public IReadOnlyList<string> Patterns { get; }

    public static SchemaExclusions None { get; } = Parse([], SqlDialect.Postgres, out _)!;

    /// <summary>Parses the patterns; returns null and a sentence naming the bad one when a pattern has more than two parts or is empty.</summary>
    public static SchemaExclusions? Parse(IReadOnlyList<string> patterns, SqlDialect dialect, out string? error)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        error = null;
        var exclusions = new SchemaExclusions(patterns);
        foreach (var table in GatekeeperTables)
        {
            exclusions._patterns.Add((null, Glob(table)));
        }

        foreach (var pattern in patterns)
        {
            var parts = pattern.Trim().Split('.');
            var maxParts = dialect == SqlDialect.Postgres ? 2 : 1;
            if (pattern.Trim().Length == 0 || parts.Length > maxParts || parts.Any(p => p.Length == 0))
            {
                error = dialect == SqlDialect.Postgres
                    ? $"--exclude '{pattern}' is not a pattern; use name or schema.name, with * and ? as wildcards"
                    : $"--exclude '{pattern}' is not a pattern; use a table, view or routine name, with * and ? as wildcards";
                return null;
            }

            if (parts.Length == 2)
            {
                exclusions._patterns.Add((Glob(parts[0]), Glob(parts[1])));
            }
            else
            {
                exclusions._patterns.Add((null, Glob(parts[0])));
                if (dialect == SqlDialect.Postgres)
                {
                    exclusions._schemas.Add(Glob(parts[0]));
                }
            }
        }

        return exclusions;
    }

    public bool ExcludesSchema(string? schema) => schema is not null && _schemas.Any(s => s.IsMatch(schema));

    public bool Excludes(ObjectName name) =>
        ExcludesSchema(name.Schema) || _patterns.Any(p => p.Name.IsMatch(name.Name) && (p.Schema is null || (name.Schema is not null && p.Schema.IsMatch(name.Schema))));

    /// <summary>The model without the excluded objects (and without what belongs to an excluded table: its triggers, its sequences).</summary>
    public SchemaModel Apply(SchemaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model with
        {
            Schemas = model.Schemas.Where(s => !ExcludesSchema(s.Name)).ToList(),
            Enums = model.Enums.Where(e => !Excludes(e.Name)).ToList(),
            Sequences = model.Sequences.Where(s => !Excludes(s.Name) && !(s.OwnedBy is { } owner && Excludes(owner.Table))).ToList(),
            Tables = model.Tables.Where(t => !Excludes(t.Name)).ToList(),
            Views = model.Views.Where(v => !Excludes(v.Name)).ToList(),
            Routines = model.Routines.Where(r => !Excludes(r.Name)).ToList(),
            Triggers = model.Triggers.Where(t => !Excludes(t.Table) && !Excludes(t.Table with { Name = t.Name })).ToList(),
        };
    }

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.Singleline);
}
