namespace Gatekeeper.Core.Sql;

/// <summary>Whole-text entry points over <see cref="SqlTokenReader"/> for callers that want every token at once.</summary>
public static class SqlLexer
{
    /// <summary>All tokens of <paramref name="source"/> (whitespace excluded); lines count from <paramref name="firstLine"/>.</summary>
    public static IReadOnlyList<SqlToken> Tokenize(string source, SqlDialect dialect, int firstLine = 1, SqlModes modes = SqlModes.None) =>
        Tokenize(source, dialect, file: "", firstLine, out _, modes);

    /// <summary>All tokens of <paramref name="source"/>, and the lexical problems found, located in <paramref name="file"/>.</summary>
    public static IReadOnlyList<SqlToken> Tokenize(
        string source, SqlDialect dialect, string file, int firstLine, out IReadOnlyList<SqlSyntaxProblem> problems, SqlModes modes = SqlModes.None)
    {
        var reader = new SqlTokenReader(source, dialect, file, firstLine, modes);
        var tokens = new List<SqlToken>(source.Length / 6);
        while (reader.Read(out var token))
        {
            tokens.Add(token);
        }

        problems = reader.Problems;
        return tokens;
    }
}
