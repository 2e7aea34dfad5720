using Gatekeeper.Databases.Execution;

namespace Gatekeeper.Databases.DevDatabase;

/// <summary>One object of a live database to re-create in a copy: its kind and name (for messages) and its DDL.</summary>
/// <param name="Setting">A session setting its DDL must be run under (MySQL: the SQL mode it was written in), sent before
/// it unless the object before it needed the same; null when the replay's settings do.</param>
internal sealed record SchemaObject(string Kind, string Name, string Sql, string? Setting = null);

/// <summary>
/// The structure of a live database, read from its catalog without touching a row, as statements that re-create it in
/// a throwaway database: what an engine's dry-run copy starts from.
/// </summary>
/// <param name="Objects">In replay order; an object that depends on one later in the list is retried after it.</param>
/// <param name="ReplaySettings">Session settings for the replay (no foreign key or function body checks: order does not matter).</param>
/// <param name="PlanSettings">Session settings for applying the plan, as the live database resolves names (PostgreSQL's search_path).</param>
internal sealed record SchemaSnapshot(
    IReadOnlyList<SchemaObject> Objects,
    IReadOnlyList<string> ReplaySettings,
    IReadOnlyList<string> PlanSettings,
    ThrowawayDatabaseOptions DatabaseOptions)
{
    /// <summary>The live session's modes (MySQL <c>sql_mode</c>), which <see cref="PlanSettings"/> give the copy's session: the plan's files are cut as they read there.</summary>
    public Core.Sql.SqlModes PlanModes { get; init; }

    /// <summary>
    /// Replays the objects; those that fail because something they need comes later (a view over a view) are retried
    /// until a round makes no progress. Returns the first object that could not be created and why, or null.
    /// </summary>
    public async Task<(SchemaObject Object, Exception Error)?> ReplayAsync(DbSession copy, CancellationToken cancellationToken)
    {
        foreach (var setting in ReplaySettings)
        {
            await copy.ExecuteAsync(setting, cancellationToken).ConfigureAwait(false);
        }

        var pending = Objects.ToList();
        string? sent = null;
        while (pending.Count > 0)
        {
            var failed = new List<(SchemaObject Object, Exception Error)>();
            foreach (var item in pending)
            {
                try
                {
                    if (item.Setting is { } needed && needed != sent)
                    {
                        sent = null;
                        await copy.ExecuteAsync(needed, cancellationToken).ConfigureAwait(false);
                        sent = needed;
                    }

                    await copy.ExecuteAsync(item.Sql, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: not DatabaseErrorKind.ConnectionLost and not DatabaseErrorKind.Unreachable })
                {
                    failed.Add((item, ex));
                }
            }

            if (failed.Count == 0)
            {
                break;
            }

            if (failed.Count == pending.Count)
            {
                return failed[0];
            }

            pending = failed.Select(f => f.Object).ToList();
        }

        await ApplyPlanSettingsAsync(copy, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>Sets the copy's session to resolve names as the live database does; again after each reset of the session.</summary>
    public async Task ApplyPlanSettingsAsync(DbSession copy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(copy);
        foreach (var setting in PlanSettings)
        {
            await copy.ExecuteAsync(setting, cancellationToken).ConfigureAwait(false);
        }
    }
}
