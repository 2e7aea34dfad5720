using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Rules;
using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint;

/// <summary>
/// Judges pending migrations before they run. Pure: the same verdict in <c>gatekeeper lint</c>, <c>gatekeeper plan</c>
/// and the admission webhook. Statements are walked in apply order, so objects created earlier in the plan are known
/// to be new, and transaction state follows each migration's own transaction mode.
/// </summary>
public static class Linter
{
    /// <summary>Lints <paramref name="pending"/> (only pending migrations: applied ones are never judged again).</summary>
    public static LintReport Lint(IReadOnlyList<Migration> pending, SqlDialect dialect, LintOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pending);
        options ??= LintOptions.Default;
        var plan = new PlanState(dialect, options);
        var findings = new List<LintFinding>();
        var annotation = AnnotationAllowances(options, findings);
        var statementCount = 0;
        foreach (var migration in pending)
        {
            statementCount += LintMigration(plan, migration, findings);
        }

        if (annotation.Rules.Count > 0 || annotation.Categories.Count > 0)
        {
            for (var i = 0; i < findings.Count; i++)
            {
                var finding = findings[i];
                if (finding.AllowedBy is null && finding.Rule != LintRules.InvalidDirective &&
                    (annotation.Rules.Contains(finding.Rule) || annotation.Categories.Contains(finding.Rule.Category)))
                {
                    findings[i] = finding with { AllowedBy = new LintAllowance(LintAllowanceSource.Annotation, "allowed by the gatekeeper.dev/allow annotation", null) };
                }
            }
        }

        return new LintReport(dialect, findings, pending.Count, statementCount, options.Schema is not null);
    }

    /// <summary>Lints one SQL text as a single migration (for tools and tests that have no migration directory).</summary>
    public static LintReport LintSql(string sql, SqlDialect dialect, string fileName = "migration.sql", bool transactional = true, LintOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var migration = new Migration(fileName, MigrationVersion.Parse("1"), fileName, MigrationKind.Versioned, fileName, sql, 1, null, transactional, string.Empty, ReadOnlyMemory<byte>.Empty);
        return Lint([migration], dialect, options);
    }

    private static int LintMigration(PlanState plan, Migration migration, List<LintFinding> findings)
    {
        var split = SqlSplitter.Split(migration.UpSql, plan.Dialect, migration.FileName, migration.UpStartLine);
        var migrationFindings = new List<LintFinding>();
        foreach (var problem in split.Problems)
        {
            migrationFindings.Add(SyntaxFinding(migration, problem));
        }

        var units = new List<StatementUnit>(split.Statements.Count);
        var directiveProblems = new List<LintFinding>();
        foreach (var statement in split.Statements)
        {
            units.Add(Prepare(plan.Dialect, migration, statement, directiveProblems));
        }

        var tx = new TransactionState(runnerWrapped: migration.Transactional && plan.Dialect == SqlDialect.Postgres);
        for (var i = 0; i < units.Count; i++)
        {
            var unit = units[i];
            if (unit.Tokens.Count == 0)
            {
                continue;
            }

            if (!tx.InTransaction)
            {
                // Autocommit: every statement is its own transaction.
                tx.StartNew();
            }

            Judge(new StatementContext(plan, tx, migration, units, i, unit.Parsed, inDoBlock: false));
            foreach (var embedded in unit.Embedded)
            {
                Judge(new StatementContext(plan, tx, migration, units, i, embedded, inDoBlock: true));
            }

            if (plan.Dialect == SqlDialect.MySql)
            {
                CheckExecutableComments(new StatementContext(plan, tx, migration, units, i, unit.Parsed, inDoBlock: false), unit.Statement);
            }
        }

        if (tx.OpenedByFileAt is { } opened)
        {
            var last = units.LastOrDefault(u => u.Tokens.Count > 0);
            var at = units.FirstOrDefault(u => u.Tokens.Count > 0 && u.Tokens.LocationOf(0) == opened) ?? last;
            if (at is not null)
            {
                at.Findings.Add(StatementContext.Build(LintRules.UncommittedTransaction, LintRules.UncommittedTransaction.DefaultSeverity,
                    $"the transaction opened at {opened} is still open at the end of {migration.FileName}", at.Tokens, 0, 0, at.Statement, migration.Id, false));
            }
        }

        migrationFindings.AddRange(directiveProblems);
        foreach (var unit in units)
        {
            ResolveDirectives(unit, migration, migrationFindings);
        }

        findings.AddRange(migrationFindings.OrderBy(f => f.Location.Line).ThenBy(f => f.Location.Column));
        return units.Count(u => u.Tokens.Count > 0);
    }

    private static void Judge(StatementContext ctx)
    {
        StatementRules.Check(ctx);
        PlanEffects.Apply(ctx);
    }

    private static StatementUnit Prepare(SqlDialect dialect, Migration migration, SqlStatement statement, List<LintFinding> directiveProblems)
    {
        var file = migration.FileName;
        var directives = new List<AllowDirective>();
        foreach (var token in statement.Tokens)
        {
            if (token.Kind is not (SqlTokenKind.LineComment or SqlTokenKind.BlockComment))
            {
                continue;
            }

            var text = statement.TextOf(token);
            var location = new SourceLocation(file, token.Line, token.Column);
            if (AllowDirective.TryRead(text, location, out var problem) is { } directive)
            {
                directives.Add(directive);
            }
            else if (problem is not null)
            {
                var tokens = new StatementTokens(statement.Source, file, dialect, [token]);
                directiveProblems.Add(StatementContext.Build(LintRules.InvalidDirective, LintSeverity.Error, problem, tokens, 0, 0, statement, migration.Id, false));
            }
        }

        var code = dialect == SqlDialect.MySql
            ? EmbeddedSql.ExpandExecutableComments(statement.Source, file, statement.Tokens)
            : statement.Tokens.Where(t => StatementTokens.IsCode(t.Kind)).ToArray();
        var view = new StatementTokens(statement.Source, file, dialect, code);
        var parsed = StatementParser.Parse(view);
        var embedded = parsed is DoStatement doBlock
            ? EmbeddedSql.FromDoBody(view, doBlock.BodyToken).Select(StatementParser.Parse).ToList()
            : [];
        return new StatementUnit(statement, parsed, directives, embedded);
    }

    /// <summary>GK613: executable comments whose meaning differs between MySQL and MariaDB.</summary>
    private static void CheckExecutableComments(StatementContext ctx, SqlStatement statement)
    {
        foreach (var token in statement.Tokens)
        {
            if (token.Kind != SqlTokenKind.ExecutableComment)
            {
                continue;
            }

            var text = statement.TextOf(token);
            var (_, version) = EmbeddedSql.ExecutableCommentVersion(text);
            string? message = null;
            if (text.StartsWith("/*M!"))
            {
                message = "`/*M! … */` runs only on MariaDB; MySQL skips it as a plain comment";
            }
            else if (version is { Length: 5 } && int.Parse(version, System.Globalization.CultureInfo.InvariantCulture) >= 50700)
            {
                message = $"`/*!{version} … */` runs on MySQL {version[0]}.{version[1..3].TrimStart('0').PadLeft(1, '0')}+ and on every MariaDB 10+ too (MariaDB compares its own 10.x version), even where MariaDB lacks the syntax";
            }
            else if (version is { Length: 6 })
            {
                message = $"`/*!{version} … */` carries a 6-digit (MariaDB-style) version that MySQL reads differently";
            }

            if (message is not null)
            {
                var tokens = new StatementTokens(statement.Source, ctx.Tokens.File, SqlDialect.MySql, [token]);
                ctx.Unit.Findings.Add(StatementContext.Build(LintRules.MySqlVersionedComment, LintRules.MySqlVersionedComment.DefaultSeverity, message, tokens, 0, 0, statement, ctx.Migration.Id, false));
            }
        }
    }

    private static void ResolveDirectives(StatementUnit unit, Migration migration, List<LintFinding> findings)
    {
        foreach (var finding in unit.Findings)
        {
            var directive = finding.Rule == LintRules.InvalidDirective ? null : unit.Directives.FirstOrDefault(d => d.Covers(finding.Rule));
            if (directive is null)
            {
                findings.Add(finding);
                continue;
            }

            directive.Used = true;
            findings.Add(finding with { AllowedBy = new LintAllowance(LintAllowanceSource.Directive, directive.Reason, directive.Location) });
        }

        foreach (var directive in unit.Directives.Where(d => !d.Used))
        {
            var names = string.Join(",", directive.Rules.Select(r => r.Id).Concat(directive.Categories.Select(LintCategoryNames.NameOf)));
            var statementText = unit.Tokens.Count == 0 ? "no statement follows it" : "the statement it precedes has no such finding";
            var tokens = new StatementTokens(unit.Statement.Source, migration.FileName, unit.Tokens.Dialect,
                unit.Statement.Tokens.Where(t => t.Line == directive.Location.Line && t.Column == directive.Location.Column).Take(1).ToArray());
            findings.Add(StatementContext.Build(LintRules.UnusedDirective, LintRules.UnusedDirective.DefaultSeverity,
                $"`gatekeeper:allow {names}` allows nothing: {statementText}", tokens, 0, 0, unit.Statement, migration.Id, false));
        }
    }

    private static LintFinding SyntaxFinding(Migration migration, SqlSyntaxProblem problem)
    {
        var offset = OffsetOf(migration.UpSql, problem.Location.Line - migration.UpStartLine + 1, problem.Location.Column);
        var (line, column) = StatementContext.LineAround(migration.UpSql, offset);
        return new LintFinding(LintRules.SyntaxProblem, LintSeverity.Error, problem.Message, LintRules.SyntaxProblem.Hint, problem.Location,
            Math.Max(1, line.Length - column), line, line.Trim(), migration.Id, false);
    }

    /// <summary>The character offset of a 1-based line and column in <paramref name="text"/>, clamped to the text.</summary>
    private static int OffsetOf(string text, int line, int column)
    {
        var offset = 0;
        for (var current = 1; current < line && offset < text.Length; current++)
        {
            var next = text.IndexOf('\n', offset);
            if (next < 0)
            {
                return text.Length;
            }

            offset = next + 1;
        }

        return Math.Min(text.Length, offset + Math.Max(0, column - 1));
    }

    private static (HashSet<LintRule> Rules, HashSet<LintCategory> Categories) AnnotationAllowances(LintOptions options, List<LintFinding> findings)
    {
        var rules = new HashSet<LintRule>();
        var categories = new HashSet<LintCategory>();
        var column = 1;
        foreach (var entry in options.Allow)
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
                const string Source = "annotation gatekeeper.dev/allow";
                var text = string.Join(",", options.Allow);
                findings.Add(new LintFinding(LintRules.InvalidDirective, LintSeverity.Error,
                    AllowDirective.LooksLikeRuleId(entry) ? $"gatekeeper.dev/allow names unknown rule {entry}" : $"gatekeeper.dev/allow entry `{entry}` is neither a rule id nor a category",
                    LintRules.InvalidDirective.Hint, new SourceLocation(Source, 1, column), entry.Length, text, text, string.Empty, false));
            }

            column += entry.Length + 1;
        }

        return (rules, categories);
    }
}
