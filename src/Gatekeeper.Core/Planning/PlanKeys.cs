using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Planning;

/// <summary>
/// The two names of a plan. The <b>plan hash</b> names what is applied and where it starts from — the engine, the
/// history table, the migrations already applied (id and checksum), rows ahead of the files, and the pending migrations
/// (id and checksum) — and nothing about how the database is reached: <c>gatekeeper plan</c> in CI against a copy with
/// the same history prints the hash a reviewer approves for production (<c>gatekeeper.dev/approve-plan</c>,
/// <c>--approve-plan</c>, <c>--expect-plan</c>). The <b>release key</b> adds the database's identity (engine, host,
/// port, database, user, schema, history table): it is what the pod template is stamped with and what Job names,
/// applied-plan records and the pod gate are keyed by, so a Deployment moved to another database with the same
/// history (a restored copy) waits for a Job of its own instead of being released by the first database's.
/// </summary>
/// <remarks>
/// A release key is written <c>&lt;first 32 hex of the plan hash&gt;-&lt;24 hex of the database digest&gt;</c>: people
/// quote both by their first 12 characters, which are the same, and a migration Job handed the release key checks the
/// plan it makes under the lock against the plan hash half (its own credential may be another user than the webhook's
/// <c>plan-secret</c>). Stamps written before version 3 are a 64-character sha256 over the database identity and the
/// pending migrations only (<see cref="LegacyHash"/>): they are still recognised as the release key of the same plan,
/// so an upgrade of Gatekeeper neither gates pods that were released nor runs a Job again.
/// </remarks>
public static class PlanKeys
{
    /// <summary>The plan hash's version, first in the hashed text; version 2 covered the database identity instead of the history.</summary>
    public const int HashVersion = 3;

    private const int PlanPartLength = 32;
    private const int DatabasePartLength = 24;
    private const int LegacyHashVersion = 2;

    /// <summary>sha256 over the engine, the history table and the ordered applied, ahead and pending lists: the same inputs give the same hash on every machine.</summary>
    public static string PlanHash(string engine, string historyTable, IReadOnlyList<Migration> applied, IReadOnlyList<string> ahead, IReadOnlyList<Migration> pending)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(historyTable);
        ArgumentNullException.ThrowIfNull(applied);
        ArgumentNullException.ThrowIfNull(ahead);
        ArgumentNullException.ThrowIfNull(pending);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"gatekeeper-plan/v{HashVersion}\n{engine}\n{historyTable}\napplied\n");
        AppendMigrations(text, applied);
        text.Append("ahead\n");
        foreach (var id in ahead)
        {
            text.Append(id).Append('\n');
        }

        text.Append("pending\n");
        AppendMigrations(text, pending);
        return Sha256(text.ToString());
    }

    /// <summary>The key a plan's releases go by on <paramref name="database"/>: the plan hash's first half, then a digest of where.</summary>
    public static string ReleaseKey(DatabaseIdentity database, string planHash)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(planHash);
        var where = Sha256(string.Create(CultureInfo.InvariantCulture,
            $"gatekeeper-release/v{HashVersion}\n{database.Engine}\n{database.Host}\n{database.Port}\n{database.Database}\n{database.User}\n{database.Schema}\n{database.HistoryTable}\n{planHash}\n"));
        return planHash[..Math.Min(PlanPartLength, planHash.Length)] + "-" + where[..DatabasePartLength];
    }

    /// <summary>
    /// The hash versions before 3 stamped and recorded (sha256 over the database identity and the pending migrations):
    /// computed only to recognise a stamp, Job or record written by an earlier Gatekeeper.
    /// </summary>
    public static string LegacyHash(DatabaseIdentity database, IReadOnlyList<Migration> pending)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(pending);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"gatekeeper-plan/v{LegacyHashVersion}\n");
        text.Append(CultureInfo.InvariantCulture, $"{database.Engine}\n{database.Host}\n{database.Port}\n{database.Database}\n{database.HistoryTable}\n");
        text.Append(CultureInfo.InvariantCulture, $"{database.User}\n{database.Schema}\n");
        AppendMigrations(text, pending);
        return Sha256(text.ToString());
    }

    /// <summary>True for a key written by version 3 or later (a legacy stamp is 64 hex characters without the dash).</summary>
    public static bool IsReleaseKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Length == PlanPartLength + 1 + DatabasePartLength && key[PlanPartLength] == '-';
    }

    /// <summary>
    /// True when a value handed to a runner (<c>--expect-plan</c>) names the plan whose hash is <paramref name="planHash"/>
    /// (and, for a stamp written before version 3, whose legacy hash is <paramref name="legacyHash"/>): the plan hash itself,
    /// a release key of that plan on any database, or the legacy hash.
    /// </summary>
    public static bool NamesPlan(string expected, string planHash, string? legacyHash)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(planHash);
        return string.Equals(expected, planHash, StringComparison.Ordinal)
            || (IsReleaseKey(expected) && planHash.StartsWith(expected[..PlanPartLength], StringComparison.Ordinal))
            || (legacyHash is not null && string.Equals(expected, legacyHash, StringComparison.Ordinal));
    }

    private static void AppendMigrations(StringBuilder text, IReadOnlyList<Migration> migrations)
    {
        foreach (var migration in migrations)
        {
            text.Append(migration.Id).Append('\0').Append(migration.Checksum).Append('\n');
        }
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
