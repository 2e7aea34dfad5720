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

    // One statement at a time (Statements): chunks of 4,096 tokens (80 KB, under the large-object threshold), so a
    // statement the caller forgot is gen-0 garbage and a 50 MB file is never held as tokens all at once.
    private const int StreamingChunkCapacity = 4096;

    /// <param name="modes">The MySQL session's modes the text runs in (<see cref="SqlModes"/>); a <c>SET sql_mode</c> in it changes them for what follows.</param>
    public static SqlSplitResult Split(string source, SqlDialect dialect, string file, int firstLine = 1, SqlModes modes = SqlModes.None)
    {
        var problems = new SqlSplitProblems();
        var statements = new List<SqlStatement>();
        foreach (var statement in CutStatements(source, dialect, file, firstLine, Math.Clamp(source.Length / 6, 16, ChunkCapacity), ChunkCapacity, problems, modes))
        {
            statements.Add(statement);
        }

        return new SqlSplitResult([.. statements], problems.Found) { ModesChanged = problems.ModesChanged };
    }

    /// <summary>
    /// The statements of <paramref name="source"/>, cut as <see cref="Split"/> cuts them, one at a time: nothing of a
    /// statement the caller drops stays alive, so memory follows the longest statement, not the file.
    /// </summary>
    /// <param name="problems">Filled with the lexical problems once the enumeration has ended.</param>
    public static IEnumerable<SqlStatement> Statements(string source, SqlDialect dialect, string file, SqlSplitProblems problems, int firstLine = 1, SqlModes modes = SqlModes.None) =>
        CutStatements(source, dialect, file, firstLine, Math.Clamp(source.Length / 6, 16, StreamingChunkCapacity), StreamingChunkCapacity, problems, modes);

    /// <summary>
    /// As <see cref="Statements"/>, for a caller that is done with each statement (its tokens included) before it asks
    /// for the next: a filled token chunk is then written over again once no statement still to be handed out uses it,
    /// instead of a new chunk each time (the linter's outline pass: a third of its allocation on a 10 MB file).
    /// </summary>
    internal static IEnumerable<SqlStatement> StatementsUsedOneAtATime(string source, SqlDialect dialect, string file, SqlSplitProblems problems, int firstLine = 1, SqlModes modes = SqlModes.None) =>
        CutStatements(source, dialect, file, firstLine, Math.Clamp(source.Length / 6, 16, StreamingChunkCapacity), StreamingChunkCapacity, problems, modes, reuseChunks: true);

    private static IEnumerable<SqlStatement> CutStatements(string source, SqlDialect dialect, string file, int firstLine, int initialCapacity, int chunkCapacity, SqlSplitProblems problems, SqlModes modes, bool reuseChunks = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(problems);
        var reader = new SqlTokenReader(source, dialect, file, firstLine, modes);

        // Kept tokens go into chunks, in order; a statement's tokens are a contiguous slice of one chunk (terminators
        // and DELIMITER lines are never stored, so comments after a terminator extend the slice before it), which
        // becomes its Tokens without a copy. The statement cut last is handed out only once the next token shows that
        // no comment on its terminator's line extends it.
        var chunks = new Chunks(initialCapacity, chunkCapacity);
        Cut? pending = null;
        var current = 0;
        var firstSignificant = -1;
        var lastSignificant = -1;
        var previousTerminatorLine = -1;
        var statementModes = modes;

        while (reader.Read(out var token))
        {
            switch (token.Kind)
            {
                case SqlTokenKind.LineComment or SqlTokenKind.BlockComment:
                    // A comment after a terminator, on its line, still belongs to the statement it ended.
                    if (token.Line == previousTerminatorLine && current == chunks.Used && pending is { } last)
                    {
                        if (chunks.IsFull)
                        {
                            // The pending statement moves into the new chunk, so nothing still to be handed out uses the old one.
                            var shift = chunks.Renew(last.TokenStart, reuseChunks);
                            last = last with
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
                        pending = last with { TokenCount = last.TokenCount + 1 };
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
                        if (pending is { } done)
                        {
                            yield return done.ToStatement(source, file);
                        }

                        pending = new Cut(chunks.Array, current, chunks.Used - current, firstSignificant, lastSignificant, statementModes);
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
                // The pending statement (cut, not yet handed out) may sit in the chunk being left or in the spare one.
                var shift = chunks.Renew(current, reuseChunks, pending?.Chunk);
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
                    statementModes = reader.Modes;
                }

                lastSignificant = chunks.Used;
            }

            chunks.Add(token);
        }

        if (pending is { } final)
        {
            yield return final.ToStatement(source, file);
        }

        if (firstSignificant >= 0)
        {
            yield return new Cut(chunks.Array, current, chunks.Used - current, firstSignificant, lastSignificant, statementModes).ToStatement(source, file);
        }

        problems.Found = reader.Problems;
        problems.ModesChanged = reader.ModesChanged;
    }

    private readonly record struct Cut(SqlToken[] Chunk, int TokenStart, int TokenCount, int FirstSignificant, int LastSignificant, SqlModes Modes)
    {
        public SqlStatement ToStatement(string source, string file)
        {
            var first = Chunk[FirstSignificant];
            var last = Chunk[LastSignificant];
            return new SqlStatement(
                source,
                first.Start,
                last.Start + last.Length - first.Start,
                new SourceLocation(file, first.Line, first.Column),
                new ArraySegment<SqlToken>(Chunk, TokenStart, TokenCount)) { Modes = Modes };
        }
    }

    /// <summary>The chunk being filled; statements already cut keep slices of the chunks before it.</summary>
    private struct Chunks(int capacity, int chunkCapacity)
    {
        // Left unzeroed, here and in Renew: only the slice up to Used is ever read, and SqlToken holds no references.
        public SqlToken[] Array = GC.AllocateUninitializedArray<SqlToken>(capacity);
        public int Used;

        public readonly bool IsFull => Used == Array.Length;

        public void Add(SqlToken token) => Array[Used++] = token;

        /// <summary>The chunk left at the last renewal, kept for reuse when the caller is done with its statements.</summary>
        private SqlToken[]? spare;

        /// <summary>Starts a new chunk holding the tokens from <paramref name="keep"/> on; returns how far they moved.</summary>
        /// <param name="reuse">Take the spare chunk (unless <paramref name="inUse"/> is it) instead of a new one.</param>
        public int Renew(int keep, bool reuse, SqlToken[]? inUse = null)
        {
            var moving = Used - keep;

            // A statement longer than a chunk gets a chunk twice its size, so it is copied O(log n) times.
            var capacity = Math.Max(Math.Min(Array.Length * 2, chunkCapacity), moving * 2);
            var next = reuse && spare is not null && spare.Length >= capacity && !ReferenceEquals(spare, inUse)
                ? spare
                : GC.AllocateUninitializedArray<SqlToken>(capacity);
            System.Array.Copy(Array, keep, next, 0, moving);
            spare = reuse ? Array : null;
            Array = next;
            Used = moving;
            return keep;
        }
    }
}
