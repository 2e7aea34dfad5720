using System.Text;
using Gatekeeper.Core.Lint.Analysis;
using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Rules;

/// <summary>Hygiene rules on column and object definitions (GK601–GK607, GK610, GK612), wherever a column is declared.</summary>
internal static class ColumnHygiene
{
    public static void CheckColumn(StatementContext ctx, ColumnDefinition column, bool isKey)
    {
        var t = ctx.Tokens;
        var type = column.Type;
        CheckName(ctx, column.Name, column.NameToken, "column");
        if (type is null)
        {
            return;
        }

        var typeToken = column.NameToken + 1;
        if (type.IsSmallInteger && (isKey || column.PrimaryKey || column.Identity || column.AutoIncrement || type.IsSerial))
        {
            ctx.Report(LintRules.PreferBigint, typeToken, typeToken, $"key column {column.Name} is {type.Display}, which runs out after {(type.Name is "smallint" or "smallserial" ? "32,767" : "2,147,483,647")} values");
        }

        if (!ctx.IsPostgres)
        {
            if (column.References is { } referenced)
            {
                var at = t.FindWord(column.Start, column.End, "references");
                ctx.Report(LintRules.MySqlInlineReferences, at, at + 1, $"inline REFERENCES {referenced} on column {column.Name} creates no foreign key before MySQL 9.0");
            }

            CheckOnServer(ctx, column);
            return;
        }

        if (type.IsSerial)
        {
            ctx.Report(LintRules.PreferIdentity, typeToken, typeToken, $"column {column.Name} is {type.Display}; identity columns replace serial");
        }

        if (type.Name == "varchar" && type.Length is not null && !type.IsArray)
        {
            ctx.Report(LintRules.PreferText, typeToken, typeToken, $"column {column.Name} is {type.Display}");
        }

        if (type.Name == "timestamp")
        {
            ctx.Report(LintRules.PreferTimestamptz, typeToken, typeToken, $"column {column.Name} is {type.Display} (without time zone)");
        }

        if (type.Name == "char" && !t.IsKind(typeToken, SqlTokenKind.QuotedIdentifier))
        {
            ctx.Report(LintRules.CharColumn, typeToken, typeToken, $"column {column.Name} is {type.Display}");
        }
    }

    /// <summary>What a MySQL or MariaDB of the known version refuses (GK004) or ignores (GK614) in a column definition.</summary>
    private static void CheckOnServer(StatementContext ctx, ColumnDefinition column)
    {
        var server = ctx.Plan.MySqlServer;
        if (column.Default is { IsNull: false } value && IsExpressionDefault(ctx.Tokens, value) && MySqlVersionRules.RefusesExpressionDefault(server) is { } refused)
        {
            ctx.Report(LintRules.RefusedByServer, value.Start, value.End - 1, $"column {column.Name}'s default is an expression: {refused}");
        }

        if (column.HasCheck && MySqlVersionRules.CheckIgnored(server) is { } ignored)
        {
            var at = Math.Max(column.Start, ctx.Tokens.FindWord(column.Start, column.End, "check"));
            ctx.Report(LintRules.MySqlCheckIgnored, at, at, $"the CHECK on column {column.Name}: {ignored}");
        }
    }

    /// <summary>
    /// A default other than a literal or CURRENT_TIMESTAMP (and its synonyms): <c>DEFAULT (UUID())</c>, <c>DEFAULT (price * 2)</c>.
    /// MySQL before 8.0.13 accepts only those two kinds.
    /// </summary>
    private static bool IsExpressionDefault(StatementTokens t, ColumnDefault value)
    {
        if (t.IsOpen(value.Start))
        {
            return true;
        }

        for (var i = value.Start; i < value.End; i++)
        {
            if (t.IsName(i) && t.IsOpen(i + 1) && !t.IsAnyWord(i, ["current_timestamp", "now", "localtime", "localtimestamp"]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>GK607: PostgreSQL truncates identifiers past 63 bytes (a notice only); MySQL rejects names past 64 characters.</summary>
    public static void CheckName(StatementContext ctx, string? name, int token, string what)
    {
        if (name is null)
        {
            return;
        }

        if (ctx.IsPostgres)
        {
            var bytes = Encoding.UTF8.GetByteCount(name);
            if (bytes > 63)
            {
                ctx.Report(LintRules.IdentifierTooLong, token, token, $"{what} name {name} is {bytes} bytes; PostgreSQL silently truncates it to 63");
            }
        }
        else if (name.Length > 64)
        {
            ctx.Report(LintRules.IdentifierTooLong, token, token, $"{what} name {name} is {name.Length} characters; MySQL rejects names longer than 64", severity: LintSeverity.Error);
        }
    }

    /// <summary>GK610 (opt-in): the table's schema is left to search_path.</summary>
    public static void CheckSchemaQualified(StatementContext ctx, ObjectName table)
    {
        if (ctx.IsPostgres && table.Schema is null)
        {
            ctx.Report(LintRules.RequireSchema, table.Token, table.Token, $"table {table} is not schema-qualified");
        }
    }
}
