using System.Data.Common;
namespace Gatekeeper.Databases.Execution;

/// <summary>
/// One open connection (and, while one is open, its transaction) with the few command shapes the history tables and
/// executors need. Both drivers accept <c>@name</c> parameters, so the SQL around it is shared where the dialects agree.
/// </summary>
internal sealed class DbSession(DbConnection connection, SqlEngine engine) : IAsyncDisposable
{
    public DbConnection Connection { get; } = connection;

    public SqlEngine Engine { get; } = engine;

    public DbTransaction? Transaction { get; private set; }

    /// <summary>
    /// True while the session applies a migration right after it applied the one before, with no reset in between
    /// (MySQL, when that file left nothing on it: see <see cref="SessionFootprint"/>).
    /// </summary>
    public bool Carried { get; set; }

    /// <summary>Client-side command timeout in seconds; 0 waits as long as the server works (migrations may be long).</summary>
    public int CommandTimeoutSeconds { get; set; }

    // Statements sent ahead of the next command, in the same round trip (see SendAhead).
    private string? _ahead;

    // While collecting, writes are kept for the caller's next batch instead of being sent (see CollectAsync).
    private List<SessionCommand>? _collected;

    // A query sent ahead of the next QueryAsync in the same command (see WithPreludeAsync); its rows once read.
    private (string Sql, (string Name, object? Value)[] Parameters, Func<DbDataReader, string> Read, Func<List<string>, bool> Accept)? _prelude;
    private List<string>? _preludeRows;

    /// <summary>
    /// Opens a session outside any pool, so closing it really ends the server session (locks, throwaway databases);
    /// connection failures become the one-line <see cref="DatabaseException"/>.
    /// </summary>
    /// <param name="ownStatementLimit">For a session that runs only Gatekeeper's own statements: their limit in place of the
    /// server's or role's (<see cref="SqlEngine.OwnStatementLimits"/>).</param>
    public static async Task<DbSession> OpenUnpooledAsync(DatabaseUrl url, CancellationToken cancellationToken, TimeSpan? ownStatementLimit = null)
    {
        var engine = url.SqlEngine;
        var limitedAtStart = ownStatementLimit is { } limit ? engine.CreateOwnStatementsConnection(url, limit) : null;
        var connection = limitedAtStart ?? engine.CreateUnpooledConnection(url);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw DatabaseErrorClassifier.ForConnection(ex, url);
        }

        var session = new DbSession(connection, engine);
        if (limitedAtStart is null && ownStatementLimit is { } ahead)
        {
            session.LimitOwnStatements(ahead);
        }

        return session;
    }

    public async Task BeginAsync(CancellationToken cancellationToken) =>
        Transaction = await Connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

    public async Task BeginAsync(System.Data.IsolationLevel isolationLevel, CancellationToken cancellationToken) =>
        Transaction = await Connection.BeginTransactionAsync(isolationLevel, cancellationToken).ConfigureAwait(false);

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        var transaction = Transaction ?? throw new InvalidOperationException("no transaction is open");
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        await transaction.DisposeAsync().ConfigureAwait(false);
        Transaction = null;
    }

    /// <summary>Rolls back if a transaction is open; a broken connection has rolled back already, so errors are ignored.</summary>
    public async Task RollbackQuietlyAsync()
    {
        if (Transaction is not { } transaction)
        {
            return;
        }

        Transaction = null;
        try
        {
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null || ex is InvalidOperationException)
        {
            // The server ends the transaction when the session dies; nothing is left to undo.
        }

        await transaction.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Sends <paramref name="sql"/> (settings: statements without rows) ahead of the next command this session sends, in the
    /// same round trip: what changes the session for Gatekeeper's own statements costs no query of its own. A session
    /// that runs migration files is never given one (a batch's statements would then be counted from it).
    /// </summary>
    public void SendAhead(string sql)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        _ahead = _ahead is null ? sql : _ahead + ";\n" + sql;
    }

    /// <summary>Sends Gatekeeper's own statement limits ahead of the next command (<see cref="SqlEngine.OwnStatementLimits"/>).</summary>
    public void LimitOwnStatements(TimeSpan limit) => SendAhead(Engine.OwnStatementLimits(limit, Connection.ServerVersion));

    private string WithAhead(string sql)
    {
        if (_ahead is not { } ahead)
        {
            return sql;
        }

        _ahead = null;
        return ahead + ";\n" + sql;
    }

    public DbCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = Connection.CreateCommand();
        command.CommandText = WithAhead(sql);
        command.Transaction = Transaction;
        command.CommandTimeout = CommandTimeoutSeconds;
        AddParameters(command.Parameters, command.CreateParameter, parameters);
        return command;
    }

    /// <summary>Adds named parameters (null as DBNull) to a command's or a batch command's collection.</summary>
    private static void AddParameters(DbParameterCollection target, Func<DbParameter> create, IEnumerable<(string Name, object? Value)> parameters)
    {
        foreach (var (name, value) in parameters)
        {
            var parameter = create();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            target.Add(parameter);
        }
    }

    /// <summary>
    /// The statements as one batch in the open transaction: one round trip instead of one per statement. When the
    /// server refuses a statement, the rest do not run and the exception names it (<see cref="DbException.BatchCommand"/>).
    /// </summary>
    public DbBatch Batch(IEnumerable<string> statements)
    {
        var batch = Connection.CreateBatch();
        batch.Transaction = Transaction;
        batch.Timeout = CommandTimeoutSeconds;
        AddAhead(batch);
        foreach (var sql in statements)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = sql;
            batch.BatchCommands.Add(command);
        }

        return batch;
    }

    /// <summary>
    /// Runs <paramref name="writes"/> (history bookkeeping) without sending anything: each <see cref="ExecuteAsync"/> it
    /// makes is kept, in order, so the caller can send them in the batch it sends anyway, saving a round trip each.
    /// Null when the writes need an answer from the server first (a read, or a count they act on): nothing was sent,
    /// and the caller runs them as usual.
    /// </summary>
    public async Task<IReadOnlyList<SessionCommand>?> CollectAsync(Func<Task> writes)
    {
        ArgumentNullException.ThrowIfNull(writes);
        _collected = [];
        try
        {
            await writes().ConfigureAwait(false);
            return _collected;
        }
        catch (NeedsServerAnswerException)
        {
            return null;
        }
        finally
        {
            _collected = null;
        }
    }

    /// <summary>The commands as one batch in the open transaction, each with its parameters.</summary>
    public DbBatch Batch(IEnumerable<SessionCommand> commands)
    {
        var batch = Connection.CreateBatch();
        batch.Transaction = Transaction;
        batch.Timeout = CommandTimeoutSeconds;
        AddAhead(batch);
        foreach (var (sql, parameters) in commands)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = sql;
            AddParameters(command.Parameters, command.CreateParameter, parameters);
            batch.BatchCommands.Add(command);
        }

        return batch;
    }

    // A batch command holds one statement: each of those sent ahead is one of its own, first.
    private void AddAhead(DbBatch batch)
    {
        if (_ahead is not { } ahead)
        {
            return;
        }

        _ahead = null;
        foreach (var statement in ahead.Split(";\n"))
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = statement;
            batch.BatchCommands.Add(command);
        }
    }

    public async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        if (_collected is not null)
        {
            // Kept for the caller's batch; writes that act on the count do not run while collecting.
            _collected.Add(new SessionCommand(sql, parameters));
            return 1;
        }

        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs one statement of a migration or desired state exactly as written. A plain command would not do on PostgreSQL:
    /// Npgsql splits a command's text at each <c>;</c> it sees outside quotes and comments, which cuts a SQL-standard body
    /// (<c>BEGIN ATOMIC …; END</c>) in two; a one-command batch is sent unsplit.
    /// </summary>
    public async Task<int> ExecuteStatementAsync(string sql, CancellationToken cancellationToken)
    {
        RefuseWhileCollecting();
        if (!Engine.SendsBatches || !Connection.CanCreateBatch)
        {
            return await ExecuteAsync(sql, cancellationToken).ConfigureAwait(false);
        }

        await using var batch = Batch([sql]);
        return await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<object?> ScalarAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        RefuseWhileCollecting();
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }

    /// <summary>
    /// Runs <paramref name="reads"/> with <paramref name="sql"/> sent ahead of its first <see cref="QueryAsync{T}"/>, in the
    /// same command: one round trip for both (their parameter names must differ). The prelude's rows (one string each, as
    /// <paramref name="read"/> makes them) are read first; unless <paramref name="accept"/> takes them, the rest of the
    /// answer is not read and <paramref name="reads"/> ends there. Returns the prelude's rows (null when
    /// <paramref name="reads"/> made no query, so nothing carried them) and what <paramref name="reads"/> returned, which is
    /// default unless they were accepted.
    /// </summary>
    public async Task<(List<string>? Prelude, bool Accepted, T? Result)> WithPreludeAsync<T>(
        string sql, Func<DbDataReader, string> read, (string Name, object? Value)[] parameters, Func<List<string>, bool> accept, Func<Task<T>> reads)
    {
        ArgumentNullException.ThrowIfNull(reads);
        RefuseWhileCollecting();
        _prelude = (sql, parameters, read, accept);
        _preludeRows = null;
        try
        {
            var result = await reads().ConfigureAwait(false);
            return (_preludeRows, _preludeRows is not null, result);
        }
        catch (PreludeRefusedException)
        {
            return (_preludeRows, false, default);
        }
        finally
        {
            _prelude = null;
            _preludeRows = null;
        }
    }

    public async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> read, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        RefuseWhileCollecting();
        var prelude = _prelude;
        _prelude = null;
        if (prelude is { } ahead)
        {
            sql = ahead.Sql + ";\n" + sql;
            parameters = [.. ahead.Parameters, .. parameters];
        }

        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (prelude is { } sent)
        {
            var preludeRows = new List<string>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                preludeRows.Add(sent.Read(reader));
            }

            _preludeRows = preludeRows;
            if (!sent.Accept(preludeRows))
            {
                throw new PreludeRefusedException();
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        }

        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    public string Quote(string identifier) => Engine.Quote(identifier);

    private void RefuseWhileCollecting()
    {
        if (_collected is not null)
        {
            throw new NeedsServerAnswerException();
        }
    }

    /// <summary>Ends the reads of a <see cref="WithPreludeAsync{T}"/> whose prelude was not accepted; never escapes it.</summary>
    private sealed class PreludeRefusedException : Exception
    {
    }

    /// <summary>Ends a <see cref="CollectAsync"/> whose writes need the server's answer; never escapes it.</summary>
    private sealed class NeedsServerAnswerException : Exception
    {
    }

    public async ValueTask DisposeAsync()
    {
        await RollbackQuietlyAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>A statement and its parameters, kept to be sent in a batch.</summary>
internal sealed record SessionCommand(string Sql, IReadOnlyList<(string Name, object? Value)> Parameters)
{
    public static SessionCommand Plain(string sql) => new(sql, []);
}
