namespace Gatekeeper.Databases;

/// <summary>What Gatekeeper needs a credential to be allowed, named so permission errors can say what to grant.</summary>
public enum DatabasePrivilege
{
    /// <summary>Open a session on the database.</summary>
    Connect,
    /// <summary>Read a table's rows: the history table, and the tables the data pre-checks look at.</summary>
    ReadTable,
    /// <summary>See the database's tables, views and routines in the catalog (the linter, the copy for the dry-run).</summary>
    ReadCatalog,
    /// <summary>See other sessions' transactions and locks (the lock pre-flight).</summary>
    ReadSessions,
    /// <summary>Create and drop the throwaway databases a dry-run copies the schema into.</summary>
    CreateThrowawayDatabases,
    /// <summary>Change the schema and write the history table (the migration Job).</summary>
    Migrate,
}

/// <summary>The one shape of a permission error: who may not do what, where, and the statement that allows it.</summary>
public static class DatabasePermissions
{
    /// <summary>
    /// "user reader may not read history table gatekeeper_schema_history of shop on db:5432; grant it with: GRANT SELECT
    /// ON gatekeeper_schema_history TO reader (server: permission denied for table gatekeeper_schema_history)".
    /// </summary>
    public static DatabaseException Denied(DatabaseUrl url, string action, DatabasePrivilege privilege, DatabaseError error, Exception? innerException, string? table = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(error);
        var user = url.User ?? "(none)";
        var grant = url.SqlEngine.Grant(privilege, user, url.Database, table);
        return new DatabaseException(
            DatabaseErrorKind.PermissionDenied,
            $"user {user} may not {action} on {url.Endpoint}; grant it with: {grant} (server: {error.ServerMessage})",
            error.ServerCode,
            innerException);
    }

    /// <summary>Runs <paramref name="work"/>, turning a permission error of the server into <see cref="Denied"/>.</summary>
    internal static async Task<T> RequireAsync<T>(DatabaseUrl url, string action, DatabasePrivilege privilege, Func<Task<T>> work, string? table = null)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { Kind: DatabaseErrorKind.PermissionDenied } error)
        {
            throw Denied(url, action, privilege, error, ex, table);
        }
    }
}
