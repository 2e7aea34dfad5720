using System.Globalization;
using Gatekeeper.Core.History;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.History;

/// <summary>
/// golang-migrate's <c>schema_migrations(version bigint, dirty boolean)</c>: a single row holding the latest version,
/// so every version at or below it counts as applied (<see cref="HistoryState.AppliedThrough"/>). Like golang-migrate,
/// Gatekeeper sets <c>dirty</c> before a migration that cannot run atomically and clears it after; golang-migrate then
/// refuses a dirty database exactly as Gatekeeper does.
/// </summary>
internal sealed class GolangMigrateHistoryTable(HistoryTableName table, SqlEngine engine) : HistoryTableLayout(table, engine)
{
    // The version a dirty mark replaced, so forgetting an attempt of which nothing was committed restores it.
    private long? _versionBeforeMark;

    public override HistoryTableKind Kind => HistoryTableKind.GolangMigrate;

    protected override bool HasNativeDirtyState => true;

    protected override IEnumerable<string> CreateStatements(DbSession session)
    {
        yield return $"CREATE TABLE IF NOT EXISTS {QuotedName(session)} (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)";
    }

    protected override async Task<HistoryRows> ReadOwnRowsAsync(DbSession session, CancellationToken cancellationToken)
    {
        var rows = await session.QueryAsync(
            $"SELECT version, dirty FROM {QuotedName(session)} ORDER BY version DESC",
            reader => (Version: Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture), Dirty: ReadBool(reader, 1)),
            cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return new HistoryRows([], null);
        }

        // golang-migrate keeps one row; should several exist, the highest is the one it reads.
        var (version, dirty) = rows[0];
        var text = version.ToString(CultureInfo.InvariantCulture);
        if (!dirty)
        {
            return new HistoryRows([], text);
        }

        var row = new AppliedMigration(text, null, null, null, null, null, Dirty: true)
        {
            Failure = $"version {text} (golang-migrate records no error text)",
        };
        return new HistoryRows([row], text);
    }

    public override Task RecordAppliedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken) =>
        SetAsync(session, VersionOf(entry), dirty: false, cancellationToken);

    public override async Task MarkStartedAsync(DbSession session, HistoryEntry entry, DateTime startedAtUtc, CancellationToken cancellationToken)
    {
        var current = await session.ScalarAsync($"SELECT MAX(version) FROM {QuotedName(session)}", cancellationToken).ConfigureAwait(false);
        _versionBeforeMark = current is null ? null : Convert.ToInt64(current, CultureInfo.InvariantCulture);
        await SetAsync(session, VersionOf(entry), dirty: true, cancellationToken).ConfigureAwait(false);
    }

    public override Task MarkFinishedAsync(DbSession session, HistoryEntry entry, ExecutionTime time, CancellationToken cancellationToken) =>
        SetAsync(session, VersionOf(entry), dirty: false, cancellationToken);

    public override Task MarkFailedAsync(DbSession session, HistoryEntry entry, string failure, string? failedStatement, int statementsApplied, CancellationToken cancellationToken) =>
        Task.CompletedTask;

    public override Task ForgetStartedAsync(DbSession session, HistoryEntry entry, CancellationToken cancellationToken) =>
        _versionBeforeMark is { } previous
            ? SetAsync(session, previous, dirty: false, cancellationToken)
            : session.ExecuteAsync($"DELETE FROM {QuotedName(session)}{Engine.EveryRow("version")}", cancellationToken);

    public override async Task<bool> RepairAsync(DbSession session, HistoryEntry entry, RepairResolution resolution, string? previousId, DateTime nowUtc, CancellationToken cancellationToken)
    {
        var dirty = await session.ScalarAsync(
            $"SELECT COUNT(*) FROM {QuotedName(session)} WHERE version = @v AND dirty = @t",
            cancellationToken,
            ("v", VersionOf(entry)), ("t", true)).ConfigureAwait(false);
        if (Convert.ToInt64(dirty, CultureInfo.InvariantCulture) == 0)
        {
            return false;
        }

        if (resolution == RepairResolution.MarkApplied)
        {
            await SetAsync(session, VersionOf(entry), dirty: false, cancellationToken).ConfigureAwait(false);
        }
        else if (previousId is null)
        {
            await session.ExecuteAsync($"DELETE FROM {QuotedName(session)}{Engine.EveryRow("version")}", cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await SetAsync(session, Parse(previousId), dirty: false, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private async Task SetAsync(DbSession session, long version, bool dirty, CancellationToken cancellationToken)
    {
        // golang-migrate truncates and inserts; DELETE keeps this inside the caller's transaction on MySQL too.
        await session.ExecuteAsync($"DELETE FROM {QuotedName(session)}{Engine.EveryRow("version")}", cancellationToken).ConfigureAwait(false);
        await session.ExecuteAsync(
            $"INSERT INTO {QuotedName(session)} (version, dirty) VALUES (@v, @d)",
            cancellationToken,
            ("v", version), ("d", dirty)).ConfigureAwait(false);
    }

    private static long VersionOf(HistoryEntry entry) => Parse(entry.Migration.Id);

    private static long Parse(string id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : throw new DatabaseException(DatabaseErrorKind.HistoryTable, $"migration version {id} does not fit golang-migrate's bigint version column");
}
