using Gatekeeper.Core.History;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Planning;

/// <summary>
/// Compares a migration directory with a database's history and says what would run, and what stops it:
/// discover, read history, sort, filter — nothing else. Pure; the same answer in the CLI, the webhook
/// and the migration Job.
/// </summary>
public static class MigrationPlanner
{
    public static MigrationPlan Plan(MigrationDirectory directory, HistoryState history, DatabaseIdentity database)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(database);

        var files = FilesById(directory);
        var rows = LatestRowPerId(history.Applied);
        var problems = DirtyRows(rows, files, history, database);
        var sorted = SortFiles(directory, rows, history);
        problems.AddRange(sorted.Problems);
        var withoutFile = rows.Values.Where(row => !row.Dirty && !files.ContainsKey(row.Id)).Select(row => row.Id).ToList();
        var ahead = AheadOfTheFiles(directory, sorted.Pending, withoutFile);
        problems.AddRange(MissingFiles(directory, history, withoutFile.Except(ahead, StringComparer.Ordinal)));

        var target = directory.Migrations.LastOrDefault(m => m.Kind == MigrationKind.Versioned)?.Id;
        var hash = PlanKeys.PlanHash(database.Engine, database.HistoryTable, sorted.Applied, ahead, sorted.Pending);
        return new MigrationPlan(database, sorted.Pending, sorted.Applied, problems, hash, target)
        {
            Ahead = ahead,
            LegacyHash = PlanKeys.LegacyHash(database, sorted.Pending),
        };
    }

    private static Dictionary<string, Migration> FilesById(MigrationDirectory directory)
    {
        var files = new Dictionary<string, Migration>(StringComparer.Ordinal);
        foreach (var migration in directory.Migrations)
        {
            files[migration.Id] = migration;
        }

        return files;
    }

    /// <summary>A row marked dirty stops every plan until a person repairs the schema and says what they did.</summary>
    private static List<PlanProblem> DirtyRows(Dictionary<string, AppliedMigration> rows, Dictionary<string, Migration> files, HistoryState history, DatabaseIdentity database) =>
        rows.Values.Where(row => row.Dirty).Select(row => new PlanProblem(
            PlanProblemKind.Dirty,
            row.Id,
            files.GetValueOrDefault(row.Id)?.FileName,
            $"migration {row.Id} failed half-way on {database.Database} and is marked dirty in {history.Table}; " +
            $"repair the schema by hand, then run `gatekeeper repair --version {row.Id} --resolution retry` (you undid it) or `--resolution applied` (you finished it)"))
            .ToList();

    private sealed record SortedFiles(List<Migration> Applied, List<Migration> Pending, List<PlanProblem> Problems);

    /// <summary>Each file, in apply order, is applied or pending; a file changed after it was applied, or new but older than an applied one, is a problem.</summary>
    private static SortedFiles SortFiles(MigrationDirectory directory, Dictionary<string, AppliedMigration> rows, HistoryState history)
    {
        var sorted = new SortedFiles([], [], []);
        var highestApplied = HighestAppliedVersion(directory, rows, history.AppliedThrough);
        foreach (var migration in directory.Migrations)
        {
            if (rows.TryGetValue(migration.Id, out var row))
            {
                if (!row.Dirty)
                {
                    SortRecorded(migration, row, history, sorted);
                }
            }
            else if (migration.Kind == MigrationKind.Versioned && IsCoveredByHighWaterMark(migration, history.AppliedThrough))
            {
                sorted.Applied.Add(migration);
            }
            else
            {
                if (migration.Kind == MigrationKind.Versioned && highestApplied is not null && migration.Version.CompareTo(highestApplied.Version) < 0)
                {
                    sorted.Problems.Add(new PlanProblem(
                        PlanProblemKind.OutOfOrder,
                        migration.Id,
                        migration.FileName,
                        $"{migration.FileName} is new but sorts before {highestApplied.Id}, which is already applied; " +
                        $"give it a version above {highestApplied.Id} so every database applies migrations in the same order"));
                }

                sorted.Pending.Add(migration);
            }
        }

        return sorted;
    }

    /// <summary>A file the history records: applied, unless its checksum moved (drift, or a repeatable to apply again).</summary>
    private static void SortRecorded(Migration migration, AppliedMigration row, HistoryState history, SortedFiles sorted)
    {
        var current = MigrationChecksums.Compute(migration, row.ChecksumAlgorithm);
        if (migration.Kind == MigrationKind.Repeatable)
        {
            // A repeatable migration is meant to change: a new checksum means "apply it again".
            var changed = row.Checksum is not null && current is not null && !string.Equals(row.Checksum, current, StringComparison.Ordinal);
            (changed ? sorted.Pending : sorted.Applied).Add(migration);
            return;
        }

        sorted.Applied.Add(migration);
        if (row.Checksum is { } recorded && current is not null && !string.Equals(recorded, current, StringComparison.Ordinal))
        {
            sorted.Problems.Add(new PlanProblem(
                PlanProblemKind.Drift,
                migration.Id,
                migration.FileName,
                $"{migration.FileName} changed after it was applied (checksum {Hashes.Short(recorded)} in {history.Table}, " +
                $"{Hashes.Short(current)} now); restore the applied file and put the change in a new migration"));
        }
    }

    /// <summary>
    /// History rows whose file is gone are a hole in the source, unless the database is simply ahead of these files:
    /// nothing here is pending and every such row is newer than the newest file. That is a rollback (or files not
    /// updated yet); under expand/contract the older code runs on the newer schema, so it is said, not blocked.
    /// </summary>
    private static List<string> AheadOfTheFiles(MigrationDirectory directory, List<Migration> pending, List<string> withoutFile) =>
        pending.Count == 0 && withoutFile.Count > 0 && withoutFile.All(id => IsNewerThanEveryFile(id, directory)) ? withoutFile : [];

    private static IEnumerable<PlanProblem> MissingFiles(MigrationDirectory directory, HistoryState history, IEnumerable<string> ids) =>
        ids.Select(id => new PlanProblem(
            PlanProblemKind.Missing,
            id,
            null,
            $"migration {id} is recorded as applied in {history.Table} but no file in {directory.Source} has that version; " +
            "restore the file (applied migrations must stay in the source)"));

    /// <summary>
    /// True when <paramref name="plan"/>'s pending migrations are the rest of the plan that <paramref name="expected"/>
    /// names (its plan hash, a release key of it, or the hash an earlier version stamped): that plan began with
    /// migrations that are applied now (an earlier attempt of the same Job applied them before it failed), started
    /// from the history without them, and ends with exactly what is pending. Tried for every split point: the last k
    /// applied versioned migrations, then the repeatables applied just before the first pending one.
    /// </summary>
    public static bool IsRemainderOf(MigrationPlan plan, string expected)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(expected);
        var versioned = plan.Applied.Where(m => m.Kind == MigrationKind.Versioned).ToList();
        var repeatables = new List<Migration>();
        if (plan.Pending.Count > 0 && plan.Pending[0].Kind == MigrationKind.Repeatable)
        {
            // Every versioned migration of the earlier attempt is applied; of its repeatables, those before the first one pending.
            var first = plan.Pending[0].Id;
            repeatables = plan.Applied.Where(m => m.Kind == MigrationKind.Repeatable && string.CompareOrdinal(m.Id, first) < 0).ToList();
        }

        for (var r = 0; r <= repeatables.Count; r++)
        {
            for (var k = 0; k <= versioned.Count; k++)
            {
                if (k == 0 && r == 0)
                {
                    continue;
                }

                var began = new List<Migration>(k + r);
                began.AddRange(versioned.Skip(versioned.Count - k));
                began.AddRange(repeatables.Skip(repeatables.Count - r));
                var candidate = new List<Migration>(k + r + plan.Pending.Count);
                candidate.AddRange(began);
                candidate.AddRange(plan.Pending);
                var beganSet = new HashSet<Migration>(began, ReferenceEqualityComparer.Instance);
                var startedFrom = plan.Applied.Where(m => !beganSet.Contains(m)).ToList();
                var hash = PlanKeys.PlanHash(plan.Database.Engine, plan.Database.HistoryTable, startedFrom, [], candidate);
                if (PlanKeys.NamesPlan(expected, hash, PlanKeys.LegacyHash(plan.Database, candidate)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static Dictionary<string, AppliedMigration> LatestRowPerId(IReadOnlyList<AppliedMigration> applied)
    {
        // Repeatable migrations appear once per application; the last row is the one that counts.
        var rows = new Dictionary<string, AppliedMigration>(StringComparer.Ordinal);
        foreach (var row in applied)
        {
            rows[row.Id] = row;
        }

        return rows;
    }

    private static Migration? HighestAppliedVersion(MigrationDirectory directory, Dictionary<string, AppliedMigration> rows, string? appliedThrough)
    {
        Migration? highest = null;
        foreach (var migration in directory.Migrations)
        {
            if (migration.Kind != MigrationKind.Versioned)
            {
                continue;
            }

            var isApplied = rows.ContainsKey(migration.Id) || IsCoveredByHighWaterMark(migration, appliedThrough);
            if (isApplied && (highest is null || migration.Version.CompareTo(highest.Version) > 0))
            {
                highest = migration;
            }
        }

        return highest;
    }

    /// <summary>True when a history row's version (its id, or the number it starts with) sorts after every versioned file.</summary>
    private static bool IsNewerThanEveryFile(string id, MigrationDirectory directory)
    {
        var version = MigrationVersion.TryParse(id) ?? MigrationVersion.TryParse(new string(id.TakeWhile(char.IsAsciiDigit).ToArray()));
        var newest = directory.Migrations.Where(m => m.Kind == MigrationKind.Versioned).Select(m => m.Version).Max();
        return version is not null && newest is not null && version.CompareNumeric(newest) > 0;
    }

    private static bool IsCoveredByHighWaterMark(Migration migration, string? appliedThrough)
    {
        if (appliedThrough is null)
        {
            return false;
        }

        var mark = MigrationVersion.TryParse(appliedThrough);
        return mark is not null && migration.Version.CompareNumeric(mark) <= 0;
    }

}
