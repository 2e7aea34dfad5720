namespace Gatekeeper.Core.Integrity;

/// <summary>How people quote a plan hash or a file checksum: messages, Events, logs and tables all use this form.</summary>
public static class Hashes
{
    /// <summary>The first 12 characters of a hash or checksum (the whole value when it is shorter).</summary>
    public static string Short(string hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        return hash.Length > 12 ? hash[..12] : hash;
    }
}
