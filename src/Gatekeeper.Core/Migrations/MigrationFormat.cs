namespace Gatekeeper.Core.Migrations;

/// <summary>The migration tool whose file layout and history rules a directory follows.</summary>
public enum MigrationFormat
{
    Flyway,
    GolangMigrate,
    Dbmate,
    SqlMigrate,
    Atlas,
}
