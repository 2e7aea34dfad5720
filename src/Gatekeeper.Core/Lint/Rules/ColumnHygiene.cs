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
