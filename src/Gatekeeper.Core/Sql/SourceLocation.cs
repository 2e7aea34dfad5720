namespace Gatekeeper.Core.Sql;

/// <summary>A 1-based position in a migration file, printed the way compilers do: <c>file:line:column</c>.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}:{Line}:{Column}";
}
