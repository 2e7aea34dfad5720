namespace Gatekeeper.Databases;

/// <summary>What kind of trouble the database gave, decided once by <see cref="DatabaseErrorClassifier"/>.</summary>
public enum DatabaseErrorKind
{
    /// <summary>Wrong user or password (PostgreSQL 28P01/28000, MySQL 1045).</summary>
    AuthenticationFailed,
    /// <summary>Connection refused, timed out, or the host name does not resolve.</summary>
    Unreachable,
    /// <summary>The URL names a database the server does not have (PostgreSQL 3D000, MySQL 1049).</summary>
    UnknownDatabase,
    /// <summary>A statement gave up waiting for a table lock (PostgreSQL 55P03, MySQL 1205).</summary>
    LockTimeout,
    /// <summary>Another runner holds Gatekeeper's migration lock on this database.</summary>
    MigrationLockHeld,
    /// <summary>A statement ran longer than the statement timeout (PostgreSQL 57014, MariaDB 1969, MySQL 3024).</summary>
    StatementTimeout,
    /// <summary>The server could not parse a statement (PostgreSQL 42601, MySQL 1064).</summary>
    Syntax,
    /// <summary>The user lacks a privilege (PostgreSQL 42501, MySQL 1044/1142/1227).</summary>
    PermissionDenied,
    /// <summary>Any other error the server reported for a statement.</summary>
    Statement,
    /// <summary>The history table exists but its layout is not one Gatekeeper knows, or it holds values it cannot read.</summary>
    HistoryTable,
    /// <summary>The connection broke while talking to the server (killed backend, network loss).</summary>
    ConnectionLost,
    /// <summary>
    /// A limit set for the server, database or role (a statement or lock timeout) stopped one of Gatekeeper's own
    /// statements: configuration, like a missing privilege.
    /// </summary>
    ServerLimit,
}

/// <summary>
/// A database failure with a one-sentence message that names the server as <c>host:port</c> and never carries a
/// password or a full URL. I/O failures surface as this; expected outcomes (a failed migration, a held lock) are
/// values on the results of <see cref="MigrationRunner"/>.
/// </summary>
public sealed class DatabaseException : Exception
{
    public DatabaseException(DatabaseErrorKind kind, string message, string? serverCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        ServerCode = serverCode;
    }

    public DatabaseErrorKind Kind { get; }

    /// <summary>SQLSTATE (PostgreSQL) or the error number (MySQL), when the server sent one.</summary>
    public string? ServerCode { get; }
}
