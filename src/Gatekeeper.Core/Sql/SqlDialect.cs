namespace Gatekeeper.Core.Sql;

/// <summary>The SQL dialect a migration directory is written in; decides quoting and comment rules.</summary>
public enum SqlDialect
{
    Postgres,
    MySql,
}
