using System.Buffers;
using System.Runtime.CompilerServices;

namespace Gatekeeper.Core.Sql;

/// <summary>
/// A streaming SQL lexer: one pass over the characters, one token per <see cref="Read"/>, whitespace skipped.
/// It also decides which <c>;</c> ends a statement, because that depends on lexical state the splitter
/// cannot see: a MySQL client <c>DELIMITER</c>, open parentheses and <c>BEGIN ATOMIC … END</c> bodies (PostgreSQL).
/// A <c>;</c> that does not end a statement is an <see cref="SqlTokenKind.Operator"/>.
/// </summary>
/// <remarks>
/// Rules follow what each engine's own client sends to the server: psql for PostgreSQL (nested block comments,
/// <c>;</c> inside parentheses or inside a <c>CREATE FUNCTION|PROCEDURE … BEGIN … END</c> body does not end the
/// statement), the mysql client for MySQL/MariaDB (<c>DELIMITER</c> only at the start of a line and only between
/// statements, <c>-- </c> needs a space, <c>#</c> comments, backslash escapes in every string). A MySQL
/// <c>CREATE PROCEDURE … BEGIN … END</c> written without <c>DELIMITER</c> is split at each <c>;</c>, as the mysql
/// client would. Only <c>\n</c> ends a line (a CRLF counts once; a lone CR is not a line break).
/// MySQL text is read in the session's <see cref="SqlModes"/> (<c>NO_BACKSLASH_ESCAPES</c>, <c>ANSI_QUOTES</c>), given at
/// the start, and from a <c>SET [SESSION] sql_mode = '…'</c> (or <c>/*!40101 SET sql_mode = '…' */</c>) on in the
/// mode it sets, as the server parses each statement of a file after the one before it has run.
/// </remarks>
public sealed class SqlTokenReader
{
    private static readonly SearchValues<char> OperatorCharsAllowingTrailingSign = SearchValues.Create("~!@#%^&|`?");

    private readonly string _source;
    private readonly string _file;
    private readonly bool _mySql;

    private int _pos;
    private int _line;
    private int _lineStart;
    private bool _finished;
    private List<SqlSyntaxProblem>? _problems;

    // Start of the token being read, for problems that point at where a quote or comment opened.
    private int _tokenLine;
    private int _tokenColumn;

    private string _delimiter = ";";
    private bool _customDelimiter;

    // MySQL: the session's sql_mode as far as reading goes; a SET sql_mode in the text changes it for what follows.
    private readonly SqlModes _initialModes;
    private SqlModes _modes;
    private bool _backslashEscapes = true;
    private bool _ansiQuotes;
    private bool _modesChanged;

    // Per-statement state, reset at each terminator.
    private bool _statementHasContent;
    private int _parenDepth;
    private RoutineHeader _header;
    private int _beginDepth;
    private bool _swallowedSemicolon;
    private int _openerLine;
    private int _openerColumn;
    private int _headerTokens;
    private bool _endClosedCase;

    // A SET statement that names sql_mode (or an executable comment holding one): where its text starts (SET), and
    // where it ends when that is before the terminator (the comment's end); read at the terminator.
    private bool _setsSqlMode;
    private int _setStart;
    private int _setEnd;

    // CREATE [OR REPLACE] [DEFINER = user] [SQL SECURITY …] [AGGREGATE] PROCEDURE: the routine keyword comes within this many tokens.
    private const int MySqlHeaderTokens = 16;

    public SqlTokenReader(string source, SqlDialect dialect, string file = "", int firstLine = 1, SqlModes modes = SqlModes.None)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(file);
        _source = source;
        _file = file;
        _mySql = dialect == SqlDialect.MySql;
        if (_mySql)
        {
            _initialModes = modes;
            UseModes(modes);
        }

        _line = firstLine;
        if (source.Length > 0 && source[0] == '\uFEFF')
        {
            _pos = 1;
            _lineStart = 1;
        }
    }

    /// <summary>Unterminated quotes and comments, malformed <c>DELIMITER</c> lines and unclosed blocks seen so far.</summary>
    public IReadOnlyList<SqlSyntaxProblem> Problems => (IReadOnlyList<SqlSyntaxProblem>?)_problems ?? [];

    /// <summary>The statement terminator in force (MySQL <c>DELIMITER</c> changes it).</summary>
    public string Delimiter => _delimiter;

    /// <summary>The MySQL modes the text is read in now (a <c>SET sql_mode</c> in it changes them).</summary>
    public SqlModes Modes => _modes;

    /// <summary>Whether a <c>SET sql_mode</c> in the text read so far changed how the statements after it are read.</summary>
    public bool ModesChanged => _modesChanged;

    public bool Read(out SqlToken token)
    {
        SkipWhitespace();
        if (_pos >= _source.Length)
        {
            Finish();
            token = default;
            return false;
        }

        var start = _pos;
        _tokenLine = _line;
        _tokenColumn = start - _lineStart + 1;
        var kind = _mySql ? ReadMySql() : ReadPostgres();
        token = new SqlToken(kind, start, _pos - start, _tokenLine, _tokenColumn);

        if (kind is not (SqlTokenKind.LineComment or SqlTokenKind.BlockComment or SqlTokenKind.Terminator or SqlTokenKind.DelimiterDirective))
        {
            _statementHasContent = true;
            if (kind != SqlTokenKind.Word && (_mySql
                    ? _header == RoutineHeader.None || (_header == RoutineHeader.Create && ++_headerTokens > MySqlHeaderTokens)
                    : _header is RoutineHeader.None or RoutineHeader.Create or RoutineHeader.CreateOr or RoutineHeader.CreateOrReplace))
            {
                // MySQL's header may hold DEFINER = `user`@`host` before the routine keyword; PostgreSQL's holds only words.
                _header = RoutineHeader.NotRoutine;
            }
        }

        return true;
    }

    private void SkipWhitespace()
    {
        var s = _source;
        var i = _pos;
        while (i < s.Length)
        {
            var c = s[i];
            if (c == '\n')
            {
                _line++;
                _lineStart = i + 1;
            }
            else if (c is not (' ' or '\t' or '\r' or '\f' or '\v'))
            {
                break;
            }

            i++;
        }

        _pos = i;
    }

    private void Finish()
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        if (_statementHasContent && _swallowedSemicolon && (_parenDepth > 0 || _beginDepth > 0))
        {
            var what = _beginDepth > 0 ? "BEGIN block is never closed by END" : "parenthesis is never closed";
            AddProblem(_openerLine, _openerColumn, $"This {what}, so the semicolons after it do not end the statement.");
        }
    }

    private void ResetStatement()
    {
        _statementHasContent = false;
        _parenDepth = 0;
        _header = RoutineHeader.None;
        _beginDepth = 0;
        _swallowedSemicolon = false;
        _headerTokens = 0;
        _endClosedCase = false;
        _setsSqlMode = false;
    }

    // ---------------------------------------------------------------- PostgreSQL

    private SqlTokenKind ReadPostgres()
    {
        var s = _source;
        var c = s[_pos];
        switch (c)
        {
            case ';':
                _pos++;
                if (_parenDepth == 0 && _beginDepth == 0)
                {
                    ResetStatement();
                    return SqlTokenKind.Terminator;
                }

                _swallowedSemicolon = true;
                return SqlTokenKind.Operator;
            case '(':
                OpenParen();
                return SqlTokenKind.OpenParen;
            case ')':
                _pos++;
                if (_parenDepth > 0)
                {
                    _parenDepth--;
                }

                return SqlTokenKind.CloseParen;
            case '\'':
                ScanQuoted(_pos, '\'', backslashEscapes: false, "string literal");
                return SqlTokenKind.String;
            case '"':
                ScanQuoted(_pos, '"', backslashEscapes: false, "quoted identifier");
                return SqlTokenKind.QuotedIdentifier;
            case '$':
                return ScanPostgresDollar();
            case '-' when Peek(1) == '-':
                ScanLineComment();
                return SqlTokenKind.LineComment;
            case '/' when Peek(1) == '*':
                ScanNestedBlockComment();
                return SqlTokenKind.BlockComment;
            case '.':
                if (IsDigit(Peek(1)))
                {
                    return ScanNumber();
                }

                _pos++;
                return SqlTokenKind.Operator;
            case ':':
                _pos += Peek(1) is ':' or '=' ? 2 : 1;
                return SqlTokenKind.Operator;
            case ',' or '[' or ']' or '{' or '}':
                _pos++;
                return SqlTokenKind.Operator;
        }

        if (IsDigit(c))
        {
            return ScanNumber();
        }

        if (IsPostgresIdentifierStart(c))
        {
            return ScanPostgresWord();
        }

        if (IsPostgresOperatorChar(c))
        {
            ScanPostgresOperator();
            return SqlTokenKind.Operator;
        }

        _pos++;
        return SqlTokenKind.Operator;
    }

    private void OpenParen()
    {
        if (_parenDepth == 0 && _beginDepth == 0)
        {
            _openerLine = _tokenLine;
            _openerColumn = _tokenColumn;
        }

        _pos++;
        _parenDepth++;
    }

    private SqlTokenKind ScanPostgresWord()
    {
        var s = _source;
        var start = _pos;
        var c = s[start];
        var next = Peek(1);

        // E'…' (backslash escapes), B'…', X'…', N'…' and U&'…' / U&"…" are one token with their prefix.
        if (next == '\'')
        {
            switch (c)
            {
                case 'e' or 'E':
                    ScanQuoted(start + 1, '\'', backslashEscapes: true, "string literal");
                    return SqlTokenKind.String;
                case 'b' or 'B' or 'x' or 'X' or 'n' or 'N':
                    ScanQuoted(start + 1, '\'', backslashEscapes: false, "string literal");
                    return SqlTokenKind.String;
            }
        }
        else if (next == '&' && c is 'u' or 'U' && Peek(2) is '\'' or '"')
        {
            var quote = Peek(2);
            ScanQuoted(start + 2, quote, backslashEscapes: false, quote == '"' ? "quoted identifier" : "string literal");
            return quote == '"' ? SqlTokenKind.QuotedIdentifier : SqlTokenKind.String;
        }

        var i = start + 1;
        while (i < s.Length && IsPostgresIdentifierPart(s[i]))
        {
            i++;
        }

        _pos = i;
        TrackRoutineBody(s.AsSpan(start, i - start));
        return SqlTokenKind.Word;
    }

    /// <summary>
    /// Recognises <c>CREATE [OR REPLACE] FUNCTION|PROCEDURE</c> and, inside such a statement, counts
    /// <c>BEGIN</c>/<c>CASE</c> … <c>END</c> outside parentheses, so a SQL-standard body
    /// (<c>BEGIN ATOMIC …; …; END</c>) stays one statement, as psql keeps it.
    /// </summary>
    private void TrackRoutineBody(ReadOnlySpan<char> word)
    {
        switch (_header)
        {
            case RoutineHeader.NotRoutine:
                return;
            case RoutineHeader.Routine:
                if (_parenDepth != 0)
                {
                    return;
                }

                if (word.Length == 5 && word.Equals("begin", StringComparison.OrdinalIgnoreCase))
                {
                    if (_beginDepth == 0)
                    {
                        _openerLine = _tokenLine;
                        _openerColumn = _tokenColumn;
                    }

                    _beginDepth++;
                }
                else if (word.Length == 4 && _beginDepth > 0 && word.Equals("case", StringComparison.OrdinalIgnoreCase))
                {
                    _beginDepth++;
                }
                else if (word.Length == 3 && _beginDepth > 0 && word.Equals("end", StringComparison.OrdinalIgnoreCase))
                {
                    _beginDepth--;
                }

                return;
        }

        var isRoutine = word.Equals("function", StringComparison.OrdinalIgnoreCase) || word.Equals("procedure", StringComparison.OrdinalIgnoreCase);
        _header = _header switch
        {
            RoutineHeader.None when word.Equals("create", StringComparison.OrdinalIgnoreCase) => RoutineHeader.Create,
            RoutineHeader.Create when isRoutine => RoutineHeader.Routine,
            RoutineHeader.Create when word.Equals("or", StringComparison.OrdinalIgnoreCase) => RoutineHeader.CreateOr,
            RoutineHeader.CreateOr when word.Equals("replace", StringComparison.OrdinalIgnoreCase) => RoutineHeader.CreateOrReplace,
            RoutineHeader.CreateOrReplace when isRoutine => RoutineHeader.Routine,
            _ => RoutineHeader.NotRoutine,
        };
    }

    private SqlTokenKind ScanPostgresDollar()
    {
        var s = _source;
        var start = _pos;
        var i = start + 1;
        if (i < s.Length && IsDigit(s[i]))
        {
            while (i < s.Length && IsDigit(s[i]))
            {
                i++;
            }

            _pos = i;
            return SqlTokenKind.Parameter;
        }

        if (i < s.Length && IsPostgresIdentifierStart(s[i]))
        {
            i++;
            while (i < s.Length && (IsPostgresIdentifierStart(s[i]) || IsDigit(s[i])))
            {
                i++;
            }
        }

        if (i >= s.Length || s[i] != '$')
        {
            _pos = start + 1;
            return SqlTokenKind.Operator;
        }

        var tag = s.AsSpan(start, i + 1 - start);
        var bodyStart = i + 1;
        var found = s.AsSpan(bodyStart).IndexOf(tag, StringComparison.Ordinal);
        if (found < 0)
        {
            AddProblem(_tokenLine, _tokenColumn, $"The dollar-quoted string opened by {tag} is never closed.");
            CountLines(bodyStart, s.Length);
            _pos = s.Length;
        }
        else
        {
            CountLines(bodyStart, bodyStart + found);
            _pos = bodyStart + found + tag.Length;
        }

        return SqlTokenKind.DollarString;
    }

    private void ScanPostgresOperator()
    {
        var s = _source;
        var start = _pos;
        var i = start + 1;
        while (i < s.Length && IsPostgresOperatorChar(s[i]))
        {
            var c = s[i];
            if ((c == '-' && Peek(i + 1 - _pos) == '-') || (c == '/' && Peek(i + 1 - _pos) == '*'))
            {
                break;
            }

            i++;
        }

        // PostgreSQL: a multi-character operator cannot end in + or - unless it contains one of ~ ! @ # % ^ & | ` ?,
        // so "=-1" is "=" then "-1".
        if (i - start > 1 && s.AsSpan(start, i - start).IndexOfAny(OperatorCharsAllowingTrailingSign) < 0)
        {
            while (i - start > 1 && s[i - 1] is '+' or '-')
            {
                i--;
            }
        }

        _pos = i;
    }

    private void ScanNestedBlockComment()
    {
        var s = _source;
        var depth = 1;
        var i = _pos + 2;
        while (true)
        {
            var found = s.AsSpan(i).IndexOfAny('*', '/', '\n');
            if (found < 0)
            {
                AddProblem(_tokenLine, _tokenColumn, "This block comment is never closed by */.");
                _pos = s.Length;
                return;
            }

            i += found;
            var c = s[i];
            if (c == '\n')
            {
                _line++;
                _lineStart = i + 1;
                i++;
            }
            else if (c == '*' && i + 1 < s.Length && s[i + 1] == '/')
            {
                i += 2;
                if (--depth == 0)
                {
                    _pos = i;
                    return;
                }
            }
            else if (c == '/' && i + 1 < s.Length && s[i + 1] == '*')
            {
                depth++;
                i += 2;
            }
            else
            {
                i++;
            }
        }
    }

    // ---------------------------------------------------------------- MySQL / MariaDB

    private SqlTokenKind ReadMySql()
    {
        var s = _source;
        if (_customDelimiter && IsDelimiterAt(_pos))
        {
            EndMySqlStatement(_pos);
            _pos += _delimiter.Length;
            ResetStatement();
            return SqlTokenKind.Terminator;
        }

        var c = s[_pos];
        switch (c)
        {
            case ';':
                _pos++;
                if (_customDelimiter)
                {
                    return SqlTokenKind.Operator;
                }

                if (_beginDepth > 0)
                {
                    // Inside a routine's BEGIN … END: the server reads the compound statement whole (golang-migrate, dbmate
                    // and sql-migrate send a file as one multi-statement query), so its semicolons do not end it.
                    _swallowedSemicolon = true;
                    return SqlTokenKind.Operator;
                }

                EndMySqlStatement(_pos - 1);
                ResetStatement();
                return SqlTokenKind.Terminator;
            case '(':
                OpenParen();
                return SqlTokenKind.OpenParen;
            case ')':
                _pos++;
                if (_parenDepth > 0)
                {
                    _parenDepth--;
                }

                return SqlTokenKind.CloseParen;
            case '\'':
                ScanQuoted(_pos, '\'', _backslashEscapes, "string literal");
                return SqlTokenKind.String;
            case '"' when _ansiQuotes:
                ScanQuoted(_pos, '"', backslashEscapes: false, "quoted identifier");
                return SqlTokenKind.QuotedIdentifier;
            case '"':
                ScanQuoted(_pos, '"', _backslashEscapes, "string literal");
                return SqlTokenKind.String;
            case '`':
                ScanQuoted(_pos, '`', backslashEscapes: false, "quoted identifier");
                return SqlTokenKind.QuotedIdentifier;
            case '#':
                ScanLineComment();
                return SqlTokenKind.LineComment;
            case '-' when Peek(1) == '-' && (_pos + 2 >= s.Length || s[_pos + 2] <= ' '):
                // MySQL needs whitespace or a control character after "--", so "1--1" is arithmetic.
                ScanLineComment();
                return SqlTokenKind.LineComment;
            case '/' when Peek(1) == '*':
                return ScanMySqlBlockComment();
            case '@':
                return ScanMySqlVariable();
            case '?':
                _pos++;
                return SqlTokenKind.Parameter;
            case '.':
                if (IsDigit(Peek(1)))
                {
                    return ScanNumber();
                }

                _pos++;
                return SqlTokenKind.Operator;
        }

        if (IsDigit(c))
        {
            return ScanNumber();
        }

        if (IsMySqlIdentifierPart(c))
        {
            return ScanMySqlWord();
        }

        _pos += MySqlOperatorLength(_pos);
        return SqlTokenKind.Operator;
    }

    private SqlTokenKind ScanMySqlWord()
    {
        var s = _source;
        var start = _pos;
        var c = s[start];
        if (Peek(1) == '\'' && c is 'x' or 'X' or 'b' or 'B' or 'n' or 'N')
        {
            ScanQuoted(start + 1, '\'', _backslashEscapes, "string literal");
            return SqlTokenKind.String;
        }

        var i = start + 1;
        while (i < s.Length && IsMySqlIdentifierPart(s[i]) && !(_customDelimiter && IsDelimiterAt(i)))
        {
            i++;
        }

        _pos = i;
        if (i - start == 9 && !_statementHasContent && s.AsSpan(start, 9).Equals("delimiter", StringComparison.OrdinalIgnoreCase)
            && (i == s.Length || s[i] is ' ' or '\t' or '\r' or '\n') && OnlyWhitespaceBefore(start))
        {
            ScanDelimiterDirective();
            return SqlTokenKind.DelimiterDirective;
        }

        TrackMySqlRoutineBody(s.AsSpan(start, i - start));
        return SqlTokenKind.Word;
    }

    /// <summary>
    /// Recognises a MySQL/MariaDB compound statement: <c>CREATE … PROCEDURE|FUNCTION|TRIGGER|EVENT</c> (after an optional
    /// <c>OR REPLACE</c>, <c>DEFINER = …</c>, <c>SQL SECURITY …</c>, <c>AGGREGATE</c>) and MariaDB's <c>BEGIN NOT ATOMIC</c>,
    /// and counts <c>BEGIN</c>/<c>CASE</c> … <c>END</c> outside parentheses, so the body stays one statement as the
    /// server parses it. <c>END IF</c>, <c>END LOOP</c>, <c>END WHILE</c> and <c>END REPEAT</c> close blocks that were
    /// never counted; <c>END CASE</c> closes a <c>CASE</c>.
    /// </summary>
    private void TrackMySqlRoutineBody(ReadOnlySpan<char> word)
    {
        switch (_header)
        {
            case RoutineHeader.NotRoutine:
                return;
            case RoutineHeader.None:
                if (word.Equals("create", StringComparison.OrdinalIgnoreCase))
                {
                    _header = RoutineHeader.Create;
                }
                else if (word.Length == 3 && word.Equals("set", StringComparison.OrdinalIgnoreCase))
                {
                    _header = RoutineHeader.Set;
                    _setStart = _pos - 3;
                    _setEnd = -1;
                }
                else if (word.Equals("begin", StringComparison.OrdinalIgnoreCase) && NextWordIs("not", out var after) && NextWordIs("atomic", out _, after))
                {
                    _header = RoutineHeader.Routine;
                    _openerLine = _tokenLine;
                    _openerColumn = _tokenColumn;
                    _beginDepth = 1;
                }
                else
                {
                    _header = RoutineHeader.NotRoutine;
                }

                return;
            case RoutineHeader.Set:
                if (word.Length == 8 && word.Equals("sql_mode", StringComparison.OrdinalIgnoreCase))
                {
                    _setsSqlMode = true;
                }

                return;
            case RoutineHeader.Create:
                if (word.Equals("procedure", StringComparison.OrdinalIgnoreCase) || word.Equals("function", StringComparison.OrdinalIgnoreCase) ||
                    word.Equals("trigger", StringComparison.OrdinalIgnoreCase) || word.Equals("event", StringComparison.OrdinalIgnoreCase))
                {
                    _header = RoutineHeader.Routine;
                }
                else if (IsMySqlObjectKeyword(word) || ++_headerTokens > MySqlHeaderTokens)
                {
                    _header = RoutineHeader.NotRoutine;
                }

                return;
            case RoutineHeader.Routine when _parenDepth == 0:
                var closedCase = _endClosedCase;
                _endClosedCase = false;
                if (word.Equals("begin", StringComparison.OrdinalIgnoreCase))
                {
                    if (_beginDepth == 0)
                    {
                        _openerLine = _tokenLine;
                        _openerColumn = _tokenColumn;
                    }

                    _beginDepth++;
                }
                else if (_beginDepth > 0 && !closedCase && word.Equals("case", StringComparison.OrdinalIgnoreCase))
                {
                    _beginDepth++;
                }
                else if (_beginDepth > 0 && word.Equals("end", StringComparison.OrdinalIgnoreCase))
                {
                    var next = NextWord();
                    if (!(next.Equals("if", StringComparison.OrdinalIgnoreCase) || next.Equals("loop", StringComparison.OrdinalIgnoreCase) ||
                          next.Equals("while", StringComparison.OrdinalIgnoreCase) || next.Equals("repeat", StringComparison.OrdinalIgnoreCase)))
                    {
                        _beginDepth--;
                        _endClosedCase = next.Equals("case", StringComparison.OrdinalIgnoreCase);
                    }
                }

                return;
        }
    }

    /// <summary>Words after CREATE that make it anything but a routine (tables, views, indexes, users …).</summary>
    private static bool IsMySqlObjectKeyword(ReadOnlySpan<char> word) =>
        word.Equals("table", StringComparison.OrdinalIgnoreCase) || word.Equals("view", StringComparison.OrdinalIgnoreCase) ||
        word.Equals("index", StringComparison.OrdinalIgnoreCase) || word.Equals("unique", StringComparison.OrdinalIgnoreCase) ||
        word.Equals("fulltext", StringComparison.OrdinalIgnoreCase) || word.Equals("spatial", StringComparison.OrdinalIgnoreCase) ||
        word.Equals("database", StringComparison.OrdinalIgnoreCase) || word.Equals("schema", StringComparison.OrdinalIgnoreCase) ||
        word.Equals("user", StringComparison.OrdinalIgnoreCase) || word.Equals("role", StringComparison.OrdinalIgnoreCase) ||
        word.Equals("temporary", StringComparison.OrdinalIgnoreCase) || word.Equals("sequence", StringComparison.OrdinalIgnoreCase) ||
        word.Equals("tablespace", StringComparison.OrdinalIgnoreCase) || word.Equals("server", StringComparison.OrdinalIgnoreCase) ||
        word.Equals("logfile", StringComparison.OrdinalIgnoreCase) || word.Equals("resource", StringComparison.OrdinalIgnoreCase);

    /// <summary>The identifier after <paramref name="from"/> (the current position by default) and whitespace, not across comments, without consuming it.</summary>
    private ReadOnlySpan<char> NextWord(int from = -1) => _source.AsSpan(NextWordRange(from < 0 ? _pos : from));

    private Range NextWordRange(int from)
    {
        var s = _source;
        var i = from;
        while (i < s.Length && s[i] is ' ' or '\t' or '\r' or '\n' or '\f' or '\v')
        {
            i++;
        }

        var start = i;
        while (i < s.Length && IsMySqlIdentifierPart(s[i]))
        {
            i++;
        }

        return start..i;
    }

    private bool NextWordIs(string expected, out int end, int from = -1)
    {
        var range = NextWordRange(from < 0 ? _pos : from);
        end = range.End.Value;
        return _source.AsSpan(range).Equals(expected, StringComparison.OrdinalIgnoreCase);
    }

    private bool OnlyWhitespaceBefore(int position) =>
        _source.AsSpan(_lineStart, position - _lineStart).IndexOfAnyExcept(" \t\r\f\v") < 0;

    /// <summary>
    /// A mysql client <c>DELIMITER x</c> line: the argument is the first word (or a quoted string) and the
    /// token runs to the end of the line, which the client consumes whole.
    /// </summary>
    private void ScanDelimiterDirective()
    {
        var s = _source;
        var newline = s.AsSpan(_pos).IndexOf('\n');
        var lineEnd = newline < 0 ? s.Length : _pos + newline;
        if (lineEnd > _pos && s[lineEnd - 1] == '\r')
        {
            lineEnd--;
        }

        var i = _pos;
        while (i < lineEnd && s[i] is ' ' or '\t' or '\f' or '\v')
        {
            i++;
        }

        string delimiter;
        if (i < lineEnd && s[i] is '\'' or '"' or '`' && s.AsSpan(i + 1, lineEnd - i - 1).IndexOf(s[i]) is var close and >= 0)
        {
            delimiter = s.Substring(i + 1, close);
        }
        else
        {
            var end = i;
            while (end < lineEnd && s[end] is not (' ' or '\t' or '\f' or '\v'))
            {
                end++;
            }

            delimiter = s.Substring(i, end - i);
        }

        _pos = lineEnd;
        ResetStatement();
        if (delimiter.Length == 0)
        {
            AddProblem(_tokenLine, _tokenColumn, "DELIMITER must be followed by the new delimiter on the same line.");
            return;
        }

        _delimiter = delimiter;
        _customDelimiter = delimiter != ";";
    }

    private SqlTokenKind ScanMySqlBlockComment()
    {
        var s = _source;
        var executable = Peek(2) == '!' || (Peek(2) == 'M' && Peek(3) == '!');
        var bodyStart = _pos + 2;
        var found = s.AsSpan(bodyStart).IndexOf("*/", StringComparison.Ordinal);
        if (found < 0)
        {
            AddProblem(_tokenLine, _tokenColumn, executable
                ? "This executable comment /*! is never closed by */."
                : "This block comment is never closed by */.");
            CountLines(bodyStart, s.Length);
            _pos = s.Length;
        }
        else
        {
            CountLines(bodyStart, bodyStart + found);
            _pos = bodyStart + found + 2;
            if (executable && !_statementHasContent && s.AsSpan(bodyStart, found).Contains("sql_mode", StringComparison.OrdinalIgnoreCase))
            {
                // mysqldump's /*!40101 SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */: the server runs it (version conditions are
                // not weighed: every server since 4.1 runs 40101, and a SET of sql_mode in a newer condition is unheard of).
                var text = bodyStart + (s[bodyStart] == 'M' ? 2 : 1);
                while (text < bodyStart + found && IsDigit(s[text]))
                {
                    text++;
                }

                _setsSqlMode = true;
                _setStart = text;
                _setEnd = bodyStart + found;
            }
        }

        return executable ? SqlTokenKind.ExecutableComment : SqlTokenKind.BlockComment;
    }

    private SqlTokenKind ScanMySqlVariable()
    {
        var s = _source;
        var start = _pos;

        // 'user'@'host' in GRANT/CREATE USER: the @ joins two strings, it does not start a variable.
        if (start > 0 && s[start - 1] is '\'' or '"' or '`')
        {
            _pos++;
            return SqlTokenKind.Operator;
        }

        var i = start + 1;
        if (i < s.Length && s[i] == '@')
        {
            i++;
        }

        if (i < s.Length && s[i] is '\'' or '"' or '`')
        {
            ScanQuoted(i, s[i], backslashEscapes: s[i] == '\'' ? _backslashEscapes : s[i] == '"' && _backslashEscapes && !_ansiQuotes, "quoted variable name");
            return SqlTokenKind.Parameter;
        }

        var nameStart = i;
        while (i < s.Length && (IsMySqlIdentifierPart(s[i]) || s[i] == '.') && !(_customDelimiter && IsDelimiterAt(i)))
        {
            i++;
        }

        if (i == nameStart)
        {
            _pos = start + 1;
            return SqlTokenKind.Operator;
        }

        _pos = i;
        if (_header == RoutineHeader.Set && i - nameStart >= 8 && s.AsSpan(i - 8, 8).Equals("sql_mode", StringComparison.OrdinalIgnoreCase))
        {
            // SET @@sql_mode = …, SET @@SESSION.sql_mode = …
            _setsSqlMode = true;
        }

        return SqlTokenKind.Parameter;
    }

    private int MySqlOperatorLength(int i)
    {
        var s = _source;
        var length = 1;
        if (i + 2 < s.Length && (string.CompareOrdinal(s, i, "<=>", 0, 3) == 0 || string.CompareOrdinal(s, i, "->>", 0, 3) == 0))
        {
            length = 3;
        }
        else if (i + 1 < s.Length)
        {
            var pair = s.AsSpan(i, 2);
            if (pair is "<=" or ">=" or "<>" or "!=" or "<<" or ">>" or "&&" or "||" or ":=" or "->")
            {
                length = 2;
            }
        }

        if (_customDelimiter)
        {
            for (var k = 1; k < length; k++)
            {
                if (IsDelimiterAt(i + k))
                {
                    return k;
                }
            }
        }

        return length;
    }

    private bool IsDelimiterAt(int i) => _source.AsSpan(i).StartsWith(_delimiter, StringComparison.Ordinal);

    /// <summary>At a MySQL statement's terminator (at <paramref name="end"/>): a <c>SET sql_mode</c> it was changes how what follows reads.</summary>
    private void EndMySqlStatement(int end)
    {
        if (!_setsSqlMode)
        {
            return;
        }

        var stop = _setEnd >= 0 ? _setEnd : end;
        if (SqlModeAssignment.After(_source.AsSpan(_setStart, stop - _setStart), _modes, _initialModes) is { } modes && modes != _modes)
        {
            UseModes(modes);
            _modesChanged = true;
        }
    }

    private void UseModes(SqlModes modes)
    {
        _modes = modes;
        _backslashEscapes = (modes & SqlModes.NoBackslashEscapes) == 0;
        _ansiQuotes = (modes & SqlModes.AnsiQuotes) != 0;
    }

    // ---------------------------------------------------------------- shared

    private char Peek(int offset)
    {
        var i = _pos + offset;
        return i < _source.Length ? _source[i] : '\0';
    }

    private SqlTokenKind ScanNumber()
    {
        var s = _source;
        var i = _pos;
        if (s[i] == '0' && i + 1 < s.Length && s[i + 1] is 'x' or 'X' or 'b' or 'B' or 'o' or 'O')
        {
            i += 2;
        }
        else
        {
            while (i < s.Length && (IsDigit(s[i]) || s[i] == '_'))
            {
                i++;
            }

            if (i < s.Length && s[i] == '.' && !(i + 1 < s.Length && s[i + 1] == '.'))
            {
                i++;
                while (i < s.Length && (IsDigit(s[i]) || s[i] == '_'))
                {
                    i++;
                }
            }

            if (i < s.Length && s[i] is 'e' or 'E')
            {
                var j = i + 1;
                if (j < s.Length && s[j] is '+' or '-')
                {
                    j++;
                }

                if (j < s.Length && IsDigit(s[j]))
                {
                    i = j;
                    while (i < s.Length && IsDigit(s[i]))
                    {
                        i++;
                    }
                }
            }
        }

        // Letters glued to digits: hex digits, or a MySQL identifier that starts with a digit (1abc).
        var kind = SqlTokenKind.Number;
        var glued = i;
        while (i < s.Length && (_mySql ? IsMySqlIdentifierPart(s[i]) : IsPostgresIdentifierStart(s[i]) || IsDigit(s[i]))
               && !(_customDelimiter && IsDelimiterAt(i)))
        {
            i++;
        }

        if (_mySql && i > glued && !(s[_pos] == '0' && glued == _pos + 2))
        {
            kind = SqlTokenKind.Word;
        }

        _pos = i;
        return kind;
    }

    private void ScanLineComment()
    {
        var s = _source;
        var newline = s.AsSpan(_pos).IndexOf('\n');
        var end = newline < 0 ? s.Length : _pos + newline;
        if (end > _pos && s[end - 1] == '\r')
        {
            end--;
        }

        _pos = end;
    }

    /// <summary>Reads a quoted run whose opening quote is at <paramref name="openQuote"/>; doubling the quote escapes it.</summary>
    private void ScanQuoted(int openQuote, char quote, bool backslashEscapes, string what)
    {
        var s = _source;
        var i = openQuote + 1;
        while (true)
        {
            var rest = s.AsSpan(i);
            var found = backslashEscapes ? rest.IndexOfAny(quote, '\\', '\n') : rest.IndexOfAny(quote, '\n');
            if (found < 0)
            {
                AddProblem(_tokenLine, _tokenColumn, $"This {what} is never closed by {quote}.");
                _pos = s.Length;
                return;
            }

            i += found;
            var c = s[i];
            if (c == '\n')
            {
                _line++;
                _lineStart = i + 1;
                i++;
            }
            else if (c == '\\')
            {
                if (i + 1 < s.Length && s[i + 1] == '\n')
                {
                    _line++;
                    _lineStart = i + 2;
                }

                i += 2;
                if (i > s.Length)
                {
                    i = s.Length;
                }
            }
            else if (i + 1 < s.Length && s[i + 1] == quote)
            {
                i += 2;
            }
            else
            {
                _pos = i + 1;
                return;
            }
        }
    }

    private void CountLines(int from, int to)
    {
        var span = _source.AsSpan(from, to - from);
        var count = span.Count('\n');
        if (count > 0)
        {
            _line += count;
            _lineStart = from + span.LastIndexOf('\n') + 1;
        }
    }

    private void AddProblem(int line, int column, string message) =>
        (_problems ??= []).Add(new SqlSyntaxProblem(new SourceLocation(_file, line, column), message));

    private static bool IsDigit(char c) => (uint)(c - '0') <= 9;

    private static bool IsAsciiLetter(char c) => (uint)((c | 0x20) - 'a') <= 'z' - 'a';

    private static bool IsPostgresIdentifierStart(char c) => IsAsciiLetter(c) || c == '_' || c >= 0x80;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsPostgresIdentifierPart(char c) => IsIdentifierPart(c);

    private static bool IsPostgresOperatorChar(char c) => c is '+' or '-' or '*' or '/' or '<' or '>' or '=' or '~' or '!' or '@' or '#' or '%' or '^' or '&' or '|' or '`' or '?';

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsMySqlIdentifierPart(char c) => IsIdentifierPart(c);

    // A letter, digit, '_' or '$' below 128 (one bit each), or any character from 128 on. One test per character instead
    // of four, inlined: the word loop of the lexer runs it for every character of every name (a call of its own was 2.7 %
    // of a 10 MB lint in perf under the JIT, 3.9 % in the Native AOT binary).
    private const ulong IdentifierPartsBelow64 = (1UL << '$') | (0x3FFUL << '0');
    private const ulong IdentifierPartsFrom64 = (0x3FFFFFFUL << ('A' - 64)) | (1UL << ('_' - 64)) | (0x3FFFFFFUL << ('a' - 64));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsIdentifierPart(char c) =>
        c < 64 ? ((IdentifierPartsBelow64 >> c) & 1) != 0 : c >= 128 || ((IdentifierPartsFrom64 >> (c - 64)) & 1) != 0;

    private enum RoutineHeader
    {
        None,
        Create,
        CreateOr,
        CreateOrReplace,
        Routine,
        NotRoutine,

        /// <summary>MySQL: a statement that starts with SET (it may change sql_mode).</summary>
        Set,
    }
}
