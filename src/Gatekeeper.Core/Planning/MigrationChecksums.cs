using System.Globalization;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Planning;

/// <summary>
/// Computes a migration's checksum with the algorithm a history row was written with, so a file can be
/// compared with what Gatekeeper or an adopted tool recorded.
/// </summary>
public static class MigrationChecksums
{
    public const string Sha256 = "sha256";

    /// <summary>Flyway's CRC32 over the file's lines, stored as a signed 32-bit integer.</summary>
    public const string FlywayCrc32 = "flyway-crc32";

    /// <summary>Returns null for an algorithm Gatekeeper cannot reproduce (then drift is not judged for that row).</summary>
    public static string? Compute(Migration migration, string? algorithm) => algorithm switch
    {
        null or Sha256 => migration.Checksum,
        FlywayCrc32 => FlywayChecksum.Compute(migration.Content.Span).ToString(CultureInfo.InvariantCulture),
        _ => null,
    };
}
