using System.Data.Common;
using System.Globalization;
using Gatekeeper.Core.Planning;
using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.Preflight;

/// <summary>
/// Runs the data pre-checks of a plan: for each change that existing rows can fail, one read-only query that looks for
/// one such row (<c>LIMIT 1</c>, in a READ ONLY transaction, under a statement timeout) and names it by its primary key
/// only. A check that cannot run (a timeout on a large table, a missing SELECT right, an expression the live schema
/// does not know yet) is reported as not checked, never as a failure of the plan.
/// </summary>
internal sealed class DataPrecheckRunner(DbSession session, DatabaseUrl url, PreflightOptions options)
{
    private const int KeyValueLength = 40;

    private readonly Dictionary<TableName, IReadOnlyList<string>> _primaryKeys = [];

    /// <summary>Less time than this left in the budget is not worth a query.</summary>
    private static readonly TimeSpan MinimumQueryTime = TimeSpan.FromMilliseconds(100);

    private SqlEngine Engine => session.Engine;

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);

    public async Task<DataPrechecks> RunAsync(IReadOnlyList<DataCheck> checks, CancellationToken cancellationToken)
    {
        var violations = new List<DataViolation>();
        var notChecked = new List<string>();
        var started = options.TimeProvider.GetTimestamp();
        foreach (var (check, index) in checks.Select((c, i) => (c, i)))
        {
            if (index >= options.MaximumChecks)
            {
                notChecked.Add($"{check.Location}: {check.What} on {check.Table} was not checked: only the first {options.MaximumChecks} changes of a plan are checked against existing rows");
                continue;
            }

            // The checks share one budget, so a plan of many changes on large tables still answers in time.
            var left = options.TimeBudget - options.TimeProvider.GetElapsedTime(started);
            if (left < MinimumQueryTime)
            {
                notChecked.Add($"{check.Location}: {check.What} on {check.Table} was not checked: the pre-checks used up their {Seconds(options.TimeBudget)} s");
                continue;
            }

            var timeout = left < options.QueryTimeout ? left : options.QueryTimeout;
            session.CommandTimeoutSeconds = (int)Math.Ceiling(timeout.TotalSeconds) + (Engine.TransactionalDdl ? 1 : 0);
            try
            {
                foreach (var statement in Engine.BeginReadOnly(timeout))
                {
                    await session.ExecuteAsync(statement, cancellationToken).ConfigureAwait(false);
                }

                if (await FindAsync(check, cancellationToken).ConfigureAwait(false) is { } row)
                {
                    violations.Add(new DataViolation(check, row.Key));
                }
            }
            catch (Exception ex) when (DatabaseErrorClassifier.IsReadTimeout(ex))
            {
                notChecked.Add($"{check.Location}: {check.What} on {check.Table} was not checked against existing rows: " +
                               $"the query did not finish within {Seconds(timeout)} s");
            }
            catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: not DatabaseErrorKind.ConnectionLost and not DatabaseErrorKind.Unreachable } error)
            {
                notChecked.Add($"{check.Location}: {check.What} on {check.Table} was not checked against existing rows: " + error.Kind switch
                {
                    DatabaseErrorKind.PermissionDenied =>
                        $"user {url.User} may not read {check.Table}; grant it with: {Engine.Grant(DatabasePrivilege.ReadTable, url.User ?? "(none)", url.Database, check.Table.ToString())}",
                    _ => error.ServerMessage,
                });
            }
            finally
            {
                await TryRollbackAsync().ConfigureAwait(false);
            }
        }

        return new DataPrechecks(violations, notChecked);
    }

    private async Task<(string? Key, bool Found)?> FindAsync(DataCheck check, CancellationToken cancellationToken)
    {
        var key = await PrimaryKeyAsync(check.Table, cancellationToken).ConfigureAwait(false);
        var sql = Query(check, key);
        if (sql is null)
        {
            return null;
        }

        await using var command = session.Command(sql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return (key.Count == 0 ? null : FormatKey(key, reader), true);
    }

    /// <summary>The query that returns the primary key of one row that would fail the change, or null when none is needed.</summary>
    private string? Query(DataCheck check, IReadOnlyList<string> key)
    {
        var table = Qualified(check.Table);
        var select = key.Count == 0 ? "1" : string.Join(", ", key.Select(k => Engine.KeyValue("t." + Engine.Quote(k))));
        var columns = check.Columns.Select(Engine.Quote).ToList();
        switch (check.Kind)
        {
            case DataCheckKind.Unique:
                var elements = string.Join(", ", check.Expressions);
                var filter = string.Join(" AND ", check.Expressions.Select(e => $"({e}) IS NOT NULL")) + (check.Predicate is { } p ? $" AND ({p})" : string.Empty);
                // Two levels: MySQL takes LIMIT in a derived table, not directly in an IN subquery.
                return $"SELECT {select} FROM {table} t WHERE ({elements}) IN (SELECT * FROM (SELECT {elements} FROM {table} WHERE {filter} GROUP BY {elements} HAVING COUNT(*) > 1 LIMIT 1) d)" +
                       (check.Predicate is { } predicate ? $" AND ({predicate})" : string.Empty) + " LIMIT 1";
            case DataCheckKind.NotNull:
                return $"SELECT {select} FROM {table} t WHERE t.{columns[0]} IS NULL LIMIT 1";
            case DataCheckKind.Check:
                return $"SELECT {select} FROM {table} t WHERE NOT ({check.Expressions[0]}) LIMIT 1";
            case DataCheckKind.NoRows:
                return $"SELECT {select} FROM {table} t LIMIT 1";
            case DataCheckKind.FitsType when check.Limit is { } limit:
                var column = "t." + columns[0];
                var overflows = limit switch
                {
                    { MaxLength: { } length } => $"{Engine.TextLength(column)} > {length.ToString(CultureInfo.InvariantCulture)}",
                    { Min: { } min, Max: { } max } => $"({column} < {min.ToString(CultureInfo.InvariantCulture)} OR {column} > {max.ToString(CultureInfo.InvariantCulture)})",
                    { Precision: { } precision, Scale: { } scale } => $"ABS({Engine.RoundToScale(column, scale)}) >= POWER(10, {(precision - scale).ToString(CultureInfo.InvariantCulture)})",
                    _ => null,
                };
                return overflows is null ? null : $"SELECT {select} FROM {table} t WHERE {column} IS NOT NULL AND {overflows} LIMIT 1";
            case DataCheckKind.ForeignKey when check.ReferencedTable is { } referenced:
                var referencedColumns = check.ReferencedColumns.Count > 0 ? check.ReferencedColumns : _primaryKeys.GetValueOrDefault(referenced) ?? [];
                if (referencedColumns.Count != columns.Count)
                {
                    return null;
                }

                var present = string.Join(" AND ", columns.Select(c => $"t.{c} IS NOT NULL"));
                var matches = string.Join(" AND ", referencedColumns.Select((r, i) => $"r.{Engine.Quote(r)} = t.{columns[i]}"));
                return $"SELECT {select} FROM {table} t WHERE {present} AND NOT EXISTS (SELECT 1 FROM {Qualified(referenced)} r WHERE {matches}) LIMIT 1";
            default:
                return null;
        }
    }

    private async Task<IReadOnlyList<string>> PrimaryKeyAsync(TableName table, CancellationToken cancellationToken)
    {
        if (_primaryKeys.TryGetValue(table, out var known))
        {
            return known;
        }

        var (sql, parameters) = Engine.PrimaryKeyColumns(session, table);
        var key = await session.QueryAsync(sql, r => r.GetString(0), cancellationToken, parameters).ConfigureAwait(false);
        _primaryKeys[table] = key;
        return key;
    }

    private string Qualified(TableName table) =>
        table.Schema is null ? Engine.Quote(table.Name) : Engine.Quote(table.Schema) + "." + Engine.Quote(table.Name);

    /// <summary>"id = 42" or "(tenant_id, id) = (3, 7)": the row's key only, long text values shortened.</summary>
    private static string FormatKey(IReadOnlyList<string> key, DbDataReader reader)
    {
        var values = key.Select((_, i) => reader.IsDBNull(i) ? "NULL" : reader.GetValue(i) switch
        {
            // A number read as text (PostgreSQL's keys are: see SqlEngine.KeyValue) reads as the number it is.
            string number when IsNumber(number) => number,
            string text => "'" + (text.Length <= KeyValueLength ? text : text[..KeyValueLength] + "…") + "'",
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            var other => "'" + other + "'",
        }).ToList();
        return key.Count == 1 ? $"{key[0]} = {values[0]}" : $"({string.Join(", ", key)}) = ({string.Join(", ", values)})";
    }

    private static bool IsNumber(string text) =>
        text.Length is > 0 and <= KeyValueLength && decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _);

    private async Task TryRollbackAsync()
    {
        try
        {
            await session.ExecuteAsync("ROLLBACK", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is not null || ex is InvalidOperationException)
        {
            // A broken session: the pool discards it, and the server ended its transaction.
        }
    }
}
