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
    /// <param name="collector">Where findings go as each migration is judged (capped per rule, streamed); by default every finding is listed.</param>
    public static LintReport Lint(IReadOnlyList<Migration> pending, SqlDialect dialect, LintOptions? options = null, LintCollector? collector = null)
    {
        ArgumentNullException.ThrowIfNull(pending);
        options ??= LintOptions.Default;
        collector ??= new LintCollector();
        var plan = new PlanState(dialect, options);
        var findings = new MigrationFindings(collector, AnnotationAllowances(options, collector));
        var statementCount = 0;
        using var prepared = PreparedMigrations.Start(pending, dialect, plan.MySqlServer, options.Modes, options.PrepareOnSecondThread, options.SecondThreadFromChars);
        foreach (var migration in pending)
        {
            statementCount += LintMigration(plan, prepared.Next(migration), findings);
            findings.HandOn();
        }

        return new LintReport(dialect, collector.Listed, pending.Count, statementCount, options.Schema is not null) { RuleCounts = collector.Counts };
    }

    /// <summary>
    /// Lints a directory as a pull request sees it: every migration is its own rollout, judged against the state
    /// after all the files before it, so a table an earlier file created is an existing, possibly large table by the
    /// time a later file alters it. Only migrations <paramref name="judged"/> selects are reported; the others are
    /// history, replayed for what they create (as <c>squawk</c> and <c>atlas migrate lint --git-base</c> judge only the
    /// new files). <c>gatekeeper plan</c> and the webhook judge the pending set as one rollout (<see cref="Lint"/>).
    /// </summary>
    /// <param name="collector">Where findings go as each migration is judged (capped per rule, streamed); by default every finding is listed.</param>
    public static LintReport LintEachAsRollout(IReadOnlyList<Migration> migrations, Func<Migration, bool> judged, SqlDialect dialect, LintOptions? options = null, LintCollector? collector = null)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        ArgumentNullException.ThrowIfNull(judged);
        options ??= LintOptions.Default;
        collector ??= new LintCollector();
        var plan = new PlanState(dialect, options);
        var findings = new MigrationFindings(collector, AnnotationAllowances(options, collector));
        var statementCount = 0;
        var judgedCount = 0;
        using var prepared = PreparedMigrations.Start(migrations, dialect, plan.MySqlServer, options.Modes, options.PrepareOnSecondThread, options.SecondThreadFromChars);
        foreach (var migration in migrations)
        {
            if (judged(migration))
            {
                judgedCount++;
                statementCount += LintMigration(plan, prepared.Next(migration), findings);
                findings.HandOn();
            }
            else
            {
                // History: replayed for what it creates; its findings are nobody's business (one per rule is kept, then dropped).
                LintMigration(plan, prepared.Next(migration), new MigrationFindings(new LintCollector(maxPerRule: 1), f => f));
            }

            plan.EndRollout();
        }

        return new LintReport(dialect, collector.Listed, judgedCount, statementCount, options.Schema is not null)
        {
            HistoryCount = migrations.Count - judgedCount,
            RuleCounts = collector.Counts,
        };
    }

    private static readonly MigrationVersion SingleVersion = MigrationVersion.Parse("1");

    /// <summary>Lints one SQL text as a single migration (for tools and tests that have no migration directory).</summary>
    public static LintReport LintSql(string sql, SqlDialect dialect, string fileName = "migration.sql", bool transactional = true, LintOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var migration = new Migration(fileName, SingleVersion, fileName, MigrationKind.Versioned, fileName, sql, 1, null, transactional, string.Empty, ReadOnlyMemory<byte>.Empty);
        return Lint([migration], dialect, options);
    }

    /// <summary>
    /// A pass of its own over the whole migration (pure), for a rule that looks ahead (see <see cref="MigrationOutline"/>):
    /// it only notes where views, routines, constraints … are declared, and its last statement; each statement is done
    /// with before the next is cut, so a 50 MB file is never held in memory as tokens or parsed statements.
    /// </summary>
    internal static MigrationOutline Outline(Migration migration, SqlDialect dialect, ServerVersion? mySqlServer, SqlModes modes)
    {
        var outline = new MigrationOutline();
        var lastStatement = -1;
        var index = 0;
        // Each statement is done with before the next is cut (the outline keeps names and positions, never tokens).
        foreach (var statement in SqlSplitter.StatementsUsedOneAtATime(migration.UpSql, dialect, migration.FileName, new SqlSplitProblems(), migration.UpStartLine, modes))
        {
            var i = index++;
            if (HasCode(statement))
            {
                lastStatement = i;
            }

            switch (MayDeclare(statement, dialect))
            {
                case Declares.Table:
                    outline.RecordCreatedTable(MigrationOutline.Position(i), CodeTokens(dialect, mySqlServer, migration.FileName, statement));
                    break;
                case Declares.Something:
                    RecordDeclarations(outline, i, Prepare(dialect, mySqlServer, migration, statement, readDirectives: false));
                    break;
            }
        }

        outline.LastStatement = lastStatement;
        return outline;
    }

    /// <summary>What statement <paramref name="index"/> declares, as <see cref="Outline"/> records it, for an outline built as the statements are judged.</summary>
    private static void RecordOutline(MigrationOutline outline, int index, StatementUnit unit, SqlDialect dialect)
    {
        switch (MayDeclare(unit.Statement, dialect))
        {
            case Declares.Table:
                outline.RecordCreatedTable(MigrationOutline.Position(index), unit.Code);
                break;
            case Declares.Something:
                RecordDeclarations(outline, index, unit);
                break;
        }
    }

    private static void RecordDeclarations(MigrationOutline outline, int index, StatementUnit unit)
    {
        outline.Record(MigrationOutline.Position(index), unit.Parsed);
        for (var e = 0; e < unit.Embedded.Count; e++)
        {
            outline.Record(MigrationOutline.Position(index, e), unit.Embedded[e]);
        }
    }

    /// <summary>
    /// A migration's statements, cut and parsed (pure: it needs no plan state, so it may run on another thread ahead of
    /// the judging), one at a time; <paramref name="problems"/> holds what the cutting found once the last is read.
    /// </summary>
    internal static IEnumerable<StatementUnit> PreparedStatements(Migration migration, SqlDialect dialect, ServerVersion? mySqlServer, SqlModes modes, SqlSplitProblems problems)
    {
        foreach (var statement in SqlSplitter.Statements(migration.UpSql, dialect, migration.FileName, problems, migration.UpStartLine, modes))
        {
            yield return Prepare(dialect, mySqlServer, migration, statement, readDirectives: true);
        }
    }

    private static int LintMigration(PlanState plan, PreparedMigration prepared, MigrationFindings migrationFindings)
    {
        var migration = prepared.Migration;
        var dialect = plan.Dialect;
        var mySqlServer = plan.MySqlServer;
        var modes = plan.Options.Modes;
        var outline = new MigrationOutline(() => Outline(migration, dialect, mySqlServer, modes), migration.UpSql);

        // Without a known server the file is judged as a current server runs it (the runner always knows its server's version).
        var tx = new TransactionState(runnerWrapped: migration.TransactionalOn(plan.Options.ServerMajorVersion ?? int.MaxValue) && plan.Dialect == SqlDialect.Postgres);
        var scope = new MigrationScope(plan, migration, outline, tx);
        var statementCount = 0;
        var index = 0;
        foreach (var unit in prepared.Statements)
        {
            var i = index++;
            if (!outline.IsWhole)
            {
                // Before the statement is judged: a look back from it (or from a later statement of its DO body) sees it.
                RecordOutline(outline, i, unit, dialect);
            }

            var directiveProblems = unit.DirectiveProblems;
            // Not `directiveProblems ?? []`: that made an empty List for every statement without a malformed directive.
            if (directiveProblems is not null)
            {
                foreach (var problem in directiveProblems)
                {
                    migrationFindings.Add(problem);
                }
            }

            scope.StatementIndex = i;
            var openerBefore = scope.OpenedBy;
            if (unit.Tokens.Count > 0)
            {
                statementCount++;
                if (!tx.InTransaction)
                {
                    // Autocommit: every statement is its own transaction.
                    tx.StartNew();
                    scope.Session.EndTransaction();
                }

                Judge(new StatementContext(scope, unit, MigrationOutline.Position(i), unit.Parsed));
                if (unit.Parsed is not TransactionStatement)
                {
                    tx.StatementsRun++;
                }

                for (var e = 0; e < unit.Embedded.Count; e++)
                {
                    Judge(new StatementContext(scope, unit, MigrationOutline.Position(i, e), unit.Embedded[e], "a DO block"));
                }

                if (unit.Parsed is CallStatement call && scope.Routines.TryGetValue(call.Name.Name, out var routine))
                {
                    // The body of a procedure created earlier in this migration runs now; linters that skip bodies miss it.
                    var via = $"it runs at CALL {call.Name} at {unit.Tokens.LocationOf(0)}";
                    foreach (var body in EmbeddedSql.FromRoutineBody(routine).Select(StatementParser.Parse))
                    {
                        Judge(new StatementContext(scope, unit, MigrationOutline.Position(i), body, $"procedure {call.Name}", via));
                    }
                }
            }

            if (plan.Dialect == SqlDialect.MySql)
            {
                // Also when the server skips the whole statement's comment, leaving no code: that is what GK613 is about.
                CheckExecutableComments(new StatementContext(scope, unit, MigrationOutline.Position(i), unit.Parsed), unit.Statement);
            }

            // A BEGIN left open is judged when the migration ends, with that statement's directives; one this statement
            // closed (COMMIT, an implicit commit) is resolved now.
            if (openerBefore is not null && !ReferenceEquals(openerBefore, scope.OpenedBy) && !ReferenceEquals(openerBefore, unit))
            {
                ResolveDirectives(openerBefore, migration, migrationFindings);
            }

            if (!ReferenceEquals(scope.OpenedBy, unit))
            {
                ResolveDirectives(unit, migration, migrationFindings);
            }
        }

        // "COMMIT; CREATE INDEX CONCURRENTLY …; BEGIN;" leaves the runner's transaction on purpose and reopens it: the
        // runner's own COMMIT closes what the file reopened, so nothing is left open.
        if (scope.OpenedBy is { } opened && !(tx.RunnerWrapped && tx.RunnerTransactionEnded))
        {
            opened.Findings.Add(StatementContext.Build(LintRules.UncommittedTransaction, LintRules.UncommittedTransaction.DefaultSeverity,
                $"the transaction opened here is still open at the end of {migration.FileName}", opened.Tokens, 0, 0, opened.Statement, migration.Id, false));
            ResolveDirectives(opened, migration, migrationFindings);
        }

        // The cutting's problems are known once the last statement is cut; they are placed before every other finding of
        // the migration (as when they came from a first pass).
        foreach (var problem in prepared.Problems)
        {
            migrationFindings.AddBeforeAll(SyntaxFinding(migration, problem));
        }

        plan.EndMigrationSession(migration.FileName, scope.Session);
        return statementCount;
    }

    /// <summary>
    /// Only these statements can declare what the outline records: CREATE of a view, routine, type or sequence,
    /// ALTER TABLE, DROP INDEX, DO and CALL. A cheap test on the first words, so the outline pass parses few statements.
    /// </summary>
    private enum Declares
    {
        Nothing,
        /// <summary>CREATE TABLE: only its name matters to the outline, so its columns are not parsed twice.</summary>
        Table,
        Something,
    }

    private static Declares MayDeclare(SqlStatement statement, SqlDialect dialect)
    {
        var words = 0;
        bool create = false, alter = false, drop = false;
        foreach (var token in Span(statement))
        {
            if (token.Kind == SqlTokenKind.ExecutableComment)
            {
                return dialect == SqlDialect.MySql ? Declares.Something : Declares.Nothing;
            }

            if (token.Kind != SqlTokenKind.Word)
            {
                if (StatementTokens.IsCode(token.Kind) && words == 0)
                {
                    return Declares.Nothing;
                }

                continue;
            }

            var word = statement.TextOf(token);
            if (words++ == 0)
            {
                create = word.Equals("create", StringComparison.OrdinalIgnoreCase);
                alter = word.Equals("alter", StringComparison.OrdinalIgnoreCase);
                drop = word.Equals("drop", StringComparison.OrdinalIgnoreCase);
                // DO declares what its body does; CALL is noted so that only the procedures a CALL names are kept.
                if (word.Equals("do", StringComparison.OrdinalIgnoreCase) || word.Equals("call", StringComparison.OrdinalIgnoreCase))
                {
                    return Declares.Something;
                }

                if (!create && !alter && !drop)
                {
                    return Declares.Nothing;
                }
            }
            else if (word.Equals("table", StringComparison.OrdinalIgnoreCase))
            {
                return alter ? Declares.Something : create ? Declares.Table : Declares.Nothing;
            }
            else if (word.Equals("index", StringComparison.OrdinalIgnoreCase))
            {
                return drop ? Declares.Something : Declares.Nothing;
            }
            else if (create && (word.Equals("view", StringComparison.OrdinalIgnoreCase) || word.Equals("function", StringComparison.OrdinalIgnoreCase) ||
                                word.Equals("procedure", StringComparison.OrdinalIgnoreCase) || word.Equals("type", StringComparison.OrdinalIgnoreCase) ||
                                word.Equals("domain", StringComparison.OrdinalIgnoreCase) || word.Equals("sequence", StringComparison.OrdinalIgnoreCase)))
            {
                return Declares.Something;
            }
            else if (words >= 6)
            {
                // CREATE DEFINER=`u`@`h` SQL SECURITY … : too many words to classify cheaply, so parse it.
                return create ? Declares.Something : Declares.Nothing;
            }
        }

        return Declares.Nothing;
    }

    private static bool HasCode(SqlStatement statement)
    {
        foreach (var token in Span(statement))
        {
            if (StatementTokens.IsCode(token.Kind))
            {
                return true;
            }
        }

        return false;
    }

    private static ReadOnlySpan<SqlToken> Span(SqlStatement statement) => statement.TokenSegment.AsSpan();

    private static void Judge(StatementContext ctx)
    {
        StatementRules.Check(ctx);
        PlanEffects.Apply(ctx);
    }

    /// <param name="readDirectives">Read the allow directives, and note malformed ones (handed on with the statement,
    /// for the judging thread to add in order); false in the outline pass, which must not report twice.</param>
    private static StatementUnit Prepare(SqlDialect dialect, ServerVersion? mySqlServer, Migration migration, SqlStatement statement, bool readDirectives)
    {
        var file = migration.FileName;
        List<LintFinding>? directiveProblems = null;
        List<AllowDirective>? directives = null;
        var all = statement.TokenSegment;
        var onlyCode = true;
        var executableComments = false;
        foreach (var token in all.AsSpan())
        {
            if (StatementTokens.IsCode(token.Kind) && token.Kind != SqlTokenKind.ExecutableComment)
            {
                continue;
            }

            onlyCode = false;
            executableComments |= token.Kind == SqlTokenKind.ExecutableComment;
            if (!readDirectives || token.Kind is not (SqlTokenKind.LineComment or SqlTokenKind.BlockComment))
            {
                continue;
            }

            var text = statement.TextOf(token);
            var location = new SourceLocation(file, token.Line, token.Column);
            if (AllowDirective.TryRead(text, location, out var problem) is { } directive)
            {
                (directives ??= []).Add(directive);
            }
            else if (problem is not null)
            {
                var tokens = new StatementTokens(statement.Source, file, dialect, new[] { token });
                (directiveProblems ??= []).Add(StatementContext.Build(LintRules.InvalidDirective, LintSeverity.Error, problem, tokens, 0, 0, statement, migration.Id, false));
            }
        }

        var code = onlyCode ? all
            : executableComments ? EmbeddedSql.ExpandExecutableComments(statement.Source, file, all, mySqlServer, statement.Modes)
            : CodeOnly(all);
        var view = new StatementTokens(statement.Source, file, dialect, code, statement.Modes);
        var parsed = StatementParser.Parse(view);
        // Typed as the interface on both sides: a conditional whose first branch is a List made the `[]` a new empty List
        // for every statement that is not a DO block.
        IReadOnlyList<ParsedStatement> embedded = parsed is DoStatement doBlock
            ? EmbeddedSql.FromDoBody(view, doBlock.BodyToken).Select(StatementParser.Parse).ToList()
            : (IReadOnlyList<ParsedStatement>)[];
        return new StatementUnit(statement, view, parsed, directives ?? (IReadOnlyList<AllowDirective>)[], embedded, directiveProblems);
    }

    private static StatementTokens CodeTokens(SqlDialect dialect, ServerVersion? mySqlServer, string file, SqlStatement statement)
    {
        var all = statement.TokenSegment;
        return new StatementTokens(statement.Source, file, dialect, dialect == SqlDialect.MySql && HasExecutableComment(all)
            ? EmbeddedSql.ExpandExecutableComments(statement.Source, file, all, mySqlServer, statement.Modes)
            : CodeOnly(all), statement.Modes);
    }

    private static bool HasExecutableComment(ArraySegment<SqlToken> tokens)
    {
        foreach (var token in tokens.AsSpan())
        {
            if (token.Kind == SqlTokenKind.ExecutableComment)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The code tokens (comments left out): a slice of <paramref name="tokens"/>, without a copy, when the comments only
    /// come before or after the code (a comment line above a statement, a directive after it), else a copy.
    /// </summary>
    /// <remarks>
    /// Only MySQL lexes executable comments, and where there are none <see cref="EmbeddedSql.ExpandExecutableComments"/>
    /// keeps exactly these tokens, so both dialects come here then.
    /// </remarks>
    private static ArraySegment<SqlToken> CodeOnly(ArraySegment<SqlToken> tokens)
    {
        var span = tokens.AsSpan();
        int first = -1, last = -1, count = 0;
        for (var i = 0; i < span.Length; i++)
        {
            if (StatementTokens.IsCode(span[i].Kind))
            {
                if (first < 0)
                {
                    first = i;
                }

                last = i;
                count++;
            }
        }

        if (count == last - first + 1)
        {
            return count == 0 ? ArraySegment<SqlToken>.Empty : tokens.Slice(first, count);
        }

        var code = new SqlToken[count];
        var at = 0;
        foreach (var token in span)
        {
            if (StatementTokens.IsCode(token.Kind))
            {
                code[at++] = token;
            }
        }

        return code;
    }

    /// <summary>GK613: executable comments whose meaning differs between MySQL and MariaDB.</summary>
    private static void CheckExecutableComments(StatementContext ctx, SqlStatement statement)
    {
        foreach (var token in Span(statement))
        {
            if (token.Kind != SqlTokenKind.ExecutableComment)
            {
                continue;
            }

            var text = statement.TextOf(token);
            var (_, version) = EmbeddedSql.ExecutableCommentVersion(text);
            var message = ExecutableCommentMessage(text.StartsWith("/*M!"), version, ctx.Plan.MySqlServer);
            if (message is not null)
            {
                var tokens = new StatementTokens(statement.Source, ctx.Tokens.File, SqlDialect.MySql, new[] { token });
                ctx.Unit.Findings.Add(StatementContext.Build(LintRules.MySqlVersionedComment, LintRules.MySqlVersionedComment.DefaultSeverity, message, tokens, 0, 0, statement, ctx.Migration.Id, false));
            }
        }
    }

    /// <summary>
    /// What GK613 says about one executable comment, or null when MySQL and MariaDB read it alike (no version, or one
    /// below 50700 that both run). With a known server it says what that server does; the linter reads the comment so too.
    /// </summary>
    private static string? ExecutableCommentMessage(bool mariaDbOnly, string? version, ServerVersion? server)
    {
        var shown = mariaDbOnly ? $"/*M!{version} … */" : $"/*!{version} … */";
        if (mariaDbOnly)
        {
            return server is { IsMariaDb: false } ? $"`{shown}` runs only on MariaDB: MySQL {server} skips it as a plain comment"
                : server is null ? $"`{shown}` runs only on MariaDB; MySQL skips it as a plain comment" : null;
        }

        if (version is null)
        {
            return null;
        }

        var number = version.Length > 9 ? int.MaxValue : int.Parse(version, System.Globalization.CultureInfo.InvariantCulture);
        if (version.Length == 5 && number >= 50700)
        {
            var mysql = $"{number / 10000}.{number / 100 % 100}.{number % 100}";
            return server switch
            {
                { IsMariaDb: true } => $"MariaDB skips `{shown}` (it ignores the MySQL versions 50700 to 99999), so what is inside does not run on {server}",
                null => $"`{shown}` runs on MySQL {mysql} and later only: MariaDB skips it (it ignores the MySQL versions 50700 to 99999), so the file does different things on the two engines",
                _ => null,
            };
        }

        return version.Length == 6 && server is not { IsMariaDb: true }
            ? $"`{shown}` carries a 6-digit (MariaDB) version: MySQL reads its first five digits as the version and the sixth as SQL"
            : null;
    }

    private static void ResolveDirectives(StatementUnit unit, Migration migration, MigrationFindings findings)
    {
        if (!unit.HasFindings && unit.Directives.Count == 0)
        {
            return;
        }

        foreach (var finding in unit.Findings)
        {
            var directive = finding.Rule == LintRules.InvalidDirective ? null : CoveringDirective(unit.Directives, finding.Rule);
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

    /// <summary>The first directive that covers <paramref name="rule"/> (a loop: a lambda here cost a closure per finding).</summary>
    private static AllowDirective? CoveringDirective(IReadOnlyList<AllowDirective> directives, LintRule rule)
    {
        for (var i = 0; i < directives.Count; i++)
        {
            if (directives[i].Covers(rule))
            {
                return directives[i];
            }
        }

        return null;
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

    /// <summary>
    /// Reads the annotation (<see cref="LintOptions.Allow"/>) once: its own problems go to the collector first, and the
    /// function returned marks each finding it allows as the finding is made.
    /// </summary>
    private static Func<LintFinding, LintFinding> AnnotationAllowances(LintOptions options, LintCollector collector)
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
                collector.Add(new LintFinding(LintRules.InvalidDirective, LintSeverity.Error,
                    AllowDirective.LooksLikeRuleId(entry) ? $"gatekeeper.dev/allow names unknown rule {entry}" : $"gatekeeper.dev/allow entry `{entry}` is neither a rule id nor a category",
                    LintRules.InvalidDirective.Hint, new SourceLocation(Source, 1, column), entry.Length, text, text, string.Empty, false));
            }

            column += entry.Length + 1;
        }

        if (rules.Count == 0 && categories.Count == 0)
        {
            return finding => finding;
        }

        return finding => finding.AllowedBy is null && finding.Rule != LintRules.InvalidDirective &&
                          (rules.Contains(finding.Rule) || categories.Contains(finding.Rule.Category))
            ? finding with { AllowedBy = new LintAllowance(LintAllowanceSource.Annotation, "allowed by the gatekeeper.dev/allow annotation", null) }
            : finding;
    }
}
