using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Sql;
using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Databases.Execution;

/// <summary>The few statements and error details in which PostgreSQL and MySQL differ for the executor.</summary>
internal abstract partial class EngineSql
{
    public static readonly EngineSql Postgres = new PostgresSql();
    public static readonly EngineSql MySql = new MySqlSql();

    public abstract SqlDialect Dialect { get; }

    public abstract string SetLockTimeout(TimeSpan timeout, bool transactionLocal);

    public abstract string ResetLockTimeout { get; }

    /// <summary>Points the location at the error inside the statement when the server says where it is.</summary>
    public abstract SourceLocation Locate(SqlStatement statement, Exception exception);

    /// <summary>
    /// Whether a migration's statements go to the server as one batch; <see cref="StoppedAt"/> then names the statement
    /// a failure stopped at.
    /// </summary>
    public virtual bool SendsBatches => false;

    /// <summary>The index of the first batch command that did not complete (the refused or interrupted one), or -1.</summary>
    public virtual int StoppedAt(DbBatch batch) => -1;

    public static EngineSql For(SqlDialect dialect) => dialect == SqlDialect.Postgres ? Postgres : MySql;

    /// <summary>The location of a 0-based character offset inside a statement's text.</summary>
    protected static SourceLocation At(SqlStatement statement, int offset)
    {
        var text = statement.Text;
        offset = Math.Clamp(offset, 0, text.Length);
        var lines = 0;
        var lineStart = -1;
        for (var i = 0; i < offset; i++)
        {
            if (text[i] == '\n')
            {
                lines++;
                lineStart = i;
            }
        }

        var start = statement.Location;
        return lines == 0
            ? start with { Column = start.Column + offset }
            : start with { Line = start.Line + lines, Column = offset - lineStart };
    }

    private sealed class PostgresSql : EngineSql
    {
        public override SqlDialect Dialect => SqlDialect.Postgres;

        public override string SetLockTimeout(TimeSpan timeout, bool transactionLocal) =>
            $"SET {(transactionLocal ? "LOCAL " : string.Empty)}lock_timeout = '{(long)Math.Max(1, timeout.TotalMilliseconds)}ms'";

        public override string ResetLockTimeout => "RESET lock_timeout";

        public override bool SendsBatches => true;

        // Npgsql gives each command that completed a statement type from the server's CommandComplete tag (DDL is
        // "Other"); the first one still Unknown is where the batch stopped, whether refused or cut off.
        public override int StoppedAt(DbBatch batch)
        {
            for (var i = 0; i < batch.BatchCommands.Count; i++)
            {
                if (batch.BatchCommands[i] is NpgsqlBatchCommand { StatementType: StatementType.Unknown })
                {
                    return i;
                }
            }

            return -1;
        }

        // Position is 1-based, in characters of the statement text Gatekeeper sent.
        public override SourceLocation Locate(SqlStatement statement, Exception exception) =>
            exception is PostgresException { Position: > 0 } pg ? At(statement, pg.Position - 1) : statement.Location;
    }

    private sealed partial class MySqlSql : EngineSql
    {
        public override SqlDialect Dialect => SqlDialect.MySql;

        // lock_wait_timeout takes whole seconds, at least 1.
        public override string SetLockTimeout(TimeSpan timeout, bool transactionLocal) =>
            $"SET SESSION lock_wait_timeout = {Math.Max(1, (long)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture)}";

        public override string ResetLockTimeout => "SET SESSION lock_wait_timeout = DEFAULT";

        // Syntax errors end with "... near '<text>' at line N", N counted from the statement's first line.
        public override SourceLocation Locate(SqlStatement statement, Exception exception)
        {
            if (exception is not MySqlException { ErrorCode: MySqlErrorCode.ParseError } my)
            {
                return statement.Location;
            }

            var match = NearAtLine().Match(my.Message);
            if (!match.Success || !int.TryParse(match.Groups["line"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var line) || line < 1)
            {
                return statement.Location;
            }

            var near = match.Groups["near"].Value;
            var text = statement.Text;
            var lineStart = 0;
            for (var l = 1; l < line && lineStart >= 0; l++)
            {
                lineStart = text.IndexOf('\n', lineStart) is var nl && nl >= 0 ? nl + 1 : -1;
            }

            if (lineStart < 0)
            {
                return statement.Location;
            }

            var at = near.Length > 0 ? text.IndexOf(near, lineStart, StringComparison.Ordinal) : -1;
            return At(statement, at >= 0 ? at : lineStart);
        }

        [GeneratedRegex(@"near '(?<near>.*)' at line (?<line>\d+)$", RegexOptions.Singleline)]
        private static partial Regex NearAtLine();
    }
}
