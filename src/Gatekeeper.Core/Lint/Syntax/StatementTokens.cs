using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>
/// The code tokens of one statement (comments, terminators and client directives removed) with the small
/// vocabulary the statement parser needs: case-insensitive keyword tests, parenthesis matching and identifier
/// normalisation. Offsets index <see cref="Source"/>, the whole file text, so embedded SQL (a <c>DO</c> body,
/// a MySQL executable comment) keeps its real file position.
/// </summary>
internal sealed class StatementTokens
{
    private readonly ArraySegment<SqlToken> tokens;

    /// <param name="tokens">Code tokens only (no comments or terminators); a slice of the splitter's array when the statement has no comments, so nothing is copied.</param>
    /// <param name="modes">The MySQL modes the statement was read in: embedded text is read in them too.</param>
    public StatementTokens(string source, string file, SqlDialect dialect, ArraySegment<SqlToken> tokens, SqlModes modes = SqlModes.None)
    {
        Source = source;
        File = file;
        Dialect = dialect;
        this.tokens = tokens;
        Modes = modes;
    }

    public string Source { get; }

    public string File { get; }

    public SqlDialect Dialect { get; }

    public SqlModes Modes { get; }

    public int Count => tokens.Count;

    /// <summary>
    /// The same tokens in an array of their own, for a parsed statement kept beyond its statement: a slice of the
    /// splitter's chunk would keep the whole chunk (up to 80 KB) alive, and the collector would copy it at every promotion.
    /// </summary>
    public StatementTokens Detached() =>
        tokens.Offset == 0 && tokens.Count == (tokens.Array?.Length ?? 0) ? this : new StatementTokens(Source, File, Dialect, tokens.ToArray(), Modes);

    public SqlToken this[int index] => tokens[index];

    public static bool IsCode(SqlTokenKind kind) => kind switch
    {
        SqlTokenKind.LineComment or SqlTokenKind.BlockComment or SqlTokenKind.Terminator or SqlTokenKind.DelimiterDirective => false,
        _ => true,
    };

    public ReadOnlySpan<char> Text(int index) => Source.AsSpan(tokens[index].Start, tokens[index].Length);

    public string TextString(int index) => Source.Substring(tokens[index].Start, tokens[index].Length);

    public SourceLocation LocationOf(int index) =>
        index < tokens.Count ? new SourceLocation(File, tokens[index].Line, tokens[index].Column) :
        tokens.Count > 0 ? new SourceLocation(File, tokens[^1].Line, tokens[^1].Column) : new SourceLocation(File, 1, 1);

    /// <summary>Characters from the start of token <paramref name="first"/> to the end of token <paramref name="last"/>.</summary>
    public int SpanLength(int first, int last)
    {
        if (first >= tokens.Count)
        {
            return 1;
        }

        last = Math.Clamp(last, first, tokens.Count - 1);
        return tokens[last].Start + tokens[last].Length - tokens[first].Start;
    }

    public bool IsWord(int index, string word) =>
        index < tokens.Count && tokens[index].Kind == SqlTokenKind.Word && Text(index).Equals(word, StringComparison.OrdinalIgnoreCase);

    public bool IsWord(int index, string first, string second) => IsWord(index, first) && IsWord(index + 1, second);

    public bool IsWord(int index, string first, string second, string third) => IsWord(index, first, second) && IsWord(index + 2, third);

    public bool IsAnyWord(int index, ReadOnlySpan<string> words)
    {
        if (index >= tokens.Count || tokens[index].Kind != SqlTokenKind.Word)
        {
            return false;
        }

        var text = Text(index);
        foreach (var word in words)
        {
            if (text.Equals(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public bool IsKind(int index, SqlTokenKind kind) => index < tokens.Count && tokens[index].Kind == kind;

    public bool IsOperator(int index, string op) =>
        index < tokens.Count && tokens[index].Kind == SqlTokenKind.Operator && Text(index).SequenceEqual(op);

    public bool IsComma(int index) => IsOperator(index, ",");

    public bool IsOpen(int index) => IsKind(index, SqlTokenKind.OpenParen);

    public bool IsClose(int index) => IsKind(index, SqlTokenKind.CloseParen);

    public bool IsName(int index) => IsKind(index, SqlTokenKind.Word) || IsKind(index, SqlTokenKind.QuotedIdentifier);

    /// <summary>From an opening parenthesis, the index just after its matching close (or the end when unbalanced).</summary>
    public int SkipParens(int index)
    {
        var depth = 0;
        for (var i = index; i < tokens.Count; i++)
        {
            if (tokens[i].Kind == SqlTokenKind.OpenParen)
            {
                depth++;
            }
            else if (tokens[i].Kind == SqlTokenKind.CloseParen && --depth == 0)
            {
                return i + 1;
            }
        }

        return tokens.Count;
    }

    /// <summary>The first index in [from, to) holding <paramref name="word"/> outside parentheses, or -1.</summary>
    public int FindWord(int from, int to, string word)
    {
        var depth = 0;
        for (var i = from; i < to && i < tokens.Count; i++)
        {
            switch (tokens[i].Kind)
            {
                case SqlTokenKind.OpenParen:
                    depth++;
                    break;
                case SqlTokenKind.CloseParen:
                    depth--;
                    break;
                case SqlTokenKind.Word when depth == 0 && Text(i).Equals(word, StringComparison.OrdinalIgnoreCase):
                    return i;
            }
        }

        return -1;
    }

    /// <summary>True when <paramref name="word"/> appears anywhere in [from, to), inside parentheses too.</summary>
    public bool ContainsWord(int from, int to, string word)
    {
        for (var i = from; i < to && i < tokens.Count; i++)
        {
            if (tokens[i].Kind == SqlTokenKind.Word && Text(i).Equals(word, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Splits [from, to) at commas outside parentheses into [start, end) ranges.</summary>
    /// <remarks>Found as the caller's foreach asks (a list of ranges per column list, type and SET clause was a few percent of the linter's allocation).</remarks>
    public TopLevelParts SplitTopLevel(int from, int to) => new(this, from, to);

    /// <summary>The ranges <see cref="SplitTopLevel"/> finds, one at a time.</summary>
    public readonly struct TopLevelParts(StatementTokens tokens, int from, int to) : IEnumerable<(int Start, int End)>
    {
        public Enumerator GetEnumerator() => new(tokens, from, to);

        IEnumerator<(int Start, int End)> IEnumerable<(int Start, int End)>.GetEnumerator() => GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public struct Enumerator(StatementTokens tokens, int from, int to) : IEnumerator<(int Start, int End)>
        {
            private int next = from;

            public (int Start, int End) Current { get; private set; }

            readonly object System.Collections.IEnumerator.Current => Current;

            public bool MoveNext()
            {
                if (next >= to)
                {
                    return false;
                }

                var start = next;
                var depth = 0;
                for (var i = start; i < to; i++)
                {
                    switch (tokens.tokens[i].Kind)
                    {
                        case SqlTokenKind.OpenParen:
                            depth++;
                            break;
                        case SqlTokenKind.CloseParen:
                            depth--;
                            break;
                        case SqlTokenKind.Operator when depth == 0 && tokens.IsComma(i):
                            Current = (start, i);
                            next = i + 1;
                            return true;
                    }
                }

                Current = (start, to);
                next = to;
                return true;
            }

            public void Reset() => throw new NotSupportedException();

            public readonly void Dispose()
            {
            }
        }
    }

    /// <summary>
    /// The identifier at <paramref name="index"/> as the server resolves it: unquoted names fold to lower case,
    /// quoted ones keep their case on PostgreSQL; MySQL names compare case-insensitively, so they are folded too.
    /// </summary>
    public string Identifier(int index)
    {
        var token = tokens[index];
        var text = Text(index);
        if (token.Kind != SqlTokenKind.QuotedIdentifier)
        {
            return IdentifierTable.Lowered(Source, token.Start, token.Length);
        }

        var inner = text.Length >= 2 ? text[1..^1] : text;
        var quote = text[0];
        if (!inner.Contains(quote) && Dialect != SqlDialect.MySql)
        {
            return IdentifierTable.Exact(inner);
        }

        var unquoted = inner.Contains(quote) ? inner.ToString().Replace(new string(quote, 2), quote.ToString(), StringComparison.Ordinal) : inner.ToString();
        return Dialect == SqlDialect.MySql ? unquoted.ToLowerInvariant() : unquoted;
    }

    /// <summary>The value of a string literal token without quotes, prefixes (E, N, X, B, _charset) or doubled quotes.</summary>
    public string StringValue(int index)
    {
        var text = Text(index);
        var open = text.IndexOfAny('\'', '"');
        if (open < 0 || text.Length - open < 2)
        {
            return text.ToString();
        }

        var quote = text[open];
        var inner = text[(open + 1)..^1];
        var value = inner.ToString().Replace(new string(quote, 2), quote.ToString(), StringComparison.Ordinal);
        return (Dialect == SqlDialect.MySql && (Modes & SqlModes.NoBackslashEscapes) == 0) || (Dialect != SqlDialect.MySql && open > 0 && (text[0] is 'E' or 'e')) ? value.Replace("\\'", "'", StringComparison.Ordinal) : value;
    }

    /// <summary>Reads <c>name</c>, <c>schema.name</c> or <c>db.schema.name</c> at <paramref name="index"/>; returns false when no name is there.</summary>
    public bool TryReadName(ref int index, out ObjectName name)
    {
        name = default;
        if (!IsName(index))
        {
            return false;
        }

        // The last two parts are the schema and the name (db.schema.name); no list for them, names are read everywhere.
        var first = index;
        string? qualifier = null;
        var last = Identifier(index);
        index++;
        while (IsOperator(index, ".") && IsName(index + 1))
        {
            qualifier = last;
            last = Identifier(index + 1);
            index += 2;
        }

        name = new ObjectName(qualifier, last, first);
        return true;
    }

    public ObjectName? ReadName(ref int index) => TryReadName(ref index, out var name) ? name : null;
}
