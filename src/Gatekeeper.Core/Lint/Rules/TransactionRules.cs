using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Rules;

/// <summary>Transaction hazards: statements that refuse a transaction block, nesting, uncommitted and implicitly committed transactions, new enum values.</summary>
internal static class TransactionRules
{
    /// <summary>GK501 when the statement would run inside a transaction block (the runner's, one the file opened, or a DO block).</summary>
    public static void RequireNoTransaction(StatementContext ctx, int first, int last, string what)
    {
        if (!ctx.IsPostgres)
        {
            return;
        }

        string? where = ctx.EmbeddedIn is { } container ? $"{container} always runs inside one (and cannot run it at all)"
            : ctx.Transaction.OpenedByFileAt is { } opened ? $"the file opened one at {opened}"
            : ctx.Transaction.InTransaction ? $"{ctx.Migration.FileName} runs in one (it is not marked non-transactional)"
            : null;
        if (where is not null)
        {
            ctx.Report(LintRules.NotInTransaction, first, last, $"{what} cannot run inside a transaction block, and {where}");
        }
    }

    /// <summary>BEGIN / COMMIT / ROLLBACK: tracks the transaction and reports nesting (GK504).</summary>
    public static void Apply(StatementContext ctx, TransactionStatement statement)
    {
        if (ctx.IsEmbedded)
        {
            return;
        }

        var tx = ctx.Transaction;
        var location = ctx.Tokens.LocationOf(0);
        if (statement.Control == TransactionControl.Begin && !ctx.IsPostgres && tx.OpenedByFileAt is { } open)
        {
            // MySQL and MariaDB commit the open transaction before starting the next one (an implicit commit).
            ctx.Report(LintRules.MySqlImplicitCommit, 0, ctx.Tokens.Count - 1,
                $"{ctx.Tokens.TextString(0).ToUpperInvariant()}{(ctx.Tokens.IsWord(1, "transaction") ? " TRANSACTION" : string.Empty)} inside the transaction opened at {open} commits that transaction implicitly: what ran before it stays committed even if a later statement fails");
            tx.InTransaction = false;
            tx.OpenedByFileAt = null;
            ctx.Scope.OpenedBy = null;
        }

        switch (statement.Control)
        {
            case TransactionControl.Begin when ctx.IsPostgres && tx.InTransaction:
                ctx.Scope.NestingReported = true;
                ctx.Report(LintRules.NestedTransaction, 0, ctx.Tokens.Count - 1,
                    tx.OpenedByFileAt is { } opened
                        ? $"BEGIN inside the transaction the file opened at {opened}: PostgreSQL ignores it, and the first COMMIT ends both"
                        : $"{ctx.Migration.FileName} already runs in the runner's transaction: PostgreSQL ignores this BEGIN, and the file's COMMIT ends the runner's transaction early");
                break;
            case TransactionControl.Begin:
                tx.InTransaction = true;
                tx.OpenedByFileAt = location;
                tx.StartNew();
                ctx.Scope.OpenedBy = ctx.Unit;
                break;
            case TransactionControl.Commit or TransactionControl.Rollback when tx.InTransaction:
                if (tx.RunnerWrapped && tx.OpenedByFileAt is null)
                {
                    tx.RunnerTransactionEnded = true;
                }

                // A BEGIN already reported explains this COMMIT too; report the pair once. Ending the runner's transaction
                // before it did anything only steps out of it (to run what cannot run in a transaction): nothing is
                // committed early, so nothing can be left half-applied.
                if (ctx.IsPostgres && tx.OpenedByFileAt is null && !ctx.Scope.NestingReported && tx.StatementsRun > 0)
                {
                    ctx.Scope.NestingReported = true;
                    ctx.Report(LintRules.NestedTransaction, 0, ctx.Tokens.Count - 1,
                        $"{statement.Control.ToString().ToUpperInvariant()} ends the runner's transaction early: the statements after it in {ctx.Migration.FileName} run outside any transaction");
                }

                tx.InTransaction = false;
                tx.OpenedByFileAt = null;
                ctx.Scope.OpenedBy = null;
                tx.StartNew();
                ctx.Scope.Session.EndTransaction();
                break;
        }
    }

    /// <summary>GK506: MySQL commits implicitly before DDL, so an explicit transaction around DDL is not atomic.</summary>
    public static void CheckImplicitCommit(StatementContext ctx)
    {
        var tx = ctx.Transaction;
        if (ctx.IsPostgres || tx.OpenedByFileAt is not { } opened || !IsMySqlDdl(ctx.Statement))
        {
            return;
        }

        ctx.Report(LintRules.MySqlImplicitCommit, 0, Math.Min(ctx.Tokens.Count - 1, 2),
            $"this DDL commits the transaction opened at {opened} implicitly; what ran before it is committed even if a later statement fails");
        tx.InTransaction = false;
        tx.OpenedByFileAt = null;
        ctx.Scope.OpenedBy = null;
    }

    private static bool IsMySqlDdl(ParsedStatement statement) => statement switch
    {
        CreateTableStatement { Temporary: false } or AlterTableStatement or CreateIndexStatement or DropIndexStatement or DropStatement
            or TruncateStatement or RenameTablesStatement or CreateViewStatement or CreateRoutineStatement or CreateTriggerStatement => true,
        OtherStatement other => other.Verb.StartsWith("create ", StringComparison.Ordinal) || other.Verb.StartsWith("alter ", StringComparison.Ordinal) ||
                                other.Verb.StartsWith("drop ", StringComparison.Ordinal) || other.Verb == "rename",
        _ => false,
    };

    /// <summary>GK502: a string literal equal to an enum value added earlier in the same transaction.</summary>
    public static void CheckNewEnumValueUse(StatementContext ctx)
    {
        var added = ctx.Transaction.AddedEnumValues;
        if (added.Count == 0 || ctx.Statement is AlterEnumAddValue or CreateRoutineStatement)
        {
            return;
        }

        var t = ctx.Tokens;
        for (var i = 0; i < t.Count; i++)
        {
            if (!t.IsKind(i, SqlTokenKind.String))
            {
                continue;
            }

            var value = t.StringValue(i);
            foreach (var (type, addedValue, where) in added)
            {
                if (string.Equals(value, addedValue, StringComparison.Ordinal))
                {
                    ctx.Report(LintRules.NewEnumValueInSameTransaction, i, i,
                        $"uses '{value}', which ALTER TYPE {type} ADD VALUE at {where} added in the same transaction; PostgreSQL rejects it until that transaction commits");
                    return;
                }
            }
        }
    }

    public static void CheckAddValue(StatementContext ctx, AlterEnumAddValue add)
    {
        if (!add.Positioned)
        {
            ctx.Report(LintRules.EnumValueOrdering, 0, ctx.Tokens.Count - 1, $"ADD VALUE '{add.Value}' to {add.Type} without BEFORE/AFTER appends it at the end");
        }

        if (ctx.Options.ServerMajorVersion is < 12 && !ctx.Transaction.TypesCreated.Contains(add.Type.Name))
        {
            RequireNoTransaction(ctx, 0, ctx.Tokens.Count - 1, $"ALTER TYPE … ADD VALUE (PostgreSQL {ctx.Options.ServerMajorVersion})");
        }
    }
}
