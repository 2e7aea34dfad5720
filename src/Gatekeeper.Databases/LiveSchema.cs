using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Databases;

/// <summary>
/// What the linter needs to know of a live database: its user tables with row estimates and columns, and the server's
/// version (PostgreSQL 16.4, MySQL 8.0.36, MariaDB 10.11.6 with the patch level kept; null when the server's version
/// string could not be read), which decides version-dependent findings.
/// </summary>
public sealed record LiveSchema(SchemaContext Schema, ServerVersion? Server)
{
    public int? ServerMajorVersion => Server?.Major;

    /// <summary>The version text the server printed (MySQL's and MariaDB's <c>VERSION()</c>), when it was read as text.</summary>
    public string? ServerVersionText { get; init; }

    /// <summary>How the database's sessions read text (MySQL's <c>sql_mode</c>: <c>NO_BACKSLASH_ESCAPES</c>, <c>ANSI_QUOTES</c>), for the linter.</summary>
    public SqlModes Modes { get; init; }

    /// <summary>
    /// One sentence when the server printed a version Gatekeeper cannot read (version-dependent rules then judge as for a
    /// current server), for the plan's warnings; null otherwise.
    /// </summary>
    public string? VersionProblem => Server is null && ServerVersionText is { } text ? ServerVersion.Unreadable(text, "the server's VERSION()") : null;
}
