namespace Gatekeeper.Kubernetes.Sources;

/// <summary>
/// A credential read from a Secret. Its <see cref="ToString"/> never shows the value, so an accidental
/// interpolation into a message or log prints a placeholder instead of a password.
/// </summary>
public sealed class SecretValue(string value)
{
    /// <summary>The value itself: only for the code that opens the connection.</summary>
    public string Reveal() => value;

    public override string ToString() => "(secret)";
}
