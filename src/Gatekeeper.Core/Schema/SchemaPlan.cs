using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Planning;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Schema;

/// <summary>
/// What making a database match a desired state takes: the statements in order, what the differ could not express,
/// and a hash over where, from what, and exactly which statements — so a plan approved, stamped or expected by a Job
/// is this plan and no other.
/// </summary>
/// <param name="Database">Where (no credentials); its history table is where declarative applies are recorded.</param>
/// <param name="DesiredHash">The hash of the desired state's files (<see cref="DesiredSchemaReader.Hash"/>).</param>
public sealed record SchemaPlan(SqlDialect Dialect, DatabaseIdentity Database, string DesiredHash, SchemaDiff Diff, string Hash)
{
    /// <summary>The file name statements of a declarative plan carry in lint findings and failures.</summary>
    public const string ScriptName = "schema-plan.sql";

    public IReadOnlyList<SchemaChange> Changes => Diff.Changes;

    public IReadOnlyList<SchemaDifferenceNote> Notes => Diff.Notes;

    public bool IsEmpty => Diff.IsEmpty;

    /// <summary>A difference the differ refuses to express (an enum label to remove) blocks the plan.</summary>
    public bool IsBlocked => Diff.IsBlocked;

    /// <summary>The plan as one SQL script (what <c>--output sql</c> prints and the Job applies); empty when there is nothing to do.</summary>
    public string Sql => SchemaScript.Render(Dialect, Changes);

    /// <summary>
    /// The plan as a migration plan of one migration (none when empty), so <see cref="PlanJudge"/> judges it like any
    /// other; its target version names the desired state.
    /// </summary>
    public MigrationPlan ToMigrationPlan() =>
        new(Database, IsEmpty ? [] : [ToMigration()], [], [], Hash, TargetVersion) { LegacyHash = SchemaPlanner.LegacyHash(Database, DesiredHash, Changes) };

    /// <summary>What the new pods need: the desired state, as <c>schema-</c> and the first 12 characters of its hash.</summary>
    public string TargetVersion => "schema-" + DesiredHash[..Math.Min(12, DesiredHash.Length)];

    /// <summary>
    /// The script as a migration, so the linter, the dry-run and the executor treat it exactly as they treat a migration
    /// file. Its id is the plan hash; its checksum the desired state's hash.
    /// </summary>
    public Migration ToMigration()
    {
        var sql = Sql;
        var bytes = Encoding.UTF8.GetBytes(sql);
        return new Migration(Hash, MigrationVersion.Parse("1"), $"declarative schema {DesiredHash[..Math.Min(12, DesiredHash.Length)]}", MigrationKind.Versioned,
            ScriptName, sql, 1, null, Transactional: true, DesiredHash, bytes);
    }
}

/// <summary>Computes a declarative plan from the two schemas (pure: the catalogs were read by the caller).</summary>
public static class SchemaPlanner
{
    private const string HashVersion = "gatekeeper-schema-plan-v2";
    private const string LegacyHashVersion = "gatekeeper-schema-plan-v1";

    public static SchemaPlan Plan(SchemaModel current, SchemaModel desired, DesiredSchema source, SchemaExclusions exclusions, DatabaseIdentity database)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(exclusions);
        ArgumentNullException.ThrowIfNull(database);
        var diff = SchemaDiffer.Diff(exclusions.Apply(current), exclusions.Apply(desired), new SchemaDiffOptions { Renames = source.Renames });
        return new SchemaPlan(current.Dialect, database, source.Hash, diff, Hash(database, source.Hash, diff.Changes));
    }

    /// <summary>
    /// The plan hash: sha256 over the engine, the history table, the desired state's hash and every statement in order
    /// (the statements are what the live schema differs by, so they stand for the state the plan starts from). Not
    /// where the database is: the same desired state against a copy with the same schema gives the same hash, which
    /// an approval in git can name; releases are keyed by <see cref="MigrationPlan.ReleaseKey"/>.
    /// </summary>
    public static string Hash(DatabaseIdentity database, string desiredHash, IReadOnlyList<SchemaChange> changes)
    {
        ArgumentNullException.ThrowIfNull(database);
        return Sha256(new StringBuilder(HashVersion).Append('\n').Append(database.Engine).Append('\n').Append(database.HistoryTable).Append('\n'), desiredHash, changes);
    }

    /// <summary>The hash version 1 stamped (target engine, host, port and database instead of the history table): recognised on stamps an earlier Gatekeeper wrote.</summary>
    public static string LegacyHash(DatabaseIdentity database, string desiredHash, IReadOnlyList<SchemaChange> changes)
    {
        ArgumentNullException.ThrowIfNull(database);
        return Sha256(new StringBuilder(LegacyHashVersion).Append('\n')
            .Append(database.Engine).Append('\n').Append(database.Host).Append('\n').Append(database.Port).Append('\n').Append(database.Database).Append('\n'), desiredHash, changes);
    }

    private static string Sha256(StringBuilder text, string desiredHash, IReadOnlyList<SchemaChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        text.Append(desiredHash).Append('\n');
        foreach (var change in changes)
        {
            text.Append(change.Sql).Append('\0');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}

/// <summary>Writes a plan's statements as a script the project's splitter (and psql or the mysql client) reads back statement for statement.</summary>
public static class SchemaScript
{
    public static string Render(SqlDialect dialect, IReadOnlyList<SchemaChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var text = new StringBuilder();
        var first = changes.Where(c => c.CommitsFirst).ToList();
        if (first.Count > 0 && first.Count < changes.Count)
        {
            // Enum labels are committed on their own; the rest stays one transaction, spelled out so the executor and
            // the dry-run see exactly what runs.
            Append(text, dialect, first);
            text.Append("BEGIN;\n");
            Append(text, dialect, changes.Where(c => !c.CommitsFirst).ToList());
            text.Append("COMMIT;\n");
            return text.ToString();
        }

        Append(text, dialect, changes);
        return text.ToString();
    }

    private static void Append(StringBuilder text, SqlDialect dialect, IReadOnlyList<SchemaChange> changes)
    {
        foreach (var change in changes)
        {
            // MySQL routine and trigger bodies hold semicolons: the client needs another delimiter around them.
            if (dialect == SqlDialect.MySql && change.Sql.Contains(';', StringComparison.Ordinal))
            {
                text.Append("DELIMITER ;;\n").Append(change.Sql).Append(";;\nDELIMITER ;\n");
            }
            else
            {
                text.Append(change.Sql).Append(";\n");
            }
        }
    }
}
