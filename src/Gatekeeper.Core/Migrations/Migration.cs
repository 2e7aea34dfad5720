namespace Gatekeeper.Core.Migrations;

/// <summary>Versioned migrations apply once, in order; repeatable ones (Flyway <c>R__</c>) re-apply when their checksum changes, after all versioned ones.</summary>
public enum MigrationKind
{
    Versioned,
    Repeatable,
}

/// <summary>
/// One migration, parsed from its file(s).
/// </summary>
/// <param name="Id">The key its own tool writes in the history table: the version text for most tools,
/// the whole file name for sql-migrate, the description for Flyway repeatables.</param>
/// <param name="Version">Order among versioned migrations; for repeatables an empty-version placeholder.</param>
/// <param name="Description">Human name taken from the file name ("add users table").</param>
/// <param name="FileName">The file that holds the up section.</param>
/// <param name="UpSql">The SQL to apply (for dbmate/sql-migrate only the up section).</param>
/// <param name="UpStartLine">1-based line in <paramref name="FileName"/> where <paramref name="UpSql"/> starts,
/// so statement locations point into the real file.</param>
/// <param name="DownSql">The down section or <c>.down.sql</c> file, kept but never applied automatically.</param>
/// <param name="Transactional">False when the file opts out of a transaction (dbmate <c>transaction:false</c>,
/// sql-migrate <c>notransaction</c>, Atlas <c>-- atlas:txmode none</c>); its statements then run one by one.</param>
/// <param name="Checksum">Lower-case hex SHA-256 of the up file's raw bytes.</param>
/// <param name="Content">The up file's raw bytes (tools with their own checksum rules, such as Flyway's CRC32, need them).</param>
public sealed record Migration(
    string Id,
    MigrationVersion Version,
    string Description,
    MigrationKind Kind,
    string FileName,
    string UpSql,
    int UpStartLine,
    string? DownSql,
    bool Transactional,
    string Checksum,
    ReadOnlyMemory<byte> Content)
{
    // Computed when first read (the directory reader passes none): SHA-256 is OpenSSL's on Linux, and loading
    // libcrypto is a few milliseconds of every `gatekeeper lint`, which never reads a checksum. Equal by value.
    private readonly LazyChecksum checksum = new(Checksum, Content);

    /// <summary>Lower-case hex SHA-256 of the up file's raw bytes (computed from <see cref="Content"/> on first read when not given).</summary>
    public string Checksum
    {
        get => checksum.Value;
        init => checksum = new LazyChecksum(value, Content);
    }

    /// <summary>
    /// Set when the file runs in a transaction only from this PostgreSQL major version on: Flyway takes a script with
    /// <c>ALTER TYPE … ADD VALUE</c> out of its transaction on servers before 12, and when it cannot read the version.
    /// </summary>
    public int? TransactionalFromPostgres { get; init; }

    /// <summary>Whether the runner wraps the file in a transaction on a server of this major version (null: unknown).</summary>
    public bool TransactionalOn(int? serverMajorVersion) =>
        Transactional && (TransactionalFromPostgres is not { } from || serverMajorVersion >= from);

    private sealed class LazyChecksum(string? known, ReadOnlyMemory<byte> content)
    {
        private string? value = known;

        public string Value => value ??= Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content.Span));

        public override bool Equals(object? obj) => obj is LazyChecksum other && string.Equals(Value, other.Value, StringComparison.Ordinal);

        public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);
    }
}
