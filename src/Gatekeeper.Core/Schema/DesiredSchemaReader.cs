using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Schema;

/// <summary>
/// Reads a desired state: splits each file, keeps what defines the schema (and the session settings a dump relies on),
/// leaves out what is no part of it (owners, privileges), and refuses everything else with file:line, because data
/// changes and one-off commands in a desired state would run against the dev database on every plan and mean nothing.
/// Accepts what <c>pg_dump -s</c> and <c>mariadb-dump --no-data</c> write, unchanged.
/// </summary>
public static partial class DesiredSchemaReader
{
    /// <summary>The schema unqualified names in a PostgreSQL rename directive belong to.</summary>
    public const string DefaultPostgresSchema = "public";

    public static DesiredSchemaReadResult Read(IReadOnlyList<DesiredSchemaFile> files, SqlDialect dialect)
    {
        ArgumentNullException.ThrowIfNull(files);
        var problems = new List<string>();
        if (files.Count == 0)
        {
            return new DesiredSchemaReadResult(null, ["the desired state has no .sql files"]);
        }

        var ordered = files.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var statements = new List<DesiredStatement>();
        var renames = new List<DeclaredRename>();
        foreach (var file in ordered)
        {
            var text = dialect == SqlDialect.Postgres ? BlankPsqlMetaCommands(file, problems) : file.Text;
            var split = SqlSplitter.Split(text, dialect, file.Name);
            problems.AddRange(split.Problems.Select(p => $"{p.Location}: {p.Message}"));
            foreach (var statement in split.Statements)
            {
                var (kind, reason, refusal) = Classify(statement, dialect);
                if (refusal is not null)
                {
                    problems.Add($"{statement.Location}: {refusal}");
                    continue;
                }

                statements.Add(new DesiredStatement(statement, kind, reason));
            }

            renames.AddRange(ReadRenames(file, text, dialect, problems));
        }

        if (problems.Count == 0 && !statements.Any(s => s.Kind == DesiredStatementKind.Definition))
        {
            problems.Add($"the desired state ({string.Join(", ", ordered.Select(f => f.Name))}) defines nothing; an empty desired state would drop every object, so it is refused");
        }

        return problems.Count > 0
            ? new DesiredSchemaReadResult(null, problems)
            : new DesiredSchemaReadResult(new DesiredSchema(dialect, ordered, statements, renames, Hash(ordered)), []);
    }

    /// <summary>sha256 over every file's name and text, in name order: the same files give the same hash wherever they come from.</summary>
    public static string Hash(IReadOnlyList<DesiredSchemaFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("gatekeeper-desired-schema-v1\n"u8);
        foreach (var file in files.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file.Name));
            hash.AppendData("\0"u8);
            hash.AppendData(Encoding.UTF8.GetBytes(file.Text));
            hash.AppendData("\0"u8);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static (DesiredStatementKind Kind, string? Reason, string? Refusal) Classify(SqlStatement statement, SqlDialect dialect)
    {
        var words = LeadingWords(statement, dialect, 4);
        if (words.Count == 0)
        {
            // Only executable comments the server skips (MariaDB's /*M!999999\- enable the sandbox mode */).
            return (DesiredStatementKind.Skipped, "a client directive, not SQL", null);
        }

        var first = words[0];
        var second = words.Count > 1 ? words[1] : string.Empty;
        switch (first)
        {
            case "CREATE":
                return NotASchemaObject(words) is { } what
                    ? (DesiredStatementKind.Definition, null, $"CREATE {what} is not part of a database's schema; the desired state describes the objects inside the database Gatekeeper connects to")
                    : (DesiredStatementKind.Definition, null, null);
            case "ALTER" when second is "DATABASE" or "ROLE" or "USER" or "SYSTEM" or "SERVER" or "TABLESPACE":
                return (DesiredStatementKind.Definition, null, $"ALTER {second} is not part of a database's schema");
            case "ALTER" when second == "DEFAULT":
                return (DesiredStatementKind.Skipped, "default privileges are not compared", null);
            case "ALTER" when HasOwnerTo(statement):
                return (DesiredStatementKind.Skipped, "owners are not compared", null);
            case "ALTER" or "COMMENT" or "DROP":
                return (DesiredStatementKind.Definition, null, null);
            case "GRANT" or "REVOKE":
                return (DesiredStatementKind.Skipped, "privileges are not compared", null);
            case "SECURITY":
                return (DesiredStatementKind.Skipped, "security labels are not compared", null);
            case "SET" or "RESET":
                return second is "ROLE" or "SESSION" && words.Count > 2 && words[2] == "AUTHORIZATION" || second == "ROLE"
                    ? (DesiredStatementKind.Setting, null, "SET ROLE is refused: the desired state is loaded as the dev database's own user")
                    : (DesiredStatementKind.Setting, null, null);
            case "SELECT" when IsPgDumpSetConfig(statement):
                return (DesiredStatementKind.Setting, null, null);
            case "USE":
                return (DesiredStatementKind.Definition, null, "USE switches databases; the desired state describes the database Gatekeeper connects to, so leave it out (mysqldump writes it with --databases)");
            default:
                return (DesiredStatementKind.Definition, null,
                    $"{first} is not a definition: a desired state holds only CREATE, ALTER, COMMENT and DROP statements and session settings " +
                    "(data, transactions and one-off commands belong in a migration)");
        }
    }

    /// <summary>The kind of a CREATE that makes something outside the database (or something temporary), else null.</summary>
    private static string? NotASchemaObject(IReadOnlyList<string> words)
    {
        var kind = words.Skip(1).FirstOrDefault(w => w is not ("OR" or "REPLACE" or "GLOBAL" or "LOCAL")) ?? string.Empty;
        return kind switch
        {
            "DATABASE" or "ROLE" or "USER" or "TABLESPACE" or "PUBLICATION" or "SUBSCRIPTION" or "SERVER" => kind,
            "TEMP" or "TEMPORARY" => $"{kind} TABLE",
            _ => null,
        };
    }

    private static bool HasOwnerTo(SqlStatement statement)
    {
        string? previous = null;
        foreach (var token in statement.Tokens)
        {
            if (token.Kind != SqlTokenKind.Word)
            {
                continue;
            }

            var word = statement.TextOf(token);
            if (previous == "OWNER" && word.Equals("TO", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            previous = word.Equals("OWNER", StringComparison.OrdinalIgnoreCase) ? "OWNER" : null;
        }

        return false;
    }

    // pg_dump writes `SELECT pg_catalog.set_config('search_path', '', false);`: a setting, not a query.
    private static bool IsPgDumpSetConfig(SqlStatement statement) =>
        PgDumpSetConfig().IsMatch(statement.Text);

    [GeneratedRegex(@"^SELECT\s+(pg_catalog\.)?set_config\s*\(\s*'[a-z_]+'\s*,\s*'[^']*'\s*,\s*(false|true)\s*\)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex PgDumpSetConfig();

    /// <summary>
    /// The first words of a statement in upper case, looking inside MySQL executable comments (<c>/*!50001 CREATE … */</c>)
    /// and skipping comments. Executable comments meant for a server newer than any (<c>/*M!999999</c>) count as empty.
    /// </summary>
    private static List<string> LeadingWords(SqlStatement statement, SqlDialect dialect, int count)
    {
        var words = new List<string>(count);
        foreach (var token in statement.Tokens)
        {
            if (words.Count >= count)
            {
                break;
            }

            switch (token.Kind)
            {
                case SqlTokenKind.Word:
                    words.Add(statement.TextOf(token).ToString().ToUpperInvariant());
                    break;
                case SqlTokenKind.ExecutableComment:
                    var inner = ExecutableCommentBody(statement.TextOf(token).ToString());
                    if (inner is null)
                    {
                        continue;
                    }

                    foreach (var innerToken in SqlLexer.Tokenize(inner, dialect).Where(t => t.Kind == SqlTokenKind.Word))
                    {
                        if (words.Count >= count)
                        {
                            break;
                        }

                        words.Add(inner.Substring(innerToken.Start, innerToken.Length).ToUpperInvariant());
                    }

                    break;
                case SqlTokenKind.LineComment or SqlTokenKind.BlockComment:
                    break;
                default:
                    // Punctuation before any word (a parenthesised SELECT): take what is there.
                    if (words.Count == 0)
                    {
                        words.Add(statement.TextOf(token).ToString());
                    }

                    return words;
            }
        }

        return words;
    }

    /// <summary>The SQL inside <c>/*!NNNNN …*/</c> or <c>/*M!NNNNNN …*/</c>; null when the server would skip it.</summary>
    private static string? ExecutableCommentBody(string comment)
    {
        var body = comment[2..^2];
        if (body.StartsWith('M'))
        {
            body = body[1..];
        }

        body = body[1..];
        var digits = 0;
        while (digits < body.Length && char.IsAsciiDigit(body[digits]))
        {
            digits++;
        }

        if (digits >= 6 && body[..digits] == new string('9', digits))
        {
            return null;
        }

        return body[digits..];
    }

    /// <summary>
    /// Blanks psql's <c>\restrict</c>/<c>\unrestrict</c> lines (pg_dump 15.14+ writes them; they mean nothing to the server)
    /// keeping lines and columns; any other psql meta-command is reported.
    /// </summary>
    private static string BlankPsqlMetaCommands(DesiredSchemaFile file, List<string> problems)
    {
        var text = file.Text;
        if (!text.Contains('\\', StringComparison.Ordinal))
        {
            return text;
        }

        var tokens = SqlLexer.Tokenize(text, SqlDialect.Postgres);
        StringBuilder? blanked = null;
        foreach (var token in tokens)
        {
            if (token.Kind != SqlTokenKind.Operator || text[token.Start] != '\\' || !StartsLine(text, token.Start))
            {
                continue;
            }

            var end = text.IndexOf('\n', token.Start);
            end = end < 0 ? text.Length : end;
            var line = text[token.Start..end].TrimEnd('\r');
            var command = line.Split(' ', 2)[0];
            if (command is not ("\\restrict" or "\\unrestrict"))
            {
                // Reported once here; blanked below so it is not reported again as a statement.
                problems.Add($"{file.Name}:{token.Line}:{token.Column}: psql meta-command {command} is not SQL; a desired state is plain SQL the server runs");
            }

            blanked ??= new StringBuilder(text);
            for (var i = token.Start; i < end; i++)
            {
                if (blanked[i] is not ('\r' or '\n'))
                {
                    blanked[i] = ' ';
                }
            }
        }

        return blanked?.ToString() ?? text;
    }

    private static bool StartsLine(string text, int position)
    {
        for (var i = position - 1; i >= 0; i--)
        {
            if (text[i] == '\n')
            {
                return true;
            }

            if (text[i] is not (' ' or '\t' or '\r'))
            {
                return false;
            }
        }

        return true;
    }

    // -- gatekeeper:rename table [schema.]old to new
    // -- gatekeeper:rename column [schema.]table.old to new
    // -- gatekeeper:rename index [schema.]table.old to new
    // -- gatekeeper:rename value [schema.]type 'old label' to 'new label'   (PostgreSQL enums)
    [GeneratedRegex(@"^--\s*gatekeeper:rename\b(?<rest>.*)$", RegexOptions.IgnoreCase)]
    private static partial Regex RenameDirective();

    [GeneratedRegex(@"^\s+(?<target>table|column|index)\s+(?<old>\S+)\s+to\s+(?<new>\S+)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex RenameArguments();

    [GeneratedRegex(@"^\s+value\s+(?<type>\S+)\s+'(?<old>(?:[^']|'')*)'\s+to\s+'(?<new>(?:[^']|'')*)'\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex EnumValueRenameArguments();

    private static IEnumerable<DeclaredRename> ReadRenames(DesiredSchemaFile file, string text, SqlDialect dialect, List<string> problems)
    {
        if (!text.Contains("gatekeeper:rename", StringComparison.OrdinalIgnoreCase))
        {
            yield break;
        }

        foreach (var token in SqlLexer.Tokenize(text, dialect).Where(t => t.Kind == SqlTokenKind.LineComment))
        {
            var directive = RenameDirective().Match(text.Substring(token.Start, token.Length).TrimEnd());
            if (!directive.Success)
            {
                continue;
            }

            var location = new SourceLocation(file.Name, token.Line, token.Column);
            var valueRename = EnumValueRenameArguments().Match(directive.Groups["rest"].Value);
            if (valueRename.Success)
            {
                var typeParts = valueRename.Groups["type"].Value.Split('.').Select(p => p.Trim('"')).ToList();
                if (dialect != SqlDialect.Postgres || typeParts.Count > 2 || typeParts.Any(p => p.Length == 0))
                {
                    problems.Add($"{location}: rename value applies to PostgreSQL enum types: write -- gatekeeper:rename value [schema.]type 'old' to 'new'");
                    continue;
                }

                var type = new ObjectName(typeParts.Count == 2 ? typeParts[0] : DefaultPostgresSchema, typeParts[^1]);
                yield return new DeclaredRename(RenameTarget.EnumValue, type, valueRename.Groups["old"].Value.Replace("''", "'", StringComparison.Ordinal),
                    valueRename.Groups["new"].Value.Replace("''", "'", StringComparison.Ordinal), location);
                continue;
            }

            var arguments = RenameArguments().Match(directive.Groups["rest"].Value);
            if (!arguments.Success)
            {
                problems.Add($"{location}: rename directive is malformed; write -- gatekeeper:rename table|column|index OLD to NEW (OLD is [schema.]table, or [schema.]table.name for a column or index), or -- gatekeeper:rename value [schema.]type 'old' to 'new'");
                continue;
            }

            var target = Enum.Parse<RenameTarget>(arguments.Groups["target"].Value, ignoreCase: true);
            var parts = arguments.Groups["old"].Value.Split('.').Select(p => p.Trim('"', '`')).ToList();
            var newName = arguments.Groups["new"].Value.Trim('"', '`');
            var tableParts = target == RenameTarget.Table ? parts.Count : parts.Count - 1;
            var maxTableParts = dialect == SqlDialect.Postgres ? 2 : 1;
            if (tableParts < 1 || tableParts > maxTableParts || parts.Any(p => p.Length == 0) || newName.Length == 0 || newName.Contains('.', StringComparison.Ordinal))
            {
                problems.Add($"{location}: rename directive names '{arguments.Groups["old"].Value}' to '{arguments.Groups["new"].Value}'; " +
                             (dialect == SqlDialect.Postgres ? "OLD is [schema.]table (or [schema.]table.name) and NEW a bare name" : "OLD is table (or table.name) and NEW a bare name"));
                continue;
            }

            var schema = dialect == SqlDialect.Postgres ? tableParts == 2 ? parts[0] : DefaultPostgresSchema : null;
            var table = new ObjectName(schema, parts[tableParts - 1]);
            yield return target == RenameTarget.Table
                ? new DeclaredRename(target, table, table.Name, newName, location)
                : new DeclaredRename(target, table, parts[^1], newName, location);
        }
    }
}
