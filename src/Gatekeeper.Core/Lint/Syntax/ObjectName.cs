namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>A possibly schema-qualified object name, normalised the way the server resolves it, and the token it starts at.</summary>
internal readonly record struct ObjectName(string? Schema, string Name, int Token)
{
    public override string ToString() => Schema is null ? Name : $"{Schema}.{Name}";

    /// <summary>Same object when the names match and the schemas do not contradict each other (an unqualified name matches any schema).</summary>
    public bool SameAs(ObjectName other) =>
        string.Equals(Name, other.Name, StringComparison.Ordinal) &&
        (Schema is null || other.Schema is null || string.Equals(Schema, other.Schema, StringComparison.Ordinal));
}
