namespace Gatekeeper.Core.History;

/// <summary>
/// One row of a history table, normalised across tools. <see cref="Checksum"/> is null when the adopted
/// table keeps none (dbmate, golang-migrate, sql-migrate), so drift cannot be judged for that row.
/// <see cref="ChecksumAlgorithm"/> says how it was computed ("sha256" for Gatekeeper, "flyway-crc32",
/// "atlas-sum").
/// </summary>
public sealed record AppliedMigration(
    string Id,
    string? Description,
    string? Checksum,
    string? ChecksumAlgorithm,
    DateTimeOffset? AppliedAt,
    TimeSpan? ExecutionTime,
    bool Dirty)
{
    /// <summary>
    /// For a dirty row, where and why the migration stopped ("V3__x.sql:12:1: duplicate column name 'y'") when the
    /// table keeps it (Gatekeeper's own table, Atlas's error column); null otherwise.
    /// </summary>
    public string? Failure { get; init; }
}
