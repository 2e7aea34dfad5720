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
    // Tokens are kept in chunks of up to 65,536 (20 bytes each: large-object arrays, which the GC never copies while
    // statements keep them alive; gen-0 chunks measured slower because each survivor was copied on promotion).
    // This replaced one list sized at a token per six characters, grown by doubling and copied to an exact array at
    // the end: it wrote each token up to three times and, once a file beat the estimate, allocated twice the file's
    // token memory on top (148 MB for 10 MB of MySQL, 46 MB now).
    private const int ChunkCapacity = 65536;

    public static SqlSplitResult Split(string source, SqlDialect dialect, string file, int firstLine = 1)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(file);
        var reader = new SqlTokenReader(source, dialect, file, firstLine);

        // Kept tokens go into chunks, in order; a statement's tokens are a contiguous slice of one chunk (terminators
        // and DELIMITER lines are never stored, so comments after a terminator extend the slice before it), which
        // becomes its Tokens without a copy.
        var chunks = new Chunks(Math.Clamp(source.Length / 6, 16, ChunkCapacity));
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
                    if (token.Line == previousTerminatorLine && current == chunks.Used)
                    {
                        if (chunks.IsFull)
                        {
                            var last = cuts[^1];
                            var shift = chunks.Renew(last.TokenStart);
                            cuts[^1] = last with
                            {
                                Chunk = chunks.Array,
                                TokenStart = 0,
                                FirstSignificant = last.FirstSignificant - shift,
                                LastSignificant = last.LastSignificant - shift,
                            };
                            current -= shift;
                        }

                        chunks.Add(token);
                        current = chunks.Used;
                        cuts[^1] = cuts[^1] with { TokenCount = cuts[^1].TokenCount + 1 };
                        continue;
                    }

                    previousTerminatorLine = -1;
                    break;
                case SqlTokenKind.DelimiterDirective:
                    previousTerminatorLine = -1;
                    continue;
                case SqlTokenKind.Terminator:
                    if (firstSignificant >= 0)
                    {
                        cuts.Add(new Cut(chunks.Array, current, chunks.Used - current, firstSignificant, lastSignificant));
                        current = chunks.Used;
                        previousTerminatorLine = token.Line;
                    }
                    else
                    {
                        chunks.Used = current;
                        previousTerminatorLine = -1;
                    }

                    firstSignificant = lastSignificant = -1;
                    continue;
                default:
                    previousTerminatorLine = -1;
                    break;
            }

            if (chunks.IsFull)
            {
                var shift = chunks.Renew(current);
                current = 0;
                if (firstSignificant >= 0)
                {
                    firstSignificant -= shift;
                    lastSignificant -= shift;
                }
            }

            if (token.Kind is not (SqlTokenKind.LineComment or SqlTokenKind.BlockComment))
            {
                if (firstSignificant < 0)
                {
                    firstSignificant = chunks.Used;
                }

                lastSignificant = chunks.Used;
            }

            chunks.Add(token);
        }

        if (firstSignificant >= 0)
        {
            cuts.Add(new Cut(chunks.Array, current, chunks.Used - current, firstSignificant, lastSignificant));
        }

        var statements = new SqlStatement[cuts.Count];
        for (var i = 0; i < cuts.Count; i++)
        {
            var cut = cuts[i];
            var first = cut.Chunk[cut.FirstSignificant];
            var last = cut.Chunk[cut.LastSignificant];
            statements[i] = new SqlStatement(
                source,
                first.Start,
                last.Start + last.Length - first.Start,
                new SourceLocation(file, first.Line, first.Column),
                new ArraySegment<SqlToken>(cut.Chunk, cut.TokenStart, cut.TokenCount));
        }

        return new SqlSplitResult(statements, reader.Problems);
    }

    private readonly record struct Cut(SqlToken[] Chunk, int TokenStart, int TokenCount, int FirstSignificant, int LastSignificant);

    /// <summary>The chunk being filled; statements already cut keep slices of the chunks before it.</summary>
    private struct Chunks(int capacity)
    {
        // Left unzeroed, here and in Renew: only the slice up to Used is ever read, and SqlToken holds no references.
        public SqlToken[] Array = GC.AllocateUninitializedArray<SqlToken>(capacity);
        public int Used;

        public readonly bool IsFull => Used == Array.Length;

        public void Add(SqlToken token) => Array[Used++] = token;

        /// <summary>Starts a new chunk holding the tokens from <paramref name="keep"/> on; returns how far they moved.</summary>
        public int Renew(int keep)
        {
            var moving = Used - keep;

            // A statement longer than a chunk gets a chunk twice its size, so it is copied O(log n) times.
            var capacity = Math.Max(Math.Min(Array.Length * 2, ChunkCapacity), moving * 2);
            var next = GC.AllocateUninitializedArray<SqlToken>(capacity);
            System.Array.Copy(Array, keep, next, 0, moving);
            Array = next;
            Used = moving;
            return keep;
        }
    }
}
