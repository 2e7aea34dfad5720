using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Schema;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Databases.Schema;

/// <summary>
/// Reads the text of <c>SHOW CREATE TABLE</c> into a <see cref="TableModel"/>: one item per top-level comma of the
/// parenthesised body (columns, keys, constraints), table options after it. The server prints this text in one canonical
/// form, so the pieces are kept verbatim: they are what is compared and what is written back.
/// </summary>
internal static partial class MySqlCreateTableParser
{
    public static TableModel Parse(string createTable)
    {
        ArgumentNullException.ThrowIfNull(createTable);
        var tokens = SqlLexer.Tokenize(createTable, SqlDialect.MySql);
        var open = IndexOf(tokens, t => t.Kind == SqlTokenKind.OpenParen);
        if (open < 0 || open == 0)
        {
            throw new FormatException("SHOW CREATE TABLE printed no column list");
        }

        var name = Unquote(createTable, tokens[open - 1]);
        var items = new List<(int Start, int End, int FirstToken)>();
        var depth = 0;
        var itemStart = -1;
        var firstToken = -1;
        var close = -1;
        for (var i = open + 1; i < tokens.Count && close < 0; i++)
        {
            var token = tokens[i];
            if (itemStart < 0)
            {
                itemStart = token.Start;
                firstToken = i;
            }

            switch (token.Kind)
            {
                case SqlTokenKind.OpenParen:
                    depth++;
                    break;
                case SqlTokenKind.CloseParen when depth == 0:
                    items.Add((itemStart, tokens[i - 1].Start + tokens[i - 1].Length, firstToken));
                    close = i;
                    break;
                case SqlTokenKind.CloseParen:
                    depth--;
                    break;
                case SqlTokenKind.Operator when depth == 0 && createTable[token.Start] == ',':
                    items.Add((itemStart, tokens[i - 1].Start + tokens[i - 1].Length, firstToken));
                    itemStart = -1;
                    break;
            }
        }

        if (close < 0)
        {
            throw new FormatException($"SHOW CREATE TABLE of {name} has an unbalanced column list");
        }

        var columns = new List<ColumnModel>();
        var constraints = new List<ConstraintModel>();
        var indexes = new List<IndexModel>();
        foreach (var (start, end, first) in items)
        {
            var text = createTable[start..end];
            var head = tokens[first];
            if (head.Kind == SqlTokenKind.QuotedIdentifier)
            {
                var columnName = Unquote(createTable, head);
                columns.Add(new ColumnModel(columnName, string.Empty) { Definition = createTable[(head.Start + head.Length)..end].Trim() });
                continue;
            }

            ParseKey(text, constraints, indexes);
        }

        var (options, autoIncrement, comment) = ParseOptions(createTable[(tokens[close].Start + 1)..]);
        return new TableModel(new ObjectName(null, name))
        {
            Columns = columns,
            Constraints = constraints,
            Indexes = indexes,
            Options = options,
            AutoIncrement = autoIncrement,
            Comment = comment,
        };
    }

    private static void ParseKey(string text, List<ConstraintModel> constraints, List<IndexModel> indexes)
    {
        var primary = PrimaryKey().Match(text);
        if (primary.Success)
        {
            constraints.Add(new ConstraintModel("PRIMARY", ConstraintKind.PrimaryKey, text) { Columns = ColumnList(primary.Groups["columns"].Value) });
            return;
        }

        var key = Key().Match(text);
        if (key.Success)
        {
            var kind = key.Groups["kind"].Value.ToUpperInvariant();
            var rest = text[key.Groups["rest"].Index..];
            indexes.Add(new IndexModel(UnquoteName(key.Groups["name"].Value), kind == "UNIQUE", rest)
            {
                Kind = kind is "FULLTEXT" or "SPATIAL" ? kind : null,
                Columns = ColumnList(FirstParenthesised(rest)),
            });
            return;
        }

        var constraint = Constraint().Match(text);
        if (!constraint.Success)
        {
            throw new FormatException($"SHOW CREATE TABLE printed an item Gatekeeper does not know: {text}");
        }

        var constraintName = UnquoteName(constraint.Groups["name"].Value);
        var body = text[constraint.Groups["body"].Index..];
        var foreign = ForeignKey().Match(body);
        if (foreign.Success)
        {
            var target = foreign.Groups["table"].Value.Split("`.`");
            constraints.Add(new ConstraintModel(constraintName, ConstraintKind.ForeignKey, body)
            {
                Columns = ColumnList(foreign.Groups["columns"].Value),
                References = new ObjectName(target.Length == 2 ? UnquoteName(target[0] + "`") : null, UnquoteName(target.Length == 2 ? "`" + target[1] : target[0])),
                ReferencedColumns = ColumnList(foreign.Groups["referenced"].Value),
            });
            return;
        }

        constraints.Add(new ConstraintModel(constraintName, body.StartsWith("UNIQUE", StringComparison.OrdinalIgnoreCase) ? ConstraintKind.Unique : ConstraintKind.Check, body));
    }

    private static (Dictionary<string, string> Options, long? AutoIncrement, string? Comment) ParseOptions(string text)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        long? autoIncrement = null;
        string? comment = null;
        var partition = text.IndexOf("PARTITION BY", StringComparison.OrdinalIgnoreCase);
        var head = partition >= 0 ? text[..partition] : text;
        foreach (Match option in TableOption().Matches(head))
        {
            var key = Regex.Replace(option.Groups["key"].Value.ToUpperInvariant(), @"\s+", " ");
            var value = option.Groups["value"].Value;
            switch (key)
            {
                case "AUTO_INCREMENT":
                    autoIncrement = long.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "COMMENT":
                    comment = UnquoteString(value);
                    break;
                default:
                    options[key] = value;
                    break;
            }
        }

        if (partition >= 0)
        {
            // Partitioning is kept whole: compared as text, so a difference shows, but never rewritten.
            options["PARTITION"] = text[partition..].Trim().TrimEnd('/', '*', ' ');
        }

        return (options, autoIncrement, comment);
    }

    private static int IndexOf(IReadOnlyList<SqlToken> tokens, Func<SqlToken, bool> predicate)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (predicate(tokens[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static string Unquote(string text, SqlToken token) => UnquoteName(text.Substring(token.Start, token.Length));

    internal static string UnquoteName(string quoted) =>
        quoted.Length >= 2 && quoted[0] == '`' && quoted[^1] == '`' ? quoted[1..^1].Replace("``", "`", StringComparison.Ordinal) : quoted;

    /// <summary>Undoes SHOW CREATE's escaping of a string literal (<c>''</c>, <c>\\</c>, <c>\n</c>…).</summary>
    internal static string UnquoteString(string literal)
    {
        if (literal.Length < 2 || literal[0] != '\'' || literal[^1] != '\'')
        {
            return literal;
        }

        var inner = literal[1..^1];
        var text = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (c == '\'' && i + 1 < inner.Length && inner[i + 1] == '\'')
            {
                text.Append('\'');
                i++;
            }
            else if (c == '\\' && i + 1 < inner.Length)
            {
                i++;
                text.Append(inner[i] switch
                {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    'Z' => '\x1a',
                    var other => other,
                });
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    /// <summary>The quoted column names of a key's column list (<c>`a`,`b`(10) DESC</c>), prefix lengths and order dropped.</summary>
    private static List<string> ColumnList(string list) =>
        QuotedName().Matches(list).Select(m => UnquoteName(m.Value)).ToList();

    private static string FirstParenthesised(string text)
    {
        var start = text.IndexOf('(', StringComparison.Ordinal);
        if (start < 0)
        {
            return string.Empty;
        }

        var depth = 0;
        for (var i = start; i < text.Length; i++)
        {
            depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
            if (depth == 0)
            {
                return text[(start + 1)..i];
            }
        }

        return text[(start + 1)..];
    }

    [GeneratedRegex(@"^PRIMARY KEY \((?<columns>.*?)\)(?=\s|$)", RegexOptions.Singleline)]
    private static partial Regex PrimaryKey();

    [GeneratedRegex(@"^(?:(?<kind>UNIQUE|FULLTEXT|SPATIAL) )?KEY (?<name>`(?:[^`]|``)*`) (?<rest>.*)$", RegexOptions.Singleline)]
    private static partial Regex Key();

    [GeneratedRegex(@"^CONSTRAINT (?<name>`(?:[^`]|``)*`) (?<body>.*)$", RegexOptions.Singleline)]
    private static partial Regex Constraint();

    [GeneratedRegex(@"^FOREIGN KEY \((?<columns>[^)]*)\) REFERENCES (?<table>`(?:[^`]|``)*`(?:\.`(?:[^`]|``)*`)?) \((?<referenced>[^)]*)\)", RegexOptions.Singleline)]
    private static partial Regex ForeignKey();

    [GeneratedRegex(@"(?<key>[A-Za-z_]+(?: [A-Za-z_]+)?)=(?<value>'(?:[^'\\]|\\.|'')*'|[^\s]+)")]
    private static partial Regex TableOption();

    [GeneratedRegex(@"`(?:[^`]|``)*`")]
    private static partial Regex QuotedName();
}
