using Gatekeeper.Core.Lint;

namespace Gatekeeper.Databases;

/// <summary>
/// What the linter needs to know of a live database: its user tables with row estimates and columns, and the server's
/// major version (PostgreSQL 16, MySQL 8, MariaDB 10; null when the server's version string could not be read), which
/// decides version-dependent findings.
/// </summary>
public sealed record LiveSchema(SchemaContext Schema, int? ServerMajorVersion);
