using System.Data.Common;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.History;

/// <summary>
/// What the history layer needs to know about a migration it records: the migration, Atlas's running hash for its
/// file (Atlas rows store it), and how many statements it has (Atlas records applied/total).
/// </summary>
internal sealed record HistoryEntry(Migration Migration, string? AtlasHash, int StatementCount)
{
    /// <summary>
    /// The rank its row takes in a table that ranks rows (Gatekeeper's <c>installed_rank</c>), known when the history was
    /// read under the migration lock and every migration applied since added its one row; null makes the write take the
    /// table's highest rank plus one.
    /// </summary>
    public int? Rank { get; init; }
}

/// <summary>Rows read from a history table, plus the high-water mark of tools that keep one (golang-migrate).</summary>
internal sealed record HistoryRows(IReadOnlyList<AppliedMigration> Applied, string? AppliedThrough)
{
    /// <summary>The highest rank among the rows (0 for none) where the layout ranks them (Gatekeeper's); null elsewhere.</summary>
    public int? LastRank { get; init; }
}

/// <summary>How a person resolves a migration left dirty.</summary>
public enum RepairResolution
{
    /// <summary>The partial changes were undone by hand: forget the attempt, so the migration runs again (Flyway's <c>repair</c>).</summary>
    Retry,
    /// <summary>The migration was completed by hand: record it as applied (golang-migrate's <c>force</c>).</summary>
    MarkApplied,
}

/// <summary>
/// One history table layout (Gatekeeper's own or an adopted tool's), read and written exactly as its tool does, so a
/// team can switch to Gatekeeper and back. A migration that cannot run atomically (MySQL DDL, PostgreSQL files outside
/// a transaction) is bracketed by <see cref="MarkStartedAsync"/> and <see cref="MarkFinishedAsync"/>; a process that
/// dies in between leaves the mark, and the next run refuses until <see cref="RepairAsync"/>. Layouts whose tool has
/// no dirty state of its own (dbmate, sql-migrate) keep the mark in a side table, <see cref="DirtyMarkTable"/>.
/// </summary>
internal abstract class HistoryTableLayout(HistoryTableName table, SqlEngine engine)
{
    public HistoryTableName Table { get; } = table;

    public SqlEngine Engine { get; } = engine;

    public abstract HistoryTableKind Kind { get; }

    /// <summary>The layout's own way of recording a failure; false for tools that have none (a side table is used).</summary>
    protected virtual bool HasNativeDirtyState => false;

    /// <summary>
    /// The schema (PostgreSQL) or database (MySQL) an unqualified <see cref="Table"/> was found in before any migration
    /// ran. Writes address the table with it, so a migration that changes <c>search_path</c> or runs <c>USE</c> on the
    /// session cannot send the history row elsewhere.
    /// </summary>
    public string? ResolvedSchema { get; private set; }

    /// <summary>The schema every statement of this layout names: the user's, else the one resolved before applying.</summary>
    public string? EffectiveSchema => Table.Schema ?? ResolvedSchema;

    public string QuotedName(DbSession session) =>
        EffectiveSchema is not { } schema ? session.Quote(Table.Name) : session.Quote(schema) + "." + session.Quote(Table.Name);

    /// <summary>Pins an unqualified table to the session's current schema or database, once, before migrations run on it.</summary>
    public async Task ResolveSchemaAsync(DbSession session, CancellationToken cancellationToken)
    {
        if (Table.Schema is not null || ResolvedSchema is not null)
        {
            return;
        }

        ResolvedSchema = await session.ScalarAsync($"SELECT {Engine.CurrentSchemaExpression}", cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task CreateAsync(DbSession session, CancellationToken cancellationToken)
    {
        if (Table.Schema is not null)
        {
            await session.ExecuteAsync(Engine.CreateSchemaIfNotExists(session.Quote(Table.Schema)), cancellationToken).ConfigureAwait(false);
        }

        foreach (var statement in CreateStatements(session))
        {
            await session.ExecuteAsync(statement, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<HistoryRows> ReadAsync(DbSession session, CancellationToken cancellationToken)
    {
        var rows = await ReadOwnRowsAsync(session, cancellationToken).ConfigureAwait(false);
        if (HasNativeDirtyState)
        {
            return rows;
        }

        var marks = await DirtyMarkTable.ReadAsync(session, this, cancellationToken).ConfigureAwait(false);
        return marks.Count == 0 ? rows : rows with { Applied = [.. rows.Applied, .. marks] };
    }

    /// <summary>Records a migration that ran completely, inside the caller's transaction when there is one.</summary>
    public abstract Task RecordAppliedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken);

    public virtual Task MarkStartedAsync(DbSession session, HistoryEntry entry, DateTime startedAtUtc, CancellationToken cancellationToken) =>
        DirtyMarkTable.InsertAsync(session, this, entry.Migration, startedAtUtc, cancellationToken);

    public virtual async Task MarkFinishedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken)
    {
        await RecordAppliedAsync(session, entry, time, cancellationToken).ConfigureAwait(false);
        await DirtyMarkTable.DeleteAsync(session, this, entry.Migration.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Keeps the mark and adds where and why the migration stopped.</summary>
    public virtual Task MarkFailedAsync(DbSession session, HistoryEntry entry, string failure, string? failedStatement, int statementsApplied, CancellationToken cancellationToken) =>
        DirtyMarkTable.SetFailureAsync(session, this, entry.Migration.Id, failure, cancellationToken);

    /// <summary>Removes the mark of a migration of which nothing was committed (its first statement failed).</summary>
    public virtual Task ForgetStartedAsync(DbSession session, HistoryEntry entry, CancellationToken cancellationToken) =>
        DirtyMarkTable.DeleteAsync(session, this, entry.Migration.Id, cancellationToken);

    /// <summary>Clears a dirty mark; returns false when <paramref name="id"/> is not dirty in this table.</summary>
    /// <param name="previousId">The id of the migration before <paramref name="id"/> in the directory, for tools that
    /// record only the latest version (golang-migrate); null when it is the first.</param>
    public virtual async Task<bool> RepairAsync(DbSession session, HistoryEntry entry, RepairResolution resolution, string? previousId, DateTime nowUtc, CancellationToken cancellationToken)
    {
        if (!await DirtyMarkTable.DeleteAsync(session, this, entry.Migration.Id, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        if (resolution == RepairResolution.MarkApplied)
        {
            await RecordAppliedAsync(session, entry, ExecutionTime.Measured(TimeSpan.Zero, nowUtc), cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    protected abstract IEnumerable<string> CreateStatements(DbSession session);

    protected abstract Task<HistoryRows> ReadOwnRowsAsync(DbSession session, CancellationToken cancellationToken);

    protected static DateTimeOffset? ReadTime(DbDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        return reader.GetValue(ordinal) switch
        {
            DateTimeOffset offset => offset,
            // timestamptz arrives as UTC; MySQL DATETIME and Flyway's TIMESTAMP carry no zone: Gatekeeper writes UTC.
            DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
            _ => null,
        };
    }

    protected static string? ReadString(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToString(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    protected static long? ReadInt64(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToInt64(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    protected static bool ReadBool(DbDataReader reader, int ordinal) =>
        !reader.IsDBNull(ordinal) && Convert.ToBoolean(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    protected string TimestampType => Engine.TimestampType;

    /// <summary>The exception for an engine this layout has no DDL for.</summary>
    protected Exception NoDdlFor() =>
        new NotSupportedException($"{GetType().Name} has no table definition for {Engine.DisplayName}");

    /// <summary>Truncates free text to a column's size; server messages can be long.</summary>
    protected static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}
