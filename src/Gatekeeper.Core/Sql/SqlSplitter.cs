namespace Gatekeeper.Core.Sql;

/// <summary>
/// Cuts a migration's text into the statements a database client would send one by one, at the terminators
/// <see cref="SqlTokenReader"/> reports.
/// </summary>
/// <remarks>
/// A statement's <see cref="SqlStatement.Text"/> runs from its first to its last significant token (comments
/// in between kept), which is what an executor sends, and its <see cref="SqlStatement.Location"/> is that first
/// significant token. Its <see cref="SqlStatement.Tokens"/> also hold the comments before it (so
/// <c>-- gatekeeper:allow</c> lines above a statement travel with it) and the comments that follow its terminator
/// on the same line (<c>CREATE INDEX …; -- gatekeeper:allow …</c>). Comment-only stretches, empty statements
/// (<c>;;</c>) and MySQL <c>DELIMITER</c> lines produce no statement. A MySQL executable comment
/// (<c>/*! … */</c>) is significant: the server runs it.
/// </remarks>
public static class SqlSplitter
{
    public static SqlSplitResult Split(string source, SqlDialect dialect, string file, int firstLine = 1)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(file);
        var reader = new SqlTokenReader(source, dialect, file, firstLine);

        // Every kept token goes into one array, in order; a statement's tokens are a contiguous slice of it
        // (terminators and DELIMITER lines are never stored, so comments after a terminator extend the slice
        // before it). One array instead of a list per statement keeps large files cheap for the collector.
        var all = new List<SqlToken>(Math.Max(16, source.Length / 6));
        var cuts = new List<Cut>();
        var current = 0;
        var firstSignificant = -1;
        var lastSignificant = -1;
        var previousTerminatorLine = -1;

        while (reader.Read(out var token))
        {
            switch (token.Kind)
            {
                case SqlTokenKind.LineComment or SqlTokenKind.BlockComment:
                    // A comment after a terminator, on its line, still belongs to the statement it ended.
                    if (token.Line == previousTerminatorLine && current == all.Count)
                    {
                        all.Add(token);
                        current = all.Count;
                        cuts[^1] = cuts[^1] with { TokenCount = cuts[^1].TokenCount + 1 };
                    }
                    else
                    {
                        previousTerminatorLine = -1;
                        all.Add(token);
                    }

                    continue;
                case SqlTokenKind.DelimiterDirective:
                    previousTerminatorLine = -1;
                    continue;
                case SqlTokenKind.Terminator:
                    if (firstSignificant >= 0)
                    {
                        cuts.Add(new Cut(current, all.Count - current, firstSignificant, lastSignificant));
                        current = all.Count;
                        previousTerminatorLine = token.Line;
                    }
                    else
                    {
                        all.RemoveRange(current, all.Count - current);
                        previousTerminatorLine = -1;
                    }

                    firstSignificant = lastSignificant = -1;
                    continue;
            }

            previousTerminatorLine = -1;
            if (firstSignificant < 0)
            {
                firstSignificant = all.Count;
            }

            lastSignificant = all.Count;
            all.Add(token);
        }

        if (firstSignificant >= 0)
        {
            cuts.Add(new Cut(current, all.Count - current, firstSignificant, lastSignificant));
        }

        var array = all.Count == 0 ? [] : System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all)[..all.Count].ToArray();
        var statements = new SqlStatement[cuts.Count];
        for (var i = 0; i < cuts.Count; i++)
        {
            var cut = cuts[i];
            var first = array[cut.FirstSignificant];
            var last = array[cut.LastSignificant];
            statements[i] = new SqlStatement(
                source,
                first.Start,
                last.Start + last.Length - first.Start,
                new SourceLocation(file, first.Line, first.Column),
                new ArraySegment<SqlToken>(array, cut.TokenStart, cut.TokenCount));
        }

        return new SqlSplitResult(statements, reader.Problems);
    }

    private readonly record struct Cut(int TokenStart, int TokenCount, int FirstSignificant, int LastSignificant);
}
