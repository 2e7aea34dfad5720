using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Databases.Execution;

/// <summary>How a migration's statements reach the server.</summary>
internal enum ExecutionMode
{
    /// <summary>PostgreSQL: every statement and the history row in one transaction; a failure leaves nothing behind.</summary>
    Transaction,
    /// <summary>
    /// One statement at a time, each committed on its own (MySQL, whose DDL commits implicitly; PostgreSQL files that
    /// opt out of a transaction or manage their own). The history row is marked dirty before and cleared after.
    /// </summary>
    StatementByStatement,
}

/// <summary>A statement of a migration and, when it is one, the transaction command it issues.</summary>
internal sealed record ScriptStatement(SqlStatement Statement, TransactionControl Control)
{
    public string Text => Statement.Text;

    public SourceLocation Location => Statement.Location;
}

internal enum TransactionControl
{
    None,
    Begin,
    Commit,
    Rollback,
}

/// <summary>
/// A migration cut into statements, with the decisions the executor needs: how to run it, and whether the file sets
/// its own lock timeout (then Gatekeeper's default is not imposed).
/// </summary>
/// <remarks>
/// Files with their own <c>BEGIN;</c> … <c>COMMIT;</c> (openmeter has 16) are handled so that they apply as their
/// authors ran them: on PostgreSQL a file whose first statement is <c>BEGIN</c> and last is <c>COMMIT</c>, with no
/// other transaction command, runs its inner statements in Gatekeeper's own transaction (the same atomicity, plus the
/// history row in that transaction); any other arrangement runs statement by statement, its own transaction commands
/// passed to the server, with the dirty mark around it.
/// </remarks>
internal sealed record MigrationScript(
    Migration Migration,
    IReadOnlyList<ScriptStatement> Statements,
    ExecutionMode Mode,
    bool SetsOwnLockTimeout)
{
    /// <param name="serverMajorVersion">The server's major version, which decides whether some files run in a
    /// transaction (<see cref="Migration.TransactionalOn"/>); null when unknown.</param>
    /// <param name="modes">The MySQL session's modes the file runs in (its <c>sql_mode</c>), which decide where its statements end.</param>
    public static MigrationScript Prepare(Migration migration, SqlEngine engine, int? serverMajorVersion, SqlModes modes, out IReadOnlyList<SqlSyntaxProblem> problems)
    {
        var split = SqlSplitter.Split(migration.UpSql, engine.Dialect, migration.FileName, migration.UpStartLine, modes);
        problems = split.Problems;
        var statements = split.Statements.Select(s => new ScriptStatement(s, ControlOf(s))).ToList();
        var setsLockTimeout = statements.Any(s => SetsLockTimeout(s.Statement, engine));

        if (!engine.TransactionalDdl || !migration.TransactionalOn(serverMajorVersion))
        {
            return new MigrationScript(migration, statements, ExecutionMode.StatementByStatement, setsLockTimeout);
        }

        var controls = statements.Count(s => s.Control != TransactionControl.None);
        if (controls == 0)
        {
            return new MigrationScript(migration, statements, ExecutionMode.Transaction, setsLockTimeout);
        }

        if (controls == 2 && statements.Count >= 2 && statements[0].Control == TransactionControl.Begin && statements[^1].Control == TransactionControl.Commit)
        {
            return new MigrationScript(migration, statements.Skip(1).Take(statements.Count - 2).ToList(), ExecutionMode.Transaction, setsLockTimeout);
        }

        return new MigrationScript(migration, statements, ExecutionMode.StatementByStatement, setsLockTimeout);
    }

    /// <summary>The major version in a connection's <see cref="System.Data.Common.DbConnection.ServerVersion"/> ("15.4", "10.11.6-MariaDB"); null when it has none.</summary>
    public static int? MajorVersion(string? serverVersion) => ServerVersion.Parse(serverVersion)?.Major;

    /// <summary>The leading keyword of a statement, skipping comments; empty when it starts with something else.</summary>
    public static string FirstWord(SqlStatement statement, int skip = 0)
    {
        foreach (var token in statement.Tokens)
        {
            if (token.Kind is SqlTokenKind.LineComment or SqlTokenKind.BlockComment)
            {
                continue;
            }

            if (skip-- > 0)
            {
                continue;
            }

            return token.Kind == SqlTokenKind.Word ? statement.TextOf(token).ToString().ToUpperInvariant() : string.Empty;
        }

        return string.Empty;
    }

    private static TransactionControl ControlOf(SqlStatement statement) => FirstWord(statement) switch
    {
        "BEGIN" => TransactionControl.Begin,
        "START" when FirstWord(statement, 1) == "TRANSACTION" => TransactionControl.Begin,
        "COMMIT" or "END" => TransactionControl.Commit,
        // ROLLBACK TO SAVEPOINT stays inside the transaction.
        "ROLLBACK" or "ABORT" when FirstWord(statement, 1) != "TO" => TransactionControl.Rollback,
        _ => TransactionControl.None,
    };

    private static bool SetsLockTimeout(SqlStatement statement, SqlEngine engine)
    {
        if (FirstWord(statement) != "SET")
        {
            return false;
        }

        foreach (var token in statement.Tokens)
        {
            if (token.Kind != SqlTokenKind.Word)
            {
                continue;
            }

            var word = statement.TextOf(token);
            foreach (var setting in engine.LockTimeoutSettings)
            {
                if (word.Equals(setting, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
