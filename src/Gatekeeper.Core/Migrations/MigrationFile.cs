namespace Gatekeeper.Core.Migrations;

/// <summary>
/// One file of a migration source exactly as stored (on disk or as a ConfigMap key): raw bytes, because
/// checksums such as atlas.sum are computed over the bytes, BOM and CRLF included.
/// </summary>
public sealed record MigrationFile(string Name, ReadOnlyMemory<byte> Content);
