using System.Diagnostics.CodeAnalysis;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Schema;

/// <summary>One file of a desired state (from a directory, a single file, or a ConfigMap key).</summary>
public sealed record DesiredSchemaFile(string Name, string Text);

public enum DesiredStatementKind
{
    /// <summary>Creates or changes an object: loaded into the dev database.</summary>
    Definition,
    /// <summary>A session setting (<c>SET</c>, pg_dump's <c>set_config</c>, mysqldump's <c>/*!40101 SET … */</c>): loaded too, it shapes what follows.</summary>
    Setting,
    /// <summary>Part of a dump but not of what Gatekeeper compares (owners, privileges, client directives): not loaded, reported.</summary>
    Skipped,
}

/// <summary>A statement of the desired state and what Gatekeeper does with it; <see cref="Reason"/> says why a statement is skipped.</summary>
public sealed record DesiredStatement(SqlStatement Statement, DesiredStatementKind Kind, string? Reason = null);

/// <summary>
/// A desired state read and checked: the statements to load into the dev database in order, the ones left out and why,
/// the declared renames, and a hash of the files (what the plan was made from).
/// </summary>
public sealed record DesiredSchema(
    SqlDialect Dialect,
    IReadOnlyList<DesiredSchemaFile> Files,
    IReadOnlyList<DesiredStatement> Statements,
    IReadOnlyList<DeclaredRename> Renames,
    string Hash)
{
    public IEnumerable<DesiredStatement> Loaded => Statements.Where(s => s.Kind != DesiredStatementKind.Skipped);

    public IEnumerable<DesiredStatement> Skipped => Statements.Where(s => s.Kind == DesiredStatementKind.Skipped);

    /// <summary>"schema.sql" or "schema/ (3 files)": how messages name the source.</summary>
    public string Describe(string source) => Files.Count == 1 ? Files[0].Name : $"{source} ({Files.Count} files)";
}

/// <summary>The result of reading a desired state: the schema, or every problem found (all of them, not just the first).</summary>
public sealed record DesiredSchemaReadResult(DesiredSchema? Schema, IReadOnlyList<string> Problems)
{
    [MemberNotNullWhen(true, nameof(Schema))]
    public bool Succeeded => Schema is not null;
}
