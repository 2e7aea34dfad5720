using System.Globalization;
using System.Net.Sockets;
using MySqlConnector;
using Npgsql;

namespace Gatekeeper.Databases;

/// <summary>A driver error reduced to what Gatekeeper acts on: its kind, the server's own words, and its code.</summary>
/// <param name="ServerMessage">The server's message (PostgresException.MessageText, MySqlException.Message), or a
/// description of the network failure; never a connection string.</param>
public sealed record DatabaseError(DatabaseErrorKind Kind, string ServerMessage, string? ServerCode);

/// <summary>
/// The one place that reads Npgsql and MySqlConnector exceptions (by SQLSTATE and error number, the way
/// <c>PostgresException.IsTransient</c> does), so retries, messages and exit codes agree everywhere.
/// </summary>
public static class DatabaseErrorClassifier
{
    /// <summary>Classifies a driver exception; returns null for exceptions that are not database errors (bugs, cancellation).</summary>
    public static DatabaseError? Classify(Exception exception)
    {
        switch (exception)
        {
            case PostgresException pg:
                return new DatabaseError(KindOfSqlState(pg.SqlState), pg.MessageText, pg.SqlState);
            // Client errors (connection, protocol) are 2000-2999; the server's own go below and above that range (MySQL 8's
            // 3819 check constraint violated, MariaDB's 4161 unknown data type), and are the statement's fault, not the network's.
            case MySqlException my when my.ErrorCode > 0 && (int)my.ErrorCode is < 2000 or >= 3000 && my.ErrorCode != MySqlErrorCode.UnableToConnectToHost:
                return new DatabaseError(KindOfMySqlError(my.ErrorCode), my.Message, ((int)my.ErrorCode).ToString(CultureInfo.InvariantCulture));
            case MySqlException my:
                return new DatabaseError(NetworkKind(my), NetworkReason(my) ?? my.Message, null);
            case NpgsqlException npgsql:
                return new DatabaseError(NetworkKind(npgsql), NetworkReason(npgsql) ?? npgsql.Message, null);
            case SocketException or TimeoutException or IOException:
                return new DatabaseError(DatabaseErrorKind.Unreachable, NetworkReason(exception) ?? exception.Message, null);
            default:
                return null;
        }
    }

    /// <summary>
    /// Turns a connection-time failure into the sentence users read: "authentication failed for user app on db:5432",
    /// "database unreachable: db:5432 (connection refused)", "database shop does not exist on db:5432".
    /// </summary>
    public static DatabaseException ForConnection(Exception exception, DatabaseUrl url)
    {
        var error = Classify(exception);
        if (error is null)
        {
            return new DatabaseException(DatabaseErrorKind.Unreachable, $"database unreachable: {url.Endpoint} ({exception.GetType().Name})", null, exception);
        }

        var message = error.Kind switch
        {
            DatabaseErrorKind.AuthenticationFailed => $"authentication failed for user {url.User ?? "(none)"} on {url.Endpoint}",
            DatabaseErrorKind.Unreachable => $"database unreachable: {url.Endpoint} ({error.ServerMessage})",
            DatabaseErrorKind.ConnectionLost => $"database unreachable: {url.Endpoint} ({error.ServerMessage})",
            DatabaseErrorKind.UnknownDatabase => $"database {url.Database} does not exist on {url.Endpoint}",
            DatabaseErrorKind.PermissionDenied => DatabasePermissions.Denied(url, $"connect to {url.Database}", DatabasePrivilege.Connect, error, exception).Message,
            _ => $"could not connect to {url.Endpoint}/{url.Database}: {error.ServerMessage}",
        };
        var kind = error.Kind == DatabaseErrorKind.ConnectionLost ? DatabaseErrorKind.Unreachable : error.Kind;
        return new DatabaseException(kind, message, error.ServerCode, exception);
    }

    /// <summary>
    /// True when a read-only query gave up at its statement timeout: PostgreSQL's statement_timeout (57014), or
    /// MySqlConnector's command timeout, after which it stops the query on the server (KILL QUERY). Only for queries
    /// that change nothing: elsewhere a MySQL command timeout counts as a lost connection, since the client cannot know
    /// what the server did.
    /// </summary>
    public static bool IsReadTimeout(Exception exception) =>
        exception is MySqlException { ErrorCode: MySqlErrorCode.CommandTimeoutExpired } || Classify(exception)?.Kind == DatabaseErrorKind.StatementTimeout;

    /// <summary>True for a lock wait that gave up (PostgreSQL 55P03, MySQL 1205): nothing of the statement happened.</summary>
    public static bool IsLockTimeout(Exception exception) => Classify(exception)?.Kind == DatabaseErrorKind.LockTimeout;

    private static DatabaseErrorKind KindOfSqlState(string sqlState) => sqlState switch
    {
        "28P01" or "28000" => DatabaseErrorKind.AuthenticationFailed,
        "3D000" => DatabaseErrorKind.UnknownDatabase,
        "55P03" => DatabaseErrorKind.LockTimeout,
        "57014" => DatabaseErrorKind.StatementTimeout,
        "42601" => DatabaseErrorKind.Syntax,
        "42501" => DatabaseErrorKind.PermissionDenied,
        // admin_shutdown, crash_shutdown, cannot_connect_now, and pg_terminate_backend's 57P01; 57P05: the server ended a
        // session idle longer than idle_session_timeout (PostgreSQL 14+)
        "57P01" or "57P02" or "57P03" or "57P05" => DatabaseErrorKind.ConnectionLost,
        _ when sqlState.StartsWith("08", StringComparison.Ordinal) => DatabaseErrorKind.ConnectionLost,
        _ => DatabaseErrorKind.Statement,
    };

    private static DatabaseErrorKind KindOfMySqlError(MySqlErrorCode code) => code switch
    {
        MySqlErrorCode.AccessDenied => DatabaseErrorKind.AuthenticationFailed,
        MySqlErrorCode.UnknownDatabase => DatabaseErrorKind.UnknownDatabase,
        MySqlErrorCode.LockWaitTimeout => DatabaseErrorKind.LockTimeout,
        // MariaDB's max_statement_time (1969), MySQL's max_execution_time (3024): as PostgreSQL's statement_timeout.
        (MySqlErrorCode)1969 or (MySqlErrorCode)3024 => DatabaseErrorKind.StatementTimeout,
        MySqlErrorCode.ParseError or MySqlErrorCode.EmptyQuery => DatabaseErrorKind.Syntax,
        MySqlErrorCode.DatabaseAccessDenied or MySqlErrorCode.TableAccessDenied or MySqlErrorCode.ColumnAccessDenied
            or MySqlErrorCode.SpecifiedAccessDeniedError or MySqlErrorCode.PrecedureAccessDenied => DatabaseErrorKind.PermissionDenied,
        MySqlErrorCode.QueryInterrupted or MySqlErrorCode.ServerShutdown or (MySqlErrorCode)1927 => DatabaseErrorKind.ConnectionLost,
        _ => DatabaseErrorKind.Statement,
    };

    private static DatabaseErrorKind NetworkKind(Exception exception)
    {
        // A socket failure while opening means unreachable; once a session existed, the connection was lost.
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException or TimeoutException)
            {
                return DatabaseErrorKind.Unreachable;
            }
        }

        return exception is MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } ? DatabaseErrorKind.Unreachable : DatabaseErrorKind.ConnectionLost;
    }

    private static string? NetworkReason(Exception exception)
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return "connection refused";
                case SocketException { SocketErrorCode: SocketError.TimedOut }:
                    return "connection timed out";
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData }:
                    return "host not found";
                case SocketException { SocketErrorCode: SocketError.NetworkUnreachable or SocketError.HostUnreachable }:
                    return "network unreachable";
                case SocketException socket:
                    return socket.SocketErrorCode.ToString();
                case TimeoutException:
                    return "connection timed out";
                case EndOfStreamException:
                    return "the server closed the connection";
            }
        }

        return exception is MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } ? "connection refused" : null;
    }
}
